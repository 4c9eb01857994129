import ArgumentParser
import DossierCore
import Foundation

/// The staff identity that acts: `--identity` or `DOSSIER_IDENTITY`.
struct IdentityOptions: ParsableArguments {
    @Option(name: [.customShort("i"), .customLong("identity")], help: ArgumentHelp(
        Localizer.current.string("help.option.identity"), valueName: "FILE"))
    var identity: String?

    @OptionGroup var passphrase: PassphraseOptions

    func resolvedPath() throws(DossierError) -> String {
        if let identity { return identity }
        if let env = ProcessInfo.processInfo.environment["DOSSIER_IDENTITY"], !env.isEmpty { return env }
        throw .missingOption("no identity given", hint: "pass --identity FILE or set DOSSIER_IDENTITY")
    }

    /// The public half of the identity file, read without its passphrase.
    func publicHalf() throws(DossierError) -> PublicIdentity {
        try SecretIdentity.publicHalf(path: try resolvedPath())
    }

    func load() throws(DossierError) -> SecretIdentity {
        try passphrase.loadIdentity(try resolvedPath())
    }
}
