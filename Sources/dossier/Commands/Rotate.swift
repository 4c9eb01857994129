import ArgumentParser
import DossierCore
import Foundation

/// `dossier rotate`.
struct RotateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate",
        abstract: "Replace the vault key now: every document key and sealed field is re-wrapped.",
        discussion: "Use after a suspected compromise of a staff identity (remove it first). Afterwards no file of the vault holds the old vault key or anything sealed under it. If another process holds the vault database open (a sqlite3 shell, a backup, `dossier serve` mid-request), the clean-up of the old keys waits up to DOSSIER_PURGE_WAIT seconds (default 15), then the command exits 75: the change is committed, but the old keys stay in the write-ahead log until that reader is closed and `dossier doctor --fix` is run."
    )
    @OptionGroup var staff: StaffOptions

    func run() throws {
        let n = try staff.session().staff.rotate()
        Terminal.note("rotated the vault key; \(n) document keys re-wrapped")
    }
}
