import ArgumentParser
import DossierCore
import DossierCrypto
import Foundation

/// How a secret identity is unlocked: `--passphrase-file`, `DOSSIER_PASSPHRASE_FILE`, or the terminal.
struct PassphraseOptions: ParsableArguments {
    @Option(name: .customLong("passphrase-file"), help: ArgumentHelp(
        Localizer.current.string("help.option.passphraseFile"),
        valueName: "FILE"))
    var passphraseFile: String?

    var resolvedFile: String? {
        passphraseFile ?? ProcessInfo.processInfo.environment["DOSSIER_PASSPHRASE_FILE"].flatMap { $0.isEmpty ? nil : $0 }
    }

    private var source: PassphraseSource { PassphraseSource(file: resolvedFile, noun: "") }

    /// The passphrase for an existing identity file.
    func passphrase(for path: String) throws(DossierError) -> SecureBytes { try source.passphrase(for: path) }

    /// A new passphrase, asked twice on a terminal; one too weak is refused before it is repeated.
    func newPassphrase(for path: String) throws(DossierError) -> SecureBytes { try source.newPassphrase(for: path) }

    /// Loads and unlocks the identity at `path`.
    func loadIdentity(_ path: String) throws(DossierError) -> SecretIdentity {
        try SecretIdentity.load(path: path) { () throws(DossierError) in try passphrase(for: path) }
    }
}
