import DossierCrypto
import Foundation

/// The body both secret files share (docs/formats/identity.md, sections 5 and 7): `magic ‖
/// version ‖ protection ‖ public part ‖ [ops u32 ‖ mem KiB u32 ‖ salt] ‖ secret`, the secret in
/// the clear (protection 0) or sealed with XChaCha20-Poly1305 under an Argon2id key derived
/// from the passphrase, with everything before it as associated data (protection 1). Identity
/// files and the organisation root differ only in their magic and in what the public part and
/// the secret hold.
enum SecretFileBody {
    static let unprotected: UInt8 = 0
    static let argon2id: UInt8 = 1

    /// A body of `prefix` (magic and version), then the protection, `publicPart` and `secret`.
    /// The secret is read in place from guarded memory, never copied into an ordinary buffer.
    static func make(prefix: Data, publicPart: Data, secret: SecureBytes, protection: SecretIdentity.Protection,
                     random: any RandomSource) throws(CryptoError) -> Data {
        var body = prefix
        switch protection {
        case .none:
            body.append(unprotected)
            body.append(publicPart)
            body.append(secret.unsafeCopyToData())
        case let .passphrase(passphrase, parameters):
            body.append(argon2id)
            body.append(publicPart)
            body.append(Data.bigEndian(parameters.opsLimit))
            body.append(Data.bigEndian(parameters.memoryKiB))
            let salt = random.bytes(PasswordHash.saltBytes)
            body.append(salt)
            let key = try PasswordHash.deriveKey(passphrase: passphrase, salt: salt, parameters: parameters)
            let aad = body
            let sealed = try secret.withUnsafeBytes { (s: UnsafeRawBufferPointer) throws(CryptoError) in
                try AEAD.seal(UnsafeRawBufferPointerBytes(s), key: key, additionalData: aad, random: random)
            }
            body.append(sealed)
        }
        return body
    }

    /// A body split into its parts, still locked.
    struct Parts {
        let publicPart: Data
        /// nil when the secret is in the clear.
        let parameters: Argon2idParameters?
        /// Everything before the secret (the associated data of its sealing).
        let header: Data
        let secretPart: Data
    }

    /// Splits a body whose first four bytes (magic and version) the caller has checked;
    /// returns why it does not read otherwise.
    static func split(_ body: Data, publicCount: Int, secretCount: Int) -> Result<Parts, Reason> {
        let b = [UInt8](body)
        guard b.count >= 5 else { return .failure(Reason("the body has the wrong length")) }
        let publicEnd = 5 + publicCount
        switch b[4] {
        case unprotected:
            guard b.count == publicEnd + secretCount else { return .failure(Reason("the body has the wrong length")) }
            return .success(Parts(publicPart: Data(b[5..<publicEnd]), parameters: nil, header: Data(b[0..<publicEnd]),
                                  secretPart: Data(b[publicEnd...])))
        case argon2id:
            let headerEnd = publicEnd + 8 + PasswordHash.saltBytes
            guard b.count == headerEnd + AEAD.nonceBytes + secretCount + AEAD.tagBytes else { return .failure(Reason("the body has the wrong length")) }
            let ops = b[publicEnd..<publicEnd + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let mem = b[publicEnd + 4..<publicEnd + 8].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            return .success(Parts(publicPart: Data(b[5..<publicEnd]), parameters: Argon2idParameters(opsLimit: ops, memoryKiB: mem),
                                  header: Data(b[0..<headerEnd]), secretPart: Data(b[headerEnd...])))
        default:
            return .failure(Reason("unknown protection type \(b[4])"))
        }
    }

    struct Reason: Error { let text: String; init(_ text: String) { self.text = text } }

    /// The secret of `parts`: asks for the passphrase only when it is sealed, and only after
    /// its Argon2id costs were found acceptable. `malformed` makes the error for a bad file.
    static func unlock(_ parts: Parts, path: String, passphrase: () throws(DossierError) -> SecureBytes,
                       malformed: (String) -> DossierError) throws(DossierError) -> SecureBytes {
        guard let parameters = parts.parameters else { return SecureBytes(copying: parts.secretPart) }
        do { try parameters.validate() } catch { throw malformed(error.description) }
        let pass = try passphrase()
        do {
            let key = try PasswordHash.deriveKey(passphrase: pass, salt: Data(parts.header.suffix(PasswordHash.saltBytes)), parameters: parameters)
            return try AEAD.open(parts.secretPart, key: key, additionalData: parts.header)
        } catch CryptoError.authenticationFailed {
            throw .wrongPassphrase(path: path)
        } catch {
            throw .crypto(context: "cannot unlock \(path)", error)
        }
    }
}
