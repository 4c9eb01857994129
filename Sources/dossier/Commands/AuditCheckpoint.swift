import ArgumentParser
import DossierCore
import Foundation

/// `dossier audit checkpoint`.
struct AuditCheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Sign a checkpoint of the whole log with the organisation key (staff), and keep it in the vault.",
        discussion: """
        The checkpoint is a C2SP tlog-checkpoint in a C2SP signed note (Ed25519), so existing note verifiers can check it against `dossier org show --json`'s noteKey. Auditors keep copies and later pass them to `audit verify --checkpoint`.

        The log is verified first, as a decision verifies it: an edited entry, or a log cut back below what this machine verified before, is refused (exit 3) and nothing is signed.

        Example: dossier audit checkpoint -o checkpoint-2026-11-29.note
        """
    )
    @OptionGroup var staff: StaffOptions
    @Option(name: .shortAndLong, help: ArgumentHelp("Also write the note to FILE.", valueName: "FILE")) var output: String?

    func run() throws {
        if let output, FileManager.default.fileExists(atPath: output) { throw DossierError.fileExists(path: output) }
        let note = try staff.session().audit.checkpoint()
        if let output {
            try FileAccess.writeAtomically(Data(note.utf8), to: output, mode: 0o644)
            Terminal.note("wrote \(output)")
        } else {
            print(note, terminator: "")
        }
    }
}
