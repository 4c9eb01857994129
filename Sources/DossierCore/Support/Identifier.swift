import DossierCrypto
import Foundation

/// Random identifiers for documents, grants and counsel: a prefix and 13 base32 characters
/// (64 random bits), e.g. `doc-k3j4m5n6p7q2r`.
public enum Identifier {
    public static func make(prefix: String, random: any RandomSource) -> String {
        prefix + "-" + Base32.encode(random.bytes(8))
    }

    /// Whether `text` looks like an identifier with `prefix` (for early, clear errors).
    public static func isWellFormed(_ text: String, prefix: String) -> Bool {
        guard text.hasPrefix(prefix + "-") else { return false }
        let rest = text.dropFirst(prefix.count + 1)
        return rest.count == 13 && Base32.decode(rest) != nil
    }
}
