import ArgumentParser
import DossierCore
import Foundation

/// `dossier staff remove`.
struct StaffRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Remove a staff member and rotate the vault key, so their identity no longer unlocks the vault.",
        discussion: "Afterwards no file of the vault holds the old vault key or anything sealed under it. If another process holds the vault database open (a sqlite3 shell, a backup, `dossier serve` mid-request), the clean-up of the old keys waits up to DOSSIER_PURGE_WAIT seconds (default 15), then the command exits 75: the change is committed, but the old keys stay in the write-ahead log until that reader is closed and `dossier doctor --fix` is run. Example: dossier staff remove ABCD-EFGH-JKLM-NPQR"
    )
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("Their id (fingerprint).", valueName: "ID")) var id: String

    func run() throws {
        let n = try staff.session().staff.remove(id)
        Terminal.note("removed \(id); the vault key was rotated and \(n) document keys re-wrapped")
    }
}
