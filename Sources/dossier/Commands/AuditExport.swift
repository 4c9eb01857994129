import ArgumentParser
import DossierCore
import Foundation

/// `dossier audit export`.
struct AuditExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write one self-contained file: the entries, the checkpoints and the public keys.",
        discussion: "Verify it elsewhere with: dossier audit verify --export FILE --org-fingerprint FP"
    )
    @OptionGroup var vault: VaultOptions
    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the export.", valueName: "FILE")) var output: String

    func run() throws {
        let snapshot = try vault.open().logSnapshot()
        try FileAccess.writeAtomically(LogExport.bytes(snapshot), to: output, mode: 0o644)
        Terminal.note("wrote \(output): \(snapshot.entries.count) entries, \(snapshot.checkpoints.count) checkpoints")
    }
}
