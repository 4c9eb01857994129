internal import CSodium
import Foundation

/// An X25519 key pair for anonymous sealed boxes.
public struct BoxKeyPair: Sendable {
    public static let publicKeyBytes = Int(crypto_box_PUBLICKEYBYTES)
    public static let secretKeyBytes = Int(crypto_box_SECRETKEYBYTES)
    public static let seedBytes = Int(crypto_box_SEEDBYTES)

    /// The 32-byte public key.
    public let publicKey: Data
    /// The 32-byte secret key.
    public let secretKey: SecureBytes

    /// A fresh key pair from `random`.
    public static func generate(using random: any RandomSource = SystemRandom()) -> BoxKeyPair {
        let seed = SecureBytes(randomCount: seedBytes, using: random)
        // A seed of the right length cannot fail.
        return (try? BoxKeyPair(seed: seed))!
    }

    /// The key pair derived from a 32-byte seed (reproducible, for vectors).
    public init(seed: SecureBytes) throws(CryptoError) {
        try Sodium.ensureReady()
        guard seed.count == BoxKeyPair.seedBytes else {
            throw .invalidLength(what: "X25519 seed", expected: BoxKeyPair.seedBytes, actual: seed.count)
        }
        var pk = Data(count: BoxKeyPair.publicKeyBytes)
        let sk = SecureBytes(count: BoxKeyPair.secretKeyBytes) { skb in
            pk.withUnsafeMutableBytes { pkb in
                seed.withUnsafeBytes { s in
                    _ = crypto_box_seed_keypair(pkb.u8,
                                                skb.u8,
                                                s.u8)
                }
            }
        }
        publicKey = pk
        secretKey = sk
    }

    /// Rebuilds the pair from a stored 32-byte secret key.
    public init(secretKey: SecureBytes) throws(CryptoError) {
        try Sodium.ensureReady()
        guard secretKey.count == BoxKeyPair.secretKeyBytes else {
            throw .invalidLength(what: "X25519 secret key", expected: BoxKeyPair.secretKeyBytes, actual: secretKey.count)
        }
        var pk = Data(count: BoxKeyPair.publicKeyBytes)
        pk.withUnsafeMutableBytes { pkb in
            secretKey.withUnsafeBytes { s in
                _ = crypto_scalarmult_base(pkb.u8, s.u8)
            }
        }
        self.publicKey = pk
        self.secretKey = secretKey
    }
}

/// Anonymous public-key encryption to one X25519 recipient (`crypto_box_seal`).
public enum SealedBox {
    /// Bytes a sealed box adds to its message (ephemeral public key + tag).
    public static let overhead = Int(crypto_box_sealbytes())

    /// Seals `message` so that only the holder of `publicKey`'s secret can open it.
    public static func seal(_ message: SecureBytes, to publicKey: Data) throws(CryptoError) -> Data {
        try Sodium.ensureReady()
        guard publicKey.count == BoxKeyPair.publicKeyBytes else {
            throw .invalidLength(what: "X25519 public key", expected: BoxKeyPair.publicKeyBytes, actual: publicKey.count)
        }
        var out = Data(count: message.count + overhead)
        let rc = out.withUnsafeMutableBytes { o in
            publicKey.withUnsafeBytes { pk in
                message.withUnsafeBytes { m in
                    crypto_box_seal(o.u8,
                                    m.u8, UInt64(m.count),
                                    pk.u8)
                }
            }
        }
        guard rc == 0 else { throw .invalidPublicKey }
        return out
    }

    /// Opens a sealed box with the recipient's key pair; fails if it was not sealed to it or was altered.
    public static func open(_ sealed: Data, with keyPair: BoxKeyPair) throws(CryptoError) -> SecureBytes {
        try Sodium.ensureReady()
        guard sealed.count >= overhead else { throw .authenticationFailed }
        var ok = false
        let result = SecureBytes(count: sealed.count - overhead) { dst in
            sealed.withUnsafeBytes { c in
                keyPair.publicKey.withUnsafeBytes { pk in
                    keyPair.secretKey.withUnsafeBytes { sk in
                        ok = crypto_box_seal_open(dst.u8,
                                                  c.u8, UInt64(c.count),
                                                  pk.u8,
                                                  sk.u8) == 0
                    }
                }
            }
        }
        guard ok else { throw .authenticationFailed }
        return result
    }
}
