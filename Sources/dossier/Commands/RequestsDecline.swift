import ArgumentParser
import DossierCore
import Foundation

/// `dossier requests decline`.
struct RequestsDeclineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decline",
        abstract: "Decline an open request, with a reason kept sealed for staff (logged: request-decline).",
        discussion: "The reason is stored encrypted in the vault and is not in the log.\n\nExample: dossier requests decline req-zjqgy65hkj2gs --reason \"outside our mandate\""
    )
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("The request id (req-...).", valueName: "REQUEST")) var id: String
    @Option(help: ArgumentHelp("Why (stored encrypted, for staff).", valueName: "TEXT")) var reason: String

    func run() throws {
        let r = try staff.session().requests.decline(id, reason: reason)
        Terminal.note("\(r.id) is declined")
    }
}
