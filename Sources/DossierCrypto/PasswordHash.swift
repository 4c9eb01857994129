internal import CSodium
import Foundation

/// Argon2id cost parameters, stored beside every passphrase-protected secret.
public struct Argon2idParameters: Equatable, Sendable {
    /// Number of passes (libsodium's opslimit).
    public let opsLimit: UInt32
    /// Memory in KiB (libsodium's memlimit / 1024).
    public let memoryKiB: UInt32

    public init(opsLimit: UInt32, memoryKiB: UInt32) {
        self.opsLimit = opsLimit
        self.memoryKiB = memoryKiB
    }

    /// The default for identity files: 3 passes over 256 MiB (libsodium's "moderate" memory
    /// with the interactive pass count), about half a second here.
    public static let standard = Argon2idParameters(opsLimit: 3, memoryKiB: 256 * 1024)
    /// libsodium's minimum: for tests only, never for real identities.
    public static let testingOnly = Argon2idParameters(opsLimit: 1, memoryKiB: 8)

    /// The largest cost accepted from a file: an attacker-supplied file must not be able to make
    /// the program allocate gigabytes or spin for minutes.
    /// At most 4 passes over 1 GiB: about five times the standard cost, seconds, not minutes.
    public static let maximumOps: UInt32 = 4
    public static let maximumMemoryKiB: UInt32 = 1024 * 1024

    /// Throws unless the parameters are within what this program accepts.
    public func validate() throws(CryptoError) {
        if UInt64(opsLimit) < UInt64(crypto_pwhash_OPSLIMIT_MIN) || opsLimit > Self.maximumOps {
            throw .invalidKeyDerivationParameters("pass count \(opsLimit) is outside 1...\(Self.maximumOps)")
        }
        let minKiB = UInt32(crypto_pwhash_MEMLIMIT_MIN / 1024)
        if memoryKiB < minKiB || memoryKiB > Self.maximumMemoryKiB {
            throw .invalidKeyDerivationParameters("memory \(memoryKiB) KiB is outside \(minKiB)...\(Self.maximumMemoryKiB) KiB")
        }
    }
}

/// Argon2id key derivation (`crypto_pwhash`, ALG_ARGON2ID13).
public enum PasswordHash {
    public static let saltBytes = Int(crypto_pwhash_SALTBYTES)

    /// Derives a `length`-byte key from `passphrase` and a 16-byte `salt`.
    public static func deriveKey(
        passphrase: SecureBytes, salt: Data, parameters: Argon2idParameters, length: Int = 32
    ) throws(CryptoError) -> SecureBytes {
        try Sodium.ensureReady()
        try parameters.validate()
        guard salt.count == saltBytes else { throw .invalidLength(what: "Argon2id salt", expected: saltBytes, actual: salt.count) }
        var rc: Int32 = -1
        let key = SecureBytes(count: length) { out in
            passphrase.withUnsafeBytes { p in
                salt.withUnsafeBytes { s in
                    let pw = UnsafeRawPointer(p.u8).assumingMemoryBound(to: CChar.self)
                    rc = crypto_pwhash(out.u8, UInt64(length),
                                       pw, UInt64(p.count),
                                       s.u8,
                                       UInt64(parameters.opsLimit), Int(parameters.memoryKiB) * 1024,
                                       crypto_pwhash_ALG_ARGON2ID13)
                }
            }
        }
        guard rc == 0 else { throw .keyDerivationFailed }
        return key
    }
}
