import ArgumentParser
import DossierCore
import Foundation

/// `dossier requests import`.
struct RequestsImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Verify a request file that came by e-mail or on a stick, and keep it in the inbox.",
        discussion: """
        Opens the request with the organisation's intake key and checks everything (formats/request.md, section 7): the framing, that it is sealed to this organisation, every part authenticating, and the sender's signature over the whole file. Only then is it kept in the vault, byte for byte as received, and logged (`request-receive`: the request id, the file's SHA-256 and the sender's fingerprint; never names, courts or dates).

        A request whose id is already in the inbox is refused (exit 73) and nothing is stored: it was sent twice or replayed. A forged or altered request exits 3, a malformed one 65, one sealed to another organisation 77.

        Example: dossier requests import request.drq
        """
    )
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("The request file (.drq).", valueName: "FILE")) var file: String
    @Flag(help: "Print a JSON object describing the request (the opened summary).") var json = false

    func run() throws {
        let r = try staff.session().requests.importRequest(path: file)
        if json { JSONOutput.print(r); return }
        print(r.id)
        let who = r.counsel.map { "\($0.name) (\($0.counselID))" } ?? "an unregistered sender; register them with `dossier counsel add --from-request \(r.id) --name NAME`"
        Terminal.note(Terminal.visible("received \(r.id) from \(r.senderFingerprint), \(who); `dossier requests show \(r.id)` reads it"))
    }
}
