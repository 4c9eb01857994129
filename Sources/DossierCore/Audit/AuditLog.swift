import DossierCrypto
import Dispatch
import Foundation

/// The append-only log among the vault's records. Entries are appended in the same
/// transaction as the change they record: if the entry cannot be written, the change rolls back.
public enum AuditLog {
    /// Appends a signed entry chained to the last one. Must run inside a write transaction.
    @discardableResult
    static func append(_ tx: any StoreTransaction, signer: SecretIdentity, action: AuditAction, at time: Date,
                       subjects: [String], details: [AuditEntry.Detail] = []) throws -> AuditEntry {
        var log = try Appender(tx)
        return try log.append(tx, signer: signer, action: action, at: time, subjects: subjects, details: details)
    }

    /// Appends many entries in one transaction (the key-release service's batches): reads the
    /// head of the chain once and chains the following entries in memory. The entries are exactly
    /// what `append` would write one by one.
    struct Appender {
        private var seq: UInt64
        private var previous: Data

        init(_ tx: any StoreTransaction) throws {
            let last = try tx.lastLogEntry()
            seq = last?.seq ?? 0
            previous = last.map { Hash.sha256($0.bytes) } ?? Data(count: 32)
        }

        @discardableResult
        mutating func append(_ tx: any StoreTransaction, signer: SecretIdentity, action: AuditAction, at time: Date,
                             subjects: [String], details: [AuditEntry.Detail] = []) throws -> AuditEntry {
            let entry = try AuditEntry.make(seq: seq + 1, time: time, signer: signer.signing,
                                            actor: signer.publicIdentity.fingerprint, action: action.rawValue,
                                            subjects: subjects, details: details, previousHash: previous)
            try tx.insertLogEntry(seq: entry.seq, bytes: entry.bytes)
            seq = entry.seq
            previous = entry.hash
            return entry
        }
    }

}

extension Vault {
    /// Every log entry, parsed, in order.
    public func auditEntries() throws(DossierError) -> [AuditEntry] {
        let raw = try read { tx in try tx.logEntries() }
        var out: [AuditEntry] = []
        out.reserveCapacity(raw.count)
        for r in raw { out.append(try AuditEntry.parse(r.bytes)) }
        return out
    }

    /// Checks the stored log: sequence, hash chain, and that each entry is signed by someone who
    /// was staff at that point (as the log itself records). Throws naming the first bad entry.
    /// The log is read a part at a time (every stored row, by its stored position), in bounded
    /// memory however long it is.
    public func verifyLogChain() throws(DossierError) -> Int {
        let migrate = Data("\naction root-migrate\n".utf8)
        // The first entry, and the newest root migration's bytes: which organisation key the log names.
        let (first, migration, count): (Data?, Data?, Int) = try read { tx in
            var walk = LogWalk()
            var first: Data?
            var migration: Data?
            var position = Int64.min
            while true {
                let part = try tx.logEntries(afterPosition: position, limit: LogWalk.batch)
                guard let last = part.last else { break }
                let offset = walk.size
                try walk.verify(part.map(\.bytes), offset: offset, upTo: offset + part.count, storedSequence: part.map(\.seq), signaturesFrom: 0)
                if first == nil { first = part[0].bytes }
                for row in part where row.bytes.range(of: migrate) != nil {
                    if let e = try? AuditEntry.parse(row.bytes), e.action == AuditAction.rootMigrate.rawValue, e.detail("organisation-key") != nil {
                        migration = row.bytes
                    }
                }
                position = last.seq
                if part.count < LogWalk.batch { break }
            }
            return (first, migration, walk.size)
        }
        if let first, try AuditEntry.parse(first).action == AuditAction.initialise.rawValue,
           AuditVerifier.currentOrganisationKeyLine([first] + (migration.map { [$0] } ?? [])) != (try organisation().publicKey) {
            throw .integrity("entry 1: names a different organisation key than the vault holds: the key or the log was replaced")
        }
        return count
    }
}

/// A verification of a log in progress: what it takes to carry on after `size` entries (the
/// hash of the last one, who may sign, and the Merkle tree's right edge), so that a log can be
/// verified in segments, or onwards from a state an auditor kept.
///
/// Entries are taken in batches. Parsing (`AuditEntry.scan`) and hashing run on all cores, the
/// checks that depend on the entries before (sequence, chain, who may sign) on one, then the
/// Ed25519 signatures on all cores again. The error reported is the earliest in the log.
struct LogWalk {
    private(set) var size = 0
    /// SHA-256 of entry `size`; zeros before entry 1.
    private(set) var previous = Digest32()
    /// Who may sign the next entry: fingerprint → public identity.
    private(set) var signers: [String: PublicIdentity] = [:]
    /// The signers that are the key-release service (`staff-add` with `role=service`): they may
    /// sign only `SignedFacts.Role.serviceActions` (vault.md section 6.6).
    private(set) var services: Set<String> = []
    private(set) var tree = MerkleTree.Frontier()

    static let batch = 8192

    init() {}

    /// Resumes after `size` entries.
    init(size: Int, lastEntryHash: Digest32, signers: [String: PublicIdentity], services: Set<String> = [], tree: MerkleTree.Frontier) {
        self.size = size
        self.previous = lastEntryHash
        self.signers = signers
        self.services = services
        self.tree = tree
    }

    /// The actions a service may sign, as the bytes of their names.
    private static let serviceActionNames: [Data] = SignedFacts.Role.serviceActions.map { Data($0.rawValue.utf8) }

    private func checkService(_ actor: String, action: some Collection<UInt8>, entry: UInt64) throws(DossierError) {
        guard services.contains(actor), !Self.serviceActionNames.contains(where: { $0.elementsEqual(action) }) else { return }
        throw .integrity("entry \(entry): the key-release service's identity \(actor) signed a `\(String(decoding: Array(action), as: UTF8.self))` entry; it may sign only openings, refusals and received requests: forged or misused")
    }

    /// Verifies entries `size + 1` to `end` (counting from 1); signatures of entries below
    /// `signaturesFrom` are not checked. `entries[0]` is entry `offset + 1`: the whole log
    /// (offset 0), or the part of it read after the `offset` entries already verified, so that
    /// a long log can be verified a part at a time. `storedSequence` is indexed as `entries`.
    /// `progress` hears of each batch verified.
    mutating func verify(_ entries: [Data], offset: Int = 0, upTo end: Int, storedSequence: [Int64]? = nil, signaturesFrom: Int = 0,
                         progress: ProgressMeter? = nil) throws(DossierError) {
        precondition(end - offset <= entries.count && end >= size && size >= offset)
        while size < end {
            let before = size
            try verifyBatch(entries, offset: offset, size..<min(size + Self.batch, end), storedSequence: storedSequence, signaturesFrom: signaturesFrom)
            progress?.add(size - before)
        }
    }

    private mutating func verifyBatch(_ entries: [Data], offset: Int, _ range: Range<Int>, storedSequence: [Int64]?,
                                      signaturesFrom: Int) throws(DossierError) {
        let n = range.count
        let first = range.lowerBound
        var layouts = [Result<AuditEntry.Layout, DossierError>?](repeating: nil, count: n)
        var hashes = [Digest32](repeating: Digest32(), count: n)
        var leaves = [Digest32](repeating: Digest32(), count: n)
        var signatures = [UInt8](repeating: 0, count: 64 * n)
        let workers = Self.workers(for: n)

        // 1. Parse and hash, on all cores.
        layouts.withUnsafeMutableBufferPointer { l in
            hashes.withUnsafeMutableBufferPointer { h in
                leaves.withUnsafeMutableBufferPointer { lv in
                    signatures.withUnsafeMutableBytes { sg in
                        nonisolated(unsafe) let (l, h, lv, sg) = (l, h, lv, sg)
                        DispatchQueue.concurrentPerform(iterations: workers) { w in
                            for i in n * w / workers..<n * (w + 1) / workers {
                                entries[first + i - offset].withUnsafeBytes { bytes in
                                    do throws(DossierError) {
                                        l[i] = .success(try AuditEntry.scan(bytes, signatureOut: sg.baseAddress! + 64 * i))
                                    } catch {
                                        l[i] = .failure(error)
                                    }
                                    h[i] = Digest32.sha256(bytes)
                                    lv[i] = Digest32.leafHash(bytes)
                                }
                            }
                        }
                    }
                }
            }
        }

        // 2. In order: sequence, chain, who may sign.
        var keys = [Data](repeating: Data(), count: n)
        var structural: DossierError?
        var checked = 0
        var cachedActor: (bytes: Data, key: Data, service: Bool)?
        for i in 0..<n {
            let index = first + i
            do throws(DossierError) {
                let layout: AuditEntry.Layout
                switch layouts[i]! {
                case .success(let l): layout = l
                case .failure(let error): throw .integrity("entry \(index + 1): edited (\(error))")
                }
                let bytes = entries[index - offset]
                let key = try step(bytes, layout: layout, index: index, stored: storedSequence?[index - offset], entries: entries,
                                   offset: offset, actorCache: &cachedActor)
                keys[i] = key
                previous = hashes[i]
                tree.append(leaves[i])
                checked = i + 1
            } catch {
                structural = error
                break
            }
        }

        // 3. Signatures, on all cores.
        let from = max(0, signaturesFrom - first)
        if from < checked {
            let failed = IndexFlags(count: checked)
            keys.withUnsafeBufferPointer { k in
                signatures.withUnsafeBytes { sg in
                    layouts.withUnsafeBufferPointer { l in
                        nonisolated(unsafe) let (k, sg, l) = (k, sg, l)
                        let m = checked - from
                        let workers = Self.workers(for: m)
                        DispatchQueue.concurrentPerform(iterations: workers) { w in
                            for j in m * w / workers..<m * (w + 1) / workers {
                                let i = from + j
                                guard case .success(let layout) = l[i]! else { continue }
                                let signature = Data(bytes: sg.baseAddress! + 64 * i, count: 64)
                                if !Signature.verify(signature, of: entries[first + i - offset].prefix(layout.bodyCount), publicKey: k[i]) { failed.set(i) }
                            }
                        }
                    }
                }
            }
            if let bad = failed.first {
                throw .integrity("entry \(first + bad + 1): its signature does not verify: edited or forged")
            }
        }
        if let structural { throw structural }
        size = range.upperBound
    }

    private static func workers(for count: Int) -> Int {
        max(1, min(ProcessInfo.processInfo.activeProcessorCount, count / 64))
    }

    /// The checks of one entry that depend on the ones before it; returns the key that must have signed it.
    private mutating func step(_ bytes: Data, layout: AuditEntry.Layout, index: Int, stored: Int64?, entries: [Data], offset: Int,
                               actorCache: inout (bytes: Data, key: Data, service: Bool)?) throws(DossierError) -> Data {
        let expected = UInt64(index + 1)
        let seq = layout.seq
        if let stored, stored != Int64(bitPattern: seq) {
            throw .integrity("entry \(expected): its stored position \(stored) disagrees with its content (seq \(seq)): reordered or edited")
        }
        if seq != expected {
            if seq > expected {
                let marker = Data("\nseq \(expected)\n".utf8)
                if entries[(index + 1 - offset)...].contains(where: { $0.range(of: marker) != nil }) {
                    throw .integrity("entry \(expected): out of order (found seq \(seq) in its place; \(expected) comes later): entries were reordered")
                }
                throw .integrity("entry \(expected): missing (the next entry is \(seq)): entries were removed")
            }
            throw .integrity("entry \(expected): out of order (found seq \(seq)): entries were reordered or duplicated")
        }
        if layout.previousHash != previous {
            throw .integrity("entry \(expected): does not chain to entry \(expected - 1): an earlier entry was edited, removed or reordered")
        }
        let action = bytes[bytes.startIndex + layout.action.lowerBound..<bytes.startIndex + layout.action.upperBound]
        let changesSigners = seq == 1 || action.elementsEqual("init".utf8) || action.starts(with: "staff-".utf8)
        if !changesSigners {
            // Most logs have few actors: skip the String and the lookup for a repeated one.
            let actor = bytes[bytes.startIndex + layout.actor.lowerBound..<bytes.startIndex + layout.actor.upperBound]
            if let cached = actorCache, cached.bytes.elementsEqual(actor) {
                if cached.service { try checkService(String(decoding: actor, as: UTF8.self), action: action, entry: expected) }
                return cached.key
            }
            let name = String(decoding: actor, as: UTF8.self)
            guard let signer = signers[name] else {
                throw .integrity("entry \(expected): signed by \(name), who is not staff at that point: forged")
            }
            try checkService(name, action: action, entry: expected)
            actorCache = (Data(actor), signer.signingKey, services.contains(name))
            return signer.signingKey
        }
        // Rare: the entry changes who may sign. Parse it whole.
        actorCache = nil
        let entry = try AuditEntry.parse(bytes)
        if entry.seq == 1 {
            guard entry.kind == .initialise, let line = entry.detail("identity"),
                  let founder = try? PublicIdentity(line: line), founder.fingerprint == entry.actor else {
                throw .integrity("entry 1: is not a valid vault creation entry")
            }
            applyStaffChange(entry)
        }
        guard let signer = signers[entry.actor] else {
            throw .integrity("entry \(expected): signed by \(entry.actor), who is not staff at that point: forged")
        }
        try checkService(entry.actor, action: Data(entry.action.utf8), entry: expected)
        if entry.kind == .staffAdd {
            guard let line = entry.detail("identity"), let id = try? PublicIdentity(line: line),
                  entry.subjects(ofType: "staff") == [id.fingerprint] else {
                throw .integrity("entry \(expected): staff-add whose subject and identity disagree or are missing: forged")
            }
        }
        applyStaffChange(entry)
        return signer.signingKey
    }

    /// Who may sign from this entry on: the founder (entry 1), added and removed staff.
    private mutating func applyStaffChange(_ entry: AuditEntry) {
        switch entry.kind {
        case .initialise?, .staffAdd?:
            if let line = entry.detail("identity"), let id = try? PublicIdentity(line: line) {
                signers[id.fingerprint] = id
                if entry.kind == .staffAdd && entry.detail("role") == SignedFacts.Role.service.rawValue {
                    services.insert(id.fingerprint)
                } else {
                    services.remove(id.fingerprint)
                }
            }
        case .staffRemove?:
            for fp in entry.subjects(ofType: "staff") {
                signers[fp] = nil
                services.remove(fp)
            }
        default:
            break
        }
    }
}
