import ArgumentParser
import DossierCore
import Foundation

/// `dossier audit prove`.
struct AuditProveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prove",
        abstract: "Print an inclusion proof for entry SEQ (or, with --from, a consistency proof) as JSON.",
        discussion: """
        The proof is against the vault's newest checkpoint, or --size N.
        Examples:
          dossier audit prove 42 > entry-42.proof
          dossier audit prove --from 100 --size 250 > grew.proof
        """
    )
    @OptionGroup var source: LogSourceOptions
    @Argument(help: ArgumentHelp("The entry's sequence number.", valueName: "SEQ")) var seq: UInt64?
    @Option(help: ArgumentHelp("Prove consistency from this tree size instead.", valueName: "SIZE")) var from: UInt64?
    @Option(help: ArgumentHelp("The tree size to prove against (default: the newest checkpoint's).", valueName: "N")) var size: UInt64?

    func validate() throws {
        if (seq == nil) == (from == nil) { throw ValidationError("give an entry SEQ, or --from SIZE for a consistency proof") }
    }

    func run() throws {
        let snapshot = try source.snapshot()
        let treeSize = try snapshot.proofTreeSize(requested: size)
        if let seq { JSONOutput.print(try snapshot.inclusionProof(seq: seq, treeSize: treeSize)) }
        if let from { JSONOutput.print(try snapshot.consistencyProof(from: from, to: treeSize)) }
    }
}
