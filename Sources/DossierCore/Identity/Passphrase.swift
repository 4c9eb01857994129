import DossierCrypto
import Foundation

/// Passphrases for scripts: read from a file, never from the command line.
public enum Passphrase {
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
