import DossierCore
import DossierCrypto
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// STREAM round trips, in memory and through real file descriptors.
final class StreamTests: XCTestCase {
    static let sizes = [0, 1, chunk - 1, chunk, chunk + 1, 2 * chunk, 5 * chunk + 17]
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-crypto-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
    }

    override func tearDownWithError() throws {
        try FileManager.default.removeItem(at: directory)
    }

    func testRoundTripInMemory() throws {
        // A fixed key, so every run checks the same bytes: with a random key a 1-byte ciphertext
        // equals its plaintext once in 256 runs (one seed tried does so), failing by chance.
        let key = ContentStream.generateKey(using: DeterministicRandom(seed: "stream-round-trip/2"))
        for size in Self.sizes {
            let plaintext = pattern(size)
            let ciphertext = try streamEncrypt(plaintext, key: key)
            XCTAssertEqual(UInt64(ciphertext.count), ContentStream.ciphertextSize(plaintextSize: UInt64(size)), "size \(size)")
            if size > 0 {
                XCTAssertNotEqual(ciphertext.prefix(size), plaintext, "size \(size): the payload is not encrypted")
            }
            XCTAssertEqual(try streamDecrypt(ciphertext, key: key), plaintext, "size \(size)")
        }
    }

    func testCiphertextSizeCountsOneTagPerChunk() {
        let tag = UInt64(ContentStream.tagBytes)
        XCTAssertEqual(ContentStream.ciphertextSize(plaintextSize: 0), tag)
        XCTAssertEqual(ContentStream.ciphertextSize(plaintextSize: 1), 1 + tag)
        XCTAssertEqual(ContentStream.ciphertextSize(plaintextSize: UInt64(chunk)), UInt64(chunk) + tag)
        XCTAssertEqual(ContentStream.ciphertextSize(plaintextSize: UInt64(chunk) + 1), UInt64(chunk) + 1 + 2 * tag)
        XCTAssertEqual(ContentStream.ciphertextSize(plaintextSize: UInt64(5 * chunk + 17)), UInt64(5 * chunk + 17) + 6 * tag)
    }

    func testObserveSeesEveryPlaintextChunkInOrder() throws {
        let key = ContentStream.generateKey()
        for size in Self.sizes {
            let plaintext = pattern(size)
            var source = DataSource(plaintext)
            var sink = DataSink()
            // The observer is called synchronously; a class box keeps Swift 6 happy about capture.
            final class Seen { var bytes = Data(); var calls = 0; var largest = 0 }
            let seen = Seen()
            try ContentStream.encrypt(key: key, from: &source, to: &sink) { piece in
                seen.bytes.append(contentsOf: piece)
                seen.calls += 1
                seen.largest = max(seen.largest, piece.count)
            }
            XCTAssertEqual(seen.bytes, plaintext, "size \(size)")
            XCTAssertEqual(seen.calls, max(1, (size + chunk - 1) / chunk), "size \(size)")
            XCTAssertLessThanOrEqual(seen.largest, chunk)
        }
    }

    func testSameKeyAndPlaintextGiveSameCiphertextAndOtherKeyDoesNot() throws {
        let plaintext = pattern(chunk + 3)
        let a = try streamEncrypt(plaintext, key: fixedKey("a"))
        XCTAssertEqual(try streamEncrypt(plaintext, key: fixedKey("a")), a)
        XCTAssertNotEqual(try streamEncrypt(plaintext, key: fixedKey("b")), a)
    }

    func testGeneratedKeysAreFreshAndOfTheRightLength() {
        let a = ContentStream.generateKey()
        let b = ContentStream.generateKey()
        XCTAssertEqual(a.count, ContentStream.keyBytes)
        XCTAssertEqual(ContentStream.keyBytes, 32)
        XCTAssertFalse(a.constantTimeEquals(b))
        XCTAssertTrue(ContentStream.generateKey(using: DeterministicRandom(seed: "k"))
            .constantTimeEquals(ContentStream.generateKey(using: DeterministicRandom(seed: "k"))))
    }

    func testRoundTripThroughFiles() throws {
        let key = ContentStream.generateKey()
        for size in Self.sizes {
            let plainURL = directory.appendingPathComponent("plain-\(size)")
            let sealedURL = directory.appendingPathComponent("sealed-\(size)")
            let openedURL = directory.appendingPathComponent("opened-\(size)")
            let plaintext = pattern(size)
            try plaintext.write(to: plainURL)

            try withFiles(reading: plainURL, writing: sealedURL) { input, output in
                var source = FileDescriptorSource(fd: input)
                var sink = FileDescriptorSink(fd: output)
                XCTAssertEqual(try ContentStream.encrypt(key: key, from: &source, to: &sink), UInt64(size))
            }
            let sealed = try Data(contentsOf: sealedURL)
            XCTAssertEqual(UInt64(sealed.count), ContentStream.ciphertextSize(plaintextSize: UInt64(size)), "size \(size)")
            // The file holds exactly what the in-memory path produces.
            XCTAssertEqual(sealed, try streamEncrypt(plaintext, key: key), "size \(size)")

            try withFiles(reading: sealedURL, writing: openedURL) { input, output in
                var source = FileDescriptorSource(fd: input)
                var sink = FileDescriptorSink(fd: output)
                XCTAssertEqual(try ContentStream.decrypt(key: key, from: &source, to: &sink), UInt64(size))
            }
            XCTAssertEqual(try Data(contentsOf: openedURL), plaintext, "size \(size)")
        }
    }

    /// A pipe delivers data in pieces smaller than a chunk; the file-descriptor source must
    /// still hand STREAM whole chunks, or the chunk boundaries (and the ciphertext) would shift.
    func testEncryptFromAPipeFedInSmallPieces() throws {
        let key = fixedKey("pipe")
        let plaintext = pattern(3 * chunk + 1001)
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let (readEnd, writeEnd) = (fds[0], fds[1])
        let written = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            var sink = FileDescriptorSink(fd: writeEnd)
            var offset = 0
            while offset < plaintext.count {
                let piece = plaintext[offset..<min(offset + 1000, plaintext.count)]
                try? sink.write(contentsOf: Data(piece))
                offset += piece.count
            }
            close(writeEnd)
            written.signal()
        }
        var source = FileDescriptorSource(fd: readEnd)
        var sink = DataSink()
        let count = try ContentStream.encrypt(key: key, from: &source, to: &sink)
        written.wait()
        close(readEnd)
        XCTAssertEqual(count, UInt64(plaintext.count))
        XCTAssertEqual(sink.data, try streamEncrypt(plaintext, key: key))
        XCTAssertEqual(try streamDecrypt(sink.data, key: key), plaintext)
    }

    func testReadErrorsArePassedOn() {
        let key = fixedKey("io")
        var source = FileDescriptorSource(fd: -1)
        var sink = DataSink()
        assertThrows(.io(.read, errno: EBADF)) { () throws(CryptoError) in
            try ContentStream.encrypt(key: key, from: &source, to: &sink)
        }
        assertThrows(.io(.read, errno: EBADF)) { () throws(CryptoError) in
            try ContentStream.decrypt(key: key, from: &source, to: &sink)
        }
    }

    func testWriteErrorsArePassedOn() throws {
        let url = directory.appendingPathComponent("read-only")
        try Data("x".utf8).write(to: url)
        let fd = open(url.path, O_RDONLY)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        var source = DataSource(pattern(10))
        var sink = FileDescriptorSink(fd: fd)
        assertThrows(.io(.write, errno: EBADF)) { () throws(CryptoError) in
            try ContentStream.encrypt(key: fixedKey("io"), from: &source, to: &sink)
        }
    }

    func testKeyOfTheWrongLengthIsRefused() {
        for length in [0, 16, 31, 33, 64] {
            let key = SecureBytes(copying: Data(repeating: 7, count: length))
            let expected = CryptoError.invalidLength(what: "stream key", expected: 32, actual: length)
            assertThrows(expected) { () throws(CryptoError) in try streamEncrypt(pattern(10), key: key) }
            assertThrows(expected) { () throws(CryptoError) in try streamDecrypt(Data(count: 26), key: key) }
        }
    }

    // MARK: - Helpers

    /// Opens `input` for reading and `output` for writing (created, truncated), runs `body`, closes both.
    func withFiles(reading input: URL, writing output: URL, _ body: (Int32, Int32) throws -> Void) throws {
        let inFD = open(input.path, O_RDONLY)
        XCTAssertGreaterThanOrEqual(inFD, 0, "open \(input.path)")
        defer { close(inFD) }
        let outFD = open(output.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        XCTAssertGreaterThanOrEqual(outFD, 0, "open \(output.path)")
        defer { close(outFD) }
        try body(inFD, outFD)
    }
}
