import ArgumentParser
import DossierCore
import Foundation

/// `dossier identity new`.
struct IdentityNewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Create a new identity file, protected by a passphrase.",
        discussion: """
        The passphrase must have at least 12 characters (four or more random words make a good one); a shorter one is refused and nothing is written. The file is written with mode 0600 and never over an existing file. Its public half is printed on stdout: send that line (never the file) to the organisation, and read the fingerprint to them over the phone so they can check it arrived intact.

        Examples:
          dossier identity new -o ~/dossier/counsel.key
          dossier identity new -o staff.key --passphrase-file pass.txt
        """
    )

    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the secret identity.", valueName: "FILE"))
    var output: String

    @Flag(name: .customLong("no-passphrase"), help: "Store the secret keys unencrypted (only for throwaway or test identities).")
    var noPassphrase = false

    @OptionGroup var passphrase: PassphraseOptions

    func validate() throws {
        if noPassphrase && passphrase.passphraseFile != nil {
            throw ValidationError("--no-passphrase and --passphrase-file contradict each other; give one")
        }
    }

    func run() throws {
        if FileManager.default.fileExists(atPath: output) { throw DossierError.fileExists(path: output) }
        let identity = SecretIdentity.generate()
        let protection: SecretIdentity.Protection
        if noPassphrase {
            Terminal.warn("\(output) will hold its secret keys UNENCRYPTED; anyone who copies the file can act as you")
            protection = .none
        } else {
            protection = .passphrase(try passphrase.newPassphrase(for: output), .standard)
        }
        try identity.write(to: output, protection: protection)
        let pub = identity.publicIdentity
        Terminal.note("wrote \(output) (mode 0600); fingerprint \(pub.fingerprint)")
        print(pub.line)
    }
}
