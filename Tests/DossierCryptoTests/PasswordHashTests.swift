import DossierCrypto
import Foundation
import XCTest

/// Argon2id key derivation and the limits on its parameters.
final class PasswordHashTests: XCTestCase {
    let passphrase = SecureBytes(copying: Data("correct horse battery staple".utf8))
    let salt = Data(repeating: 0x5A, count: PasswordHash.saltBytes)
    let cheap = Argon2idParameters.testingOnly

    func derive(_ passphrase: SecureBytes? = nil, salt: Data? = nil, parameters: Argon2idParameters? = nil,
                length: Int = 32) throws -> Data {
        try PasswordHash.deriveKey(passphrase: passphrase ?? self.passphrase, salt: salt ?? self.salt,
                                   parameters: parameters ?? cheap, length: length).unsafeCopyToData()
    }

    func testSameInputsGiveTheSameKey() throws {
        let a = try derive()
        XCTAssertEqual(a.count, 32)
        XCTAssertEqual(try derive(), a)
        XCTAssertNotEqual(a, Data(count: 32))
    }

    func testEveryInputChangesTheKey() throws {
        let reference = try derive()
        XCTAssertNotEqual(try derive(salt: Data(repeating: 0x5B, count: 16)), reference, "salt")
        XCTAssertNotEqual(try derive(SecureBytes(copying: Data("correct horse battery stapler".utf8))), reference, "passphrase")
        XCTAssertNotEqual(try derive(SecureBytes(copying: Data())), reference, "empty passphrase")
        XCTAssertNotEqual(try derive(parameters: Argon2idParameters(opsLimit: 2, memoryKiB: 8)), reference, "passes")
        XCTAssertNotEqual(try derive(parameters: Argon2idParameters(opsLimit: 1, memoryKiB: 16)), reference, "memory")
    }

    func testLengthIsHonoured() throws {
        XCTAssertEqual(try derive(length: 16).count, 16)
        XCTAssertEqual(try derive(length: 64).count, 64)
    }

    func testParameterRangeIsEnforced() {
        let refused: [(UInt32, UInt32)] = [
            (0, 8), (5, 8), (UInt32.max, 8),                                    // passes
            (1, 0), (1, 7), (1, 1024 * 1024 + 1), (1, UInt32.max),              // memory (KiB)
        ]
        for (ops, memory) in refused {
            let parameters = Argon2idParameters(opsLimit: ops, memoryKiB: memory)
            assertThrows("invalidKeyDerivationParameters", matching: isInvalidParameters) { () throws(CryptoError) in
                try parameters.validate()
            }
            // deriveKey refuses them before doing any work.
            assertThrows("invalidKeyDerivationParameters", matching: isInvalidParameters) { () throws(CryptoError) in
                try PasswordHash.deriveKey(passphrase: passphrase, salt: salt, parameters: parameters)
            }
        }
        let accepted: [(UInt32, UInt32)] = [(1, 8), (4, 8), (1, 1024 * 1024), (3, 256 * 1024)]
        for (ops, memory) in accepted {
            XCTAssertNoThrow(try Argon2idParameters(opsLimit: ops, memoryKiB: memory).validate(), "\(ops) passes, \(memory) KiB")
        }
        XCTAssertEqual(Argon2idParameters.maximumOps, 4)
        XCTAssertEqual(Argon2idParameters.maximumMemoryKiB, 1024 * 1024)
    }

    func testBuiltInParametersAreValid() {
        XCTAssertNoThrow(try Argon2idParameters.standard.validate())
        XCTAssertNoThrow(try Argon2idParameters.testingOnly.validate())
        XCTAssertGreaterThan(Argon2idParameters.standard.memoryKiB, Argon2idParameters.testingOnly.memoryKiB)
    }

    func testSaltOfTheWrongLengthIsRefused() {
        XCTAssertEqual(PasswordHash.saltBytes, 16)
        for length in [0, 8, 15, 17, 32] {
            assertThrows(.invalidLength(what: "Argon2id salt", expected: 16, actual: length)) { () throws(CryptoError) in
                try PasswordHash.deriveKey(passphrase: passphrase, salt: Data(repeating: 1, count: length), parameters: cheap)
            }
        }
    }
}
