import DossierCrypto
import Foundation

/// A person's identity: X25519 for opening what is sealed to them, Ed25519 for signing.
public struct SecretIdentity: Sendable {
    /// First line of every secret identity file, so that secret scanners catch it.
    public static let marker = "DOSSIER-SECRET-KEY-1"

    public let encryption: BoxKeyPair
    public let signing: SigningKeyPair

    /// The public half.
    public var publicIdentity: PublicIdentity {
        // Both keys come from libsodium with the right lengths.
        (try? PublicIdentity(encryptionKey: encryption.publicKey, signingKey: signing.publicKey))!
    }

    public init(encryption: BoxKeyPair, signing: SigningKeyPair) {
        self.encryption = encryption
        self.signing = signing
    }

    /// A fresh identity.
    public static func generate(using random: any RandomSource = SystemRandom()) -> SecretIdentity {
        SecretIdentity(encryption: .generate(using: random), signing: .generate(using: random))
    }

    // MARK: File format

    /// How the secret part of a file is protected.
    public enum Protection: Sendable {
        case none
        case passphrase(SecureBytes, Argon2idParameters)
    }

    static let magic = Data("DSK".utf8)
    static let version: UInt8 = 1
    static let unprotected = SecretFileBody.unprotected
    static let argon2id = SecretFileBody.argon2id

    /// The file's bytes: the marker line, then one line of standard base64 of the body (see
    /// docs/formats/identity.md), each ending in a newline.
    public func fileText(protection: Protection, random: any RandomSource = SystemRandom()) throws(DossierError) -> Data {
        if case let .passphrase(passphrase, _) = protection, passphrase.count == 0 { throw .emptyPassphrase }
        let secret = SecureBytes.concatenate([encryption.secretKey, signing.seed])
        var body: Data
        do {
            body = try SecretFileBody.make(prefix: Self.magic + [Self.version], publicPart: encryption.publicKey + signing.publicKey,
                                           secret: secret, protection: protection, random: random)
        } catch {
            throw .crypto(context: "cannot protect the identity", error)
        }
        var text = Data((Self.marker + "\n").utf8)
        text.append(Data(body.base64EncodedString().utf8))
        text.append(0x0a)
        secureZero(&body)
        return text
    }

    /// Parsed but still locked content of an identity file.
    struct Parsed {
        let publicIdentity: PublicIdentity
        let parameters: Argon2idParameters?
        let header: Data
        let secretPart: Data
    }

    static func parse(fileText text: String, path: String) throws(DossierError) -> Parsed {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.first == Substring(marker) else {
            throw .malformedIdentityFile(path: path, reason: "the first line is not \(marker)")
        }
        guard lines.count == 3, lines[2].isEmpty else {
            throw .malformedIdentityFile(path: path, reason: "it must have exactly two lines, each ending in a newline")
        }
        guard let body = Data(base64Encoded: String(lines[1])), body.base64EncodedString() == lines[1] else {
            throw .malformedIdentityFile(path: path, reason: "line 2 is not canonical base64")
        }
        guard body.count >= 5, body.prefix(3) == magic else {
            throw .malformedIdentityFile(path: path, reason: "the body does not start with the DSK magic")
        }
        let b = [UInt8](body)
        guard b[3] == version else {
            throw .malformedIdentityFile(path: path, reason: "format version \(b[3]) is not supported (this program reads version \(version))")
        }
        switch SecretFileBody.split(body, publicCount: 64, secretCount: 64) {
        case .failure(let reason):
            throw .malformedIdentityFile(path: path, reason: reason.text)
        case .success(let parts):
            return Parsed(publicIdentity: try publicFrom(body, path: path), parameters: parts.parameters, header: parts.header,
                          secretPart: parts.secretPart)
        }
    }

    private static func publicFrom(_ body: Data, path: String) throws(DossierError) -> PublicIdentity {
        let b = [UInt8](body)
        do {
            return try PublicIdentity(encryptionKey: Data(b[5..<37]), signingKey: Data(b[37..<69]))
        } catch {
            throw .malformedIdentityFile(path: path, reason: "bad public keys")
        }
    }

    /// The public half of a secret file, without unlocking it.
    public static func publicHalf(ofFileText text: String, path: String) throws(DossierError) -> PublicIdentity {
        try parse(fileText: text, path: path).publicIdentity
    }

    /// The public half of the secret file at `path`, without unlocking it. Refuses files others
    /// can read, as `load` does.
    public static func publicHalf(path: String) throws(DossierError) -> PublicIdentity {
        try FileAccess.requirePrivate(path: path)
        return try publicHalf(ofFileText: try FileAccess.readSmallText(path: path, limit: 64 * 1024), path: path)
    }

    /// Whether the file at `path` needs a passphrase (and is well formed).
    public static func needsPassphrase(path: String) throws(DossierError) -> Bool {
        let text = try FileAccess.readSmallText(path: path, limit: 64 * 1024)
        return try parse(fileText: text, path: path).parameters != nil
    }

    /// Loads and unlocks an identity file. Refuses files others can read.
    public static func load(path: String, passphrase: () throws(DossierError) -> SecureBytes) throws(DossierError) -> SecretIdentity {
        try FileAccess.requirePrivate(path: path)
        let text = try FileAccess.readSmallText(path: path, limit: 64 * 1024)
        let parsed = try parse(fileText: text, path: path)
        // Bad costs are refused before anyone is asked to type a passphrase.
        let secret = try SecretFileBody.unlock(
            SecretFileBody.Parts(publicPart: Data(), parameters: parsed.parameters, header: parsed.header, secretPart: parsed.secretPart),
            path: path, passphrase: passphrase) { .malformedIdentityFile(path: path, reason: $0) }
        let identity: SecretIdentity
        do {
            identity = SecretIdentity(encryption: try BoxKeyPair(secretKey: secret.slice(0..<32)),
                                      signing: try SigningKeyPair(seed: secret.slice(32..<64)))
        } catch {
            throw .malformedIdentityFile(path: path, reason: "the secret keys are malformed")
        }
        guard identity.publicIdentity == parsed.publicIdentity else {
            throw .malformedIdentityFile(path: path, reason: "the secret keys do not match the public keys in the file (corrupted or altered)")
        }
        return identity
    }

    /// Writes a new identity file (mode 0600), never over an existing file. A passphrase must
    /// meet `Passphrase.requireStrength`.
    public func write(to path: String, protection: Protection, random: any RandomSource = SystemRandom()) throws(DossierError) {
        if case let .passphrase(passphrase, _) = protection { try Passphrase.requireStrength(passphrase) }
        var text = try fileText(protection: protection, random: random)
        defer { secureZero(&text) }
        try FileAccess.writeAtomically(text, to: path, mode: 0o600, overwrite: false)
    }
}
