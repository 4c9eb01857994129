import DossierCore
import DossierCrypto
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Byte sources and sinks.
final class ByteIOTests: XCTestCase {
    func read<S: ByteSource>(_ source: inout S, _ count: Int) throws(CryptoError) -> Data {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 1)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0xEE)
        let n = try source.read(into: buffer)
        return Data(buffer.prefix(n))
    }

    func testDataSourceReadsInPiecesThenReportsTheEnd() throws {
        var source = DataSource(pattern(10))
        XCTAssertEqual(try read(&source, 4), pattern(4))
        XCTAssertEqual(try read(&source, 4), pattern(10).dropFirst(4).prefix(4))
        XCTAssertEqual(try read(&source, 4), Data([8, 9]), "short only at the end")
        XCTAssertEqual(try read(&source, 4), Data())
        XCTAssertEqual(try read(&source, 4), Data(), "the end stays the end")
    }

    func testDataSourceOverASlice() throws {
        let framed = Data([100, 101, 102]) + pattern(6) + Data([103])
        var source = DataSource(framed[3..<9])
        XCTAssertEqual(try read(&source, 4), pattern(4))
        XCTAssertEqual(try read(&source, 4), Data([4, 5]))
        XCTAssertEqual(try read(&source, 4), Data())
    }

    func testDataSourceOfNothing() throws {
        var source = DataSource(Data())
        XCTAssertEqual(try read(&source, 8), Data())
    }

    func testDataSinkCollects() throws {
        var sink = DataSink()
        try sink.write(contentsOf: Data([1, 2]))
        try sink.write(contentsOf: Data())
        try [UInt8]([3, 4, 5]).withUnsafeBytes { try sink.write($0) }
        XCTAssertEqual(sink.data, Data([1, 2, 3, 4, 5]))
    }

    func testWriteContentsOfASlice() throws {
        var sink = DataSink()
        try sink.write(contentsOf: pattern(20)[5..<8])
        XCTAssertEqual(sink.data, Data([5, 6, 7]))
    }

    func testFileDescriptorsRoundTrip() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-byteio-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: url) }
        let out = open(url.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        XCTAssertGreaterThanOrEqual(out, 0)
        var sink = FileDescriptorSink(fd: out)
        try sink.write(contentsOf: pattern(70_000))
        close(out)
        XCTAssertEqual(try Data(contentsOf: url), pattern(70_000))

        let input = open(url.path, O_RDONLY)
        XCTAssertGreaterThanOrEqual(input, 0)
        defer { close(input) }
        var source = FileDescriptorSource(fd: input)
        XCTAssertEqual(try read(&source, 65_536), pattern(65_536))
        XCTAssertEqual(try read(&source, 65_536), pattern(70_000).dropFirst(65_536))
        XCTAssertEqual(try read(&source, 65_536), Data())
    }

    func testFileDescriptorErrorsAreReported() {
        var source = FileDescriptorSource(fd: -1)
        assertThrows(.io(.read, errno: EBADF)) { () throws(CryptoError) in try read(&source, 8) }
        var sink = FileDescriptorSink(fd: -1)
        assertThrows(.io(.write, errno: EBADF)) { () throws(CryptoError) in
            try sink.write(contentsOf: Data([1]))
        }
    }

    func testErrorDescriptionsSayWhatHappenedWithoutSecrets() {
        XCTAssertTrue(CryptoError.io(.read, errno: EBADF).description.hasPrefix("read failed: "))
        XCTAssertTrue(CryptoError.chunkAuthenticationFailed(chunk: 7).description.contains("chunk 7"))
        XCTAssertTrue(CryptoError.invalidLength(what: "AEAD key", expected: 32, actual: 31).description.contains("AEAD key must be 32 bytes, not 31"))
        XCTAssertNotEqual(CryptoError.streamTruncated.description, CryptoError.authenticationFailed.description)
    }
}
