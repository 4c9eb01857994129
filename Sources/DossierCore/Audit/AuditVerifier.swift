import DossierCrypto
import Foundation
import GRDB

/// Everything an auditor needs, and nothing secret: the organisation's public key, the
/// entries (which carry the staff public keys), and the signed checkpoints.
public struct LogSnapshot: Sendable {
    public let organisation: String
    public let organisationKey: OrganisationKey
    public let entries: [Data]
    /// Signed notes, oldest first.
    public let checkpoints: [String]
}

/// The result of a successful verification.
public struct VerificationReport: Codable, Sendable {
    public let organisation: String
    public let organisationFingerprint: String
    public let entries: Int
    public let root: String
    /// Size of the newest checkpoint checked against the log (nil if there is none).
    public let checkpointSize: UInt64?
    /// Sizes of the checkpoints shown consistent with today's log.
    public let consistentCheckpoints: [UInt64]
}

/// Verification of a log without any secret.
public enum AuditVerifier {
    /// Checks the chain and signatures of every entry, that entry 1 names this organisation key,
    /// the Merkle root against every checkpoint in the snapshot (the newest included), and that
    /// each extra checkpoint (an auditor's own, kept from earlier) is consistent with today's log.
    ///
    /// `verifiedCheckpoint` is a checkpoint the auditor verified fully before: once its root
    /// matches today's first entries, those entries are not checked again, so a repeated
    /// verification costs only what was appended since.
    public static func verify(_ snapshot: LogSnapshot, expectedOrganisationFingerprint: String? = nil,
                              olderCheckpoints: [String] = [], verifiedCheckpoint: String? = nil) throws(DossierError) -> VerificationReport {
        let org = snapshot.organisationKey
        if let expected = expectedOrganisationFingerprint {
            guard let want = Fingerprint.normalise(expected) else { throw .invalidArgument("'\(expected)' is not a fingerprint (XXXX-XXXX-XXXX-XXXX)") }
            guard want == org.fingerprint else { throw .wrongOrganisation(expected: want, found: org.fingerprint) }
        }
        var trustedPrefix = 0
        if let note = verifiedCheckpoint {
            let cp: Checkpoint
            do {
                cp = try Checkpoint.parse(try SignedNote.verify(note, name: snapshot.organisation, publicKey: org.signingKey))
            } catch {
                throw .logVerificationFailed("the verified checkpoint given: \(error)")
            }
            guard cp.size <= UInt64(snapshot.entries.count) else {
                throw .logVerificationFailed("truncated: the verified checkpoint covers \(cp.size) entries but the log has only \(snapshot.entries.count)")
            }
            guard MerkleTree.root(leafHashes: snapshot.entries.prefix(Int(cp.size)).map(MerkleTree.leafHash)) == cp.root else {
                throw .logVerificationFailed("the first \(cp.size) entries no longer match the checkpoint you verified: entries were edited, replaced or reordered")
            }
            trustedPrefix = Int(cp.size)
        }
        do {
            _ = try LogChain.verify(snapshot.entries, trustedPrefix: trustedPrefix)
        } catch {
            throw .logVerificationFailed(error.description.replacingOccurrences(of: "integrity check failed: ", with: ""))
        }
        if let first = snapshot.entries.first, let entry = try? AuditEntry.parse(first), entry.detail("organisation-key") != org.line {
            throw .logVerificationFailed("entry 1: names a different organisation key than the one given: the log belongs to another vault or was replaced")
        }
        let leaves = snapshot.entries.map(MerkleTree.leafHash)
        let root = MerkleTree.root(leafHashes: leaves)
        var consistent: [UInt64] = []
        var newest: UInt64?
        for (i, note) in (snapshot.checkpoints + olderCheckpoints).enumerated() {
            let own = i < snapshot.checkpoints.count
            let label = own ? "the vault's checkpoint" : "checkpoint \(i - snapshot.checkpoints.count + 1) given"
            let cp: Checkpoint
            do {
                cp = try Checkpoint.parse(try SignedNote.verify(note, name: snapshot.organisation, publicKey: org.signingKey))
            } catch {
                throw .logVerificationFailed("\(label): \(error)")
            }
            guard cp.origin == snapshot.organisation else { throw .logVerificationFailed("\(label) is for the log '\(cp.origin)', not '\(snapshot.organisation)'") }
            guard cp.size <= UInt64(leaves.count) else {
                throw .logVerificationFailed("truncated: \(label) covers \(cp.size) entries but the log has only \(leaves.count); entries \(leaves.count + 1) to \(cp.size) were removed")
            }
            let prefixRoot = MerkleTree.root(leafHashes: leaves[0..<Int(cp.size)])
            guard prefixRoot == cp.root else {
                throw .logVerificationFailed("\(label) (size \(cp.size)) does not match the first \(cp.size) entries: entries were edited, replaced or reordered")
            }
            if cp.size > 0 && cp.size < UInt64(leaves.count) {
                // Exercise the same proof an auditor without the full log would check.
                let proof = MerkleTree.consistencyProof(oldSize: Int(cp.size), leafHashes: leaves[...])
                do {
                    try MerkleTree.verifyConsistency(size1: cp.size, size2: UInt64(leaves.count), root1: cp.root, root2: root, proof: proof)
                } catch {
                    throw .logVerificationFailed("\(label) (size \(cp.size)) is not consistent with today's log: \(error)")
                }
            }
            if own { newest = max(newest ?? 0, cp.size) } else { consistent.append(cp.size) }
        }
        return VerificationReport(organisation: snapshot.organisation, organisationFingerprint: org.fingerprint, entries: leaves.count,
                                  root: root.base64EncodedString(), checkpointSize: newest, consistentCheckpoints: consistent)
    }
}

extension Vault {
    /// The log and public keys, as an auditor sees them.
    public func logSnapshot() throws(DossierError) -> LogSnapshot {
        let org = try organisation()
        let (entries, notes) = try read { db in
            (try AuditLog.rawEntries(db).map(\.bytes), try String.fetchAll(db, sql: "SELECT note FROM checkpoints ORDER BY size"))
        }
        return LogSnapshot(organisation: org.name, organisationKey: try OrganisationKey(line: org.publicKey), entries: entries, checkpoints: notes)
    }

    /// The newest checkpoint note, if any.
    public func newestCheckpoint() throws(DossierError) -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1") }
    }

    /// The organisation's key in C2SP note verifier-key form.
    public func noteKey() throws(DossierError) -> String {
        let org = try organisation()
        return SignedNote.verifierKey(name: org.name, publicKey: try OrganisationKey(line: org.publicKey).signingKey)
    }
}

extension StaffSession {
    /// Signs a checkpoint of the whole log with the organisation key and keeps it in the vault.
    public func checkpoint() throws(DossierError) -> String {
        let org = try vault.organisation()
        let key = try organisationSigningKey()
        let now = vault.clock.now()
        return try write { db in
            let entries = try AuditLog.rawEntries(db).map(\.bytes)
            let cp = Checkpoint(origin: org.name, size: UInt64(entries.count), root: MerkleTree.root(leafHashes: entries.map(MerkleTree.leafHash)))
            let note = SignedNote.sign(cp.text, name: org.name, key: key)
            try db.execute(sql: "INSERT OR REPLACE INTO checkpoints(size, note, created_at) VALUES (?, ?, ?)",
                           arguments: [Int64(cp.size), note, Timestamp.format(now)])
            return note
        }
    }
}

/// The self-contained export an auditor verifies elsewhere (docs/formats/log.md):
/// `dossier-log-export/1`, `organisation NAME`, `organisation-key LINE`, then
/// `checkpoint BASE64(note)` lines (oldest first) and `entry BASE64(bytes)` lines in order.
public enum LogExport {
    static let header = "dossier-log-export/1"

    public static func bytes(_ s: LogSnapshot) -> Data {
        var t = "\(header)\norganisation \(s.organisation)\norganisation-key \(s.organisationKey.line)\n"
        for c in s.checkpoints { t += "checkpoint \(Data(c.utf8).base64EncodedString())\n" }
        for e in s.entries { t += "entry \(e.base64EncodedString())\n" }
        return Data(t.utf8)
    }

    public static func parse(_ data: Data, path: String) throws(DossierError) -> LogSnapshot {
        func bad(_ why: String) -> DossierError { .malformedExport(path: path, reason: why) }
        guard let text = String(data: data, encoding: .utf8), var lines = KeyedLines(text) else { throw bad("not UTF-8 text ending in a newline") }
        func take(_ name: String) throws(DossierError) -> String {
            guard let value = lines.take(name) else { throw bad("expected '\(name)' at line \(lines.lineNumber)") }
            return value
        }
        guard lines.header(header) else { throw bad("unknown header (expected \(header))") }
        let name = try take("organisation")
        guard OrganisationName.isValid(name) else { throw bad("bad organisation name (printable ASCII without spaces or '+')") }
        let key: OrganisationKey
        do { key = try OrganisationKey(line: try take("organisation-key")) } catch { throw bad("\(error)") }
        var checkpoints: [String] = []
        while lines.nextIs("checkpoint") {
            let lineNo = lines.lineNumber
            guard let d = Data(base64Encoded: try take("checkpoint")), let note = String(data: d, encoding: .utf8) else { throw bad("line \(lineNo): bad checkpoint") }
            checkpoints.append(note)
        }
        var entries: [Data] = []
        while lines.nextIs("entry") {
            let lineNo = lines.lineNumber
            guard let d = Data(base64Encoded: try take("entry")) else { throw bad("line \(lineNo): bad entry encoding") }
            entries.append(d)
        }
        guard lines.isEmpty else { throw bad("unexpected content at line \(lines.lineNumber)") }
        let s = LogSnapshot(organisation: name, organisationKey: key, entries: entries, checkpoints: checkpoints)
        guard bytes(s) == data else { throw bad("not in canonical form") }
        return s
    }
}
