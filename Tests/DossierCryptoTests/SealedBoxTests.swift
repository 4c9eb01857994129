import DossierCrypto
import Foundation
import XCTest

/// Anonymous sealed boxes to an X25519 key pair.
final class SealedBoxTests: XCTestCase {
    let alice = BoxKeyPair.generate(using: DeterministicRandom(seed: "alice"))
    let bob = BoxKeyPair.generate(using: DeterministicRandom(seed: "bob"))
    let message = SecureBytes(copying: Data("vault key for alice".utf8))

    func testRoundTrip() throws {
        for content in [Data(), Data([42]), Data("vault key for alice".utf8), pattern(5000)] {
            let sealed = try SealedBox.seal(SecureBytes(copying: content), to: alice.publicKey)
            XCTAssertEqual(sealed.count, content.count + SealedBox.overhead)
            XCTAssertEqual(try SealedBox.open(sealed, with: alice).unsafeCopyToData(), content)
        }
    }

    func testOverheadIsAnEphemeralKeyAndATag() {
        XCTAssertEqual(SealedBox.overhead, 32 + 16)
    }

    func testSealingIsRandomised() throws {
        let a = try SealedBox.seal(message, to: alice.publicKey)
        let b = try SealedBox.seal(message, to: alice.publicKey)
        XCTAssertNotEqual(a, b)
        XCTAssertNotEqual(a.prefix(32), b.prefix(32), "each box has its own ephemeral key")
    }

    func testWrongRecipientIsRefused() throws {
        let sealed = try SealedBox.seal(message, to: alice.publicKey)
        assertThrows(.authenticationFailed) { () throws(CryptoError) in try SealedBox.open(sealed, with: bob) }
    }

    func testFlippedBitAnywhereIsRefused() throws {
        let sealed = try SealedBox.seal(message, to: alice.publicKey)
        for offset in 0..<sealed.count {
            let tampered = sealed.flippingBit(at: offset, bit: (offset * 3) % 8)
            assertThrows(.authenticationFailed) { () throws(CryptoError) in try SealedBox.open(tampered, with: alice) }
        }
    }

    func testTooShortOrTruncatedIsRefused() throws {
        let sealed = try SealedBox.seal(message, to: alice.publicKey)
        for length in 0..<sealed.count {
            assertThrows(.authenticationFailed) { () throws(CryptoError) in
                try SealedBox.open(sealed.prefix(length), with: alice)
            }
        }
        // Exactly the overhead, but not a box.
        assertThrows(.authenticationFailed) { () throws(CryptoError) in
            try SealedBox.open(Data(repeating: 9, count: SealedBox.overhead), with: alice)
        }
    }

    func testPublicKeyOfTheWrongLengthIsRefused() {
        for length in [0, 31, 33] {
            assertThrows(.invalidLength(what: "X25519 public key", expected: 32, actual: length)) { () throws(CryptoError) in
                try SealedBox.seal(message, to: Data(repeating: 5, count: length))
            }
        }
    }

    func testLowOrderPublicKeyIsRefused() {
        // The all-zero point gives an all-zero shared secret, which libsodium refuses.
        assertThrows(.invalidPublicKey) { () throws(CryptoError) in
            try SealedBox.seal(message, to: Data(count: 32))
        }
    }

    func testKeyPairFromSeedIsReproducibleAndRebuildsFromItsSecretKey() throws {
        let seed = SecureBytes(copying: Data(repeating: 0xA5, count: BoxKeyPair.seedBytes))
        let a = try BoxKeyPair(seed: seed)
        let b = try BoxKeyPair(seed: seed)
        XCTAssertEqual(a.publicKey, b.publicKey)
        XCTAssertTrue(a.secretKey.constantTimeEquals(b.secretKey))
        let rebuilt = try BoxKeyPair(secretKey: a.secretKey)
        XCTAssertEqual(rebuilt.publicKey, a.publicKey)
        // The rebuilt pair opens what was sealed to the original.
        let sealed = try SealedBox.seal(message, to: a.publicKey)
        XCTAssertTrue(try SealedBox.open(sealed, with: rebuilt).constantTimeEquals(message))
    }

    func testGenerateFollowsTheRandomSource() {
        XCTAssertEqual(BoxKeyPair.generate(using: DeterministicRandom(seed: "alice")).publicKey, alice.publicKey)
        XCTAssertNotEqual(alice.publicKey, bob.publicKey)
        XCTAssertNotEqual(BoxKeyPair.generate().publicKey, BoxKeyPair.generate().publicKey)
        XCTAssertEqual(alice.publicKey.count, BoxKeyPair.publicKeyBytes)
        XCTAssertEqual(alice.secretKey.count, BoxKeyPair.secretKeyBytes)
    }

    func testSeedOrSecretKeyOfTheWrongLengthIsRefused() {
        for length in [0, 31, 33] {
            let bytes = SecureBytes(copying: Data(repeating: 1, count: length))
            assertThrows(.invalidLength(what: "X25519 seed", expected: 32, actual: length)) { () throws(CryptoError) in
                try BoxKeyPair(seed: bytes)
            }
            assertThrows(.invalidLength(what: "X25519 secret key", expected: 32, actual: length)) { () throws(CryptoError) in
                try BoxKeyPair(secretKey: bytes)
            }
        }
    }
}
