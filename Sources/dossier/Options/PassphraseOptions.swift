import ArgumentParser
import DossierCore
import DossierCrypto
import Foundation

/// How a secret identity is unlocked: `--passphrase-file`, `DOSSIER_PASSPHRASE_FILE`, or the terminal.
struct PassphraseOptions: ParsableArguments {
    @Option(name: .customLong("passphrase-file"), help: ArgumentHelp(
        "Read the passphrase from the first line of FILE instead of asking on the terminal (also: DOSSIER_PASSPHRASE_FILE).",
        valueName: "FILE"))
    var passphraseFile: String?

    var resolvedFile: String? {
        passphraseFile ?? ProcessInfo.processInfo.environment["DOSSIER_PASSPHRASE_FILE"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The passphrase for an existing identity file.
    func passphrase(for path: String) throws(DossierError) -> SecureBytes {
        if let file = resolvedFile { return try Passphrase.read(fromFile: file) }
        guard let pass = try Terminal.readPassphrase(prompt: "Passphrase for \(path): ") else {
            throw .passphraseRequired(path: path)
        }
        guard pass.count > 0 else { throw .emptyPassphrase }
        return pass
    }

    /// A new passphrase, asked twice on a terminal; one too weak is refused before it is repeated.
    func newPassphrase(for path: String) throws(DossierError) -> SecureBytes {
        if let file = resolvedFile {
            let pass = try Passphrase.read(fromFile: file)
            try Passphrase.requireStrength(pass)
            return pass
        }
        guard let first = try Terminal.readPassphrase(prompt: "New passphrase (at least \(Passphrase.minimumCharacters) characters) for \(path): ") else {
            throw .passphraseRequired(path: path)
        }
        try Passphrase.requireStrength(first)
        guard let second = try Terminal.readPassphrase(prompt: "Repeat the passphrase: "), second.constantTimeEquals(first) else {
            throw .passphraseMismatch
        }
        return first
    }

    /// Loads and unlocks the identity at `path`.
    func loadIdentity(_ path: String) throws(DossierError) -> SecretIdentity {
        try SecretIdentity.load(path: path) { () throws(DossierError) in try passphrase(for: path) }
    }
}
