/// Every failure of the cryptographic layer. Messages stay coarse on purpose: a caller learns
/// that authentication failed, never which byte was wrong or anything about a secret.
public enum CryptoError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Which way an I/O failure went (`io`).
    public enum IOOperation: String, Sendable {
        case read, write
    }

    /// libsodium could not initialise (usually: no source of randomness).
    case initializationFailed
    /// A key, nonce or salt had the wrong length.
    case invalidLength(what: String, expected: Int, actual: Int)
    /// Authenticated decryption failed: wrong key, or the data was corrupted or tampered with.
    case authenticationFailed
    /// A STREAM chunk failed to authenticate (index from 0).
    case chunkAuthenticationFailed(chunk: UInt64)
    /// The STREAM ended before its final chunk: the data was truncated.
    case streamTruncated
    /// Bytes follow the STREAM's final chunk, or the final chunk is empty where it must not be.
    case streamMalformed(String)
    /// Argon2id parameters outside the range this program accepts.
    case invalidKeyDerivationParameters(String)
    /// Argon2id failed (in practice: not enough memory).
    case keyDerivationFailed
    /// Reading or writing the underlying file failed.
    case io(IOOperation, errno: Int32)
    /// A public key is not a valid curve point.
    case invalidPublicKey

    public var description: String {
        switch self {
        case .initializationFailed:
            return "libsodium could not be initialised (is a source of randomness available?)"
        case let .invalidLength(what, expected, actual):
            return "\(what) must be \(expected) bytes, not \(actual)"
        case .authenticationFailed:
            return "decryption failed: wrong key, or the data was corrupted or tampered with"
        case let .chunkAuthenticationFailed(chunk):
            return "chunk \(chunk) failed to authenticate: wrong key, or the data was corrupted, reordered or tampered with"
        case .streamTruncated:
            return "the encrypted stream is truncated: its final chunk is missing"
        case let .streamMalformed(why):
            return "the encrypted stream is malformed: \(why)"
        case let .invalidKeyDerivationParameters(why):
            return "refusing key-derivation parameters: \(why)"
        case .keyDerivationFailed:
            return "passphrase key derivation failed (not enough memory?)"
        case let .io(operation, errno):
            return "\(operation.rawValue) failed: \(String(cString: strerror(errno)))"
        case .invalidPublicKey:
            return "the public key is not valid"
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
