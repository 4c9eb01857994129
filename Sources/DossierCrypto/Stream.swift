internal import CSodium
import Foundation

/// The STREAM construction (as in age) over ChaCha20-Poly1305 (IETF):
///
/// - plaintext is cut into 64 KiB chunks; only the final chunk may be shorter, and it may be
///   empty only when it is the only chunk (empty plaintext);
/// - chunk `i` is sealed with `crypto_aead_chacha20poly1305_ietf` under the stream key, no
///   associated data, and the 12-byte nonce `i` as an 11-byte big-endian integer followed by
///   one byte, 0x01 for the final chunk and 0x00 otherwise;
/// - the ciphertext is the sealed chunks concatenated, each 16 bytes longer than its plaintext.
///
/// Every stream key MUST be fresh and random: the nonces repeat from stream to stream.
/// Truncation, reordering, dropping or appending chunks all fail authentication.
public enum Stream {
    public static let keyBytes = Int(crypto_aead_chacha20poly1305_ietf_KEYBYTES)
    public static let chunkSize = 64 * 1024
    public static let tagBytes = Int(crypto_aead_chacha20poly1305_ietf_ABYTES)
    public static let nonceBytes = Int(crypto_aead_chacha20poly1305_ietf_NPUBBYTES)

    /// Size of the ciphertext for a plaintext of `plaintextSize` bytes.
    public static func ciphertextSize(plaintextSize: UInt64) -> UInt64 {
        let chunks = max(1, (plaintextSize + UInt64(chunkSize) - 1) / UInt64(chunkSize))
        return plaintextSize + chunks * UInt64(tagBytes)
    }

    /// A fresh random stream key.
    public static func generateKey(using random: any RandomSource = SystemRandom()) -> SecureBytes {
        SecureBytes(randomCount: keyBytes, using: random)
    }

    /// The nonce of chunk `index`.
    static func nonce(index: UInt64, final: Bool) -> [UInt8] {
        var n = [UInt8](repeating: 0, count: nonceBytes)
        var be = index.bigEndian
        withUnsafeBytes(of: &be) { b in for i in 0..<8 { n[3 + i] = b[i] } }
        n[11] = final ? 1 : 0
        return n
    }

    /// Encrypts all of `source` into `sink`; `observe` sees every plaintext chunk (for hashing).
    /// Returns the plaintext length.
    @discardableResult
    public static func encrypt<S: ByteSource, K: ByteSink>(
        key: SecureBytes, from source: inout S, to sink: inout K,
        observe: ((UnsafeRawBufferPointer) -> Void)? = nil
    ) throws(CryptoError) -> UInt64 {
        try Sodium.ensureReady()
        guard key.count == keyBytes else { throw .invalidLength(what: "stream key", expected: keyBytes, actual: key.count) }
        var current = SecretBuffer(count: chunkSize)
        var next = SecretBuffer(count: chunkSize)
        let out = SecretBuffer(count: chunkSize + tagBytes)
        var currentCount = try source.read(into: current.buffer)
        var index: UInt64 = 0
        var total: UInt64 = 0
        while true {
            var nextCount = 0
            let final: Bool
            if currentCount < chunkSize {
                final = true
            } else {
                nextCount = try source.read(into: next.buffer)
                final = nextCount == 0
            }
            let plain = UnsafeRawBufferPointer(rebasing: current.buffer[0..<currentCount])
            observe?(plain)
            seal(plain, index: index, final: final, key: key, into: out.buffer)
            try sink.write(UnsafeRawBufferPointer(rebasing: out.buffer[0..<(currentCount + tagBytes)]))
            total += UInt64(currentCount)
            if final { break }
            swap(&current, &next)
            currentCount = nextCount
            index += 1
        }
        return total
    }

    /// Decrypts all of `source` into `sink`. Bytes reach `sink` only after their chunk
    /// authenticates, but a caller MUST still treat the output as unverified until this
    /// function returns: a later chunk may fail.
    @discardableResult
    public static func decrypt<S: ByteSource, K: ByteSink>(
        key: SecureBytes, from source: inout S, to sink: inout K
    ) throws(CryptoError) -> UInt64 {
        try Sodium.ensureReady()
        guard key.count == keyBytes else { throw .invalidLength(what: "stream key", expected: keyBytes, actual: key.count) }
        let sealedSize = chunkSize + tagBytes
        var current = SecretBuffer(count: sealedSize)
        var next = SecretBuffer(count: sealedSize)
        let out = SecretBuffer(count: chunkSize)
        var currentCount = try source.read(into: current.buffer)
        var index: UInt64 = 0
        var total: UInt64 = 0
        while true {
            if currentCount < tagBytes {
                // Nothing, or less than a tag, where a chunk should be.
                throw currentCount == 0 ? .streamTruncated : .streamMalformed("chunk \(index) is shorter than its tag")
            }
            var nextCount = 0
            let final: Bool
            if currentCount < sealedSize {
                final = true
            } else {
                nextCount = try source.read(into: next.buffer)
                final = nextCount == 0
            }
            let sealed = UnsafeRawBufferPointer(rebasing: current.buffer[0..<currentCount])
            let plainCount = currentCount - tagBytes
            if !open(sealed, index: index, final: final, key: key, into: out.buffer) {
                // Say what happened where we can tell: a non-final chunk standing last means the
                // stream was cut; a final chunk followed by more means bytes were appended.
                if final && currentCount == sealedSize && open(sealed, index: index, final: false, key: key, into: out.buffer) {
                    secureZero(out.buffer)
                    throw .streamTruncated
                }
                if !final && open(sealed, index: index, final: true, key: key, into: out.buffer) {
                    secureZero(out.buffer)
                    throw .streamMalformed("data follows the final chunk")
                }
                throw .chunkAuthenticationFailed(chunk: index)
            }
            if final && plainCount == 0 && index > 0 {
                throw .streamMalformed("the final chunk is empty")
            }
            try sink.write(UnsafeRawBufferPointer(rebasing: out.buffer[0..<plainCount]))
            total += UInt64(plainCount)
            if final { break }
            swap(&current, &next)
            currentCount = nextCount
            index += 1
        }
        return total
    }

    /// Seals one chunk; `out` must hold `plain.count + tagBytes`.
    static func seal(_ plain: UnsafeRawBufferPointer, index: UInt64, final: Bool, key: SecureBytes,
                     into out: UnsafeMutableRawBufferPointer) {
        let n = nonce(index: index, final: final)
        key.withUnsafeBytes { k in
            var clen: UInt64 = 0
            _ = crypto_aead_chacha20poly1305_ietf_encrypt(
                out.u8, &clen,
                plain.u8, UInt64(plain.count),
                nil, 0, nil, n, k.u8)
        }
    }

    /// Opens one chunk into `out`; false if it does not authenticate.
    static func open(_ sealed: UnsafeRawBufferPointer, index: UInt64, final: Bool, key: SecureBytes,
                     into out: UnsafeMutableRawBufferPointer) -> Bool {
        let n = nonce(index: index, final: final)
        return key.withUnsafeBytes { k in
            var mlen: UInt64 = 0
            return crypto_aead_chacha20poly1305_ietf_decrypt(
                out.u8, &mlen, nil,
                sealed.u8, UInt64(sealed.count),
                nil, 0, n, k.u8) == 0
        }
    }
}

/// A heap buffer for plaintext chunks, zeroed before it is freed.
final class SecretBuffer {
    let buffer: UnsafeMutableRawBufferPointer
    init(count: Int) {
        buffer = .allocate(byteCount: max(count, 1), alignment: 16)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
    }
    deinit {
        secureZero(buffer)
        buffer.deallocate()
    }
}
