import DossierCrypto
import Foundation

/// The organisation's root key: the Ed25519 key whose public half is the `dossierorg1…` line
/// counsel and auditors pin. It is kept in its own file, away from the vault, and does one
/// thing: sign staff and service certificates (Certificate.swift). The vault holds only its
/// public half, so no copy of a vault, old or new, lets anyone sign as the organisation.
///
/// The file (docs/formats/identity.md, section 6) is protected like an identity file: mode
/// 0600, refused when group- or world-readable, and its seed sealed under a key derived from a
/// passphrase with Argon2id (or, for tests and demonstrations only, stored in the clear).
public struct OrganisationRoot: Sendable {
    /// First line of every root file, so that secret scanners catch it.
    public static let marker = "DOSSIER-ORGANISATION-ROOT-1"

    public let signing: SigningKeyPair

    public init(signing: SigningKeyPair) { self.signing = signing }

    /// A fresh root key.
    public static func generate(using random: any RandomSource = SystemRandom()) -> OrganisationRoot {
        OrganisationRoot(signing: .generate(using: random))
    }

    /// The public key line counsel and auditors pin.
    public var key: OrganisationKey {
        // libsodium gives a 32-byte public key.
        (try? OrganisationKey(signingKey: signing.publicKey))!
    }

    static let magic = Data("DOR".utf8)
    static let version: UInt8 = 1

    /// The file's bytes: the marker line, then one line of standard base64 of
    /// `"DOR" ‖ 0x01 ‖ protection ‖ public key (32) ‖ [ops u32 ‖ mem KiB u32 ‖ salt (16)] ‖ secret`,
    /// where the secret is the 32-byte seed in the clear (protection 0) or, with protection 1,
    /// its XChaCha20-Poly1305 sealing (nonce ‖ ciphertext ‖ tag) under the Argon2id key, with
    /// everything before it as associated data.
    public func fileText(protection: SecretIdentity.Protection, random: any RandomSource = SystemRandom()) throws(DossierError) -> Data {
        if case let .passphrase(passphrase, _) = protection, passphrase.count == 0 { throw .emptyPassphrase }
        var body: Data
        do {
            body = try SecretFileBody.make(prefix: Self.magic + [Self.version], publicPart: signing.publicKey, secret: signing.seed,
                                           protection: protection, random: random)
        } catch {
            throw .crypto(context: "cannot protect the organisation root", error)
        }
        var text = Data((Self.marker + "\n").utf8)
        text.append(Data(body.base64EncodedString().utf8))
        text.append(0x0a)
        secureZero(&body)
        return text
    }

    struct Parsed {
        let key: OrganisationKey
        let parameters: Argon2idParameters?
        let header: Data
        let secretPart: Data
    }

    static func parse(fileText text: String, path: String) throws(DossierError) -> Parsed {
        func bad(_ why: String) -> DossierError { .malformedRootFile(path: path, reason: why) }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.first == Substring(marker) else {
            if lines.first == Substring(SecretIdentity.marker) { throw bad("this is a staff or counsel identity file, not an organisation root") }
            throw bad("the first line is not \(marker)")
        }
        guard lines.count == 3, lines[2].isEmpty else { throw bad("it must have exactly two lines, each ending in a newline") }
        guard let body = Data(base64Encoded: String(lines[1])), body.base64EncodedString() == lines[1] else {
            throw bad("line 2 is not canonical base64")
        }
        let b = [UInt8](body)
        guard b.count >= 5, body.prefix(3) == magic else { throw bad("the body does not start with the DOR magic") }
        guard b[3] == version else { throw bad("format version \(b[3]) is not supported (this program reads version \(version))") }
        switch SecretFileBody.split(body, publicCount: 32, secretCount: 32) {
        case .failure(let reason):
            throw bad(reason.text)
        case .success(let parts):
            let key: OrganisationKey
            do { key = try OrganisationKey(signingKey: parts.publicPart) } catch { throw bad("bad public key") }
            return Parsed(key: key, parameters: parts.parameters, header: parts.header, secretPart: parts.secretPart)
        }
    }

    /// The public key of the root file at `path`, without unlocking it. Refuses files others can read.
    public static func publicKey(path: String) throws(DossierError) -> OrganisationKey {
        try FileAccess.requirePrivate(path: path)
        return try parse(fileText: try FileAccess.readSmallText(path: path, limit: 64 * 1024), path: path).key
    }

    /// Loads and unlocks a root file. Refuses files others can read.
    public static func load(path: String, passphrase: () throws(DossierError) -> SecureBytes) throws(DossierError) -> OrganisationRoot {
        try FileAccess.requirePrivate(path: path)
        let parsed = try parse(fileText: try FileAccess.readSmallText(path: path, limit: 64 * 1024), path: path)
        let seed = try SecretFileBody.unlock(
            SecretFileBody.Parts(publicPart: parsed.key.signingKey, parameters: parsed.parameters, header: parsed.header, secretPart: parsed.secretPart),
            path: path, passphrase: passphrase) { .malformedRootFile(path: path, reason: $0) }
        let signing: SigningKeyPair
        do { signing = try SigningKeyPair(seed: seed) } catch { throw .malformedRootFile(path: path, reason: "the secret key is malformed") }
        guard signing.publicKey == parsed.key.signingKey else {
            throw .malformedRootFile(path: path, reason: "the secret key does not match the public key in the file (corrupted or altered)")
        }
        return OrganisationRoot(signing: signing)
    }

    /// Writes a new root file (mode 0600), never over an existing file. A passphrase must meet
    /// `Passphrase.requireStrength`.
    public func write(to path: String, protection: SecretIdentity.Protection, random: any RandomSource = SystemRandom()) throws(DossierError) {
        if case let .passphrase(passphrase, _) = protection { try Passphrase.requireStrength(passphrase) }
        var text = try fileText(protection: protection, random: random)
        defer { secureZero(&text) }
        try FileAccess.writeAtomically(text, to: path, mode: 0o600, overwrite: false)
    }
}
