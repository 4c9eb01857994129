import ArgumentParser
import DossierCore
import Foundation

/// `dossier audit verify-proof`.
struct AuditVerifyProofCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-proof",
        abstract: "Check a proof from `audit prove` against signed checkpoints.",
        discussion: """
        Inclusion: dossier audit verify-proof entry-42.proof --checkpoint cp.note --note-key KEY
        Consistency: dossier audit verify-proof grew.proof --old old.note --checkpoint new.note --note-key KEY
        KEY is the organisation's noteKey from `dossier org show --json`. A checkpoint of a vault whose organisation root is kept offline is signed by a staff member: give that member's certificate with --certificate FILE (`dossier org certificates --show SERIAL > FILE`); it is checked against KEY first.
        """
    )
    @Argument(help: ArgumentHelp("The proof file (JSON).", valueName: "PROOF")) var proof: String
    @Option(help: ArgumentHelp("The signed checkpoint the proof is against.", valueName: "FILE")) var checkpoint: String
    @Option(help: ArgumentHelp("For a consistency proof: the older signed checkpoint.", valueName: "FILE")) var old: String?
    @Option(name: .customLong("note-key"), help: ArgumentHelp("The organisation's note verifier key (name+keyid+base64).", valueName: "KEY")) var noteKey: String
    @Option(name: .customLong("certificate"), help: ArgumentHelp("A staff certificate by the organisation root, for checkpoints signed by a member (repeatable).", valueName: "FILE"))
    var certificates: [String] = []

    func run() throws {
        let (name, key) = try SignedNote.parseVerifierKey(noteKey)
        let certs = try certificates.map { path throws -> Certificate in try Certificate.parse(try FileAccess.readSmall(path: path, limit: Certificate.maximumBytes + 1)) }
        func load(_ path: String) throws -> Checkpoint {
            try Checkpoint.verified(try FileAccess.readSmallText(path: path, limit: 1 << 20), source: path, name: name, publicKey: key, certificates: certs)
        }
        let newCP = try load(checkpoint)
        let data = try FileAccess.readSmall(path: proof, limit: 1 << 24)
        if let old {
            guard let p = StrictJSON.decode(ConsistencyProof.self, from: data) else { throw DossierError.invalidArgument("\(proof) is not a consistency proof") }
            try p.verify(old: try load(old), new: newCP)
            print("consistent: the log of \(p.size2) entries extends the one of \(p.size1)")
        } else {
            guard let p = StrictJSON.decode(InclusionProof.self, from: data) else { throw DossierError.invalidArgument("\(proof) is not an inclusion proof") }
            try p.verify(against: newCP)
            print("included: entry \(p.seq) is in the checkpointed log of \(p.treeSize) entries")
        }
    }
}
