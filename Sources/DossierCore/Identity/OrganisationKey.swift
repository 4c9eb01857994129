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

    public var line: String { KeyLine.encode(prefix: Self.prefix, signingKey) }
    public var fingerprint: String { Fingerprint.of(domain: "organisation", signingKey) }
    public var description: String { line }

    /// Parses an organisation key line.
    public init(line raw: String) throws(DossierError) {
        let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix(Self.prefix) else { throw .malformedOrganisationKey(reason: "it must start with '\(Self.prefix)'") }
        switch KeyLine.decode(prefix: Self.prefix, text) {
        case .failure(let reason): throw .malformedOrganisationKey(reason: reason.text)
        case .success(let key): try self.init(signingKey: key)
        }
    }
}

/// Organisation names appear in signed checkpoints and packages: printable ASCII without
/// spaces or '+' (the C2SP note grammar), at most 255 bytes.
public enum OrganisationName {
    public static func isValid(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 255 && name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "+") }
    }
}
