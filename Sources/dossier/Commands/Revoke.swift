import ArgumentParser
import DossierCore
import Foundation

/// `dossier revoke`.
struct RevokeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke a grant: no further package can be made from it.",
        discussion: "An online package already sent can no longer be opened from now on (the key-release service refuses). An offline package already sent stays readable by an honest client until its window ends; see docs/threat-model.md."
    )
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("The grant id.", valueName: "GRANT")) var id: String
    @Option(help: ArgumentHelp("Why (stored encrypted).", valueName: "TEXT")) var reason: String

    func run() throws {
        _ = try staff.session().sharing.revoke(id, reason: reason)
        Terminal.note("grant \(id) is revoked")
    }
}
