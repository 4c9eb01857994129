import ArgumentParser
import DossierCore
import Foundation

/// `dossier requests answer`.
struct RequestsAnswerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "answer",
        abstract: "Record that a grant answers a request (logged: request-answer, naming both).",
        discussion: """
        The grant must go to the request's sender: register them first with `dossier counsel add --from-request R`, then `dossier grant` to them. A revoked grant cannot answer (exit 77), nor can a request already answered or declined.

        Example: dossier requests answer req-zjqgy65hkj2gs --grant grant-q4m2k7s3x5b6c
        """
    )
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("The request id (req-...).", valueName: "REQUEST")) var id: String
    @Option(help: ArgumentHelp("The grant that answers it.", valueName: "GRANT")) var grant: String

    func run() throws {
        let r = try staff.session().requests.answer(id, grant: grant)
        Terminal.note("\(r.id) is answered by \(r.grant ?? grant)")
    }
}
