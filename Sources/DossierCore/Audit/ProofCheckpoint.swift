import Foundation

/// The checkpoint an inclusion or consistency proof is made against (`audit prove`), and the
/// checks a signed checkpoint passes before a proof is compared with it (`audit verify-proof`).
extension LogSnapshot {
    /// The tree size to prove against: `requested` if given, else the size of the newest
    /// signed checkpoint. Throws when there is neither.
    public func proofTreeSize(requested: UInt64?) throws(DossierError) -> UInt64 {
        if let requested { return requested }
        guard let note = checkpoints.last else {
            throw .invalidArgument("the vault has no checkpoint yet", hint: "make one with `dossier audit checkpoint` or give --size N")
        }
        return try Checkpoint.parse(try SignedNote.split(note).text).size
    }
}

extension Checkpoint {
    /// The checkpoint in the signed note `note` (read from `source`, which errors name), if it is
    /// signed by the verifier key (`name`, `publicKey`) and is a checkpoint of the log `name`: a
    /// note signed by the right key for another log's origin is refused.
    public static func verified(_ note: String, source: String, name: String, publicKey: Data) throws(DossierError) -> Checkpoint {
        let checkpoint = try Checkpoint.parse(try SignedNote.verify(note, name: name, publicKey: publicKey))
        guard checkpoint.origin == name else {
            throw .malformedCheckpoint(reason: "\(source) is a checkpoint of another log, not of \(name)")
        }
        return checkpoint
    }
}
