internal import CSodium
import Foundation
import Dispatch

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

    /// Chunks processed together: read as one, sealed or opened in parallel on all cores,
    /// written as one. Memory stays bounded: about three batches (3 MiB).
    static let batchChunks = 16

    /// Encrypts all of `source` into `sink`; `observe` sees every plaintext chunk, in order (for hashing).
    /// Returns the plaintext length.
    @discardableResult
    public static func encrypt<S: ByteSource, K: ByteSink>(
        key: SecureBytes, from source: inout S, to sink: inout K,
        observe: ((UnsafeRawBufferPointer) -> Void)? = nil
    ) throws(CryptoError) -> UInt64 {
        try Sodium.ensureReady()
        guard key.count == keyBytes else { throw .invalidLength(what: "stream key", expected: keyBytes, actual: key.count) }
        let batchBytes = batchChunks * chunkSize
        var current = SecretBuffer(count: batchBytes)
        var next = SecretBuffer(count: batchBytes)
        let out = SecretBuffer(count: batchChunks * (chunkSize + tagBytes))
        var currentCount = try source.read(into: current.buffer)
        var firstIndex: UInt64 = 0
        var total: UInt64 = 0
        while true {
            // The stream ends in this batch if it is not full, or if nothing follows it.
            var nextCount = 0
            let lastBatch: Bool
            if currentCount < batchBytes {
                lastBatch = true
            } else {
                nextCount = try source.read(into: next.buffer)
                lastBatch = nextCount == 0
            }
            // An empty stream is one empty final chunk; otherwise chunks of chunkSize, the last shorter or full.
            let chunks = max(1, (currentCount + chunkSize - 1) / chunkSize)
            if let observe {
                for i in 0..<chunks {
                    let start = i * chunkSize
                    observe(UnsafeRawBufferPointer(rebasing: current.buffer[start..<min(start + chunkSize, currentCount)]))
                }
            }
            let plainBase = UnsafeRawPointer(current.buffer.baseAddress!)
            let outBase = out.buffer.baseAddress!
            let count = currentCount, base = firstIndex
            parallelFor(chunks) { i in
                let start = i * chunkSize
                let length = min(chunkSize, count - start)
                seal(UnsafeRawBufferPointer(start: plainBase + start, count: length), index: base + UInt64(i),
                     final: lastBatch && i == chunks - 1, key: key,
                     into: UnsafeMutableRawBufferPointer(start: outBase + i * (chunkSize + tagBytes), count: length + tagBytes))
            }
            try sink.write(UnsafeRawBufferPointer(rebasing: out.buffer[0..<(currentCount + chunks * tagBytes)]))
            total += UInt64(currentCount)
            if lastBatch { break }
            swap(&current, &next)
            currentCount = nextCount
            firstIndex += UInt64(chunks)
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
        let batchBytes = batchChunks * sealedSize
        var current = SecretBuffer(count: batchBytes)
        var next = SecretBuffer(count: batchBytes)
        let out = SecretBuffer(count: batchChunks * chunkSize)
        var currentCount = try source.read(into: current.buffer)
        var firstIndex: UInt64 = 0
        var total: UInt64 = 0
        while true {
            if currentCount == 0 { throw .streamTruncated }
            var nextCount = 0
            let lastBatch: Bool
            if currentCount < batchBytes {
                lastBatch = true
            } else {
                nextCount = try source.read(into: next.buffer)
                lastBatch = nextCount == 0
            }
            let chunks = (currentCount + sealedSize - 1) / sealedSize
            let lastLength = currentCount - (chunks - 1) * sealedSize
            if lastLength < tagBytes {
                throw .streamMalformed("chunk \(firstIndex + UInt64(chunks - 1)) is shorter than its tag")
            }
            let sealedBase = UnsafeRawPointer(current.buffer.baseAddress!)
            let outBase = out.buffer.baseAddress!
            let count = currentCount, base = firstIndex
            let failures = FailureFlags(count: chunks)
            parallelFor(chunks) { i in
                let start = i * sealedSize
                let length = min(sealedSize, count - start)
                let ok = open(UnsafeRawBufferPointer(start: sealedBase + start, count: length), index: base + UInt64(i),
                              final: lastBatch && i == chunks - 1, key: key,
                              into: UnsafeMutableRawBufferPointer(start: outBase + i * chunkSize, count: length - tagBytes))
                if !ok { failures.set(i) }
            }
            if let bad = failures.first {
                secureZero(out.buffer)
                let start = bad * sealedSize
                let length = min(sealedSize, currentCount - start)
                let sealed = UnsafeRawBufferPointer(start: sealedBase + start, count: length)
                let index = base + UInt64(bad)
                let final = lastBatch && bad == chunks - 1
                let scratch = SecretBuffer(count: chunkSize)
                // Say what happened where we can tell: a non-final chunk standing last means the
                // stream was cut; a final chunk followed by more means bytes were appended.
                if final && length == sealedSize && open(sealed, index: index, final: false, key: key, into: scratch.buffer) {
                    throw .streamTruncated
                }
                if !final && open(sealed, index: index, final: true, key: key, into: scratch.buffer) {
                    throw .streamMalformed("data follows the final chunk")
                }
                throw .chunkAuthenticationFailed(chunk: index)
            }
            let plainCount = currentCount - chunks * tagBytes
            if lastBatch && lastLength == tagBytes && (firstIndex + UInt64(chunks)) > 1 {
                secureZero(out.buffer)
                throw .streamMalformed("the final chunk is empty")
            }
            try sink.write(UnsafeRawBufferPointer(rebasing: out.buffer[0..<plainCount]))
            total += UInt64(plainCount)
            if lastBatch { break }
            swap(&current, &next)
            currentCount = nextCount
            firstIndex += UInt64(chunks)
        }
        return total
    }

    /// Runs `body` for 0..<n, spread over the cores when there is more than one chunk.
    static func parallelFor(_ n: Int, _ body: (Int) -> Void) {
        if n <= 1 {
            for i in 0..<n { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let work = body
            DispatchQueue.concurrentPerform(iterations: n) { i in work(i) }
        }
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

/// Which chunks of a batch failed, written from several threads (each index by one thread).
final class FailureFlags: @unchecked Sendable {
    private let flags: UnsafeMutableBufferPointer<Bool>
    init(count: Int) { flags = .allocate(capacity: count); flags.initialize(repeating: false) }
    deinit { flags.deallocate() }
    func set(_ i: Int) { flags[i] = true }
    var first: Int? { flags.firstIndex(of: true) }
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
