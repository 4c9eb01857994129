import DossierCrypto
import Foundation
import XCTest

/// Properties of the hash functions (their values are checked by the vectors).
final class HashTests: XCTestCase {
    func testIncrementalSHA256MatchesOneShotAtEverySplit() {
        let message = pattern(200)
        let expected = Hash.sha256(message)
        for split in 0...message.count {
            var h = SHA256()
            h.update(message.prefix(split))
            h.update(message.dropFirst(split))
            let digest = h.finalize()
            XCTAssertEqual(digest, expected, "split at \(split)")
        }
    }

    func testIncrementalSHA256ByteByByteAndFromRawBuffers() {
        let message = pattern(130)
        var h = SHA256()
        for byte in message {
            withUnsafeBytes(of: byte) { h.update($0) }
            h.update(Data())
        }
        let digest = h.finalize()
        XCTAssertEqual(digest, Hash.sha256(message))
        XCTAssertEqual(digest.count, 32)
    }

    func testSHA256OfASlice() {
        let framed = Data([1, 2, 3]) + pattern(100)
        XCTAssertEqual(Hash.sha256(framed.dropFirst(3)), Hash.sha256(pattern(100)))
    }

    func testBLAKE2bOutputLengthAndKey() {
        let message = Data("fingerprint me".utf8)
        XCTAssertEqual(Hash.blake2b(message).count, 32)
        XCTAssertEqual(Hash.blake2b(message, length: 16).count, 16)
        XCTAssertEqual(Hash.blake2b(message, length: 64).count, 64)
        // The output length is a parameter of BLAKE2b, not a truncation.
        XCTAssertNotEqual(Hash.blake2b(message, length: 64).prefix(32), Hash.blake2b(message, length: 32))
        let key = Data(repeating: 7, count: 32)
        XCTAssertNotEqual(Hash.blake2b(message, key: key), Hash.blake2b(message))
        XCTAssertNotEqual(Hash.blake2b(message, key: key), Hash.blake2b(message, key: Data(repeating: 8, count: 32)))
        XCTAssertEqual(Hash.blake2b(message, key: key), Hash.blake2b(message, key: key))
        XCTAssertNotEqual(Hash.blake2b(message), Hash.blake2b(message + Data([0])))
    }

    #if canImport(Glibc)
    func testBLAKE2bLengthOutsideItsRangeStopsTheProgram() {
        for length in [0, 15, 65] {
            let end = runInChild {
                _ = Hash.blake2b(Data("x".utf8), length: length)
                return 0
            }
            guard case .signalled = end else { return XCTFail("length \(length) returned: \(end)") }
        }
    }

    /// BLAKE2b keys are at most 64 bytes. A longer key must be refused (or used); it must not
    /// turn the hash into a constant that ignores its input.
    func testBLAKE2bKeyLongerThan64BytesIsNotSilentlyIgnored() {
        let end = runInChild {
            let key = Data(repeating: 1, count: 65)
            let a = Hash.blake2b(Data("a".utf8), key: key)
            let b = Hash.blake2b(Data("b".utf8), key: key)
            if a == Data(count: 32) { return 4 }
            return a == b ? 3 : 0
        }
        XCTAssertNotEqual(end, .exited(4), "Hash.blake2b with a 65-byte key returned an all-zero digest")
        XCTAssertNotEqual(end, .exited(3), "Hash.blake2b with a 65-byte key gave the same digest for different messages")
    }
    #endif
}
