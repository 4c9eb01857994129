import DossierCrypto
import Foundation

/// What `dossier vault copy` copied and checked. Holds nothing secret.
public struct VaultCopyReport: Sendable, Encodable {
    public let source: String
    public let destination: String
    /// Live documents, whose encrypted content was copied.
    public let documents: Int
    /// Removed documents (their rows only: their content no longer exists).
    public let removedDocuments: Int
    /// Bytes of ciphertext copied.
    public let contentBytes: UInt64
    /// Rows copied, every table together.
    public let rows: Int
    /// Entries in the log, the same in both.
    public let logEntries: Int
    /// The log's Merkle root (base64, as `audit verify` prints it), the same in both.
    public let root: String
    /// With a staff identity: documents of the copy decrypted to nowhere whose plaintext has the
    /// hash recorded at deposit (as `doctor --deep`); nil without one.
    public let authenticated: Int?
}

extension Vault {
    /// Copies this vault into `destination` (a new or empty folder, or a `postgresql://` URI
    /// naming a database without any table), then checks the copy, and removes it again if any
    /// check fails. Needs no secret: every record is copied as stored, sealed values included,
    /// and each document's ciphertext as it is, streamed through one buffer.
    ///
    /// Before copying: the source's log must verify and its rows agree with it (a damaged or
    /// edited vault is not copied); with `identity`, it must be a staff member's.
    ///
    /// The copy is written as a deposit is (formats/vault.md 8.1, 10.2): the content first, made
    /// durable, then every row in one transaction (PostgreSQL: the content's rows in that same
    /// transaction). Then, read back from a fresh connection: the log verifies and has the
    /// source's size and Merkle root; every table holds exactly the source's rows, in order
    /// (a digest of each); the rows agree with the signed log (`alteredRows`); every live
    /// document's ciphertext is there, of the right size, with the digest of what was read from
    /// the source; `doctor` finds nothing; and with `identity`, every document decrypts to
    /// nowhere with the hash recorded at deposit.
    ///
    /// The source should not change meanwhile (stop `dossier serve` and staff's commands): a
    /// change after the copy began makes the checks fail, and the copy is removed.
    ///
    /// `progress` hears the bytes of encrypted content and request files copied, of their total.
    public func copy(to destination: String, identity: SecretIdentity? = nil,
                     progress: (any ProgressReporter)? = nil) throws(DossierError) -> VaultCopyReport {
        try Vault.checkLocation(destination)
        if let identity { _ = try unlock(identity) }
        let log = try AuditVerifier.verify(try logSnapshot())
        let altered = try alteredRows()
        guard altered.isEmpty else { throw .altered(altered.joined(separator: "; ")) }
        let (live, removed, requests) = try read { tx in (try tx.liveDocuments(), try tx.removedDocumentIDs().count, try tx.allRequests()) }

        let target = try CopyTarget.make(destination, random: random)
        var ciphertext: [String: (count: UInt64, digest: Data)] = [:]
        var tables: [String: Data] = [:]
        var rows = 0
        let total = live.reduce(UInt64(0)) { $0 + ContentStream.ciphertextSize(plaintextSize: $1.size) } + requests.reduce(UInt64(0)) { $0 + $1.size }
        let meter = ProgressMeter(progress, unit: .bytes, total: total)
        do throws(DossierError) {
            defer { meter?.finish() }
            for doc in live {
                let fd = try blobs.openForReading(id: doc.id)
                defer { close(fd) }
                var source = HashingSource(MeteredSource(base: FileDescriptorSource(fd: fd), meter: meter))
                let count = try target.store.content.writeCiphertext(id: doc.id, from: &source)
                let expected = ContentStream.ciphertextSize(plaintextSize: doc.size)
                guard count == expected else {
                    throw .integrity("the encrypted content of \(doc.id) in \(path) has \(count) bytes, expected \(expected): truncated or altered")
                }
                ciphertext[doc.id] = (count, source.digest())
            }
            // Request files as received (sealed to the intake key), checked against their rows.
            for r in requests {
                let fd = try blobs.openRequest(id: r.id)
                defer { close(fd) }
                let kept = try target.store.content.writeRequest(id: r.id, from: fd, sourcePath: "the request file of \(r.id)")
                guard kept.size == r.size, kept.sha256.hex == r.sha256 else {
                    throw .integrity("the request file of \(r.id) in \(path) is not the one received (size or SHA-256 differs)")
                }
                meter?.add(Int(kept.size))
            }
            try target.store.content.makeDurable(ids: live.map(\.id) + requests.map(\.id))
            (tables, rows) = try target.store.write { to in
                try self.store.read { from in try RecordCopy.copy(from: from, of: self.store, to: to, of: target.store) }
            }
        } catch {
            // PostgreSQL: abandons the staged content; a folder: its blobs.
            for doc in live { target.store.content.remove(id: doc.id) }
            for r in requests { target.store.content.remove(id: r.id) }
            target.discard()
            throw error
        }

        do throws(DossierError) {
            let copy = try Vault.open(at: destination, clock: clock, random: random)
            try checkCopy(copy, log: log, tables: tables, live: live, ciphertext: ciphertext)
            var authenticated: Int?
            let report = try copy.doctor(session: try identity.map { i throws(DossierError) in try copy.unlock(i) })
            if let finding = report.findings.first {
                throw .copyMismatch(destination: destination, what: "doctor: \(finding.subject): \(finding.message)")
            }
            if identity != nil {
                guard report.blobsAuthenticated == live.count else {
                    throw .copyMismatch(destination: destination, what: "\(report.blobsAuthenticated) of \(live.count) documents authenticated")
                }
                authenticated = report.blobsAuthenticated
            }
            return VaultCopyReport(source: path, destination: destination, documents: live.count, removedDocuments: removed,
                                   contentBytes: ciphertext.values.reduce(0) { $0 + $1.count }, rows: rows, logEntries: log.entries,
                                   root: log.root, authenticated: authenticated)
        } catch {
            target.discard()
            switch error {
            case .copyMismatch: throw error
            case .integrity(let m), .altered(let m), .logVerificationFailed(let m): throw .copyMismatch(destination: destination, what: m)
            default: throw error
            }
        }
    }

    /// The checks of the copy that need no secret (see `copy`).
    private func checkCopy(_ copy: Vault, log: VerificationReport, tables: [String: Data],
                           live: [(id: String, size: UInt64, keySealed: Data)],
                           ciphertext: [String: (count: UInt64, digest: Data)]) throws(DossierError) {
        let destination = copy.path
        func mismatch(_ what: String) -> DossierError { .copyMismatch(destination: destination, what: what) }

        let copied = try AuditVerifier.verify(try copy.logSnapshot())
        guard copied.entries == log.entries, copied.root == log.root else {
            throw mismatch("its log has \(copied.entries) entries with root \(copied.root), the source's had \(log.entries) with root \(log.root) when the copy began")
        }
        let (digests, _) = try copy.store.read { tx in try RecordCopy.digests(tx) }
        let differ = RecordTable.all.map(\.name).filter { digests[$0] != tables[$0] }
        guard differ.isEmpty else { throw mismatch("the rows of \(differ.joined(separator: ", ")) differ") }
        let altered = try copy.alteredRows()
        guard altered.isEmpty else { throw mismatch("rows differ from its signed log: " + altered.joined(separator: "; ")) }

        let copyLive = try copy.read { tx in try tx.liveDocuments() }
        guard copyLive.map(\.id) == live.map(\.id) else { throw mismatch("it has \(copyLive.count) live documents, the source \(live.count)") }
        for doc in copyLive {
            let expected = copy.blobs.expectedSize(plaintextSize: doc.size)
            guard let stored = copy.blobs.storedSize(id: doc.id), stored == expected else {
                throw mismatch("the encrypted content of \(doc.id) is missing or not \(expected) bytes")
            }
            let fd = try copy.blobs.openForReading(id: doc.id)
            defer { close(fd) }
            var source = HashingSource(FileDescriptorSource(fd: fd))
            var sink = NullSink()
            let count: UInt64
            do { count = try ContentCopy.pump(from: &source, to: &sink) } catch {
                throw mismatch("the encrypted content of \(doc.id) cannot be read back")
            }
            guard let original = ciphertext[doc.id], original.count == count, original.digest == source.digest() else {
                throw mismatch("the encrypted content of \(doc.id) differs from the source's")
            }
        }
    }
}

/// Every table copied row by row inside the destination's write transaction, with a digest of
/// each table's rows as read (compared with the copy's own afterwards).
enum RecordCopy {
    /// Copies every table of `from` (a transaction of `source`) into `to` (of `target`); returns
    /// each table's digest and the number of rows. A failure is translated by the store it
    /// comes from, so that neither store takes the other's failure for its own (and retries).
    static func copy(from: any StoreTransaction, of source: any VaultStore, to: any StoreTransaction,
                     of target: any VaultStore) throws -> (digests: [String: Data], rows: Int) {
        var digests: [String: Data] = [:]
        var rows = 0
        for table in RecordTable.all {
            let digest = BLAKE2b()
            do {
                try from.forEachRow(of: table) { values in
                    update(digest, values)
                    do { try to.insertRow(into: table, values) } catch { throw target.translate(error) }
                    rows += 1
                }
            } catch let e as DossierError {
                throw e
            } catch {
                throw source.translate(error)
            }
            digests[table.name] = digest.finalize()
        }
        return (digests, rows)
    }

    /// Each table's digest, as `copy` computes it.
    static func digests(_ tx: any StoreTransaction) throws -> (digests: [String: Data], rows: Int) {
        var digests: [String: Data] = [:]
        var rows = 0
        for table in RecordTable.all {
            let digest = BLAKE2b()
            try tx.forEachRow(of: table) { values in
                update(digest, values)
                rows += 1
            }
            digests[table.name] = digest.finalize()
        }
        return (digests, rows)
    }

    /// Adds a row to a digest: each value as a kind byte, an 8-byte length and its bytes.
    private static func update(_ digest: BLAKE2b, _ values: [StoredValue]) {
        var encoded = Data()
        func add(_ kind: UInt8, _ bytes: Data) {
            encoded.append(kind)
            withUnsafeBytes(of: UInt64(bytes.count).bigEndian) { encoded.append(contentsOf: $0) }
            encoded.append(bytes)
        }
        for v in values {
            switch v {
            case .null: add(0, Data())
            case .integer(let n): add(1, withUnsafeBytes(of: n.bigEndian) { Data($0) })
            case .text(let s): add(2, Data(s.utf8))
            case .bytes(let d): add(3, d)
            }
        }
        encoded.withUnsafeBytes { digest.update($0) }
    }
}

/// The new store a copy is written into, and how to remove it again.
private struct CopyTarget {
    let store: any VaultStore
    let discard: () -> Void

    /// Creates an empty vault store at `location`; refuses one that holds anything.
    static func make(_ location: String, random: any RandomSource) throws(DossierError) -> CopyTarget {
        if PostgresStore.isURI(location) {
            let store: PostgresStore
            do {
                store = try PostgresStore.create(uri: location, random: random, empty: true)
            } catch .vaultExists {
                throw .copyTargetNotEmpty(location: location)
            }
            return CopyTarget(store: store, discard: { store.discard() })
        }
        let fm = FileManager.default
        var isDir: ObjCBool = false
        let existed = fm.fileExists(atPath: location, isDirectory: &isDir)
        if existed {
            let contents = (try? fm.contentsOfDirectory(atPath: location)) ?? ["?"]
            if !isDir.boolValue || !contents.isEmpty { throw .copyTargetNotEmpty(location: location) }
        }
        let discard = {
            if existed {
                for item in (try? fm.contentsOfDirectory(atPath: location)) ?? [] { try? fm.removeItem(atPath: location + "/" + item) }
            } else {
                try? fm.removeItem(atPath: location)
            }
        }
        do throws(DossierError) {
            try FileAccess.makePrivateDirectory(location)
            return CopyTarget(store: try SQLiteStore.create(at: location, random: random), discard: discard)
        } catch {
            discard()
            throw error
        }
    }
}
