import DossierCrypto
import Foundation

/// Everything an auditor needs, and nothing secret: the organisation's public key, the
/// entries (which carry the staff public keys), and the signed checkpoints.
public struct LogSnapshot: Sendable {
    public let organisation: String
    public let organisationKey: OrganisationKey
    /// Every entry, in order. Below `firstLoaded` they are empty placeholders: not read.
    public let entries: [Data]
    /// Signed notes, oldest first.
    public let checkpoints: [String]
    /// The index of the first entry read (0: all of them). A verification from a state needs
    /// only the entries from the state's last one on.
    public let firstLoaded: Int

    public init(organisation: String, organisationKey: OrganisationKey, entries: [Data], checkpoints: [String], firstLoaded: Int = 0) {
        self.organisation = organisation
        self.organisationKey = organisationKey
        self.entries = entries
        self.checkpoints = checkpoints
        self.firstLoaded = firstLoaded
    }
}

/// The result of a successful verification.
public struct VerificationReport: Encodable, Sendable {
    public let organisation: String
    public let organisationFingerprint: String
    public let entries: Int
    public let root: String
    /// Size of the newest checkpoint checked against the log (nil if there is none).
    public let checkpointSize: UInt64?
    /// Sizes of the checkpoints shown consistent with today's log.
    public let consistentCheckpoints: [UInt64]
    /// With a state to start from: the entries it covered, which were not read again.
    public let resumedAfter: UInt64?
    /// What to keep for the next verification: the state at the newest checkpoint verified
    /// (nil when the log has none). Not part of the JSON report.
    public let state: VerificationState?

    enum CodingKeys: String, CodingKey {
        case organisation, organisationFingerprint, entries, root, checkpointSize, consistentCheckpoints, resumedAfter
    }
}

/// Verification of a log without any secret.
public enum AuditVerifier {
    /// Checks the chain and signatures of every entry, that entry 1 names this organisation key,
    /// the Merkle root against every checkpoint in the snapshot (the newest included), and that
    /// each extra checkpoint (an auditor's own, kept from earlier) is consistent with today's log.
    ///
    /// `verifiedCheckpoint` is a checkpoint the auditor verified fully before: the signatures of
    /// the entries it covers are not checked again, but every entry is still read and hashed to
    /// match its root.
    ///
    /// `state` is what an earlier verification returned (`VerificationReport.state`): the entries
    /// it covers are not read at all, so the cost is that of the entries appended since. Its
    /// checkpoint signature, and its path against the log's entry at that size, are checked; its
    /// list of signers is trusted (docs/formats/log.md, section 7).
    ///
    /// `progress` hears the entries verified, of those to verify (after the state's).
    public static func verify(_ snapshot: LogSnapshot, expectedOrganisationFingerprint: String? = nil,
                              olderCheckpoints: [String] = [], verifiedCheckpoint: String? = nil,
                              state: VerificationState? = nil, progress: (any ProgressReporter)? = nil) throws(DossierError) -> VerificationReport {
        let org = snapshot.organisationKey
        let count = snapshot.entries.count
        if let expected = expectedOrganisationFingerprint {
            guard let want = Fingerprint.normalise(expected) else { throw .invalidArgument("'\(expected)' is not a fingerprint (XXXX-XXXX-XXXX-XXXX)") }
            guard want == org.fingerprint else { throw .wrongOrganisation(expected: want, found: org.fingerprint) }
        }
        var certified: [CertifiedSigner]?
        func signed(_ note: String) throws(DossierError) -> Checkpoint {
            try Checkpoint.parse(try checkpointText(note, snapshot: snapshot) {
                if certified == nil { certified = certifiedSigners(snapshot, carried: state?.certificates ?? []) }
                return certified ?? []
            })
        }

        guard snapshot.firstLoaded == 0 || (state?.size).map({ $0 >= 1 && Int($0) - 1 >= snapshot.firstLoaded }) == true else {
            throw .invalidArgument("the log was read from entry \(snapshot.firstLoaded + 1) only; a verification needs it all, or a state at that entry or later")
        }
        // Where to start: the beginning, or the state an auditor kept.
        var walk = LogWalk()
        var known: [UInt64: Digest32] = [0: walk.tree.root]
        if let state {
            walk = try resume(from: state, snapshot: snapshot)
            known[UInt64(walk.size)] = walk.tree.root
        }
        let start = walk.size
        var trustedPrefix: Checkpoint?
        if let note = verifiedCheckpoint {
            do { trustedPrefix = try signed(note) } catch { throw .logVerificationFailed("the verified checkpoint given: \(error)") }
            guard trustedPrefix!.size <= UInt64(count) else {
                throw .logVerificationFailed("truncated: the verified checkpoint covers \(trustedPrefix!.size) entries but the log has only \(count)")
            }
        }

        // The checkpoints' sizes and roots, to stop at while walking; their signatures are
        // checked after the entries, in order, as each checkpoint is.
        let notes = snapshot.checkpoints + olderCheckpoints
        let unverified: [Checkpoint?] = notes.map { note in try? Checkpoint.parse(try SignedNote.split(note).text) }
        for (i, cp) in unverified.enumerated() where i >= snapshot.checkpoints.count {
            if let cp, cp.size < UInt64(start) {
                throw .invalidArgument("checkpoint \(i - snapshot.checkpoints.count + 1) given covers \(cp.size) entries, fewer than the state you started from (\(start))", hint: "verify without --from-state to check it")
            }
        }
        let newestOwn = unverified.prefix(snapshot.checkpoints.count).indices
            .filter { unverified[$0].map { $0.size >= 1 && $0.size <= UInt64(count) } ?? false }
            .max { unverified[$0]!.size < unverified[$1]!.size }

        // One pass over the entries after `start`, stopping at each checkpoint's size for its root.
        var stops = Set(unverified.compactMap { $0?.size }.filter { $0 > UInt64(start) && $0 <= UInt64(count) }.map { Int($0) })
        if let p = trustedPrefix, p.size > UInt64(start) { stops.insert(Int(p.size)) }
        stops.insert(count)
        var keep: VerificationState? = state
        let meter = ProgressMeter(progress, unit: .entries, total: UInt64(max(0, count - start)))
        defer { meter?.finish() }
        for stop in stops.sorted() where stop > start {
            let inPrefix = trustedPrefix.map { stop <= Int($0.size) } ?? false
            do {
                try walk.verify(snapshot.entries, upTo: stop, signaturesFrom: Int(trustedPrefix?.size ?? 0), progress: meter)
            } catch {
                if inPrefix, let p = trustedPrefix {
                    throw .logVerificationFailed("the first \(p.size) entries no longer match the checkpoint you verified: entries were edited, replaced or reordered (\(error.description.replacingOccurrences(of: "integrity check failed: ", with: "")))")
                }
                throw .logVerificationFailed(error.description.replacingOccurrences(of: "integrity check failed: ", with: ""))
            }
            known[UInt64(stop)] = walk.tree.root
            if let newest = newestOwn, let cp = unverified[newest], cp.size == UInt64(stop), known[UInt64(stop)] == Digest32(cp.root) {
                // Kept only if its signature verifies below, like every checkpoint.
                // The certificates logged up to the checkpoint and not revoked there, for the
                // next resumed verification (which skips the entries that hold them).
                let size = stop
                let carried = certifiedSigners(snapshot, carried: state?.certificates ?? [])
                    .filter { $0.certifiedAt <= size && ($0.revokedAt.map { $0 > size } ?? true) }
                    .map(\.certificate.line)
                keep = VerificationState(organisation: snapshot.organisation, organisationKey: org, checkpoint: notes[newest],
                                         path: walk.tree.lastLeafPath, signers: walk.signers.values.map(\.line),
                                         certificates: Array(Set(carried)), services: Array(walk.services))
            }
        }
        if let p = trustedPrefix, known[p.size] != Digest32(p.root) {
            throw .logVerificationFailed("the first \(p.size) entries no longer match the checkpoint you verified: entries were edited, replaced or reordered")
        }
        if start == 0, let first = snapshot.entries.first, (try? AuditEntry.parse(first)) != nil, currentOrganisationKeyLine(snapshot.entries) != org.line {
            throw .logVerificationFailed("entry 1: names a different organisation key than the one given: the log belongs to another vault or was replaced")
        }
        let root = walk.tree.root
        var consistent: [UInt64] = []
        var newest: UInt64?
        for (i, note) in notes.enumerated() {
            let own = i < snapshot.checkpoints.count
            let label = own ? "the vault's checkpoint" : "checkpoint \(i - snapshot.checkpoints.count + 1) given"
            let cp: Checkpoint
            do { cp = try signed(note) } catch {
                // A checkpoint file the auditor gave that is not a checkpoint at all is
                // malformed input (exit 65), as a malformed export is; one that parses but does
                // not verify, or the vault's own, is a verification failure.
                if !own, case .malformedCheckpoint = error { throw error }
                throw .logVerificationFailed("\(label): \(error)")
            }
            guard cp.origin == snapshot.organisation else { throw .logVerificationFailed("\(label) is for the log '\(cp.origin)', not '\(snapshot.organisation)'") }
            guard cp.size <= UInt64(count) else {
                throw .logVerificationFailed("truncated: \(label) covers \(cp.size) entries but the log has only \(count); entries \(count + 1) to \(cp.size) were removed")
            }
            // Below the state's size only the state's own checkpoint is known; the others were checked when it was made.
            guard let prefixRoot = known[cp.size] else { continue }
            guard prefixRoot == Digest32(cp.root) else {
                throw .logVerificationFailed("\(label) (size \(cp.size)) does not match the first \(cp.size) entries: entries were edited, replaced or reordered")
            }
            // Both roots come from the same leaves, read once in order: the log only grew from
            // the checkpoint to today. (`audit prove --from` gives the RFC 6962 proof of it.)
            if own { newest = max(newest ?? 0, cp.size) } else { consistent.append(cp.size) }
        }
        return VerificationReport(organisation: snapshot.organisation, organisationFingerprint: org.fingerprint, entries: count,
                                  root: root.data.base64EncodedString(), checkpointSize: newest, consistentCheckpoints: consistent,
                                  resumedAfter: state == nil ? nil : UInt64(start), state: keep)
    }

    /// The walk after a state's checkpoint: its signature, size and path checked against the
    /// organisation key and the log's entry at that size.
    private static func resume(from state: VerificationState, snapshot: LogSnapshot) throws(DossierError) -> LogWalk {
        guard state.organisation == snapshot.organisation, state.organisationKey == snapshot.organisationKey else {
            throw .logVerificationFailed("the state you started from is for another organisation or key (\(state.organisation), \(state.organisationKey.fingerprint))")
        }
        let cp: Checkpoint
        do {
            cp = try Checkpoint.parse(try checkpointText(state.checkpoint, snapshot: snapshot) { certifiedSigners(snapshot, carried: state.certificates) })
        } catch {
            throw .logVerificationFailed("the state you started from: its checkpoint: \(error)")
        }
        guard cp.origin == snapshot.organisation, cp.size >= 1 else {
            throw .logVerificationFailed("the state you started from has a checkpoint for '\(cp.origin)' of size \(cp.size)")
        }
        let count = snapshot.entries.count
        guard cp.size <= UInt64(count) else {
            throw .logVerificationFailed("truncated: the state you started from covers \(cp.size) entries but the log has only \(count)")
        }
        let last = snapshot.entries[Int(cp.size) - 1]
        let leaf = last.withUnsafeBytes { Digest32.leafHash($0) }
        do {
            try MerkleTree.verifyInclusion(leafIndex: cp.size - 1, treeSize: cp.size, leafHash: leaf.data, proof: state.path.map(\.data), root: cp.root)
        } catch {
            throw .logVerificationFailed("entry \(cp.size) is not the entry the checkpoint of your state covers, or the state's path was altered (\(error))")
        }
        guard let tree = MerkleTree.Frontier(size: cp.size, lastLeaf: leaf, path: state.path) else {
            throw .logVerificationFailed("the state's path has the wrong length for size \(cp.size)")
        }
        var signers: [String: PublicIdentity] = [:]
        for line in state.signers {
            do {
                let id = try PublicIdentity(line: line)
                signers[id.fingerprint] = id
            } catch {
                throw .logVerificationFailed("the state you started from names a bad signer")
            }
        }
        let lastHash = last.withUnsafeBytes { Digest32.sha256($0) }
        return LogWalk(size: Int(cp.size), lastEntryHash: lastHash, signers: signers, services: Set(state.services), tree: tree)
    }
}

extension Vault {
    /// The log and public keys, as an auditor sees them. With `firstLoaded` n, entries before
    /// entry n + 1 are not read (empty placeholders), for a verification from a state.
    public func logSnapshot(firstLoaded: Int = 0) throws(DossierError) -> LogSnapshot {
        let org = try organisation()
        let (entries, notes, skipped) = try read { tx in
            // Placeholders only for entries the log has (a shorter log then reads as shorter),
            // and none for a negative count.
            let skipped = max(0, min(firstLoaded, try tx.logSize()))
            var entries = [Data](repeating: Data(), count: skipped)
            entries += try tx.logEntries(after: skipped)
            return (entries, try tx.checkpointNotes(), skipped)
        }
        return LogSnapshot(organisation: org.name, organisationKey: try OrganisationKey(line: org.publicKey), entries: entries,
                           checkpoints: notes, firstLoaded: skipped)
    }

    /// The newest checkpoint note, if any.
    public func newestCheckpoint() throws(DossierError) -> String? {
        try read { tx in try tx.newestCheckpointNote() }
    }

    /// The organisation's key in C2SP note verifier-key form.
    public func noteKey() throws(DossierError) -> String {
        let org = try organisation()
        return SignedNote.verifierKey(name: org.name, publicKey: try OrganisationKey(line: org.publicKey).signingKey)
    }
}

extension StaffSession.Audit {
    /// Signs a checkpoint of the whole log with the organisation key and keeps it in the vault.
    /// Only a log this machine verifies is signed (chain, sequence, signers, and the log-head
    /// memory's check): the organisation key never vouches for edited entries or for a log
    /// cut back. The log is read a part at a time, in bounded memory.
    public func checkpoint() throws(DossierError) -> String {
        let org = try vault.organisation()
        let key = try session.checkpointSigningKey()
        let now = vault.clock.now()
        return try write { tx in
            let head = try session.verifiedLogHead(tx)
            let cp = Checkpoint(origin: org.name, size: UInt64(head.size), root: head.root.data)
            let note = SignedNote.sign(cp.text, name: org.name, key: key)
            try tx.storeCheckpoint(size: cp.size, note: note, at: Timestamp.format(now))
            return note
        }
    }
}
