import ArgumentParser
import DossierCore
import Foundation

/// `dossier identity show`.
struct IdentityShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: Localizer.current.string("help.identity.show.abstract"),
        discussion: Localizer.current.string("help.identity.show.discussion")
    )

    @Argument(help: ArgumentHelp(Localizer.current.string("help.identity.show.identity"), valueName: "IDENTITY"))
    var identity: String

    @Flag(help: ArgumentHelp(Localizer.current.string("help.identity.show.json")))
    var json = false

    struct Output: Encodable {
        let publicIdentity: String
        let fingerprint: String
        let encryptionKey: String
        let signingKey: String
    }

    func run() throws {
        let pub = try PublicIdentity.resolve(identity)
        if json {
            JSONOutput.print(Output(publicIdentity: pub.line, fingerprint: pub.fingerprint,
                                    encryptionKey: pub.encryptionKey.hex, signingKey: pub.signingKey.hex))
        } else {
            print(pub.line)
            print(Localizer.current.text("identity.show.fingerprint", pub.fingerprint))
        }
    }
}
