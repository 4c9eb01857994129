internal import CSodium
import Foundation

/// Subkeys from one master key (`crypto_kdf_derive_from_key`, BLAKE2b-based).
public enum KeyDerivation {
    public static let keyBytes = Int(crypto_kdf_KEYBYTES)

    /// Subkey number `id` of `master` under an 8-character `context`.
    public static func subkey(from master: SecureBytes, id: UInt64, context: String, length: Int = 32) throws(CryptoError) -> SecureBytes {
        try Sodium.ensureReady()
        guard master.count == keyBytes else { throw .invalidLength(what: "KDF master key", expected: keyBytes, actual: master.count) }
        let ctx = Array(context.utf8)
        guard ctx.count == Int(crypto_kdf_CONTEXTBYTES) else {
            throw .invalidLength(what: "KDF context", expected: Int(crypto_kdf_CONTEXTBYTES), actual: ctx.count)
        }
        return SecureBytes(count: length) { out in
            master.withUnsafeBytes { m in
                ctx.withUnsafeBufferPointer { c in
                    c.withMemoryRebound(to: CChar.self) { cc in
                        _ = crypto_kdf_derive_from_key(out.u8, length, id, cc.baseAddress!, m.u8)
                    }
                }
            }
        }
    }
}

/// Incremental BLAKE2b, for hashing content while it streams.
public final class BLAKE2b {
    // libsodium's state is 64-byte aligned, which Swift cannot express: allocate it.
    private let state: UnsafeMutableRawPointer
    private let length: Int
    private var finished = false

    public init(length: Int = 32) {
        _ = Sodium.isReady
        self.length = length
        state = .allocate(byteCount: crypto_generichash_statebytes(), alignment: 64)
        crypto_generichash_init(OpaquePointer(state), nil, 0, length)
    }

    deinit {
        state.initializeMemory(as: UInt8.self, repeating: 0, count: crypto_generichash_statebytes())
        state.deallocate()
    }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        precondition(!finished, "BLAKE2b updated after finalize()")
        guard bytes.count > 0 else { return }
        crypto_generichash_update(OpaquePointer(state), bytes.u8, UInt64(bytes.count))
    }

    /// The digest; the hasher cannot be used afterwards.
    public func finalize() -> Data {
        precondition(!finished, "BLAKE2b finalized twice")
        finished = true
        var out = Data(count: length)
        let n = length
        out.withUnsafeMutableBytes { o in _ = crypto_generichash_final(OpaquePointer(state), o.u8, n) }
        return out
    }
}
