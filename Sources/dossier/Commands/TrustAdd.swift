import ArgumentParser
import DossierCore
import Foundation

/// `dossier trust add`.
struct TrustAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Trust an organisation's public key, after comparing its fingerprint by phone.",
        discussion: """
        Adding a key that is already trusted under the same name changes nothing. Under another name it is refused, since the name is what `inspect` and `open` show for the signer; pass --rename to change it.

        Example: dossier trust add dossierorg1… --name "Extradition Defence Project"
        """
    )
    @Argument(help: ArgumentHelp("The organisation's public key (dossierorg1…), from `dossier org show`.", valueName: "ORG-PUBLIC-KEY")) var key: String
    @Option(help: ArgumentHelp("A name to show for it.", valueName: "NAME")) var name: String
    @Flag(help: "If the key is already trusted under another name, give it this name instead.") var rename = false

    func run() throws {
        let entry = try TrustStore.standard().add(try OrganisationKey(line: key), name: name, rename: rename)
        print("trusted \(Terminal.visible(entry.name)): fingerprint \(entry.fingerprint)")
        Terminal.note("make sure this fingerprint is the one the organisation read to you")
    }
}
