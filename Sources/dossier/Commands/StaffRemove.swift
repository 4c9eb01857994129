import ArgumentParser
import DossierCore
import Foundation

/// `dossier staff remove`.
struct StaffRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Remove a staff member and rotate the vault key, so their identity no longer unlocks the vault.",
        discussion: "Example: dossier staff remove ABCD-EFGH-JKLM-NPQR"
    )
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("Their id (fingerprint).", valueName: "ID")) var id: String

    func run() throws {
        let n = try staff.session().staff.remove(id)
        Terminal.note("removed \(id); the vault key was rotated and \(n) document keys re-wrapped")
    }
}
