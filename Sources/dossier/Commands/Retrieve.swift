import ArgumentParser
import DossierCore
import Foundation

/// `dossier retrieve`.
struct RetrieveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retrieve",
        abstract: "Decrypt a document to a file (logged).",
        discussion: """
        Writes a temporary file next to FILE (mode 0600) and renames it into place only after the last chunk authenticates; on any failure nothing is left. The retrieval is logged before anything is decrypted.

        Example: dossier retrieve doc-k3j4m5n6p7q2r -o report.pdf
        """
    )
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("The document id.", valueName: "ID")) var id: String
    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the plaintext.", valueName: "FILE")) var output: String
    @Flag(help: "Replace FILE if it exists.") var force = false
    @OptionGroup var sync: SyncOption
    @OptionGroup var progress: ProgressOption

    func run() throws {
        if !force && FileManager.default.fileExists(atPath: output) { throw DossierError.fileExists(path: output) }
        let reporter = try progress.reporter()
        let d = try staff.session().documents.retrieve(id, to: output, overwrite: force, durability: sync.durability, progress: reporter)
        Terminal.note("wrote \(output) (\(d.size) bytes)")
    }
}
