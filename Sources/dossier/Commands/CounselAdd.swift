import ArgumentParser
import DossierCore
import Foundation

/// `dossier counsel add`.
struct CounselAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Register counsel by their public identity (the line, or a file holding it, e.g. in keys/), or as the sender of a request.",
        discussion: """
        Compare their fingerprint by phone first. With --from-request R, the identity is the one that signed request R in the inbox (first contact): still check with them, by phone, that the fingerprint `requests show R` prints is theirs.

        Examples:
          dossier counsel add keys/counsel-adams.pub --name "J. Adams" --jurisdiction UK
          dossier counsel add --from-request req-zjqgy65hkj2gs --name "J. Adams"
        """
    )
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("Their public line, or a file holding it.", valueName: "PUBLIC-IDENTITY")) var publicIdentity: String?
    @Option(name: .customLong("from-request"), help: ArgumentHelp("Register the sender of this request in the inbox, with the identity that signed it.", valueName: "REQUEST"))
    var fromRequest: String?
    @Option(help: ArgumentHelp("Their name (stored encrypted).", valueName: "NAME")) var name: String
    @Option(help: ArgumentHelp("E-mail (stored encrypted).", valueName: "E")) var email: String?
    @Option(help: ArgumentHelp("Jurisdiction (stored encrypted).", valueName: "J")) var jurisdiction: String?
    @Option(name: .customLong("bar-id"), help: ArgumentHelp("Bar registration (stored encrypted).", valueName: "B")) var barId: String?

    func validate() throws {
        guard (publicIdentity == nil) != (fromRequest == nil) else {
            throw ValidationError("give either their PUBLIC-IDENTITY or --from-request REQUEST, not both or neither")
        }
    }

    func run() throws {
        let details = Counsel.Details(name: name, email: email, jurisdiction: jurisdiction, barId: barId)
        let c: Counsel
        if let fromRequest {
            c = try staff.session().sharing.addCounsel(fromRequest: fromRequest, details: details)
        } else {
            let pub = try PublicIdentity.resolve(publicIdentity ?? "")
            c = try staff.session().sharing.addCounsel(pub, details: details)
        }
        print(c.id)
        Terminal.note("registered \(c.id) (fingerprint \(c.fingerprint)); vet them with `dossier counsel vet \(c.id) --until DATE`")
    }
}
