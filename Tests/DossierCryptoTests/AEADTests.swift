import DossierCrypto
import Foundation
import XCTest

/// XChaCha20-Poly1305 for small secrets: sealed = nonce ‖ ciphertext ‖ tag.
final class AEADTests: XCTestCase {
    let key = fixedKey("aead")
    let message = Data("the file key of deposit 42".utf8)
    let ad = Data("dossier deposit 42".utf8)

    func testRoundTrip() throws {
        for plaintext in [Data(), Data([0]), message, pattern(1000)] {
            let sealed = try AEAD.seal(plaintext, key: key, additionalData: ad)
            XCTAssertEqual(sealed.count, AEAD.nonceBytes + plaintext.count + AEAD.tagBytes)
            XCTAssertEqual(try AEAD.open(sealed, key: key, additionalData: ad).unsafeCopyToData(), plaintext)
        }
    }

    func testRoundTripWithoutAdditionalDataAndFromBytes() throws {
        let sealed = try AEAD.seal(Array(message), key: key)
        XCTAssertEqual(try AEAD.open(sealed, key: key).unsafeCopyToData(), message)
        // Empty additional data is the default, not some other value.
        XCTAssertEqual(try AEAD.open(sealed, key: key, additionalData: Data()).unsafeCopyToData(), message)
    }

    func testSizesAreXChaCha20Poly1305() {
        XCTAssertEqual(AEAD.keyBytes, 32)
        XCTAssertEqual(AEAD.nonceBytes, 24)
        XCTAssertEqual(AEAD.tagBytes, 16)
    }

    func testNonceComesFromTheRandomSource() throws {
        let a = try AEAD.seal(message, key: key, random: DeterministicRandom(seed: "nonce"))
        let b = try AEAD.seal(message, key: key, random: DeterministicRandom(seed: "nonce"))
        XCTAssertEqual(a, b, "the same random source gives the same sealed value")
        XCTAssertEqual(a.prefix(AEAD.nonceBytes), DeterministicRandom(seed: "nonce").bytes(AEAD.nonceBytes))
        XCTAssertNotEqual(try AEAD.seal(message, key: key), try AEAD.seal(message, key: key), "system nonces repeat")
    }

    func testWrongKeyIsRefused() throws {
        let sealed = try AEAD.seal(message, key: key, additionalData: ad)
        assertThrows(.authenticationFailed) { () throws(CryptoError) in
            try AEAD.open(sealed, key: fixedKey("other"), additionalData: ad)
        }
    }

    func testWrongAdditionalDataIsRefused() throws {
        let sealed = try AEAD.seal(message, key: key, additionalData: ad)
        for other in [Data(), Data("dossier deposit 43".utf8), ad + Data([0]), ad.dropLast()] {
            assertThrows(.authenticationFailed) { () throws(CryptoError) in
                try AEAD.open(sealed, key: key, additionalData: other)
            }
        }
    }

    func testFlippedBitAnywhereIsRefused() throws {
        let sealed = try AEAD.seal(message, key: key, additionalData: ad)
        for offset in 0..<sealed.count {
            let tampered = sealed.flippingBit(at: offset, bit: offset % 8)
            assertThrows(.authenticationFailed) { () throws(CryptoError) in
                try AEAD.open(tampered, key: key, additionalData: ad)
            }
        }
    }

    func testTruncatedOrExtendedInputIsRefused() throws {
        let sealed = try AEAD.seal(message, key: key, additionalData: ad)
        for length in 0..<sealed.count {
            assertThrows(.authenticationFailed) { () throws(CryptoError) in
                try AEAD.open(sealed.prefix(length), key: key, additionalData: ad)
            }
        }
        assertThrows(.authenticationFailed) { () throws(CryptoError) in
            try AEAD.open(sealed + Data([0]), key: key, additionalData: ad)
        }
    }

    func testOpensASliceOfLargerData() throws {
        // A value read out of a larger buffer does not start at index 0.
        let sealed = try AEAD.seal(message, key: key, additionalData: ad)
        let framed = Data([1, 2, 3]) + sealed + Data([4])
        let slice = framed[3..<(3 + sealed.count)]
        XCTAssertEqual(try AEAD.open(slice, key: key, additionalData: ad).unsafeCopyToData(), message)
    }

    func testKeyOfTheWrongLengthIsRefused() throws {
        let sealed = try AEAD.seal(message, key: key)
        for length in [0, 16, 31, 33] {
            let bad = SecureBytes(copying: Data(repeating: 1, count: length))
            let expected = CryptoError.invalidLength(what: "AEAD key", expected: 32, actual: length)
            assertThrows(expected) { () throws(CryptoError) in try AEAD.seal(message, key: bad) }
            assertThrows(expected) { () throws(CryptoError) in try AEAD.open(sealed, key: bad) }
        }
    }
}
