import DossierCrypto
import Foundation
import XCTest

/// Ed25519 detached signatures.
final class SigningTests: XCTestCase {
    let signer = SigningKeyPair.generate(using: DeterministicRandom(seed: "signer"))
    let other = SigningKeyPair.generate(using: DeterministicRandom(seed: "other signer"))
    let message = Data("checkpoint 7: root 3f2a…".utf8)

    func testGoodSignatureVerifies() {
        for m in [Data(), message, pattern(10_000)] {
            let signature = signer.sign(m)
            XCTAssertEqual(signature.count, SigningKeyPair.signatureBytes)
            XCTAssertTrue(Signature.verify(signature, of: m, publicKey: signer.publicKey))
        }
    }

    func testSigningIsDeterministic() {
        XCTAssertEqual(signer.sign(message), signer.sign(message))
        XCTAssertNotEqual(signer.sign(message), signer.sign(message + Data([0])))
    }

    func testModifiedMessageIsRejected() {
        let signature = signer.sign(message)
        for offset in 0..<message.count {
            XCTAssertFalse(Signature.verify(signature, of: message.flippingBit(at: offset, bit: offset % 8), publicKey: signer.publicKey),
                           "message bit flipped at \(offset)")
        }
        XCTAssertFalse(Signature.verify(signature, of: message.dropLast(), publicKey: signer.publicKey))
        XCTAssertFalse(Signature.verify(signature, of: message + Data([0]), publicKey: signer.publicKey))
        XCTAssertFalse(Signature.verify(signature, of: Data(), publicKey: signer.publicKey))
    }

    func testModifiedSignatureIsRejected() {
        let signature = signer.sign(message)
        for offset in 0..<signature.count {
            XCTAssertFalse(Signature.verify(signature.flippingBit(at: offset, bit: offset % 8), of: message, publicKey: signer.publicKey),
                           "signature bit flipped at \(offset)")
        }
        XCTAssertFalse(Signature.verify(Data(count: 64), of: message, publicKey: signer.publicKey))
    }

    func testWrongKeyIsRejected() {
        let signature = signer.sign(message)
        XCTAssertFalse(Signature.verify(signature, of: message, publicKey: other.publicKey))
        XCTAssertTrue(Signature.verify(other.sign(message), of: message, publicKey: other.publicKey))
        // The identity point (a low-order key) must not verify anything.
        var identity = Data(count: 32)
        identity[0] = 1
        XCTAssertFalse(Signature.verify(signature, of: message, publicKey: identity))
    }

    func testWrongLengthsAreRejected() {
        let signature = signer.sign(message)
        for length in [0, 63, 65, 128] {
            let resized = Data((signature + signature).prefix(length))
            XCTAssertFalse(Signature.verify(resized, of: message, publicKey: signer.publicKey), "signature of \(length) bytes")
        }
        for length in [0, 31, 33, 64] {
            let resized = Data((signer.publicKey + signer.publicKey).prefix(length))
            XCTAssertFalse(Signature.verify(signature, of: message, publicKey: resized), "public key of \(length) bytes")
        }
    }

    func testKeyPairFromSeed() throws {
        let again = try SigningKeyPair(seed: signer.seed)
        XCTAssertEqual(again.publicKey, signer.publicKey)
        XCTAssertEqual(again.sign(message), signer.sign(message))
        XCTAssertEqual(signer.seed.count, SigningKeyPair.seedBytes)
        XCTAssertEqual(signer.publicKey.count, SigningKeyPair.publicKeyBytes)
        XCTAssertNotEqual(signer.publicKey, other.publicKey)
        XCTAssertEqual(SigningKeyPair.generate(using: DeterministicRandom(seed: "signer")).publicKey, signer.publicKey)
        XCTAssertNotEqual(SigningKeyPair.generate().publicKey, SigningKeyPair.generate().publicKey)
    }

    func testSeedOfTheWrongLengthIsRefused() {
        for length in [0, 31, 33, 64] {
            let seed = SecureBytes(copying: Data(repeating: 3, count: length))
            assertThrows(.invalidLength(what: "Ed25519 seed", expected: 32, actual: length)) { () throws(CryptoError) in
                try SigningKeyPair(seed: seed)
            }
        }
    }
}
