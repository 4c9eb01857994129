import Dispatch
import Foundation

/// Push-style STREAM encryption, for when plaintext arrives through writes (for example while
/// another stream is being decrypted). Produces exactly what `ContentStream.encrypt` produces.
/// Plaintext is gathered into batches, sealed on all cores, and written on a thread of its own
/// while the next batch fills.
public final class StreamEncryptor<Sink: ByteSink>: ByteSink {
    private let key: SecureBytes
    /// On the heap, so that the writing thread can reach it; see `BackgroundWriter`.
    private let sink: UnsafeMutablePointer<Sink>
    private let writer: BackgroundWriter<Sink>
    private let batch: SecretBuffer
    private var filled = 0
    private var batches = 0
    private var finished = false

    private static var batchBytes: Int { ContentStream.batchChunks * ContentStream.chunkSize }

    public init(key: SecureBytes, sink: Sink) throws(CryptoError) {
        guard key.count == ContentStream.keyBytes else { throw .invalidLength(what: "stream key", expected: ContentStream.keyBytes, actual: key.count) }
        self.key = key
        self.sink = .allocate(capacity: 1)
        self.sink.initialize(to: sink)
        writer = BackgroundWriter(sink: self.sink, capacity: ContentStream.batchChunks * (ContentStream.chunkSize + ContentStream.tagBytes))
        batch = SecretBuffer(count: Self.batchBytes)
    }

    deinit {
        // Abandoned before finish(): stop writing before the sink goes away.
        writer.cancel()
        sink.deinitialize(count: 1)
        sink.deallocate()
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(CryptoError) {
        precondition(!finished, "StreamEncryptor written after finish()")
        var offset = 0
        while offset < bytes.count {
            if filled == Self.batchBytes {
                // More data follows a full batch, so its last chunk is not the final one.
                try emit(final: false)
            }
            let n = min(Self.batchBytes - filled, bytes.count - offset)
            (batch.buffer.baseAddress! + filled).copyMemory(from: bytes.baseAddress! + offset, byteCount: n)
            filled += n
            batch.noteUsed(filled)
            offset += n
        }
    }

    /// Seals the last chunk, waits for every write, and returns the sink.
    public func finish() throws(CryptoError) -> Sink {
        precondition(!finished, "StreamEncryptor finished twice")
        finished = true
        try emit(final: true)
        try writer.finish()
        return sink.pointee
    }

    private func emit(final: Bool) throws(CryptoError) {
        let out = try writer.nextBuffer()
        let n = ContentStream.sealBatch(UnsafeRawBufferPointer(rebasing: batch.buffer[0..<filled]),
                                 firstIndex: UInt64(batches * ContentStream.batchChunks), last: final, key: key, into: out.buffer)
        writer.submit(out, count: n)
        filled = 0
        batches += 1
    }
}

/// Reads at most `limit` bytes from another source.
public struct LimitedSource<Base: ByteSource>: ByteSource {
    private var base: Base
    public private(set) var remaining: UInt64

    public init(_ base: Base, limit: UInt64) {
        self.base = base
        remaining = limit
    }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(CryptoError) -> Int {
        let want = Int(min(UInt64(buffer.count), remaining))
        guard want > 0 else { return 0 }
        let n = try base.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]))
        remaining -= UInt64(n)
        return n
    }
}

/// A sink that forwards to another and hashes what passes (BLAKE2b-256). BLAKE2b is sequential
/// and about as costly as the cipher, so the hashing runs on a thread of its own, over a copy
/// of each write, while the bytes go on to `base` at once.
public final class HashingSink<Base: ByteSink>: ByteSink {
    private var base: Base
    private let hasher: BackgroundHasher
    public private(set) var count: UInt64 = 0

    public init(_ base: Base) {
        self.base = base
        hasher = BackgroundHasher()
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(CryptoError) {
        hasher.update(bytes)
        count += UInt64(bytes.count)
        try base.write(bytes)
    }

    /// The digest of everything written; call once.
    public func digest() -> Data { hasher.finalize() }
}

/// A source that reads from another and hashes what it read (BLAKE2b-256) before handing it
/// on: `deposit` hashes the plaintext exactly as the cipher reads it. The streams read on a
/// thread of their own (`StreamPipeline`), which has little else to do, so the hashing is done
/// there, in place: no copy and no further thread, unlike `HashingSink`.
public struct HashingSource<Base: ByteSource>: ByteSource {
    private var base: Base
    private let hasher = BLAKE2b()

    public init(_ base: Base) { self.base = base }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(CryptoError) -> Int {
        let n = try base.read(into: buffer)
        hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        return n
    }

    /// The digest of everything read; call once, after the last read.
    public func digest() -> Data { hasher.finalize() }
}

/// BLAKE2b-256 on its own thread, fed copies in order. Holds at most two copies of 1 MiB (a
/// larger write is fed in pieces); they may be plaintext and are wiped when freed.
final class BackgroundHasher: @unchecked Sendable {
    private let hasher = BLAKE2b()
    private let queue = DispatchQueue(label: "dossier.hash")
    private static let pieceBytes = ContentStream.batchChunks * ContentStream.chunkSize
    private var free: [SecretBuffer] = []
    private var allocated = 0
    private var inFlight: [(buffer: SecretBuffer, done: DispatchSemaphore)] = []

    deinit { drain() }

    func update(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count {
            let n = min(Self.pieceBytes, bytes.count - offset)
            let piece = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)])
            offset += n
            if n < 4096 && inFlight.isEmpty {
                // Not worth a thread hop.
                hasher.update(piece)
                continue
            }
            let copy = nextBuffer()
            copy.buffer.baseAddress!.copyMemory(from: piece.baseAddress!, byteCount: n)
            copy.noteUsed(n)
            let done = DispatchSemaphore(value: 0)
            inFlight.append((copy, done))
            runLater(on: queue) { [self] in
                hasher.update(UnsafeRawBufferPointer(rebasing: copy.buffer[0..<n]))
                done.signal()
            }
        }
    }

    func finalize() -> Data {
        drain()
        return hasher.finalize()
    }

    private func nextBuffer() -> SecretBuffer {
        if free.isEmpty && allocated < 2 {
            allocated += 1
            return SecretBuffer(count: Self.pieceBytes)
        }
        if free.isEmpty {
            let (buffer, done) = inFlight.removeFirst()
            done.wait()
            return buffer
        }
        return free.removeLast()
    }

    private func drain() {
        for (buffer, done) in inFlight {
            done.wait()
            free.append(buffer)
        }
        inFlight.removeAll()
    }
}
