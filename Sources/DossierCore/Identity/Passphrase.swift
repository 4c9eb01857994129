import DossierCrypto
import Foundation

/// Passphrases: read from a file for scripts, never from the command line; and the one rule a
/// new passphrase must meet.
public enum Passphrase {
    /// Fewest characters the passphrase of a new identity file may have (docs/formats/identity.md,
    /// section 2.4: why this rule).
    public static let minimumCharacters = 12

    /// Refuses a passphrase too weak to protect a new identity file: empty, or shorter than
    /// `minimumCharacters` characters. Existing files are opened whatever their passphrase.
    public static func requireStrength(_ passphrase: SecureBytes) throws(DossierError) {
        guard passphrase.count > 0 else { throw .emptyPassphrase }
        guard characterCount(passphrase) >= minimumCharacters else { throw .weakPassphrase(minimumCharacters: minimumCharacters) }
    }

    /// Characters of UTF-8 text, counted as Unicode scalars (every byte but continuation bytes),
    /// so the secret never becomes a `String`. Bytes that are not UTF-8 count one each.
    static func characterCount(_ passphrase: SecureBytes) -> Int {
        passphrase.withUnsafeBytes { bytes in bytes.reduce(0) { $1 & 0xc0 == 0x80 ? $0 : $0 + 1 } }
    }

    /// The first line of `path` (without its line ending), in guarded memory. Empty is refused.
    public static func read(fromFile path: String) throws(DossierError) -> SecureBytes {
        var data = try FileAccess.readSmall(path: path, limit: 4096)
        defer { secureZero(&data) }
        var end = data.firstIndex(of: 0x0a) ?? data.endIndex
        if end > data.startIndex && data[end - 1] == 0x0d { end -= 1 }
        let pass = SecureBytes(copying: data[data.startIndex..<end])
        guard pass.count > 0 else { throw .emptyPassphrase }
        return pass
    }
}
