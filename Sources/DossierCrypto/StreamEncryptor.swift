import Foundation

/// Push-style STREAM encryption, for when plaintext arrives through writes (for example while
/// another stream is being decrypted). Produces exactly what `Stream.encrypt` produces.
public final class StreamEncryptor<Sink: ByteSink>: ByteSink {
    private let key: SecureBytes
    private var sink: Sink
    private let chunk: SecretBuffer
    private let out: SecretBuffer
    private var filled = 0
    private var index: UInt64 = 0
    private var finished = false

    public init(key: SecureBytes, sink: Sink) throws(CryptoError) {
        guard key.count == Stream.keyBytes else { throw .invalidLength(what: "stream key", expected: Stream.keyBytes, actual: key.count) }
        self.key = key
        self.sink = sink
        chunk = SecretBuffer(count: Stream.chunkSize)
        out = SecretBuffer(count: Stream.chunkSize + Stream.tagBytes)
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(CryptoError) {
        precondition(!finished, "StreamEncryptor written after finish()")
        var offset = 0
        while offset < bytes.count {
            if filled == Stream.chunkSize {
                // More data follows a full chunk, so that chunk is not the final one.
                try emit(final: false)
            }
            let n = min(Stream.chunkSize - filled, bytes.count - offset)
            (chunk.buffer.baseAddress! + filled).copyMemory(from: bytes.baseAddress! + offset, byteCount: n)
            filled += n
            offset += n
        }
    }

    /// Seals the last chunk and returns the sink.
    public func finish() throws(CryptoError) -> Sink {
        precondition(!finished, "StreamEncryptor finished twice")
        try emit(final: true)
        finished = true
        return sink
    }

    private func emit(final: Bool) throws(CryptoError) {
        Stream.seal(UnsafeRawBufferPointer(rebasing: chunk.buffer[0..<filled]), index: index, final: final, key: key, into: out.buffer)
        try sink.write(UnsafeRawBufferPointer(rebasing: out.buffer[0..<(filled + Stream.tagBytes)]))
        secureZero(chunk.buffer)
        filled = 0
        index += 1
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

/// A sink that forwards to another and hashes what passes (BLAKE2b-256).
public final class HashingSink<Base: ByteSink>: ByteSink {
    private var base: Base
    private let hasher = BLAKE2b()
    public private(set) var count: UInt64 = 0

    public init(_ base: Base) { self.base = base }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(CryptoError) {
        hasher.update(bytes)
        count += UInt64(bytes.count)
        try base.write(bytes)
    }

    /// The digest of everything written; call once.
    public func digest() -> Data { hasher.finalize() }
}
