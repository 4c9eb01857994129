import ArgumentParser
import DossierCore
import Foundation

/// `dossier counsel add`.
struct CounselAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Register counsel by their public identity (the line, or a file holding it, e.g. in keys/).",
        discussion: "Compare their fingerprint by phone first. Example: dossier counsel add keys/counsel-adams.pub --name \"J. Adams\" --jurisdiction UK"
    )
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("Their public line, or a file holding it.", valueName: "PUBLIC-IDENTITY")) var publicIdentity: String
    @Option(help: ArgumentHelp("Their name (stored encrypted).", valueName: "NAME")) var name: String
    @Option(help: ArgumentHelp("E-mail (stored encrypted).", valueName: "E")) var email: String?
    @Option(help: ArgumentHelp("Jurisdiction (stored encrypted).", valueName: "J")) var jurisdiction: String?
    @Option(name: .customLong("bar-id"), help: ArgumentHelp("Bar registration (stored encrypted).", valueName: "B")) var barId: String?

    func run() throws {
        let pub = try PublicIdentity.resolve(publicIdentity)
        let c = try staff.session().sharing.addCounsel(pub, details: .init(name: name, email: email, jurisdiction: jurisdiction, barId: barId))
        print(c.id)
        Terminal.note("registered \(c.id) (fingerprint \(c.fingerprint)); vet them with `dossier counsel vet \(c.id) --until DATE`")
    }
}
