import ArgumentParser
import DossierCore
import Foundation

/// `dossier identity new`.
struct IdentityNewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: Localizer.current.string("help.identity.new.abstract"),
        discussion: Localizer.current.string("help.identity.new.discussion")
    )

    @Option(name: .shortAndLong, help: ArgumentHelp(Localizer.current.string("help.identity.new.output"), valueName: "FILE"))
    var output: String

    @Flag(name: .customLong("no-passphrase"), help: ArgumentHelp(Localizer.current.string("help.identity.new.noPassphrase")))
    var noPassphrase = false

    @OptionGroup var passphrase: PassphraseOptions

    func validate() throws {
        if noPassphrase && passphrase.passphraseFile != nil {
            throw ValidationError(Localizer.current.string("usage.identity.new.contradiction"))
        }
    }

    func run() throws {
        let l = Localizer.current
        if FileManager.default.fileExists(atPath: output) { throw DossierError.fileExists(path: output) }
        let identity = SecretIdentity.generate()
        let protection: SecretIdentity.Protection
        if noPassphrase {
            Terminal.warn(l.text("identity.new.unencrypted", output))
            protection = .none
        } else {
            protection = .passphrase(try passphrase.newPassphrase(for: output), .standard)
        }
        try identity.write(to: output, protection: protection)
        let pub = identity.publicIdentity
        Terminal.note(l.text("identity.new.wrote", output, pub.fingerprint))
        print(pub.line)
    }
}
