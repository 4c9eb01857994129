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
        var body = Self.magic
        body.append(Self.version)
        switch protection {
        case .none:
            body.append(SecretIdentity.unprotected)
            body.append(signing.publicKey)
            body.append(signing.seed.unsafeCopyToData())
        case let .passphrase(passphrase, parameters):
            guard passphrase.count > 0 else { throw .emptyPassphrase }
            body.append(SecretIdentity.argon2id)
            body.append(signing.publicKey)
            body.append(Data.bigEndian(parameters.opsLimit))
            body.append(Data.bigEndian(parameters.memoryKiB))
            let salt = random.bytes(PasswordHash.saltBytes)
            body.append(salt)
            do {
                let key = try PasswordHash.deriveKey(passphrase: passphrase, salt: salt, parameters: parameters)
                let sealed = try signing.seed.withUnsafeBytes { (s: UnsafeRawBufferPointer) throws(CryptoError) in
                    try AEAD.seal(UnsafeRawBufferPointerBytes(s), key: key, additionalData: body, random: random)
                }
                body.append(sealed)
            } catch {
                throw .crypto(context: "cannot protect the organisation root", error)
            }
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
        let keyEnd = 5 + 32
        func key() throws(DossierError) -> OrganisationKey {
            do { return try OrganisationKey(signingKey: Data(b[5..<keyEnd])) } catch { throw bad("bad public key") }
        }
        switch b[4] {
        case SecretIdentity.unprotected:
            guard b.count == keyEnd + 32 else { throw bad("the body has the wrong length") }
            return Parsed(key: try key(), parameters: nil, header: Data(b[0..<keyEnd]), secretPart: Data(b[keyEnd...]))
        case SecretIdentity.argon2id:
            let headerEnd = keyEnd + 8 + PasswordHash.saltBytes
            guard b.count == headerEnd + AEAD.nonceBytes + 32 + AEAD.tagBytes else { throw bad("the body has the wrong length") }
            let ops = b[keyEnd..<keyEnd + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let mem = b[keyEnd + 4..<keyEnd + 8].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            return Parsed(key: try key(), parameters: Argon2idParameters(opsLimit: ops, memoryKiB: mem),
                          header: Data(b[0..<headerEnd]), secretPart: Data(b[headerEnd...]))
        default:
            throw bad("unknown protection type \(b[4])")
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
        let seed: SecureBytes
        if let parameters = parsed.parameters {
            do { try parameters.validate() } catch { throw .malformedRootFile(path: path, reason: error.description) }
            let pass = try passphrase()
            do {
                let key = try PasswordHash.deriveKey(passphrase: pass, salt: Data(parsed.header.suffix(PasswordHash.saltBytes)), parameters: parameters)
                seed = try AEAD.open(parsed.secretPart, key: key, additionalData: parsed.header)
            } catch CryptoError.authenticationFailed {
                throw .wrongPassphrase(path: path)
            } catch {
                throw .crypto(context: "cannot unlock \(path)", error)
            }
        } else {
            seed = SecureBytes(copying: parsed.secretPart)
        }
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
