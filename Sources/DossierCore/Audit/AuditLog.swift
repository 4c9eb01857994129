import DossierCrypto
import Foundation
import GRDB

/// The append-only log inside the vault database. Entries are appended in the same
/// transaction as the change they record: if the entry cannot be written, the change rolls back.
public enum AuditLog {
    /// Appends a signed entry chained to the last one. Must run inside a write transaction.
    @discardableResult
    static func append(_ db: Database, signer: SecretIdentity, action: String, at time: Date,
                       subjects: [String], details: [AuditEntry.Detail] = []) throws -> AuditEntry {
        let last = try Row.fetchOne(db, sql: "SELECT seq, entry FROM audit_log ORDER BY seq DESC LIMIT 1")
        let seq: UInt64 = (last.map { UInt64($0["seq"] as Int64) } ?? 0) + 1
        let previous: Data = last.map { Hash.sha256($0["entry"] as Data) } ?? Data(count: 32)
        let entry = try AuditEntry.make(seq: seq, time: time, signer: signer.signing,
                                        actor: signer.publicIdentity.fingerprint, action: action,
                                        subjects: subjects, details: details, previousHash: previous)
        try db.execute(sql: "INSERT INTO audit_log(seq, entry) VALUES (?, ?)", arguments: [Int64(seq), entry.bytes])
        return entry
    }

    /// The raw entries in sequence order (unparsed, so verification sees exactly what is stored).
    static func rawEntries(_ db: Database) throws -> [(seq: Int64, bytes: Data)] {
        try Row.fetchAll(db, sql: "SELECT seq, entry FROM audit_log ORDER BY seq").map { ($0["seq"], $0["entry"]) }
    }
}

extension Vault {
    /// Every log entry, parsed, in order.
    public func auditEntries() throws(DossierError) -> [AuditEntry] {
        let raw = try read { db in try AuditLog.rawEntries(db) }
        var out: [AuditEntry] = []
        out.reserveCapacity(raw.count)
        for r in raw { out.append(try AuditEntry.parse(r.bytes)) }
        return out
    }

    /// Checks the stored log: sequence, hash chain, and that each entry is signed by someone who
    /// was staff at that point (as the log itself records). Throws naming the first bad entry.
    public func verifyLogChain() throws(DossierError) -> Int {
        let raw = try read { db in try AuditLog.rawEntries(db) }
        let count = try LogChain.verify(raw.map(\.bytes), storedSequence: raw.map(\.seq))
        if let first = raw.first, try AuditEntry.parse(first.bytes).detail("organisation-key") != (try organisation().publicKey) {
            throw .integrity("entry 1: names a different organisation key than the vault holds: the key or the log was replaced")
        }
        return count
    }
}

/// Verification of a sequence of entries, needing no secret.
public enum LogChain {
    /// Returns the number of entries verified; throws `.integrity` naming the first bad entry and what is wrong.
    public static func verify(_ entries: [Data], storedSequence: [Int64]? = nil) throws(DossierError) -> Int {
        var previous = Data(count: 32)
        var signers: [String: Data] = [:]   // fingerprint → Ed25519 key, for current staff
        for (index, bytes) in entries.enumerated() {
            let expected = UInt64(index + 1)
            let entry: AuditEntry
            do {
                entry = try AuditEntry.parse(bytes)
            } catch {
                throw .integrity("entry \(expected): edited (\(error))")
            }
            if let stored = storedSequence?[index], stored != Int64(entry.seq) {
                throw .integrity("entry \(expected): its stored position \(stored) disagrees with its content (seq \(entry.seq)): reordered or edited")
            }
            if entry.seq != expected {
                if entry.seq > expected {
                    throw .integrity("entry \(expected): missing (the next entry is \(entry.seq)): entries were removed")
                }
                throw .integrity("entry \(expected): out of order (found seq \(entry.seq)): entries were reordered or duplicated")
            }
            if entry.previousHash != previous {
                throw .integrity("entry \(expected): does not chain to entry \(expected - 1): an earlier entry was edited, removed or reordered")
            }
            if entry.seq == 1 {
                guard entry.action == "init", let line = entry.detail("identity"),
                      let founder = try? PublicIdentity(line: line), founder.fingerprint == entry.actor else {
                    throw .integrity("entry 1: is not a valid vault creation entry")
                }
                signers[founder.fingerprint] = founder.signingKey
            }
            guard let key = signers[entry.actor] else {
                throw .integrity("entry \(expected): signed by \(entry.actor), who is not staff at that point: forged")
            }
            guard entry.isSigned(by: key) else {
                throw .integrity("entry \(expected): its signature does not verify: edited or forged")
            }
            switch entry.action {
            case "staff-add":
                if let line = entry.detail("identity"), let id = try? PublicIdentity(line: line),
                   entry.subjects(ofType: "staff") == [id.fingerprint] {
                    signers[id.fingerprint] = id.signingKey
                } else {
                    throw .integrity("entry \(expected): staff-add whose subject and identity disagree or are missing: forged")
                }
            case "staff-remove":
                for fp in entry.subjects(ofType: "staff") { signers[fp] = nil }
            default:
                break
            }
            previous = Hash.sha256(bytes)
        }
        return entries.count
    }
}
