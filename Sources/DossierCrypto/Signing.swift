internal import CSodium
import Foundation

/// An Ed25519 key pair for detached signatures.
public struct SigningKeyPair: Sendable {
    public static let publicKeyBytes = Int(crypto_sign_PUBLICKEYBYTES)
    public static let seedBytes = Int(crypto_sign_SEEDBYTES)
    public static let signatureBytes = Int(crypto_sign_BYTES)

    /// The 32-byte public key.
    public let publicKey: Data
    /// The 32-byte seed from which the secret key is derived; this is what files store.
    public let seed: SecureBytes
    private let secretKey: SecureBytes

    /// A fresh key pair from `random`.
    public static func generate(using random: any RandomSource = SystemRandom()) -> SigningKeyPair {
        let seed = SecureBytes(randomCount: seedBytes, using: random)
        return (try? SigningKeyPair(seed: seed))!
    }

    /// The key pair for a 32-byte seed.
    public init(seed: SecureBytes) throws(CryptoError) {
        try Sodium.ensureReady()
        guard seed.count == SigningKeyPair.seedBytes else {
            throw .invalidLength(what: "Ed25519 seed", expected: SigningKeyPair.seedBytes, actual: seed.count)
        }
        var pk = Data(count: SigningKeyPair.publicKeyBytes)
        let sk = SecureBytes(count: Int(crypto_sign_SECRETKEYBYTES)) { skb in
            pk.withUnsafeMutableBytes { pkb in
                seed.withUnsafeBytes { s in
                    _ = crypto_sign_seed_keypair(pkb.u8,
                                                 skb.u8,
                                                 s.u8)
                }
            }
        }
        publicKey = pk
        self.seed = seed
        secretKey = sk
    }

    /// A 64-byte detached signature over `message`.
    public func sign(_ message: Data) -> Data {
        var sig = Data(count: SigningKeyPair.signatureBytes)
        sig.withUnsafeMutableBytes { s in
            message.withUnsafeBytes { m in
                secretKey.withUnsafeBytes { sk in
                    _ = crypto_sign_detached(s.u8, nil,
                                             m.u8, UInt64(m.count),
                                             sk.u8)
                }
            }
        }
        return sig
    }
}

/// Verification of Ed25519 detached signatures.
public enum Signature {
    /// True only if `signature` is a valid signature of `message` by `publicKey`.
    public static func verify(_ signature: Data, of message: Data, publicKey: Data) -> Bool {
        guard Sodium.isReady,
              signature.count == SigningKeyPair.signatureBytes,
              publicKey.count == SigningKeyPair.publicKeyBytes else { return false }
        return signature.withUnsafeBytes { s in
            message.withUnsafeBytes { m in
                publicKey.withUnsafeBytes { pk in
                    crypto_sign_verify_detached(s.u8,
                                                m.u8, UInt64(m.count),
                                                pk.u8) == 0
                }
            }
        }
    }
}
