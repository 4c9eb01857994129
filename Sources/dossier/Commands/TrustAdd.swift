import ArgumentParser
import DossierCore
import Foundation

/// `dossier trust add`.
struct TrustAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: Localizer.current.string("help.trust.add.abstract"),
        discussion: Localizer.current.string("help.trust.add.discussion")
    )
    @Argument(help: ArgumentHelp(Localizer.current.string("help.trust.add.key"), valueName: "ORG-PUBLIC-KEY")) var key: String
    @Option(help: ArgumentHelp(Localizer.current.string("help.trust.add.name"), valueName: "NAME")) var name: String
    @Flag(help: ArgumentHelp(Localizer.current.string("help.trust.add.rename"))) var rename = false

    func run() throws {
        let entry = try TrustStore.standard().add(try OrganisationKey(line: key), name: name, rename: rename)
        print(Localizer.current.text("trust.add.trusted", entry.name, entry.fingerprint))
        Terminal.note(Localizer.current.text("trust.add.compare"))
    }
}
