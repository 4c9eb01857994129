import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// What the STREAM functions read from and write to. The implementations over files live
// with the rest of the I/O in DossierCore (FileDescriptorIO.swift); here are only the
// protocols and the in-memory ones.

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
