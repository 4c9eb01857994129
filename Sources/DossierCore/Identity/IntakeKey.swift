import DossierCrypto
import Foundation

/// The organisation's public intake key (X25519), to which counsel seal requests
/// (docs/formats/request.md, section 2), as one line with a checksum:
/// `dossierintake1` + lowercase base32 of key ‖ first 4 bytes of BLAKE2b-256(prefix ‖ key).
/// It mirrors `OrganisationKey`; its fingerprint has its own domain label, `intake`, so it never
/// equals the fingerprint of an identity or an organisation signing key.
public struct IntakeKey: Hashable, Sendable, CustomStringConvertible {
    public static let prefix = "dossierintake1"
    public let encryptionKey: Data

    public init(encryptionKey: Data) throws(DossierError) {
        guard encryptionKey.count == BoxKeyPair.publicKeyBytes else {
            throw .malformedIntakeKey(reason: "the key must be 32 bytes")
        }
        self.encryptionKey = encryptionKey
    }

    public var line: String { KeyLine.encode(prefix: Self.prefix, encryptionKey) }
    public var fingerprint: String { Fingerprint.of(domain: "intake", encryptionKey) }
    public var description: String { line }

    /// Parses an intake key line (surrounding white space is ignored).
    public init(line raw: String) throws(DossierError) {
        let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix(Self.prefix) else {
            if text.hasPrefix(OrganisationKey.prefix) {
                throw .malformedIntakeKey(reason: "this is the organisation's signing key ('\(OrganisationKey.prefix)…'); requests are sealed to its intake key, '\(Self.prefix)…' (`dossier org show`)")
            }
            throw .malformedIntakeKey(reason: "it must start with '\(Self.prefix)'")
        }
        switch KeyLine.decode(prefix: Self.prefix, text) {
        case .failure(let reason): throw .malformedIntakeKey(reason: reason.text)
        case .success(let key): try self.init(encryptionKey: key)
        }
    }
}
