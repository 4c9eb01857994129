internal import CSodium
import Foundation

/// Hash functions: BLAKE2b for fingerprints and internal ids, SHA-256 where a public format
/// (RFC 6962, C2SP) asks for it.
public enum Hash {
    /// BLAKE2b with an output of `length` bytes (16...64) and an optional key (1...64 bytes).
    /// Both are fixed by the caller's code, never by input, so a wrong one is a programming error.
    public static func blake2b(_ data: Data, length: Int = 32, key: Data? = nil) -> Data {
        precondition(length >= Int(crypto_generichash_BYTES_MIN) && length <= Int(crypto_generichash_BYTES_MAX))
        precondition(key.map { $0.count >= 1 && $0.count <= Int(crypto_generichash_KEYBYTES_MAX) } ?? true, "BLAKE2b key must be 1...64 bytes")
        _ = Sodium.isReady
        var out = Data(count: length)
        out.withUnsafeMutableBytes { o in
            data.withUnsafeBytes { d in
                if let key {
                    key.withUnsafeBytes { k in
                        _ = crypto_generichash(o.u8, length,
                                               d.u8, UInt64(d.count),
                                               k.u8, k.count)
                    }
                } else {
                    _ = crypto_generichash(o.u8, length,
                                           d.u8, UInt64(d.count), nil, 0)
                }
            }
        }
        return out
    }

    /// SHA-256 of `data`.
    public static func sha256(_ data: Data) -> Data {
        var h = SHA256()
        h.update(data)
        return h.finalize()
    }

    /// SHA-256 of `bytes`, written to the first 32 bytes of `out` (no allocation: for long logs).
    public static func sha256(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
        precondition(out.count >= 32, "SHA-256 needs 32 bytes of output")
        _ = Sodium.isReady
        _ = crypto_hash_sha256(out.u8, bytes.u8, UInt64(bytes.count))
    }

    /// SHA-256 of one byte followed by `bytes` (RFC 6962 leaf hashes), written to `out`.
    public static func sha256(prefix: UInt8, _ bytes: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
        precondition(out.count >= 32, "SHA-256 needs 32 bytes of output")
        var h = SHA256()
        withUnsafeBytes(of: prefix) { h.update($0) }
        h.update(bytes)
        h.finalize(into: out)
    }
}

/// Incremental SHA-256, for hashing content while it streams.
public struct SHA256: ~Copyable {
    private var state = crypto_hash_sha256_state()

    public init() {
        _ = Sodium.isReady
        crypto_hash_sha256_init(&state)
    }

    /// Adds bytes to the hash.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        crypto_hash_sha256_update(&state, bytes.u8, UInt64(bytes.count))
    }

    /// Adds bytes to the hash.
    public mutating func update(_ data: Data) {
        data.withUnsafeBytes { update($0) }
    }

    /// Writes the 32-byte digest to `out`.
    public consuming func finalize(into out: UnsafeMutableRawBufferPointer) {
        precondition(out.count >= 32, "SHA-256 needs 32 bytes of output")
        _ = crypto_hash_sha256_final(&state, out.u8)
    }

    /// The 32-byte digest.
    public consuming func finalize() -> Data {
        var out = Data(count: 32)
        out.withUnsafeMutableBytes { o in
            _ = crypto_hash_sha256_final(&state, o.u8)
        }
        return out
    }
}
