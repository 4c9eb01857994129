import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Something bytes are read from, a chunk at a time.
public protocol ByteSource {
    /// Fills `buffer` as far as the data allows; returns the count read, less than the buffer
    /// only at the end of the data.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(CryptoError) -> Int
}

/// Something bytes are written to.
public protocol ByteSink {
    /// Writes all of `bytes`.
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws(CryptoError)
}

/// Reads an open file descriptor (not owned: the caller closes it).
public struct FileDescriptorSource: ByteSource {
    public let fd: Int32
    public init(fd: Int32) { self.fd = fd }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(CryptoError) -> Int {
        var filled = 0
        while filled < buffer.count {
            let n = Foundation.read(fd, buffer.baseAddress! + filled, buffer.count - filled)
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "read", errno: errno)
            }
            if n == 0 { break }
            filled += n
        }
        return filled
    }
}

/// Writes an open file descriptor (not owned: the caller closes it).
public struct FileDescriptorSink: ByteSink {
    public let fd: Int32
    public init(fd: Int32) { self.fd = fd }

    public mutating func write(_ bytes: UnsafeRawBufferPointer) throws(CryptoError) {
        var done = 0
        while done < bytes.count {
            let n = Foundation.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "write", errno: errno)
            }
            done += n
        }
    }
}

/// Reads from bytes in memory.
public struct DataSource: ByteSource {
    private let data: Data
    private var offset: Int
    public init(_ data: Data) { self.data = data; offset = data.startIndex }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(CryptoError) -> Int {
        let n = min(buffer.count, data.endIndex - offset)
        if n > 0 {
            data.withUnsafeBytes { src in
                buffer.baseAddress!.copyMemory(from: src.baseAddress! + (offset - data.startIndex), byteCount: n)
            }
            offset += n
        }
        return n
    }
}

/// Collects written bytes in memory.
public struct DataSink: ByteSink {
    public private(set) var data = Data()
    public init() {}
    public mutating func write(_ bytes: UnsafeRawBufferPointer) throws(CryptoError) {
        data.append(contentsOf: bytes)
    }
}

extension ByteSink {
    /// Writes all of `data` (for small headers).
    public mutating func write(contentsOf data: Data) throws(CryptoError) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(data.count, 1), alignment: 1)
        defer { buffer.deallocate() }
        data.copyBytes(to: buffer.bindMemory(to: UInt8.self), count: data.count)
        try write(UnsafeRawBufferPointer(rebasing: buffer[0..<data.count]))
    }
}
