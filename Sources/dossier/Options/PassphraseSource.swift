import DossierCore
import DossierCrypto
import Foundation

/// Where a passphrase comes from: the first line of a file, or the terminal. Shared by the
/// identity's options and the organisation root's, which differ only in their flag and prompt.
struct PassphraseSource {
    /// The file named by the flag or its environment variable, if any.
    let file: String?
    /// What the prompt names before the path ("" or "the organisation root ").
    let noun: String

    /// A prompt in counsel's language for their identity (`key`), or `english` (staff's
    /// commands, the organisation root's prompts).
    private func prompt(_ key: String, _ english: String, _ arguments: any LocalizedArgument...) -> String {
        let l = Localizer.current
        guard l.counsel, noun.isEmpty else { return english }
        return l.format(l.string(key), arguments).text
    }

    /// The passphrase of an existing file.
    func passphrase(for path: String) throws(DossierError) -> SecureBytes {
        if let file { return try Passphrase.read(fromFile: file) }
        guard let pass = try Terminal.readPassphrase(prompt: prompt("prompt.passphrase", "Passphrase for \(noun)\(path): ", path)) else {
            throw .passphraseRequired(path: path)
        }
        guard pass.count > 0 else { throw .emptyPassphrase }
        return pass
    }

    /// A new passphrase, asked twice on a terminal; one too weak is refused before it is repeated.
    func newPassphrase(for path: String) throws(DossierError) -> SecureBytes {
        if let file {
            let pass = try Passphrase.read(fromFile: file)
            try Passphrase.requireStrength(pass)
            return pass
        }
        guard let first = try Terminal.readPassphrase(prompt: prompt("prompt.newPassphrase", "New passphrase (at least \(Passphrase.minimumCharacters) characters) for \(noun)\(path): ",
                                                                     Passphrase.minimumCharacters, path)) else {
            throw .passphraseRequired(path: path)
        }
        try Passphrase.requireStrength(first)
        guard let second = try Terminal.readPassphrase(prompt: prompt("prompt.repeatPassphrase", "Repeat the passphrase: ")),
              second.constantTimeEquals(first) else {
            throw .passphraseMismatch
        }
        return first
    }
}
