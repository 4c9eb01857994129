import DossierCrypto
import Foundation
import XCTest

/// Every way of altering a STREAM ciphertext is refused, with the error the code promises, and
/// no byte of an unauthenticated chunk reaches the sink.
final class StreamTamperingTests: XCTestCase {
    let key = fixedKey("stream tampering")
    /// Three full chunks and a 100-byte final chunk.
    let plaintext = pattern(3 * chunk + 100)
    var ciphertext = Data()

    override func setUpWithError() throws {
        ciphertext = try streamEncrypt(plaintext, key: key)
    }

    func testTheReferenceStreamIsWellFormed() throws {
        XCTAssertEqual(sealedChunks(ciphertext).map(\.count), [sealedChunk, sealedChunk, sealedChunk, 116])
        XCTAssertEqual(try streamDecrypt(ciphertext, key: key), plaintext)
    }

    /// A flipped bit anywhere fails chunk k, and nothing from chunk k or later reaches the sink:
    /// what was written is a prefix of the chunks before k (whole batches are held back).
    func testFlippedBitIsRefusedInEveryRegion() {
        var offsets = Set(stride(from: 0, to: ciphertext.count, by: 4093))
        for k in 0..<4 {
            let start = k * sealedChunk
            let end = min(start + sealedChunk, ciphertext.count)
            // First body byte, last body byte, first and last tag byte of each chunk.
            offsets.formUnion([start, start + 1, end - ContentStream.tagBytes - 1, end - ContentStream.tagBytes, end - 1])
        }
        for offset in offsets.sorted() {
            let k = offset / sealedChunk
            let outcome = streamDecryptCapturing(ciphertext.flippingBit(at: offset, bit: offset % 8), key: key)
            XCTAssertEqual(outcome.error, .chunkAuthenticationFailed(chunk: UInt64(k)), "bit flipped at \(offset)")
            XCTAssertLessThanOrEqual(outcome.written.count, k * chunk, "bit flipped at \(offset): only authenticated chunks are written")
            XCTAssertEqual(outcome.written, plaintext.prefix(outcome.written.count), "bit flipped at \(offset): what was written is authentic plaintext")
            XCTAssertEqual(outcome.written.count % chunk, 0, "bit flipped at \(offset): only whole chunks are written")
        }
    }

    func testFlippedBitInAFullFinalChunkIsNotTakenForTruncation() throws {
        let sealed = try streamEncrypt(pattern(2 * chunk), key: key)
        for offset in [sealedChunk, sealedChunk + 1000, sealed.count - 1] {
            XCTAssertEqual(streamDecryptCapturing(sealed.flippingBit(at: offset), key: key).error,
                           .chunkAuthenticationFailed(chunk: 1), "bit flipped at \(offset)")
        }
    }

    func testTruncationAtEveryChunkBoundaryIsRefused() throws {
        for boundary in 0..<4 {
            let outcome = streamDecryptCapturing(ciphertext.prefix(boundary * sealedChunk), key: key)
            XCTAssertEqual(outcome.error, .streamTruncated, "cut after \(boundary) chunks")
        }
        // The same when the final chunk is a full one.
        let full = try streamEncrypt(pattern(3 * chunk), key: key)
        XCTAssertEqual(sealedChunks(full).count, 3)
        for boundary in 0..<3 {
            XCTAssertEqual(streamDecryptCapturing(full.prefix(boundary * sealedChunk), key: key).error, .streamTruncated,
                           "cut after \(boundary) of 3 full chunks")
        }
    }

    func testTruncationInsideAChunkIsRefused() {
        let cases: [(Int, CryptoError?)] = [
            (1000, .chunkAuthenticationFailed(chunk: 0)),
            (sealedChunk - 1, .chunkAuthenticationFailed(chunk: 0)),
            (sealedChunk + 1, nil),                       // less than a tag left of chunk 1
            (sealedChunk + ContentStream.tagBytes - 1, nil),
            (sealedChunk + ContentStream.tagBytes, .chunkAuthenticationFailed(chunk: 1)),
            (2 * sealedChunk + chunk / 2, .chunkAuthenticationFailed(chunk: 2)),
            (ciphertext.count - 1, .chunkAuthenticationFailed(chunk: 3)),
            (ciphertext.count - 100, .chunkAuthenticationFailed(chunk: 3)),
        ]
        for (length, expected) in cases {
            let cut = ciphertext.prefix(length)
            if let expected {
                assertThrows(expected) { () throws(CryptoError) in try streamDecrypt(cut, key: key) }
            } else {
                assertThrows("streamMalformed", matching: isStreamMalformed) { () throws(CryptoError) in try streamDecrypt(cut, key: key) }
            }
        }
    }

    /// A chunk from another stream under the same key, with the index after the final one.
    func testChunkAppendedAfterAFullFinalChunkIsRefused() throws {
        let single = try streamEncrypt(pattern(chunk), key: key)          // chunk 0 is full and final
        let longer = sealedChunks(try streamEncrypt(pattern(2 * chunk + 10), key: key))
        for appended in [longer[1], longer[1] + longer[2]] {
            let outcome = streamDecryptCapturing(single + appended, key: key)
            XCTAssertTrue(outcome.error.map(isStreamMalformed) ?? false, "got \(String(describing: outcome.error))")
            XCTAssertEqual(outcome.written, Data())
        }
        let two = try streamEncrypt(pattern(2 * chunk), key: key)         // chunk 1 is full and final
        let three = sealedChunks(try streamEncrypt(pattern(3 * chunk + 1), key: key))
        assertThrows("streamMalformed", matching: isStreamMalformed) { () throws(CryptoError) in
            try streamDecrypt(two + three[2], key: key)
        }
    }

    func testChunkAppendedAfterAShortFinalChunkIsRefused() throws {
        let short = try streamEncrypt(pattern(chunk + 10), key: key)      // chunk 1 is 10 bytes, final
        let other = sealedChunks(try streamEncrypt(pattern(2 * chunk + 50), key: key))
        assertThrows(.chunkAuthenticationFailed(chunk: 1)) { () throws(CryptoError) in
            try streamDecrypt(short + other[2], key: key)
        }
    }

    func testGarbageAppendedIsRefused() throws {
        let fullFinal = try streamEncrypt(pattern(chunk), key: key)
        for extra in [1, ContentStream.tagBytes, 100, sealedChunk] {
            let garbage = DeterministicRandom(seed: "garbage \(extra)").bytes(extra)
            assertThrows("streamMalformed", matching: isStreamMalformed) { () throws(CryptoError) in
                try streamDecrypt(fullFinal + garbage, key: key)
            }
        }
        let shortFinal = try streamEncrypt(pattern(10), key: key)
        assertThrows(.chunkAuthenticationFailed(chunk: 0)) { () throws(CryptoError) in
            try streamDecrypt(shortFinal + Data(repeating: 0, count: 100), key: key)
        }
        assertThrows(.chunkAuthenticationFailed(chunk: 3)) { () throws(CryptoError) in
            try streamDecrypt(ciphertext + Data([0]), key: key)
        }
    }

    func testSwappedChunksAreRefused() {
        let c = sealedChunks(ciphertext)
        assertThrows(.chunkAuthenticationFailed(chunk: 0)) { () throws(CryptoError) in
            try streamDecrypt(c[1] + c[0] + c[2] + c[3], key: key)
        }
        let outcome = streamDecryptCapturing(c[0] + c[2] + c[1] + c[3], key: key)
        XCTAssertEqual(outcome.error, .chunkAuthenticationFailed(chunk: 1))
        // Nothing of the swapped chunks reaches the sink: at most the authentic first chunk.
        XCTAssertLessThanOrEqual(outcome.written.count, chunk)
        XCTAssertEqual(outcome.written, plaintext.prefix(outcome.written.count))
    }

    func testDroppedOrRepeatedChunkIsRefused() {
        let c = sealedChunks(ciphertext)
        assertThrows(.chunkAuthenticationFailed(chunk: 0)) { () throws(CryptoError) in
            try streamDecrypt(c[1] + c[2] + c[3], key: key)
        }
        assertThrows(.chunkAuthenticationFailed(chunk: 1)) { () throws(CryptoError) in
            try streamDecrypt(c[0] + c[2] + c[3], key: key)
        }
        assertThrows(.chunkAuthenticationFailed(chunk: 2)) { () throws(CryptoError) in
            try streamDecrypt(c[0] + c[1] + c[1] + c[2] + c[3], key: key)
        }
        // Dropping the final chunk is truncation.
        assertThrows(.streamTruncated) { () throws(CryptoError) in
            try streamDecrypt(c[0] + c[1] + c[2], key: key)
        }
    }

    func testWrongKeyIsRefused() throws {
        let other = fixedKey("another key")
        assertThrows(.chunkAuthenticationFailed(chunk: 0)) { () throws(CryptoError) in try streamDecrypt(ciphertext, key: other) }
        let small = try streamEncrypt(pattern(5), key: key)
        assertThrows(.chunkAuthenticationFailed(chunk: 0)) { () throws(CryptoError) in try streamDecrypt(small, key: other) }
        let empty = try streamEncrypt(Data(), key: key)
        assertThrows(.chunkAuthenticationFailed(chunk: 0)) { () throws(CryptoError) in try streamDecrypt(empty, key: other) }
    }

    func testEmptyCiphertextIsTruncated() {
        let outcome = streamDecryptCapturing(Data(), key: key)
        XCTAssertEqual(outcome.error, .streamTruncated)
        XCTAssertEqual(outcome.written, Data())
    }

    func testCiphertextShorterThanATagIsRefused() throws {
        let empty = try streamEncrypt(Data(), key: key)
        XCTAssertEqual(empty.count, ContentStream.tagBytes)
        for length in 1..<ContentStream.tagBytes {
            assertThrows("streamMalformed", matching: isStreamMalformed) { () throws(CryptoError) in
                try streamDecrypt(empty.prefix(length), key: key)
            }
        }
    }

    func testTheEmptyStreamIsAValidStream() throws {
        // Its single chunk is both empty and final; the empty-final rule must not refuse it.
        let empty = try streamEncrypt(Data(), key: key)
        XCTAssertEqual(try streamDecrypt(empty, key: key), Data())
    }
}
