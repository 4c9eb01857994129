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
public enum ContentStream {
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
    /// written as one. Reading, the cipher and writing overlap (see StreamPipeline); memory
    /// stays bounded: about five batches of 1 MiB.
    static let batchChunks = 16

    /// Checks what every stream function needs: libsodium ready, and keys of the right length.
    private static func ready(_ keys: SecureBytes...) throws(CryptoError) {
        try Sodium.ensureReady()
        for key in keys where key.count != keyBytes {
            throw .invalidLength(what: "stream key", expected: keyBytes, actual: key.count)
        }
    }

    /// Encrypts all of `source` into `sink`; `observe` sees every plaintext chunk, in order, on
    /// the thread that runs the cipher (to hash without slowing the cipher, wrap the source in
    /// a `HashingSource` instead). Returns the plaintext length.
    @discardableResult
    public static func encrypt<S: ByteSource, K: ByteSink>(
        key: SecureBytes, from source: inout S, to sink: inout K,
        observe: ((UnsafeRawBufferPointer) -> Void)? = nil
    ) throws(CryptoError) -> UInt64 {
        try ready(key)
        var total: UInt64 = 0
        try StreamPipeline.run(from: &source, to: &sink, inputBatch: batchChunks * chunkSize,
                               outputBatch: batchChunks * (chunkSize + tagBytes)) { batch, plain, last, out throws(CryptoError) in
            if let observe {
                for start in stride(from: 0, to: max(plain.count, 1), by: chunkSize) {
                    observe(UnsafeRawBufferPointer(rebasing: plain[start..<min(start + chunkSize, plain.count)]))
                }
            }
            total += UInt64(plain.count)
            return sealBatch(plain, firstIndex: UInt64(batch * batchChunks), last: last, key: key, into: out)
        }
        return total
    }

    /// Seals a batch of chunks in parallel: `plain` holds whole chunks except, if `last`, the
    /// final one, which may be short (or empty, if it is the only chunk of the stream). Returns
    /// the count of sealed bytes written to `out`.
    static func sealBatch(_ plain: UnsafeRawBufferPointer, firstIndex: UInt64, last: Bool, key: SecureBytes,
                          into out: UnsafeMutableRawBufferPointer) -> Int {
        // An empty stream is one empty final chunk; otherwise chunks of chunkSize, the last shorter or full.
        let chunks = max(1, (plain.count + chunkSize - 1) / chunkSize)
        let sealedCount = plain.count + chunks * tagBytes
        precondition(out.count >= sealedCount, "sealBatch: output buffer too small")
        let plainBase = plain.baseAddress ?? UnsafeRawPointer(out.baseAddress!)
        let outBase = out.baseAddress!
        let count = plain.count
        parallelFor(chunks) { i in
            let start = i * chunkSize
            let length = min(chunkSize, count - start)
            seal(UnsafeRawBufferPointer(start: plainBase + start, count: length), index: firstIndex + UInt64(i),
                 final: last && i == chunks - 1, key: key,
                 into: UnsafeMutableRawBufferPointer(start: outBase + i * (chunkSize + tagBytes), count: length + tagBytes))
        }
        return sealedCount
    }

    /// Decrypts all of `source` into `sink`. Bytes reach `sink` only after their chunk
    /// authenticates, but a caller MUST still treat the output as unverified until this
    /// function returns: a later chunk may fail.
    @discardableResult
    public static func decrypt<S: ByteSource, K: ByteSink>(
        key: SecureBytes, from source: inout S, to sink: inout K
    ) throws(CryptoError) -> UInt64 {
        try decrypt(key: key, from: &source, to: &sink, tap: nil)
    }

    /// Decrypts all of `source` into `sink` as `decrypt` does, and hashes the plaintext
    /// (BLAKE2b-256) on a thread of its own as it is written, from the same buffers (no copy).
    /// The hash is of exactly the bytes written; like them, it means nothing unless this
    /// function returns. Returns the plaintext length and its hash.
    public static func decryptHashing<S: ByteSource, K: ByteSink>(
        key: SecureBytes, from source: inout S, to sink: inout K
    ) throws(CryptoError) -> (count: UInt64, blake2b: Data) {
        let hasher = BLAKE2b()
        let count = try decrypt(key: key, from: &source, to: &sink, tap: { hasher.update($0) })
        return (count, hasher.finalize())
    }

    /// `decrypt`, with the pipeline's `tap` seeing the plaintext as it is written.
    private static func decrypt<S: ByteSource, K: ByteSink>(
        key: SecureBytes, from source: inout S, to sink: inout K, tap: ((UnsafeRawBufferPointer) -> Void)?
    ) throws(CryptoError) -> UInt64 {
        try ready(key)
        var total: UInt64 = 0
        try StreamPipeline.run(from: &source, to: &sink, inputBatch: batchChunks * (chunkSize + tagBytes),
                               outputBatch: batchChunks * chunkSize, tap: tap) { batch, sealed, last, out throws(CryptoError) in
            let n = try openBatch(sealed, firstIndex: UInt64(batch * batchChunks), last: last, key: key, into: out)
            total += UInt64(n)
            return n
        }
        return total
    }

    /// Re-encrypts a stream from `oldKey` to `newKey` without ever holding more than a batch
    /// of plaintext: each batch is opened (all cores) into a private staging buffer and sealed
    /// (all cores) from it, chunk for chunk, so the output is exactly `encrypt(newKey, …)` of
    /// the plaintext. Reading, the cipher and writing overlap as in `decrypt`. Bytes reach
    /// `sink` only after their chunks authenticate; as with `decrypt`, the output is
    /// unverified until this function returns. Returns the plaintext length.
    @discardableResult
    public static func reencrypt<S: ByteSource, K: ByteSink>(
        from oldKey: SecureBytes, to newKey: SecureBytes, source: inout S, sink: inout K
    ) throws(CryptoError) -> UInt64 {
        try ready(oldKey, newKey)
        let batchBytes = batchChunks * (chunkSize + tagBytes)
        let staging = SecretBuffer(count: batchChunks * chunkSize)
        var total: UInt64 = 0
        try StreamPipeline.run(from: &source, to: &sink, inputBatch: batchBytes, outputBatch: batchBytes) { batch, sealed, last, out throws(CryptoError) in
            let first = UInt64(batch * batchChunks)
            let n = try openBatch(sealed, firstIndex: first, last: last, key: oldKey, into: staging.buffer)
            staging.noteUsed(n)
            total += UInt64(n)
            return sealBatch(UnsafeRawBufferPointer(rebasing: staging.buffer[0..<n]), firstIndex: first, last: last, key: newKey, into: out)
        }
        return total
    }

    /// Opens a batch of sealed chunks in parallel into `out`; returns the plaintext count. On
    /// failure `out` is wiped and the error says what it can: truncation, data after the final
    /// chunk, an empty final chunk, or which chunk failed.
    static func openBatch(_ sealed: UnsafeRawBufferPointer, firstIndex: UInt64, last: Bool, key: SecureBytes,
                          into out: UnsafeMutableRawBufferPointer) throws(CryptoError) -> Int {
        let sealedSize = chunkSize + tagBytes
        if sealed.count == 0 { throw .streamTruncated }
        let chunks = (sealed.count + sealedSize - 1) / sealedSize
        let lastLength = sealed.count - (chunks - 1) * sealedSize
        if lastLength < tagBytes {
            throw .streamMalformed("chunk \(firstIndex + UInt64(chunks - 1)) is shorter than its tag")
        }
        let plainCount = sealed.count - chunks * tagBytes
        precondition(out.count >= plainCount, "openBatch: output buffer too small")
        let sealedBase = sealed.baseAddress!
        let outBase = out.baseAddress!
        let count = sealed.count
        let failures = IndexFlags(count: chunks)
        parallelFor(chunks) { i in
            let start = i * sealedSize
            let length = min(sealedSize, count - start)
            let ok = open(UnsafeRawBufferPointer(start: sealedBase + start, count: length), index: firstIndex + UInt64(i),
                          final: last && i == chunks - 1, key: key,
                          into: UnsafeMutableRawBufferPointer(start: outBase + i * chunkSize, count: length - tagBytes))
            if !ok { failures.set(i) }
        }
        if let bad = failures.first {
            secureZero(UnsafeMutableRawBufferPointer(rebasing: out[0..<plainCount]))
            let start = bad * sealedSize
            let length = min(sealedSize, count - start)
            let piece = UnsafeRawBufferPointer(start: sealedBase + start, count: length)
            let index = firstIndex + UInt64(bad)
            let final = last && bad == chunks - 1
            let scratch = SecretBuffer(count: chunkSize)
            scratch.noteUsed(chunkSize)
            // Say what happened where we can tell: a non-final chunk standing last means the
            // stream was cut; a final chunk followed by more means bytes were appended.
            if final && length == sealedSize && open(piece, index: index, final: false, key: key, into: scratch.buffer) {
                throw .streamTruncated
            }
            if !final && open(piece, index: index, final: true, key: key, into: scratch.buffer) {
                throw .streamMalformed("data follows the final chunk")
            }
            throw .chunkAuthenticationFailed(chunk: index)
        }
        if last && lastLength == tagBytes && firstIndex + UInt64(chunks) > 1 {
            secureZero(UnsafeMutableRawBufferPointer(rebasing: out[0..<plainCount]))
            throw .streamMalformed("the final chunk is empty")
        }
        return plainCount
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

/// Which items of a batch failed a check made on several threads at once (chunks that did
/// not authenticate, log entries whose signature did not verify). Each index is set by one
/// thread only, and read after all of them finished.
public final class IndexFlags: @unchecked Sendable {
    private let flags: UnsafeMutableBufferPointer<Bool>
    public init(count: Int) { flags = .allocate(capacity: max(count, 1)); flags.initialize(repeating: false) }
    deinit { flags.deallocate() }
    /// Marks item `i`.
    public func set(_ i: Int) { flags[i] = true }
    /// The first item marked, if any.
    public var first: Int? { flags.firstIndex(of: true) }
}

/// A heap buffer for plaintext chunks, zeroed before it is freed. It is not zeroed when made
/// (a small stream then touches only the pages it uses); whoever fills it says how far with
/// `noteUsed`, and that much is wiped at the end. Used by one thread at a time (see StreamPipeline).
final class SecretBuffer: @unchecked Sendable {
    let buffer: UnsafeMutableRawBufferPointer
    private var used = 0
    init(count: Int) {
        buffer = .allocate(byteCount: max(count, 1), alignment: 16)
    }
    /// Records that the first `count` bytes hold data.
    func noteUsed(_ count: Int) { used = max(used, min(count, buffer.count)) }
    deinit {
        secureZero(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<used]))
        buffer.deallocate()
    }
}
