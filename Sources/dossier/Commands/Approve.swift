import ArgumentParser
import DossierCore
import Foundation

/// `dossier approve`.
struct ApproveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approve another staff member's pending grant (two-person rule).",
        discussion: "Example: dossier approve grant-k3j4m5n6p7q2r --identity second-staff.key"
    )
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("The grant id.", valueName: "GRANT")) var id: String

    func run() throws {
        let g = try staff.session().sharing.approve(id)
        Terminal.note(g.state == .active ? "grant \(id) is now active" : "grant \(id) has \(g.approvedBy.count) of \(g.approvalsNeeded) sign-offs")
    }
}
