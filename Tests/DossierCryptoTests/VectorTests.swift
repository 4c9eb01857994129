import DossierCrypto
import Foundation
import XCTest

/// One case of the known-answer corpus in Vectors/ (format: see Vectors/generate.py).
struct VectorCase {
    let name: String
    /// Header fields in file order, then the body under the name the `body` field gives it.
    let fields: [(name: String, value: String)]
    let bodyLines: [String]

    struct ParseError: Error, CustomStringConvertible {
        let description: String
    }

    init(name: String, text: String) throws {
        self.name = name
        guard let split = text.range(of: "\n\n") else { throw ParseError(description: "no blank line after the header") }
        var fields: [(String, String)] = []
        for line in text[..<split.lowerBound].split(separator: "\n", omittingEmptySubsequences: false) {
            guard let colon = line.firstIndex(of: ":") else { throw ParseError(description: "header line without a colon: \(line)") }
            var value = line[line.index(after: colon)...]
            if value.first == " " { value = value.dropFirst() }
            let field = String(line[..<colon])
            guard !fields.contains(where: { $0.0 == field }) else { throw ParseError(description: "field \(field) twice") }
            fields.append((field, String(value)))
        }
        self.fields = fields
        bodyLines = text[split.upperBound...].split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard bodyLines.last == "" else { throw ParseError(description: "the file does not end with a newline") }
        guard self["body"] != nil else { throw ParseError(description: "no body field") }
    }

    subscript(field: String) -> String? {
        fields.first { $0.name == field }?.value
    }

    var expect: String { self["expect"] ?? "" }
    var primitive: String { self["primitive"] ?? "" }

    /// A hex field, header or body.
    func bytes(_ field: String) throws -> Data {
        let text = field == self["body"] ? bodyLines.joined() : self[field]
        guard let text else { throw ParseError(description: "no field \(field)") }
        guard let data = Data(hex: text) else { throw ParseError(description: "field \(field) is not hex") }
        return data
    }

    func optionalBytes(_ field: String) throws -> Data? {
        self[field] == nil ? nil : try bytes(field)
    }

    func number(_ field: String) throws -> Int {
        guard let text = self[field], let n = Int(text) else { throw ParseError(description: "field \(field) is not a number") }
        return n
    }

    /// The canonical text of this case, as generate.py writes it.
    var rendered: String {
        let header = fields.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
        return header + "\n\n" + bodyLines.joined(separator: "\n")
    }
}

/// The generic runner: every case file in Vectors/ is parsed and checked against DossierCrypto.
final class VectorTests: XCTestCase {
    static let vectorsDirectory = Bundle.module.url(forResource: "Vectors", withExtension: nil)

    func loadCases() throws -> [VectorCase] {
        let dir = try XCTUnwrap(Self.vectorsDirectory, "the Vectors resource is missing from the test bundle")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { $0 != "generate.py" && !$0.hasPrefix(".") }
            .sorted()
        return try names.map { name in
            let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
            do {
                return try VectorCase(name: name, text: text)
            } catch {
                XCTFail("\(name): \(error)")
                throw error
            }
        }
    }

    func testEveryVectorPasses() throws {
        let cases = try loadCases()
        var checked: [String: Int] = [:]
        for vector in cases {
            XCTAssertTrue(["success", "failure"].contains(vector.expect), "\(vector.name): expect must be success or failure")
            XCTAssertNotNil(vector["comment"], "\(vector.name): every case says what it tests")
            do {
                try check(vector)
                checked[vector.primitive, default: 0] += 1
            } catch {
                XCTFail("\(vector.name): \(error)")
            }
        }
        // Every primitive of the corpus reached the runner, with failure cases where they matter.
        for primitive in ["stream", "aead", "ed25519", "x25519", "sha256", "blake2b", "argon2id"] {
            XCTAssertGreaterThan(checked[primitive] ?? 0, 0, "no \(primitive) case was checked")
        }
        XCTAssertTrue(cases.contains { $0.primitive == "stream" && $0.expect == "failure" })
        XCTAssertTrue(cases.contains { $0.name == "stream-empty-final-chunk-after-full" })
        XCTAssertEqual(checked.values.reduce(0, +), cases.count)
    }

    /// Parse then render gives back every file byte for byte: no case carries stray text that
    /// the runner would silently ignore.
    func testVectorFilesAreCanonical() throws {
        let dir = try XCTUnwrap(Self.vectorsDirectory)
        for vector in try loadCases() {
            let text = try String(contentsOf: dir.appendingPathComponent(vector.name), encoding: .utf8)
            XCTAssertEqual(vector.rendered, text, "\(vector.name) is not in canonical form")
            if let body = vector["body"] {
                let lines = vector.bodyLines.dropLast()
                XCTAssertTrue(lines.dropLast().allSatisfy { $0.count == 64 }, "\(vector.name): body lines hold 64 digits")
                XCTAssertNoThrow(try vector.bytes(body), "\(vector.name): body is not hex")
            }
        }
    }

    // MARK: - One checker per primitive

    func check(_ v: VectorCase) throws {
        switch v.primitive {
        case "stream": try checkStream(v)
        case "aead": try checkAEAD(v)
        case "ed25519": try checkEd25519(v)
        case "x25519": try checkX25519(v)
        case "sha256": try checkSHA256(v)
        case "blake2b": try checkBLAKE2b(v)
        case "argon2id": try checkArgon2id(v)
        default: throw VectorCase.ParseError(description: "unknown primitive \(v.primitive)")
        }
    }

    func expectedStreamError(_ code: String) throws -> (CryptoError) -> Bool {
        let words = code.split(separator: " ")
        switch words.first {
        case "stream-truncated": return { $0 == .streamTruncated }
        case "stream-malformed": return isStreamMalformed
        case "chunk-authentication-failed":
            guard words.count == 2, let index = UInt64(words[1]) else { break }
            return { $0 == .chunkAuthenticationFailed(chunk: index) }
        default: break
        }
        throw VectorCase.ParseError(description: "unknown stream error \(code)")
    }

    func checkStream(_ v: VectorCase) throws {
        let key = SecureBytes(copying: try v.bytes("key"))
        if v.expect == "failure" {
            let ciphertext = try v.bytes("ciphertext")
            let matches = try expectedStreamError(v["error"] ?? "")
            assertThrows(v["error"] ?? "", matching: matches) { () throws(CryptoError) in try streamDecrypt(ciphertext, key: key) }
            return
        }
        XCTAssertEqual(v["plaintext-pattern"], "byte i = i % 251", "\(v.name): the runner computes this pattern only")
        let plaintext = pattern(try v.number("plaintext-length"))
        let ciphertext = try streamEncrypt(plaintext, key: key)
        XCTAssertEqual(ciphertext.count, try v.number("ciphertext-length"), v.name)
        XCTAssertEqual(ContentStream.ciphertextSize(plaintextSize: UInt64(plaintext.count)), UInt64(ciphertext.count), v.name)
        switch v["body"] {
        case "ciphertext":
            let expected = try v.bytes("ciphertext")
            XCTAssertEqual(ciphertext.hex, expected.hex, v.name)
            // The other direction on the generator's own bytes.
            XCTAssertEqual(try streamDecrypt(expected, key: key), plaintext, v.name)
        case "sha256(ciphertext)":
            XCTAssertEqual(Hash.sha256(ciphertext).hex, try v.bytes("sha256(ciphertext)").hex, v.name)
            XCTAssertEqual(try streamDecrypt(ciphertext, key: key), plaintext, v.name)
        default:
            throw VectorCase.ParseError(description: "unknown stream body \(v["body"] ?? "")")
        }
    }

    func checkAEAD(_ v: VectorCase) throws {
        let key = SecureBytes(copying: try v.bytes("key"))
        let ad = try v.bytes("additional-data")
        let sealed = try v.bytes("sealed")
        if v.expect == "failure" {
            XCTAssertEqual(v["error"], "authentication-failed", v.name)
            assertThrows(.authenticationFailed) { () throws(CryptoError) in try AEAD.open(sealed, key: key, additionalData: ad) }
            return
        }
        let opened = try AEAD.open(sealed, key: key, additionalData: ad)
        XCTAssertEqual(opened.unsafeCopyToData(), try v.bytes("plaintext"), v.name)
    }

    func checkEd25519(_ v: VectorCase) throws {
        let pair = try SigningKeyPair(seed: SecureBytes(copying: try v.bytes("seed")))
        let message = try v.bytes("message")
        let publicKey = try v.bytes("public-key")
        let signature = try v.bytes("signature")
        XCTAssertEqual(pair.publicKey, publicKey, v.name)
        if v.expect == "failure" {
            XCTAssertEqual(v["error"], "invalid-signature", v.name)
            XCTAssertFalse(Signature.verify(signature, of: message, publicKey: publicKey), v.name)
            return
        }
        XCTAssertEqual(pair.sign(message).hex, signature.hex, v.name)
        XCTAssertTrue(Signature.verify(signature, of: message, publicKey: publicKey), v.name)
    }

    func checkX25519(_ v: VectorCase) throws {
        let pair = try BoxKeyPair(seed: SecureBytes(copying: try v.bytes("seed")))
        let secretKey = try v.bytes("secret-key")
        let publicKey = try v.bytes("public-key")
        XCTAssertEqual(pair.secretKey.unsafeCopyToData().hex, secretKey.hex, v.name)
        XCTAssertEqual(pair.publicKey.hex, publicKey.hex, v.name)
        // The stored secret key alone gives back the same public key.
        XCTAssertEqual(try BoxKeyPair(secretKey: SecureBytes(copying: secretKey)).publicKey, publicKey, v.name)
    }

    func checkSHA256(_ v: VectorCase) throws {
        let message = try v.bytes("message")
        let digest = try v.bytes("digest")
        XCTAssertEqual(Hash.sha256(message).hex, digest.hex, v.name)
        // Incremental, cut in three at a few places.
        for (a, b) in [(0, 0), (1, 2), (message.count / 3, message.count / 2), (message.count, message.count)] {
            var h = SHA256()
            h.update(message.prefix(a))
            h.update(message.dropFirst(a).prefix(b - a))
            h.update(message.dropFirst(b))
            let incremental = h.finalize()
            XCTAssertEqual(incremental.hex, digest.hex, "\(v.name) cut at \(a), \(b)")
        }
    }

    func checkBLAKE2b(_ v: VectorCase) throws {
        let digest = try v.bytes("digest")
        let length = try v.number("length")
        XCTAssertEqual(digest.count, length, v.name)
        let result = Hash.blake2b(try v.bytes("message"), length: length, key: try v.optionalBytes("key"))
        XCTAssertEqual(result.hex, digest.hex, v.name)
    }

    func checkArgon2id(_ v: VectorCase) throws {
        let parameters = Argon2idParameters(opsLimit: UInt32(try v.number("ops")), memoryKiB: UInt32(try v.number("memory-kib")))
        let key = try PasswordHash.deriveKey(
            passphrase: SecureBytes(copying: try v.bytes("passphrase")), salt: try v.bytes("salt"),
            parameters: parameters, length: try v.number("length"))
        XCTAssertEqual(key.unsafeCopyToData().hex, try v.bytes("key").hex, v.name)
    }
}
