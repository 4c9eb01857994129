import DossierCrypto
import Foundation

/// Filters for reviewing the log. All conditions must hold.
public struct AuditFilter: Sendable {
    public var since: Date?
    public var until: Date?
    public var actor: String?
    public var action: String?
    public var document: String?
    public var counsel: String?
    public var grant: String?
    /// Counsel ids known to belong to the `counsel` fingerprint (filled in from the log).
    var counselIDs: Set<String> = []

    public init(since: Date? = nil, until: Date? = nil, actor: String? = nil, action: String? = nil,
                document: String? = nil, counsel: String? = nil, grant: String? = nil) {
        self.since = since; self.until = until; self.actor = actor; self.action = action
        self.document = document; self.counsel = counsel; self.grant = grant
    }

    public func matches(_ e: AuditEntry) -> Bool {
        if let since, let d = e.date, d < since { return false }
        if let until, let d = e.date, d > until { return false }
        if let actor, e.actor != (Fingerprint.normalise(actor) ?? actor) { return false }
        if let action, e.action != action { return false }
        if let document, !e.subjects.contains("doc:" + document) { return false }
        if let grant, !e.subjects.contains("grant:" + grant) { return false }
        if let counsel {
            let fp = Fingerprint.normalise(counsel)
            let bySubject = e.subjects.contains("counsel:" + counsel) || e.subjects(ofType: "counsel").contains { counselIDs.contains($0) }
            let byKey = fp.map { f in e.details.contains { ($0.key == "recipient" || $0.key == "fingerprint") && $0.value == f } } ?? false
            if !bySubject && !byKey { return false }
        }
        return true
    }
}

/// One entry as listed to auditors (ids and fingerprints only, unless resolved by staff).
public struct AuditRecord: Codable, Sendable {
    public let id: String
    public let seq: UInt64
    public let time: String
    public let actor: String
    public let action: String
    public let subjects: [String]
    public let details: [String: [String]]
    public let entryHash: String
    /// Titles and names, only when a staff member asked for them.
    public var resolved: [String: String]?

    public init(_ e: AuditEntry) {
        id = String(e.seq)
        seq = e.seq
        time = e.time
        actor = e.actor
        action = e.action
        subjects = e.subjects
        var d: [String: [String]] = [:]
        for x in e.details { d[x.key, default: []].append(x.value) }
        details = d
        entryHash = e.hash.hex
    }
}

extension LogSnapshot {
    /// Parsed entries matching `filter`.
    public func records(matching filter: AuditFilter) throws(DossierError) -> [AuditRecord] {
        var filter = filter
        // A fingerprint also finds the entries that name the counsel by id. (An entry that
        // does not parse is reported by the pass below, in the log's order.)
        if let fp = filter.counsel.flatMap(Fingerprint.normalise) {
            let counselAdd = Data("\naction \(AuditAction.counselAdd.rawValue)\n".utf8)
            for bytes in entries where bytes.range(of: counselAdd) != nil {
                guard let e = try? AuditEntry.parse(bytes), e.kind == .counselAdd, e.detail("fingerprint") == fp else { continue }
                filter.counselIDs.formUnion(e.subjects(ofType: "counsel"))
            }
        }
        // Each entry parsed, kept only if it matches: a filtered review of a long log holds its
        // matches, not every entry twice over.
        var out: [AuditRecord] = []
        for bytes in entries {
            let e = try AuditEntry.parse(bytes)
            if filter.matches(e) { out.append(AuditRecord(e)) }
        }
        return out
    }

    /// An inclusion proof for entry `seq` in the tree of the first `treeSize` entries.
    public func inclusionProof(seq: UInt64, treeSize: UInt64) throws(DossierError) -> InclusionProof {
        guard seq >= 1, seq <= treeSize, treeSize <= UInt64(entries.count) else {
            throw .invalidArgument("entry \(seq) is not inside a tree of \(treeSize) entries (the log has \(entries.count))")
        }
        let leaves = entries[0..<Int(treeSize)].map(MerkleTree.leafHash)
        let proof = MerkleTree.inclusionProof(index: Int(seq - 1), leafHashes: leaves[...])
        return InclusionProof(seq: seq, leafIndex: seq - 1, treeSize: treeSize, entry: entries[Int(seq - 1)].base64EncodedString(),
                              proof: proof.map { $0.base64EncodedString() })
    }

    /// A consistency proof between two tree sizes.
    public func consistencyProof(from size1: UInt64, to size2: UInt64) throws(DossierError) -> ConsistencyProof {
        guard size1 >= 1, size1 <= size2, size2 <= UInt64(entries.count) else {
            throw .invalidArgument("sizes must satisfy 1 <= FROM <= TO <= \(entries.count)")
        }
        let leaves = entries[0..<Int(size2)].map(MerkleTree.leafHash)
        return ConsistencyProof(size1: size1, size2: size2,
                                proof: MerkleTree.consistencyProof(oldSize: Int(size1), leafHashes: leaves[...]).map { $0.base64EncodedString() })
    }
}

/// An inclusion proof as `audit prove` prints it (JSON).
public struct InclusionProof: Codable, Sendable {
    public let seq: UInt64
    public let leafIndex: UInt64
    public let treeSize: UInt64
    /// The entry's bytes, base64; its leaf hash is SHA-256(0x00 ‖ bytes).
    public let entry: String
    public let proof: [String]

    /// Checks the proof against a checkpoint's root.
    public func verify(against checkpoint: Checkpoint) throws(DossierError) {
        guard checkpoint.size == treeSize else { throw .logVerificationFailed("the proof is for a tree of \(treeSize) entries, the checkpoint for \(checkpoint.size)") }
        guard let bytes = Data(base64Encoded: entry) else { throw .logVerificationFailed("the proof's entry is not base64") }
        // The proof must be about the entry it names, at the place it names.
        guard seq >= 1, leafIndex == seq - 1, (try? AuditEntry.parse(bytes))?.seq == seq else {
            throw .logVerificationFailed("the proof names entry \(seq) at leaf \(leafIndex), but carries a different entry")
        }
        let hashes = proof.compactMap { Data(base64Encoded: $0) }
        guard hashes.count == proof.count else { throw .logVerificationFailed("the proof's hashes are not base64") }
        do {
            try MerkleTree.verifyInclusion(leafIndex: leafIndex, treeSize: treeSize, leafHash: MerkleTree.leafHash(bytes), proof: hashes, root: checkpoint.root)
        } catch {
            throw .logVerificationFailed("entry \(seq) is not in the checkpointed log: \(error)")
        }
    }
}

/// A consistency proof as `audit prove --from` prints it (JSON).
public struct ConsistencyProof: Codable, Sendable {
    public let size1: UInt64
    public let size2: UInt64
    public let proof: [String]

    public func verify(old: Checkpoint, new: Checkpoint) throws(DossierError) {
        guard old.size == size1, new.size == size2 else { throw .logVerificationFailed("the proof is for sizes \(size1) → \(size2), the checkpoints are \(old.size) → \(new.size)") }
        let hashes = proof.compactMap { Data(base64Encoded: $0) }
        guard hashes.count == proof.count else { throw .logVerificationFailed("the proof's hashes are not base64") }
        do {
            try MerkleTree.verifyConsistency(size1: size1, size2: size2, root1: old.root, root2: new.root, proof: hashes)
        } catch {
            throw .logVerificationFailed("the log of \(size2) entries does not extend the one of \(size1): \(error)")
        }
    }
}
