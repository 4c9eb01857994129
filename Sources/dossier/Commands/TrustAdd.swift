import ArgumentParser
import DossierCore
import Foundation

/// `dossier trust add`.
struct TrustAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Trust an organisation's public key, after comparing its fingerprint by phone.",
        discussion: "Example: dossier trust add dossierorg1… --name \"Extradition Defence Project\""
    )
    @Argument(help: ArgumentHelp("The organisation's public key (dossierorg1…), from `dossier org show`.", valueName: "ORG-PUBLIC-KEY")) var key: String
    @Option(help: ArgumentHelp("A name to show for it.", valueName: "NAME")) var name: String

    func run() throws {
        let entry = try TrustStore.standard().add(try OrganisationKey(line: key), name: name)
        print("trusted \(Terminal.visible(entry.name)): fingerprint \(entry.fingerprint)")
        Terminal.note("make sure this fingerprint is the one the organisation read to you")
    }
}
