import DossierCrypto
import XCTest

@testable import DossierCore

/// Runs the identity vectors in `Vectors/identity` (made by `generate.py` from the
/// specification, independently of this code; see docs/formats/identity.md).
final class IdentityVectorTests: XCTestCase {
    /// One case of the corpus: a small header, a blank line, then the bytes.
    fileprivate struct Vector {
        enum Expect: Equatable {
            case success
            case failure(String)
        }

        let name: String
        let expect: Expect
        let comment: String
        let kind: String
        let headers: [String: String]
        let data: Data

        func header(_ key: String) -> String? { headers[key] }

        func hexHeader(_ key: String, file: StaticString = #filePath, line: UInt = #line) throws -> Data {
            let value = try XCTUnwrap(headers[key], "\(name): no \(key) header", file: file, line: line)
            return try XCTUnwrap(Data(hex: value), "\(name): \(key) is not hex", file: file, line: line)
        }
    }

    private static let secretKeywords: Set = [
        "marker", "lines", "base64", "magic", "version", "protection", "length", "parameters",
        "mismatch", "wrong-passphrase",
    ]
    /// The keywords of rules broken before anything is decrypted: the public half is refused too.
    private static let parseKeywords: Set = ["marker", "lines", "base64", "magic", "version", "protection", "length"]
    private static let publicKeywords: Set = ["prefix", "secret-file", "encoding", "length", "checksum"]

    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("dossier-idvectors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    // MARK: Loading the corpus

    fileprivate static func loadVectors() throws -> [Vector] {
        let root = try XCTUnwrap(Bundle.module.url(forResource: "Vectors", withExtension: nil), "no Vectors resource")
        let dir = root.appendingPathComponent("identity")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { !$0.contains(".") }
            .sorted()
        return try names.map { name in
            try parseVector(name: name, Data(contentsOf: dir.appendingPathComponent(name)))
        }
    }

    fileprivate static func parseVector(name: String, _ raw: Data) throws -> Vector {
        let separator = Data("\n\n".utf8)
        let split = try XCTUnwrap(raw.range(of: separator), "\(name): no blank line after the header")
        let headerText = try XCTUnwrap(String(data: raw[raw.startIndex..<split.lowerBound], encoding: .utf8))
        var headers = [String: String]()
        for line in headerText.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            XCTAssertEqual(parts.count, 2, "\(name): header line without a colon")
            guard parts.count == 2 else { continue }
            let key = String(parts[0])
            XCTAssertNil(headers[key], "\(name): header \(key) appears twice")
            headers[key] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        let expectText = try XCTUnwrap(headers["expect"], "\(name): no expect header")
        let expect: Vector.Expect
        if expectText == "success" {
            expect = .success
        } else if expectText.hasPrefix("failure: ") {
            expect = .failure(String(expectText.dropFirst("failure: ".count)))
        } else {
            XCTFail("\(name): unknown expect value \(expectText)")
            expect = .failure("?")
        }
        return Vector(name: name, expect: expect, comment: headers["comment"] ?? "",
                      kind: try XCTUnwrap(headers["kind"], "\(name): no kind header"),
                      headers: headers, data: Data(raw[split.upperBound...]))
    }

    private func vector(_ name: String) throws -> Vector {
        try XCTUnwrap(Self.loadVectors().first { $0.name == name }, "no vector \(name)")
    }

    // MARK: The generic runner

    func testCorpusIsComplete() throws {
        let vectors = try Self.loadVectors()
        XCTAssertGreaterThanOrEqual(vectors.count, 60, "the corpus was not copied into the test bundle whole")
        for v in vectors {
            XCTAssertFalse(v.comment.isEmpty, "\(v.name): no comment")
            XCTAssertTrue(["secret-file", "public-line"].contains(v.kind), "\(v.name): unknown kind \(v.kind)")
        }
        // Every rule has at least one case, and every case names a known rule.
        let secretFailures = Set(vectors.filter { $0.kind == "secret-file" }.compactMap { v -> String? in
            if case let .failure(k) = v.expect { return k } else { return nil }
        })
        let publicFailures = Set(vectors.filter { $0.kind == "public-line" }.compactMap { v -> String? in
            if case let .failure(k) = v.expect { return k } else { return nil }
        })
        XCTAssertEqual(secretFailures, Self.secretKeywords)
        XCTAssertEqual(publicFailures, Self.publicKeywords)
        XCTAssertGreaterThanOrEqual(vectors.filter { $0.expect == .success && $0.kind == "secret-file" }.count, 3)
        XCTAssertGreaterThanOrEqual(vectors.filter { $0.expect == .success && $0.kind == "public-line" }.count, 2)
    }

    func testAllVectors() throws {
        let vectors = try Self.loadVectors()
        XCTAssertFalse(vectors.isEmpty)
        for v in vectors {
            switch v.kind {
            case "secret-file": try runSecretFile(v)
            case "public-line": try runPublicLine(v)
            default: XCTFail("\(v.name): unknown kind \(v.kind)")
            }
        }
    }

    private func runSecretFile(_ v: Vector) throws {
        let path = folder.appendingPathComponent(v.name).path
        try? FileManager.default.removeItem(atPath: path)
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: v.data, attributes: [.posixPermissions: 0o600]))
        var asked = 0
        let passphrase = v.header("passphrase")
        let ask = { () throws(DossierError) -> SecureBytes in
            asked += 1
            guard let passphrase else { throw .passphraseRequired(path: path) }
            return SecureBytes(copying: Data(passphrase.utf8))
        }

        switch v.expect {
        case .success:
            let identity: SecretIdentity
            do {
                identity = try SecretIdentity.load(path: path, passphrase: ask)
            } catch {
                return XCTFail("\(v.name): expected success, got \(error)")
            }
            XCTAssertEqual(asked, passphrase == nil ? 0 : 1, "\(v.name): passphrase asked \(asked) times")
            try checkKeys(v, identity)
            XCTAssertEqual(try SecretIdentity.needsPassphrase(path: path), passphrase != nil, v.name)
            let text = try FileAccess.readSmallText(path: path, limit: 64 * 1024)
            XCTAssertEqual(try SecretIdentity.publicHalf(ofFileText: text, path: path), identity.publicIdentity, v.name)

            // Parse then serialise gives back the exact bytes.
            let protection: SecretIdentity.Protection
            let random: any RandomSource
            if let passphrase {
                let ops = try XCTUnwrap(v.header("argon2id-passes").flatMap { UInt32($0) }, v.name)
                let mem = try XCTUnwrap(v.header("argon2id-memory-kib").flatMap { UInt32($0) }, v.name)
                protection = .passphrase(SecureBytes(copying: Data(passphrase.utf8)), Argon2idParameters(opsLimit: ops, memoryKiB: mem))
                random = DeterministicRandom(seed: try XCTUnwrap(v.header("random-seed"), v.name))
            } else {
                protection = .none
                random = ForbiddenRandom()
            }
            XCTAssertEqual(try identity.fileText(protection: protection, random: random), v.data,
                           "\(v.name): the Swift writer does not reproduce the vector")

        case let .failure(keyword):
            XCTAssertTrue(Self.secretKeywords.contains(keyword), "\(v.name): unknown keyword \(keyword)")
            do {
                _ = try SecretIdentity.load(path: path, passphrase: ask)
                XCTFail("\(v.name): expected failure (\(keyword)), but the file loaded")
            } catch {
                assertSecretFailure(error, keyword: keyword, vector: v)
            }
            if Self.parseKeywords.contains(keyword) {
                XCTAssertEqual(asked, 0, "\(v.name): passphrase asked for a malformed file")
                XCTAssertThrowsError(try SecretIdentity.needsPassphrase(path: path), v.name) {
                    assertSecretFailure($0, keyword: keyword, vector: v)
                }
                // Decoded without dropping a byte-order mark, as the bytes are.
                let text = String(decoding: v.data, as: UTF8.self)
                XCTAssertThrowsError(try SecretIdentity.publicHalf(ofFileText: text, path: path), v.name) {
                    assertSecretFailure($0, keyword: keyword, vector: v)
                }
            }
        }
    }

    private func assertSecretFailure(_ error: any Error, keyword: String, vector v: Vector) {
        guard let error = error as? DossierError else { return XCTFail("\(v.name): not a DossierError: \(error)") }
        // A message never echoes the (base64) body of a secret file.
        for line in String(decoding: v.data, as: UTF8.self).split(whereSeparator: \.isNewline) where line.count > 40 {
            XCTAssertFalse(error.description.contains(line.prefix(16)), "\(v.name): the message quotes the file")
        }
        if keyword == "wrong-passphrase" {
            guard case .wrongPassphrase = error else { return XCTFail("\(v.name): expected wrongPassphrase, got \(error)") }
            return
        }
        // A byte-order mark is refused when the file is read, before parsing.
        if keyword == "marker", case let .fileUnreadable(_, reason) = error, reason.contains("byte-order mark") { return }
        guard case let .malformedIdentityFile(_, reason) = error else {
            return XCTFail("\(v.name): expected malformedIdentityFile (\(keyword)), got \(error)")
        }
        let fragment: String = switch keyword {
        case "marker": "the first line is not"
        case "lines": "exactly two lines"
        case "base64": "not canonical base64"
        case "magic": "DSK magic"
        case "version": "format version"
        case "protection": "unknown protection type"
        case "length": "wrong length"
        case "parameters": "key-derivation parameters"
        case "mismatch": "do not match the public keys"
        default: "(unknown keyword \(keyword))"
        }
        XCTAssertTrue(reason.contains(fragment), "\(v.name): expected a '\(keyword)' refusal, got: \(reason)")
    }

    private func runPublicLine(_ v: Vector) throws {
        let text = try XCTUnwrap(String(data: v.data, encoding: .utf8), v.name)
        switch v.expect {
        case .success:
            let identity: PublicIdentity
            do {
                identity = try PublicIdentity(line: text)
            } catch {
                return XCTFail("\(v.name): expected success, got \(error)")
            }
            XCTAssertEqual(identity.encryptionKey, try v.hexHeader("x25519-public"), v.name)
            XCTAssertEqual(identity.signingKey, try v.hexHeader("ed25519-public"), v.name)
            XCTAssertEqual(identity.fingerprint, v.header("fingerprint"), v.name)
            // Serialising gives back the line (without the surrounding white space).
            XCTAssertEqual(identity.line, text.trimmingCharacters(in: .whitespacesAndNewlines), v.name)
            XCTAssertEqual(identity.line, v.header("public"), v.name)
            XCTAssertEqual(try PublicIdentity.resolve(identity.line), identity, v.name)
        case let .failure(keyword):
            XCTAssertTrue(Self.publicKeywords.contains(keyword), "\(v.name): unknown keyword \(keyword)")
            do {
                let parsed = try PublicIdentity(line: text)
                XCTFail("\(v.name): expected failure (\(keyword)), but it parsed as \(parsed.line)")
            } catch {
                guard case let .malformedPublicIdentity(reason) = error else {
                    return XCTFail("\(v.name): expected malformedPublicIdentity, got \(error)")
                }
                let fragment: String = switch keyword {
                case "prefix": "must start with 'dossier1'"
                case "secret-file": "SECRET identity file"
                // Characters outside the alphabet, or a last character whose unused bits are set.
                case "encoding": reason.contains("impossible there") ? "impossible there" : "outside a–z and 2–7"
                case "length": "wrong length"
                case "checksum": "checksum does not match"
                default: "(unknown keyword \(keyword))"
                }
                XCTAssertTrue(reason.contains(fragment), "\(v.name): expected a '\(keyword)' refusal, got: \(reason)")
            }
        }
    }

    private func checkKeys(_ v: Vector, _ identity: SecretIdentity) throws {
        XCTAssertEqual(identity.encryption.publicKey, try v.hexHeader("x25519-public"), v.name)
        XCTAssertEqual(identity.signing.publicKey, try v.hexHeader("ed25519-public"), v.name)
        XCTAssertEqual(identity.encryption.secretKey.unsafeCopyToData(), try v.hexHeader("x25519-secret"), v.name)
        XCTAssertEqual(identity.signing.seed.unsafeCopyToData(), try v.hexHeader("ed25519-seed"), v.name)
        XCTAssertEqual(identity.publicIdentity.line, v.header("public"), v.name)
        XCTAssertEqual(identity.publicIdentity.fingerprint, v.header("fingerprint"), v.name)
    }

    // MARK: Properties checkable without the parser

    /// The vectors' keys follow from their seeds as libsodium derives them.
    func testKeysFollowFromSeeds() throws {
        for v in try Self.loadVectors() where v.expect == .success && v.kind == "secret-file" {
            let box = try BoxKeyPair(seed: SecureBytes(copying: try v.hexHeader("x25519-seed")))
            XCTAssertEqual(box.publicKey, try v.hexHeader("x25519-public"), v.name)
            XCTAssertEqual(box.secretKey.unsafeCopyToData(), try v.hexHeader("x25519-secret"), v.name)
            let sign = try SigningKeyPair(seed: SecureBytes(copying: try v.hexHeader("ed25519-seed")))
            XCTAssertEqual(sign.publicKey, try v.hexHeader("ed25519-public"), v.name)
        }
    }

    /// The layout of the unprotected vector, byte by byte, as docs/formats/identity.md gives it.
    func testUnprotectedLayout() throws {
        let v = try vector("secret_unprotected")
        let body = try body(of: v)
        XCTAssertEqual(body.count, 133)
        XCTAssertEqual(body[0..<3], Data("DSK".utf8))
        XCTAssertEqual(body[3], 1)
        XCTAssertEqual(body[4], 0)
        XCTAssertEqual(body[5..<37], try v.hexHeader("x25519-public"))
        XCTAssertEqual(body[37..<69], try v.hexHeader("ed25519-public"))
        XCTAssertEqual(body[69..<101], try v.hexHeader("x25519-secret"))
        XCTAssertEqual(body[101..<133], try v.hexHeader("ed25519-seed"))
    }

    /// The layout of the protected vector, and that its secret opens with the documented
    /// primitives: Argon2id of the passphrase and salt, XChaCha20-Poly1305 with the header as
    /// associated data.
    func testPassphraseLayoutAndDecryption() throws {
        for name in ["secret_passphrase", "secret_passphrase_4_passes"] {
            let v = try vector(name)
            let body = try body(of: v)
            let ops = try XCTUnwrap(v.header("argon2id-passes").flatMap { UInt32($0) })
            let mem = try XCTUnwrap(v.header("argon2id-memory-kib").flatMap { UInt32($0) })
            XCTAssertEqual(body.count, 197, name)
            XCTAssertEqual(body[0..<3], Data("DSK".utf8), name)
            XCTAssertEqual(body[3], 1, name)
            XCTAssertEqual(body[4], 1, name)
            XCTAssertEqual(body[5..<37], try v.hexHeader("x25519-public"), name)
            XCTAssertEqual(body[37..<69], try v.hexHeader("ed25519-public"), name)
            XCTAssertEqual(body[69..<73], Data.bigEndian(ops), name)
            XCTAssertEqual(body[73..<77], Data.bigEndian(mem), name)
            XCTAssertEqual(body[77..<93], try v.hexHeader("salt"), name)
            XCTAssertEqual(body[93..<117], try v.hexHeader("nonce"), name)

            let passphrase = SecureBytes(copying: Data(try XCTUnwrap(v.header("passphrase")).utf8))
            let key = try PasswordHash.deriveKey(passphrase: passphrase, salt: try v.hexHeader("salt"),
                                                 parameters: Argon2idParameters(opsLimit: ops, memoryKiB: mem))
            let header = Data(body[0..<93])
            let sealed = Data(body[93...])
            let secret = try AEAD.open(sealed, key: key, additionalData: header)
            XCTAssertEqual(secret.unsafeCopyToData(), try v.hexHeader("x25519-secret") + v.hexHeader("ed25519-seed"), name)
            // The header is the associated data: without it, or with another, nothing opens.
            XCTAssertThrowsError(try AEAD.open(sealed, key: key), name) {
                XCTAssertEqual($0 as? CryptoError, .authenticationFailed)
            }
            XCTAssertThrowsError(try AEAD.open(sealed, key: key, additionalData: Self.flip(header, at: 40)), name)

            // The salt and nonce are the first two draws of DeterministicRandom(seed:).
            let random = DeterministicRandom(seed: try XCTUnwrap(v.header("random-seed")))
            XCTAssertEqual(random.bytes(16), try v.hexHeader("salt"), name)
            XCTAssertEqual(random.bytes(24), try v.hexHeader("nonce"), name)
        }
    }

    /// The public line and fingerprint of the vectors, computed from the documented formulas
    /// with DossierCrypto's primitives rather than through `PublicIdentity`.
    func testPublicLineAndFingerprintFormulas() throws {
        for v in try Self.loadVectors() where v.expect == .success && v.kind == "public-line" {
            let keys = try v.hexHeader("x25519-public") + v.hexHeader("ed25519-public")
            let checksum = Hash.blake2b(Data("dossier1".utf8) + keys, length: 32).prefix(4)
            let line = try XCTUnwrap(v.header("public"))
            XCTAssertEqual(line.count, 117, v.name)
            XCTAssertTrue(line.hasPrefix("dossier1"), v.name)
            XCTAssertEqual(Base32.decode(line.dropFirst(8)), keys + checksum, v.name)
            let digest = Hash.blake2b(Data("dossier-fingerprint/identity\n".utf8) + keys, length: 32)
            let code = Base32.encode(digest.prefix(10), uppercase: true)
            let grouped = [0, 4, 8, 12].map { String(Array(code)[$0..<$0 + 4]) }.joined(separator: "-")
            XCTAssertEqual(grouped, v.header("fingerprint"), v.name)
        }
    }

    /// A protected file says so before it is unlocked, and without its passphrase nothing opens.
    func testPassphraseVectorsNeedTheirPassphrase() throws {
        let v = try vector("secret_passphrase")
        let path = folder.appendingPathComponent("needs").path
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: v.data, attributes: [.posixPermissions: 0o600]))
        XCTAssertTrue(try SecretIdentity.needsPassphrase(path: path))
        XCTAssertThrowsError(try SecretIdentity.load(path: path) { () throws(DossierError) -> SecureBytes in
            throw .passphraseRequired(path: path)
        }) {
            guard case .passphraseRequired = $0 as? DossierError else { return XCTFail("got \($0)") }
        }
    }

    // MARK: Helpers

    private func body(of v: Vector) throws -> Data {
        let text = try XCTUnwrap(String(data: v.data, encoding: .utf8))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.count, 3)
        XCTAssertEqual(lines[0], "DOSSIER-SECRET-KEY-1")
        return try XCTUnwrap(Data(base64Encoded: String(lines[1])))
    }

    private static func flip(_ data: Data, at index: Int) -> Data {
        var copy = data
        copy[copy.startIndex + index] ^= 0x01
        return copy
    }
}

/// A random source that must not be used: an unprotected file draws no randomness.
private struct ForbiddenRandom: RandomSource {
    func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        XCTFail("randomness was drawn where none is needed")
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
    }
}
