import DossierCrypto
import Dispatch
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

    /// Appends many entries in one transaction (the key-release service's batches): reads the
    /// head of the chain once and chains the following entries in memory. The entries are exactly
    /// what `append` would write one by one.
    struct Appender {
        private var seq: UInt64
        private var previous: Data

        init(_ db: Database) throws {
            let last = try Row.fetchOne(db, sql: "SELECT seq, entry FROM audit_log ORDER BY seq DESC LIMIT 1")
            seq = last.map { UInt64($0["seq"] as Int64) } ?? 0
            previous = last.map { Hash.sha256($0["entry"] as Data) } ?? Data(count: 32)
        }

        @discardableResult
        mutating func append(_ db: Database, signer: SecretIdentity, action: String, at time: Date,
                             subjects: [String], details: [AuditEntry.Detail] = []) throws -> AuditEntry {
            let entry = try AuditEntry.make(seq: seq + 1, time: time, signer: signer.signing,
                                            actor: signer.publicIdentity.fingerprint, action: action,
                                            subjects: subjects, details: details, previousHash: previous)
            try db.cachedStatement(sql: "INSERT INTO audit_log(seq, entry) VALUES (?, ?)").execute(arguments: [Int64(entry.seq), entry.bytes])
            seq = entry.seq
            previous = entry.hash
            return entry
        }
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
    ///
    /// One sequential pass checks order, chain and who may sign; the Ed25519 signatures, the
    /// costly part, are then checked on all cores. The error reported is the earliest either finds.
    ///
    /// With `trustedPrefix` n, the first n entries are taken as already verified (the caller has
    /// matched them against a checkpoint it verified earlier): they are only scanned for staff
    /// changes and hashed for the chain, so the cost is that of the new entries.
    public static func verify(_ entries: [Data], storedSequence: [Int64]? = nil, trustedPrefix: Int = 0) throws(DossierError) -> Int {
        var previous = Data(count: 32)
        var signers: [String: Data] = [:]   // fingerprint → Ed25519 key, for current staff
        var toVerify: [(entry: AuditEntry, key: Data)] = []
        toVerify.reserveCapacity(entries.count - min(trustedPrefix, entries.count))
        var structural: DossierError?
        let staffMarker = Data("\naction staff-".utf8)
        for (index, bytes) in entries.prefix(trustedPrefix).enumerated() {
            if index == 0 || bytes.range(of: staffMarker) != nil {
                let entry: AuditEntry
                do { entry = try AuditEntry.parse(bytes) } catch { throw .integrity("entry \(index + 1): edited (\(error))") }
                applyStaffChange(entry, to: &signers)
            }
            previous = Hash.sha256(bytes)
        }
        for (index, bytes) in entries.enumerated() where index >= trustedPrefix {
            do {
                let (entry, key) = try step(bytes, index: index, stored: storedSequence?[index], previous: previous, signers: &signers,
                                            appearsLater: { seq in
                                                let marker = Data("\nseq \(seq)\n".utf8)
                                                return entries[(index + 1)...].contains { $0.range(of: marker) != nil }
                                            })
                toVerify.append((entry, key))
                previous = Hash.sha256(bytes)
            } catch {
                structural = error
                break
            }
        }
        if let bad = firstBadSignature(toVerify) {
            throw .integrity("entry \(bad + 1): its signature does not verify: edited or forged")
        }
        if let structural { throw structural }
        return entries.count
    }

    /// The checks of one entry that depend on the ones before it.
    private static func step(_ bytes: Data, index: Int, stored: Int64?, previous: Data,
                             signers: inout [String: Data], appearsLater: (UInt64) -> Bool) throws(DossierError) -> (AuditEntry, Data) {
        let expected = UInt64(index + 1)
        let entry: AuditEntry
        do {
            entry = try AuditEntry.parse(bytes)
        } catch {
            throw .integrity("entry \(expected): edited (\(error))")
        }
        if let stored, stored != Int64(entry.seq) {
            throw .integrity("entry \(expected): its stored position \(stored) disagrees with its content (seq \(entry.seq)): reordered or edited")
        }
        if entry.seq != expected {
            if entry.seq > expected {
                if appearsLater(expected) {
                    throw .integrity("entry \(expected): out of order (found seq \(entry.seq) in its place; \(expected) comes later): entries were reordered")
                }
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
            applyStaffChange(entry, to: &signers)
        }
        guard let key = signers[entry.actor] else {
            throw .integrity("entry \(expected): signed by \(entry.actor), who is not staff at that point: forged")
        }
        if entry.action == "staff-add" {
            guard let line = entry.detail("identity"), let id = try? PublicIdentity(line: line),
                  entry.subjects(ofType: "staff") == [id.fingerprint] else {
                throw .integrity("entry \(expected): staff-add whose subject and identity disagree or are missing: forged")
            }
        }
        applyStaffChange(entry, to: &signers)
        return (entry, key)
    }

    /// Who may sign from this entry on: the founder (entry 1), added and removed staff.
    private static func applyStaffChange(_ entry: AuditEntry, to signers: inout [String: Data]) {
        switch entry.action {
        case "init", "staff-add":
            if let line = entry.detail("identity"), let id = try? PublicIdentity(line: line) { signers[id.fingerprint] = id.signingKey }
        case "staff-remove":
            for fp in entry.subjects(ofType: "staff") { signers[fp] = nil }
        default:
            break
        }
    }

    /// Index of the earliest entry whose signature fails, checked on all cores.
    private static func firstBadSignature(_ items: [(entry: AuditEntry, key: Data)]) -> Int? {
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, items.count / 256))
        let results = SignatureResults(count: items.count)
        items.withUnsafeBufferPointer { buffer in
            nonisolated(unsafe) let all = buffer
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                var i = w
                while i < all.count {
                    if !all[i].entry.isSigned(by: all[i].key) { results.fail(i) }
                    i += workers
                }
            }
        }
        return results.first
    }
}

/// Per-entry failure flags written from several threads, each index by one thread only.
private final class SignatureResults: @unchecked Sendable {
    private let failed: UnsafeMutableBufferPointer<Bool>
    init(count: Int) { failed = .allocate(capacity: max(count, 1)); failed.initialize(repeating: false) }
    deinit { failed.deallocate() }
    func fail(_ i: Int) { failed[i] = true }
    var first: Int? { failed.firstIndex(of: true) }
}
