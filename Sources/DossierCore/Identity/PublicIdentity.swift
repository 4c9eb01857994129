import DossierCrypto
import Foundation

/// The public half of an identity: an X25519 key (others seal to it) and an Ed25519 key
/// (others verify its signatures). Written as one line, `dossier1…`, that carries a checksum.
public struct PublicIdentity: Hashable, Sendable, CustomStringConvertible {
    /// Prefix of the public line.
    public static let prefix = "dossier1"

    public let encryptionKey: Data
    public let signingKey: Data

    public init(encryptionKey: Data, signingKey: Data) throws(DossierError) {
        guard encryptionKey.count == BoxKeyPair.publicKeyBytes, signingKey.count == SigningKeyPair.publicKeyBytes else {
            throw .malformedPublicIdentity(reason: "a key has the wrong length")
        }
        self.encryptionKey = encryptionKey
        self.signingKey = signingKey
    }

    /// The line: prefix, then lowercase base32 of X25519 key ‖ Ed25519 key ‖ 4-byte checksum,
    /// the checksum being the first 4 bytes of BLAKE2b-256(prefix ‖ keys).
    public var line: String {
        let keys = encryptionKey + signingKey
        return Self.prefix + Base32.encode(keys + Self.checksum(keys))
    }

    /// A short code to compare over the phone: see `Fingerprint`.
    public var fingerprint: String { Fingerprint.of(domain: "identity", encryptionKey + signingKey) }

    public var description: String { line }

    static func checksum(_ keys: Data) -> Data {
        Hash.blake2b(Data(prefix.utf8) + keys, length: 32).prefix(4)
    }

    /// Parses a public line (surrounding white space is ignored).
    public init(line raw: String) throws(DossierError) {
        let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix(Self.prefix) else {
            if text.hasPrefix(SecretIdentity.marker) {
                throw .malformedPublicIdentity(reason: "this is a SECRET identity file; give its public line (`dossier identity show FILE`) instead")
            }
            throw .malformedPublicIdentity(reason: "it must start with '\(Self.prefix)'")
        }
        let body = text.dropFirst(Self.prefix.count)
        guard body.allSatisfy({ ("a"..."z").contains($0) || ("2"..."7").contains($0) }) else {
            throw .malformedPublicIdentity(reason: "it contains a character outside a–z and 2–7 (check for a typo)")
        }
        guard let bytes = Base32.decode(body) else {
            throw .malformedPublicIdentity(reason: "its last character is impossible there: a character was mistyped or changed")
        }
        guard bytes.count == 68 else {
            throw .malformedPublicIdentity(reason: "it has the wrong length (\(text.count) characters; expected \(Self.prefix.count + 109)); was it cut when copied?")
        }
        let keys = bytes.prefix(64)
        guard Self.checksum(Data(keys)) == bytes.suffix(4) else {
            throw .malformedPublicIdentity(reason: "its checksum does not match: a character was mistyped or changed")
        }
        try self.init(encryptionKey: Data(keys.prefix(32)), signingKey: Data(keys.suffix(32)))
    }

    /// Reads a public line from `argument`, which is either the line itself or a file holding it
    /// (a public identity file, or a secret identity file whose public half is wanted). A secret
    /// file that group or others can read is refused as every command refuses it (as
    /// `ssh-keygen -y` does): its secret must be taken as exposed, whatever is asked of it.
    public static func resolve(_ argument: String) throws(DossierError) -> PublicIdentity {
        if argument.hasPrefix(prefix) && !FileManager.default.fileExists(atPath: argument) { return try PublicIdentity(line: argument) }
        let text = try FileAccess.readSmallText(path: argument, limit: 64 * 1024)
        if text.hasPrefix(SecretIdentity.marker) {
            try FileAccess.requirePrivate(path: argument)
            return try SecretIdentity.publicHalf(ofFileText: text, path: argument)
        }
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard lines.count == 1 else {
            throw .malformedPublicIdentity(reason: "\(argument) must hold exactly one public line (comments starting with # aside)")
        }
        return try PublicIdentity(line: lines[0])
    }
}

/// Short fingerprints: 80 bits of BLAKE2b-256 over a domain label and the key bytes, as
/// uppercase base32 in four groups of four (`ABCD-EFGH-JKLM-NPQR`).
public enum Fingerprint {
    /// The fingerprint of `keys` under a domain label (`identity`, `organisation`).
    public static func of(domain: String, _ keys: Data) -> String {
        let digest = Hash.blake2b(Data("dossier-fingerprint/\(domain)\n".utf8) + keys, length: 32)
        let code = Base32.encode(digest.prefix(10), uppercase: true)
        return stride(from: 0, to: 16, by: 4).map { i in
            String(code[code.index(code.startIndex, offsetBy: i)..<code.index(code.startIndex, offsetBy: i + 4)])
        }.joined(separator: "-")
    }

    /// Normalises a fingerprint typed by a person (case, missing dashes, spaces); nil if malformed.
    public static func normalise(_ text: String) -> String? {
        guard text.allSatisfy(\.isASCII) else { return nil }
        let compact = text.uppercased().filter { $0 != "-" && $0 != " " }
        guard compact.count == 16, compact.allSatisfy({ ("A"..."Z").contains($0) || ("2"..."7").contains($0) }) else { return nil }
        let chars = Array(compact)
        return stride(from: 0, to: 16, by: 4).map { String(chars[$0..<$0 + 4]) }.joined(separator: "-")
    }
}
