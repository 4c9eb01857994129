import DossierCrypto
import Foundation

/// The organisation's public signing key (Ed25519), as one line with a checksum:
/// `dossierorg1` + lowercase base32 of key ‖ first 4 bytes of BLAKE2b-256(prefix ‖ key).
public struct OrganisationKey: Hashable, Sendable, CustomStringConvertible {
    public static let prefix = "dossierorg1"
    public let signingKey: Data

    public init(signingKey: Data) throws(DossierError) {
        guard signingKey.count == SigningKeyPair.publicKeyBytes else {
            throw .malformedOrganisationKey(reason: "the key must be 32 bytes")
        }
        self.signingKey = signingKey
    }

    public var line: String { Self.prefix + Base32.encode(signingKey + Self.checksum(signingKey)) }
    public var fingerprint: String { Fingerprint.of(domain: "organisation", signingKey) }
    public var description: String { line }

    static func checksum(_ key: Data) -> Data { Hash.blake2b(Data(prefix.utf8) + key, length: 32).prefix(4) }

    /// Parses an organisation key line.
    public init(line raw: String) throws(DossierError) {
        let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix(Self.prefix) else { throw .malformedOrganisationKey(reason: "it must start with '\(Self.prefix)'") }
        guard let bytes = Base32.decode(text.dropFirst(Self.prefix.count)), bytes.count == 36 else {
            throw .malformedOrganisationKey(reason: "wrong length or a character outside a–z, 2–7")
        }
        guard Self.checksum(Data(bytes.prefix(32))) == bytes.suffix(4) else {
            throw .malformedOrganisationKey(reason: "its checksum does not match: a character was mistyped or changed")
        }
        try self.init(signingKey: Data(bytes.prefix(32)))
    }
}

/// Organisation names appear in signed checkpoints and packages: printable ASCII without
/// spaces or '+' (the C2SP note grammar), at most 255 bytes.
public enum OrganisationName {
    public static func isValid(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 255 && name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "+") }
    }
}
