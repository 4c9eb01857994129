import DossierCore
import DossierCrypto
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The overlapped stream (reading, the cipher and writing on their own threads, 16-chunk
/// batches), the batching `StreamEncryptor` and the background-hashing `HashingSink`: same
/// bytes as the format says, at every batch boundary, and failures that stop everything.
final class StreamPipelineTests: XCTestCase {
    static let batch = 16 * chunk

    /// BLAKE2b-256 of the ciphertext and of the plaintext, for `pattern(size)` under
    /// `fixedKey("pipeline")`, computed by an independent implementation of stream.md (Python's
    /// `cryptography` ChaCha20Poly1305 and `hashlib.blake2b`).
    static let reference: [(size: Int, ciphertext: String, plaintext: String)] = [
        (0, "852a72dfa7ec113d130643595f86c5d438bd610f538ef44c1a8dff66ee505f06", "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"),
        (1, "96cc95e9dcb7bc01a0f298130f42604cc2a6e7bbbafbc3015b7389855e7b5849", "03170a2e7597b7b7e3d84c05391d139a62b157e78786d8c082f29dcf4c111314"),
        (chunk - 1, "27e11437db52eeea59009962ae13e451e91c46f4ffd7c2cbe7a3f018ac2aa99d", "f3062765a9e0644c76a8bdae251261b779e5c7ba70a50ece6247e055a4b2a3e2"),
        (chunk, "2fabda19ef2f2534a951f67da3fe5567acd3f6c31c3d1db929c66828fbc80ea9", "e4f2b5871e75b1993cd3cd4663ca4879794dbe50152c522dcbc66ee1bfecffa6"),
        (chunk + 1, "07380ca745a19ed5ede78fc1b4b0f6fcaa4df0244787c3727c0f8def449882e2", "e170ee533727839de3e73beaed478e5154dc3cf1697bfa6fa0a1a94a593184e5"),
        (batch - 1, "18b05d6e7dfd22e3bb65b317129d595fd141b2341afaeb22d1b001c7ad2e3c72", "e47ca5b24acd5381a2ebd495825711646d01b2cb32ee3f1bb537b28ea86d2723"),
        (batch, "1704f202e90bd6e126a127de6802db1c80d33f40643be06a9839c4c6597386a0", "8a5a7a9dc3cf203ed374b0a1eea930601ad2acbfe2b4bc62cf83de4ee536528b"),
        (batch + 1, "2247e3cdc3b242a6172f9a36a0c9db67f788a1873b2a60a59b906898aebce92d", "e4382dabecab6b7155cbc97ae52cbe07887664679bf907d18fa29df0bb4b4fa6"),
        (2 * batch, "c82703e76e9eb993d2d6b005f9fc674067872e51d74b1519e54ac1aceb470fe0", "ec846ebaf35a32443b11c81e1910457afe4f5c87aa69a70e021a70a542c98bfd"),
        (3 * batch + 1, "39281bf26a3835f5a88a41dca6845a4212a48bbc75e0cbadce2ca1f958bb2968", "49aa9e084dbf8f7226186d89e554cb6dead7fa1c32b38d0f3b538612e3c2ea09"),
    ]

    func testEncryptAndDecryptMatchAnIndependentImplementationAtEveryBatchBoundary() throws {
        let key = fixedKey("pipeline")
        for (size, expected, _) in Self.reference {
            let plaintext = pattern(size)
            let ciphertext = try streamEncrypt(plaintext, key: key)
            XCTAssertEqual(Hash.blake2b(ciphertext).hex, expected, "size \(size)")
            XCTAssertEqual(try streamDecrypt(ciphertext, key: key), plaintext, "size \(size)")
        }
    }

    func testStreamEncryptorMatchesWhateverTheWriteSizes() throws {
        let key = fixedKey("pipeline")
        for (size, expected, _) in Self.reference {
            let plaintext = pattern(size)
            for piece in [1000, chunk, Self.batch + 7, max(size, 1)] {
                let encryptor = try StreamEncryptor(key: key, sink: DataSink())
                try writeInPieces(plaintext, of: piece, to: encryptor)
                let sink = try encryptor.finish()
                XCTAssertEqual(Hash.blake2b(sink.data).hex, expected, "size \(size), pieces of \(piece)")
            }
        }
    }

    /// Decrypting while hashing what is written gives the plaintext and the independent
    /// implementation's BLAKE2b-256 of it, at every batch boundary.
    func testDecryptHashingGivesThePlaintextAndItsHash() throws {
        let key = fixedKey("pipeline")
        for (size, _, expected) in Self.reference {
            var source = DataSource(try streamEncrypt(pattern(size), key: key))
            var sink = DataSink()
            let result = try ContentStream.decryptHashing(key: key, from: &source, to: &sink)
            XCTAssertEqual(sink.data, pattern(size), "size \(size)")
            XCTAssertEqual(result.count, UInt64(size))
            XCTAssertEqual(result.blake2b.hex, expected, "size \(size)")
        }
    }

    /// The same verdicts as `decrypt`, and a failing write stops it (the hashing thread does
    /// not keep a buffer the writer waits for).
    func testDecryptHashingRefusesWhatDecryptRefuses() throws {
        let key = fixedKey("pipeline")
        let sealed = try streamEncrypt(pattern(3 * Self.batch + 1), key: key)
        for input in [sealed.flippingBit(at: 35 * sealedChunk + 100), sealed.prefix(32 * sealedChunk), sealed + Data([0]), Data()] {
            var source = DataSource(input)
            var sink = DataSink()
            var verdict: CryptoError?
            do throws(CryptoError) { _ = try ContentStream.decryptHashing(key: key, from: &source, to: &sink) } catch { verdict = error }
            XCTAssertNotNil(verdict)
            XCTAssertEqual(verdict, streamDecryptCapturing(input, key: key).error)
        }
        var source = DataSource(sealed)
        var failing = CountingSink(failOnWrite: 2)
        assertThrows(.io(.write, errno: ENOSPC)) { () throws(CryptoError) in
            _ = try ContentStream.decryptHashing(key: key, from: &source, to: &failing)
        }
        XCTAssertEqual(failing.writes, 2)
    }

    /// Re-encryption gives exactly the independent implementation's ciphertext under the new key.
    func testReencryptMatchesEncryptionUnderTheNewKeyAtEveryBatchBoundary() throws {
        let old = fixedKey("pipeline-old"), new = fixedKey("pipeline")
        for (size, expected, _) in Self.reference {
            let (error, out) = reencryptCapturing(try streamEncrypt(pattern(size), key: old), from: old, to: new)
            XCTAssertNil(error, "size \(size)")
            XCTAssertEqual(Hash.blake2b(out).hex, expected, "size \(size)")
        }
    }

    /// Whatever is wrong with the input stream is refused as `decrypt` refuses it, and nothing
    /// sealed from the failing batch is released.
    func testReencryptRefusesWhatDecryptRefuses() throws {
        let old = fixedKey("pipeline-old"), new = fixedKey("pipeline")
        let plaintext = pattern(3 * Self.batch + 1)
        let sealed = try streamEncrypt(plaintext, key: old)
        let expected = try streamEncrypt(plaintext, key: new)
        let flipped = reencryptCapturing(sealed.flippingBit(at: 35 * sealedChunk + 100), from: old, to: new)
        XCTAssertEqual(flipped.error, .chunkAuthenticationFailed(chunk: 35))
        XCTAssertLessThanOrEqual(flipped.written.count, 32 * sealedChunk, "the failing batch was released")
        XCTAssertEqual(flipped.written, expected.prefix(flipped.written.count))
        XCTAssertEqual(reencryptCapturing(sealed.prefix(32 * sealedChunk), from: old, to: new).error, .streamTruncated)
        XCTAssertEqual(reencryptCapturing(sealed, from: new, to: old).error, .chunkAuthenticationFailed(chunk: 0))
        XCTAssertEqual(reencryptCapturing(Data(), from: old, to: new).error, .streamTruncated)
        // The same verdict as decrypt's for every other damage.
        let oneBatch = try streamEncrypt(pattern(Self.batch), key: old)
        let damaged = [sealed + Data([0]), sealed + Data(count: 17), oneBatch + sealed.prefix(sealedChunk),
                       sealed.prefix(sealed.count - 1), sealed.prefix(5 * sealedChunk + 3), sealed.flippingBit(at: sealed.count - 1)]
        for (i, input) in damaged.enumerated() {
            let verdict = reencryptCapturing(input, from: old, to: new).error
            XCTAssertNotNil(verdict, "case \(i)")
            XCTAssertEqual(verdict, streamDecryptCapturing(input, key: old).error, "case \(i)")
        }
        let shortKey = SecureBytes(copying: Data(count: 16))
        XCTAssertEqual(reencryptCapturing(sealed, from: shortKey, to: new).error, .invalidLength(what: "stream key", expected: 32, actual: 16))
        XCTAssertEqual(reencryptCapturing(sealed, from: old, to: shortKey).error, .invalidLength(what: "stream key", expected: 32, actual: 16))
    }

    private func reencryptCapturing(_ sealed: Data, from old: SecureBytes, to new: SecureBytes) -> (error: CryptoError?, written: Data) {
        var source = DataSource(sealed)
        var sink = DataSink()
        do throws(CryptoError) {
            let n = try ContentStream.reencrypt(from: old, to: new, source: &source, sink: &sink)
            XCTAssertEqual(ContentStream.ciphertextSize(plaintextSize: n), UInt64(sink.data.count))
            return (nil, sink.data)
        } catch {
            return (error, sink.data)
        }
    }

    func testHashingSinkHashesAndForwardsEverythingInOrder() throws {
        for (size, _, expected) in Self.reference {
            let plaintext = pattern(size)
            // Small pieces are hashed in line, large ones on the hashing thread: mix them.
            for piece in [100, 5000, 2 * Self.batch + 3] {
                let hashing = HashingSink(DataSink())
                try writeInPieces(plaintext, of: piece, to: hashing)
                XCTAssertEqual(hashing.count, UInt64(size))
                XCTAssertEqual(hashing.digest().hex, expected, "size \(size), pieces of \(piece)")
            }
        }
        // The bytes pass through unchanged.
        final class Collect: ByteSink {
            var data = Data()
            func write(_ bytes: UnsafeRawBufferPointer) throws(CryptoError) { data.append(contentsOf: bytes) }
        }
        let collected = Collect()
        let hashing = HashingSink(collected)
        try writeInPieces(pattern(3 * Self.batch + 1), of: 5000, to: hashing)
        XCTAssertEqual(collected.data, pattern(3 * Self.batch + 1))
    }

    /// Large enough to cross the write-behind windows (8 MiB) of a file sink.
    func testRoundTripThroughFilesLargerThanTheWriteBehindWindow() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-pipeline-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = fixedKey("pipeline")
        let plaintext = pattern(17 * Self.batch + 1)
        let plainURL = directory.appendingPathComponent("plain")
        let sealedURL = directory.appendingPathComponent("sealed")
        let openedURL = directory.appendingPathComponent("opened")
        try plaintext.write(to: plainURL)
        try withDescriptors(plainURL, sealedURL) { input, output throws(CryptoError) in
            var source = FileDescriptorSource(fd: input)
            var sink = FileDescriptorSink(fd: output, writeBehind: true)
            XCTAssertEqual(try ContentStream.encrypt(key: key, from: &source, to: &sink), UInt64(plaintext.count))
        }
        XCTAssertEqual(try Data(contentsOf: sealedURL), try streamEncrypt(plaintext, key: key))
        try withDescriptors(sealedURL, openedURL) { input, output throws(CryptoError) in
            var source = FileDescriptorSource(fd: input)
            var sink = FileDescriptorSink(fd: output, writeBehind: true)
            XCTAssertEqual(try ContentStream.decrypt(key: key, from: &source, to: &sink), UInt64(plaintext.count))
        }
        XCTAssertEqual(try Data(contentsOf: openedURL), plaintext)
    }

    // MARK: Refusals and failures

    func testTamperingInALaterBatchIsRefusedAndNothingOfThatBatchIsWritten() throws {
        let key = fixedKey("pipeline")
        let plaintext = pattern(3 * Self.batch + 1)
        let ciphertext = try streamEncrypt(plaintext, key: key)
        // Chunk 35 is in the third batch (chunks 32...47).
        let (error, written) = streamDecryptCapturing(ciphertext.flippingBit(at: 35 * sealedChunk + 100), key: key)
        XCTAssertEqual(error, .chunkAuthenticationFailed(chunk: 35))
        XCTAssertLessThanOrEqual(written.count, 2 * Self.batch, "plaintext of the failing batch was released")
        XCTAssertEqual(written, plaintext.prefix(written.count))
    }

    func testCutsAndAdditionsAtABatchBoundaryAreRefused() throws {
        let key = fixedKey("pipeline")
        let ciphertext = try streamEncrypt(pattern(3 * Self.batch), key: key)
        // Cut after two whole batches: the last chunk standing was sealed as not final.
        assertThrows(.streamTruncated) { () throws(CryptoError) in
            try streamDecrypt(ciphertext.prefix(32 * sealedChunk), key: key)
        }
        // A whole-batch stream with a chunk appended: its final chunk is no longer the last.
        let oneBatch = try streamEncrypt(pattern(Self.batch), key: key)
        assertThrows(.streamMalformed("data follows the final chunk")) { () throws(CryptoError) in
            try streamDecrypt(oneBatch + ciphertext.prefix(sealedChunk), key: key)
        }
    }

    func testAReadErrorInTheMiddleStopsTheStream() {
        let key = fixedKey("pipeline")
        for failAt in [Self.batch / 2, Self.batch + 10, 3 * Self.batch] {
            var source = FailingSource(data: pattern(5 * Self.batch), failAt: failAt)
            var sink = CountingSink()
            assertThrows(.io(.read, errno: EIO)) { () throws(CryptoError) in
                try ContentStream.encrypt(key: key, from: &source, to: &sink)
            }
            // Nothing past the batch before the failure is sealed and written.
            XCTAssertLessThanOrEqual(sink.bytes, failAt / Self.batch * (Self.batch + 16 * ContentStream.tagBytes), "fail at \(failAt)")
        }
    }

    func testAWriteErrorInTheMiddleStopsTheStream() throws {
        let key = fixedKey("pipeline")
        let plaintext = pattern(5 * Self.batch + 1)
        var source = DataSource(plaintext)
        var sink = CountingSink(failOnWrite: 2)
        assertThrows(.io(.write, errno: ENOSPC)) { () throws(CryptoError) in
            try ContentStream.encrypt(key: key, from: &source, to: &sink)
        }
        XCTAssertEqual(sink.writes, 2, "no write after the one that failed")

        var sealedSource = DataSource(try streamEncrypt(plaintext, key: key))
        var plainSink = CountingSink(failOnWrite: 3)
        assertThrows(.io(.write, errno: ENOSPC)) { () throws(CryptoError) in
            try ContentStream.decrypt(key: key, from: &sealedSource, to: &plainSink)
        }
        XCTAssertEqual(plainSink.writes, 3)

        let encryptor = try StreamEncryptor(key: key, sink: CountingSink(failOnWrite: 1))
        assertThrows(.io(.write, errno: ENOSPC)) { () throws(CryptoError) in
            try writeInPieces(plaintext, of: 4096, to: encryptor)
            _ = try encryptor.finish()
        }
    }

    func testAnEncryptorAbandonedBeforeFinishWritesNothingMore() throws {
        let counter = SharedCounter()
        do {
            let encryptor = try StreamEncryptor(key: fixedKey("pipeline"), sink: SharedCountingSink(counter: counter))
            try writeInPieces(pattern(3 * Self.batch + 5), of: 70_000, to: encryptor)
        }
        // Three full batches were handed on (the third only once more data came); the rest is dropped.
        let settled = counter.writes
        XCTAssertLessThanOrEqual(settled, 3)
        usleep(50_000)
        XCTAssertEqual(counter.writes, settled, "a write happened after the encryptor was released")
    }

    // MARK: Helpers

    func writeInPieces<K: ByteSink>(_ data: Data, of piece: Int, to sink: K) throws(CryptoError) where K: AnyObject {
        var sink = sink
        var offset = 0
        repeat {
            let end = min(offset + piece, data.count)
            let part = Data(data[offset..<end])
            try sink.write(contentsOf: part)
            offset = end
        } while offset < data.count
    }

    func withDescriptors(_ input: URL, _ output: URL, _ body: (Int32, Int32) throws(CryptoError) -> Void) throws {
        let inFD = open(input.path, O_RDONLY)
        let outFD = open(output.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        XCTAssertGreaterThanOrEqual(inFD, 0)
        XCTAssertGreaterThanOrEqual(outFD, 0)
        defer { close(inFD); close(outFD) }
        try body(inFD, outFD)
    }
}

/// Gives `data` until `failAt` bytes were read, then fails with EIO.
struct FailingSource: ByteSource {
    let data: Data
    let failAt: Int
    var offset = 0
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(CryptoError) -> Int {
        let n = min(buffer.count, data.count - offset)
        if offset + n > failAt { throw .io(.read, errno: EIO) }
        data.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
        offset += n
        return n
    }
}

/// Counts writes and bytes; write number `failOnWrite` (counting from 1) fails with ENOSPC.
struct CountingSink: ByteSink {
    var failOnWrite = Int.max
    var writes = 0
    var bytes = 0
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws(CryptoError) {
        writes += 1
        if writes == failOnWrite { throw .io(.write, errno: ENOSPC) }
        self.bytes += bytes.count
    }
}

final class SharedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.lock(); count += 1; lock.unlock() }
    var writes: Int { lock.lock(); defer { lock.unlock() }; return count }
}

struct SharedCountingSink: ByteSink {
    let counter: SharedCounter
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws(CryptoError) { counter.add() }
}
