import ArgumentParser
import DossierCore
import Foundation

/// `dossier rotate`.
struct RotateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate",
        abstract: "Replace the vault key now: every document key and sealed field is re-wrapped.",
        discussion: "Use after a suspected compromise of a staff identity (remove it first)."
    )
    @OptionGroup var staff: StaffOptions

    func run() throws {
        let n = try staff.session().staff.rotate()
        Terminal.note("rotated the vault key; \(n) document keys re-wrapped")
    }
}
