import ArgumentParser
import DossierCore
import Foundation

/// `dossier identity show`.
struct IdentityShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print the public identity and fingerprint of an identity file or public line.",
        discussion: """
        Accepts a secret identity file (no passphrase needed: the public half is stored in the clear), a file holding a public line, or the line itself. A secret identity file that group or others can read is refused, as every command refuses it (run chmod 600 FILE); a public line file may be readable by anyone.

        Examples:
          dossier identity show counsel.key
          dossier identity show dossier1qx…  --json
        """
    )

    @Argument(help: ArgumentHelp("An identity file, a public identity file, or a public line.", valueName: "IDENTITY"))
    var identity: String

    @Flag(help: "Print a JSON object with the fields publicIdentity, fingerprint, encryptionKey, signingKey.")
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
            print("fingerprint: \(pub.fingerprint)")
        }
    }
}
