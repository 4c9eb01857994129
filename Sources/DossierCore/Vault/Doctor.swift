import DossierCrypto
import Foundation

/// Consistency checks of a vault folder. Never prints or returns content.
public struct DoctorReport: Codable, Sendable {
    public enum Severity: String, Codable, Sendable {
        /// Harmless leftovers a crash can cause (orphan blobs, temporary files).
        case leftover
        /// Damage: missing or altered content, a broken log, retired keys left in the files.
        case damage
    }

    public struct Finding: Codable, Sendable {
        public let severity: Severity
        public let subject: String
        public let message: String
        public var fixed: Bool
    }

    public var documentsChecked = 0
    public var blobsAuthenticated = 0
    public var logEntriesVerified = 0
    public var findings: [Finding] = []

    /// True when nothing is damaged (leftovers alone do not fail the check, nor damage that
    /// `fix` repaired).
    public var isHealthy: Bool { !findings.contains { $0.severity == .damage && !$0.fixed } }
}

extension Vault {
    /// Checks every live document's blob (present, right size), lists orphan blobs and leftover
    /// temporary files, and verifies the log chain. With `session`, also decrypts every blob to
    /// nowhere, authenticating each chunk, and checks the plaintext against the hash recorded
    /// at deposit (where there is one). Reports as damage an unfinished purge of the old keys
    /// after a rotation or a removal (`purgeBlocked`). With `fix`, removes orphans and
    /// leftovers and finishes the purge: run it only when no other process is using the vault.
    public func doctor(session: StaffSession? = nil, fix: Bool = false) throws(DossierError) -> DoctorReport {
        var report = DoctorReport()
        let (rows, removed, requests) = try read { tx in (try tx.liveDocuments(), Set(try tx.removedDocumentIDs()), try tx.allRequests()) }
        var (files, temporaries) = blobs.inventory()
        // Request files kept by the inbox, as received (already sealed to the intake key).
        for request in requests {
            guard files.removeValue(forKey: request.id) != nil else {
                report.findings.append(.init(severity: .damage, subject: request.id, message: "the request file kept in the inbox is missing", fixed: false))
                continue
            }
            if let actual = blobs.storedSize(id: request.id), actual != request.size {
                report.findings.append(.init(severity: .damage, subject: request.id,
                                             message: "the request file kept in the inbox has \(actual) bytes, expected \(request.size): truncated or altered", fixed: false))
            }
        }
        for row in rows {
            let id = row.id, size = row.size
            report.documentsChecked += 1
            guard files.removeValue(forKey: id) != nil, let actual = blobs.storedSize(id: id) else {
                report.findings.append(.init(severity: .damage, subject: id, message: "its encrypted content is missing", fixed: false))
                continue
            }
            let expected = blobs.expectedSize(plaintextSize: size)
            if actual != expected {
                report.findings.append(.init(severity: .damage, subject: id, message: "its encrypted content has \(actual) bytes, expected \(expected): truncated or altered", fixed: false))
                continue
            }
            if let session {
                do {
                    let secret = try DocumentSecret.open(row.keySealed, id: id, vaultKey: session.vaultKey)
                    let key = secret.key, recorded = secret.contentHash
                    let fd = try blobs.openForReading(id: id)
                    defer { close(fd) }
                    var source = FileDescriptorSource(fd: fd)
                    var sink = NullSink()
                    let hash: Data
                    do {
                        hash = try ContentStream.decryptHashing(key: key, from: &source, to: &sink).blake2b
                    } catch {
                        throw DossierError.integrity("\(error)")
                    }
                    if let recorded, recorded != hash {
                        report.findings.append(.init(severity: .damage, subject: id, message: "its content authenticates but does not match the hash recorded at deposit; its packages would be refused by counsel", fixed: false))
                        continue
                    }
                    report.blobsAuthenticated += 1
                } catch {
                    report.findings.append(.init(severity: .damage, subject: id, message: "its encrypted content does not authenticate: \(error)", fixed: false))
                }
            }
        }
        for (id, path) in files.sorted(by: { $0.key < $1.key }) {
            let why = id.hasPrefix("req-") ? "a request file not in the inbox (an import interrupted before it committed)"
                : removed.contains(id) ? "left over from a removed document" : "not in the catalogue (a deposit interrupted before it committed)"
            var finding = DoctorReport.Finding(severity: .leftover, subject: path, message: "orphan encrypted blob, \(why)", fixed: false)
            if fix { finding.fixed = blobs.delete(leftover: path) }
            report.findings.append(finding)
        }
        for path in temporaries.sorted() {
            var finding = DoctorReport.Finding(severity: .leftover, subject: path, message: "temporary file of an interrupted write (encrypted)", fixed: false)
            if fix { finding.fixed = blobs.delete(leftover: path) }
            report.findings.append(finding)
        }
        if !store.pendingPurges().isEmpty {
            let onPostgres = PostgresStore.isURI(path)
            let unfinished = "the clean-up after a key rotation or a document removal is unfinished: retired keys may still be in the vault's "
                + (onPostgres ? "tables (old row versions)" : "files")
            let what = onPostgres ? "as the role that owns the vault's tables, run `dossier doctor --fix`" : "close every other process using the vault, then run `dossier doctor --fix`"
            var finding = DoctorReport.Finding(severity: .damage, subject: onPostgres ? "old row versions" : "write-ahead log",
                                               message: unfinished + "; " + what, fixed: false)
            if fix {
                do {
                    try store.purgeReplacedData()
                    finding.fixed = true
                } catch .purgeBlocked {
                    finding = .init(severity: .damage, subject: finding.subject,
                                    message: unfinished + "; another process holds the database open: close it, then run `dossier doctor --fix` again",
                                    fixed: false)
                } catch {
                    finding = .init(severity: .damage, subject: finding.subject, message: unfinished + "; " + error.message, fixed: false)
                }
            }
            report.findings.append(finding)
        }
        do {
            report.logEntriesVerified = try verifyLogChain()
            for message in try alteredRows() {
                report.findings.append(.init(severity: .damage, subject: "signed facts", message: "edited outside dossier: " + message, fixed: false))
            }
        } catch {
            report.findings.append(.init(severity: .damage, subject: "audit log", message: error.description, fixed: false))
        }
        return report
    }
}

extension Vault {
    /// Every row that differs from what the signed log records (grants, approvals, documents'
    /// kinds and removals, counsel, staff, the policy, openings), one message each; empty when
    /// the rows agree with the log. Needs no secret: every value compared is stored in the clear.
    public func alteredRows() throws(DossierError) -> [String] {
        try read { tx in try SignedFacts.load(tx, memory: logHead).findings(tx) }
    }
}

/// Discards what is written (for authenticating without keeping plaintext).
struct NullSink: ByteSink {
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws(CryptoError) {}
}
