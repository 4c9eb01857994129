import DossierCrypto
import XCTest

@testable import DossierCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Behaviour of identity files, public lines, fingerprints and passphrase files.
final class IdentityTests: XCTestCase {
    private var folder: String!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-identity-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: folder)
    }

    // MARK: Helpers

    private func path(_ name: String) -> String { folder + "/" + name }

    private func entries() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
    }

    private func mode(_ path: String) -> mode_t {
        var st = stat()
        XCTAssertEqual(stat(path, &st), 0, path)
        return st.st_mode & 0o7777
    }

    private func setMode(_ path: String, _ mode: mode_t) {
        XCTAssertEqual(chmod(path, mode), 0)
    }

    private func make(_ name: String, _ content: String, mode: Int = 0o600) -> String {
        let p = path(name)
        XCTAssertTrue(FileManager.default.createFile(atPath: p, contents: Data(content.utf8), attributes: [.posixPermissions: mode]))
        return p
    }

    private func identity(_ name: String = "alice") -> SecretIdentity {
        SecretIdentity.generate(using: DeterministicRandom(seed: "identity tests: \(name)"))
    }

    private func secure(_ text: String) -> SecureBytes { SecureBytes(copying: Data(text.utf8)) }

    private func passphrase(_ text: String) -> SecretIdentity.Protection {
        .passphrase(secure(text), .testingOnly)
    }

    /// A passphrase prompt that counts how often it is asked.
    private final class Prompt {
        var asked = 0
        let answer: String?
        init(_ answer: String?) { self.answer = answer }
        func callAsFunction() throws(DossierError) -> SecureBytes {
            asked += 1
            guard let answer else { throw .passphraseRequired(path: "test") }
            return SecureBytes(copying: Data(answer.utf8))
        }
    }

    private func load(_ path: String, _ prompt: Prompt) throws -> SecretIdentity {
        try SecretIdentity.load(path: path) { () throws(DossierError) -> SecureBytes in try prompt() }
    }

    private func assertError<T>(_ expression: @autoclosure () throws -> T, file: StaticString = #filePath, line: UInt = #line,
                                _ matches: (DossierError) -> Bool) {
        XCTAssertThrowsError(try expression(), file: file, line: line) { error in
            guard let e = error as? DossierError else { return XCTFail("not a DossierError: \(error)", file: file, line: line) }
            XCTAssertTrue(matches(e), "unexpected error \(e)", file: file, line: line)
        }
    }

    private func assertSameKeys(_ a: SecretIdentity, _ b: SecretIdentity, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.publicIdentity, b.publicIdentity, file: file, line: line)
        XCTAssertTrue(a.encryption.secretKey.constantTimeEquals(b.encryption.secretKey), file: file, line: line)
        XCTAssertTrue(a.signing.seed.constantTimeEquals(b.signing.seed), file: file, line: line)
    }

    // MARK: Write and load

    func testWriteThenLoadWithPassphrase() throws {
        let alice = identity()
        let p = path("alice.key")
        try alice.write(to: p, protection: passphrase("a long passphrase"))
        XCTAssertTrue(try SecretIdentity.needsPassphrase(path: p))
        let prompt = Prompt("a long passphrase")
        let loaded = try load(p, prompt)
        XCTAssertEqual(prompt.asked, 1)
        assertSameKeys(alice, loaded)
        // The loaded keys work: what is sealed to the public half opens, signatures verify.
        let sealed = try SealedBox.seal(secure("document key"), to: loaded.publicIdentity.encryptionKey)
        XCTAssertEqual(try SealedBox.open(sealed, with: loaded.encryption).unsafeCopyToData(), Data("document key".utf8))
        let signature = loaded.signing.sign(Data("message".utf8))
        XCTAssertTrue(Signature.verify(signature, of: Data("message".utf8), publicKey: alice.publicIdentity.signingKey))
    }

    func testWriteThenLoadUnprotected() throws {
        let alice = identity()
        let p = path("alice.key")
        try alice.write(to: p, protection: .none)
        XCTAssertFalse(try SecretIdentity.needsPassphrase(path: p))
        let prompt = Prompt(nil)
        let loaded = try load(p, prompt)
        XCTAssertEqual(prompt.asked, 0, "an unprotected file must not ask for a passphrase")
        assertSameKeys(alice, loaded)
    }

    func testPassphraseIsBytesNotNormalisedText() throws {
        // "é" precomposed and decomposed are the same text but different bytes: the file is
        // bound to the bytes.
        let p = path("alice.key")
        try identity().write(to: p, protection: passphrase("caf\u{e9} au lait, noir"))
        XCTAssertNoThrow(try load(p, Prompt("caf\u{e9} au lait, noir")))
        assertError(try load(p, Prompt("cafe\u{301} au lait, noir"))) { if case .wrongPassphrase = $0 { true } else { false } }
    }

    func testWrongPassphrase() throws {
        let p = path("alice.key")
        try identity().write(to: p, protection: passphrase("right passphrase"))
        for wrong in ["wrong", "Right passphrase", "right passphrase ", "", "right passphras"] {
            assertError(try load(p, Prompt(wrong))) {
                if case .wrongPassphrase(p) = $0 { true } else { false }
            }
        }
    }

    func testPromptErrorIsPassedOn() throws {
        let p = path("alice.key")
        try identity().write(to: p, protection: passphrase("right passphrase"))
        assertError(try load(p, Prompt(nil))) { if case .passphraseRequired = $0 { true } else { false } }
    }

    func testGroupOrWorldReadableFileRefused() throws {
        let p = path("alice.key")
        try identity().write(to: p, protection: passphrase("right passphrase"))
        for insecure: mode_t in [0o640, 0o604, 0o644, 0o660, 0o620, 0o602, 0o666] {
            setMode(p, insecure)
            let prompt = Prompt("right passphrase")
            assertError(try load(p, prompt)) {
                if case let .insecurePermissions(q, m) = $0 { q == p && mode_t(m) == insecure } else { false }
            }
            XCTAssertEqual(prompt.asked, 0, "asked for the passphrase of a file others can read")
        }
        setMode(p, 0o400)
        XCTAssertNoThrow(try load(p, Prompt("right passphrase")), "an owner-only read-only file is private")
        setMode(p, 0o600)
        XCTAssertNoThrow(try load(p, Prompt("right passphrase")))
    }

    func testUnprotectedGroupReadableFileRefused() throws {
        let p = path("alice.key")
        try identity().write(to: p, protection: .none)
        setMode(p, 0o640)
        assertError(try load(p, Prompt(nil))) { if case .insecurePermissions = $0 { true } else { false } }
    }

    func testWrittenFileIsPrivate() throws {
        for (name, protection) in [("a", passphrase("a long passphrase")), ("b", .none)] {
            let p = path(name)
            try identity().write(to: p, protection: protection)
            XCTAssertEqual(mode(p), 0o600, name)
            XCTAssertNoThrow(try FileAccess.requirePrivate(path: p))
        }
        XCTAssertEqual(try entries(), ["a", "b"], "temporary files left behind")
    }

    func testWriteRefusesExistingFileAndLeavesIt() throws {
        let p = make("alice.key", "precious", mode: 0o600)
        assertError(try identity().write(to: p, protection: passphrase("a long passphrase"))) {
            if case .fileExists(p) = $0 { true } else { false }
        }
        XCTAssertEqual(FileManager.default.contents(atPath: p), Data("precious".utf8))
        XCTAssertEqual(try entries(), ["alice.key"], "temporary files left behind")

        // Not even an existing identity file is replaced by another.
        let q = path("bob.key")
        let bob = identity("bob")
        try bob.write(to: q, protection: .none)
        let before = FileManager.default.contents(atPath: q)
        assertError(try identity("carol").write(to: q, protection: .none)) { if case .fileExists = $0 { true } else { false } }
        XCTAssertEqual(FileManager.default.contents(atPath: q), before)
        assertSameKeys(try load(q, Prompt(nil)), bob)
    }

    func testEmptyPassphraseRefused() throws {
        let p = path("alice.key")
        assertError(try identity().write(to: p, protection: passphrase(""))) {
            if case .emptyPassphrase = $0 { true } else { false }
        }
        assertError(try identity().fileText(protection: passphrase(""))) {
            if case .emptyPassphrase = $0 { true } else { false }
        }
        XCTAssertEqual(try entries(), [], "nothing may be written")
    }

    func testOutOfRangeArgon2ParametersRefusedOnWrite() throws {
        let p = path("alice.key")
        for parameters in [Argon2idParameters(opsLimit: 0, memoryKiB: 8), Argon2idParameters(opsLimit: 17, memoryKiB: 8),
                           Argon2idParameters(opsLimit: 1, memoryKiB: 4)] {
            assertError(try identity().write(to: p, protection: .passphrase(secure("a long passphrase"), parameters))) {
                if case .crypto(_, .invalidKeyDerivationParameters) = $0 { true } else { false }
            }
        }
        XCTAssertEqual(try entries(), [])
    }

    func testEveryProtectedWriteDrawsFreshSaltAndNonce() throws {
        let alice = identity()
        let one = try alice.fileText(protection: passphrase("x"))
        let two = try alice.fileText(protection: passphrase("x"))
        XCTAssertNotEqual(one, two)
        XCTAssertEqual(one.count, two.count)
        // Without a passphrase the file is a function of the keys alone.
        XCTAssertEqual(try alice.fileText(protection: .none), try alice.fileText(protection: .none))
    }

    func testFileTextShape() throws {
        let alice = identity()
        for (protection, bodyCount) in [(SecretIdentity.Protection.none, 133), (passphrase("x"), 197)] {
            let text = try XCTUnwrap(String(data: try alice.fileText(protection: protection), encoding: .utf8))
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            XCTAssertEqual(lines.count, 3)
            XCTAssertEqual(lines[0], "DOSSIER-SECRET-KEY-1")
            XCTAssertEqual(lines[2], "")
            let body = try XCTUnwrap(Data(base64Encoded: String(lines[1])))
            XCTAssertEqual(body.count, bodyCount)
            XCTAssertEqual(body.prefix(5), Data("DSK".utf8) + [1, bodyCount == 133 ? 0 : 1])
            XCTAssertEqual(body[5..<37], alice.encryption.publicKey)
            XCTAssertEqual(body[37..<69], alice.signing.publicKey)
        }
    }

    func testProtectedFileHoldsNoSecretInTheClear() throws {
        let alice = identity()
        let text = try alice.fileText(protection: passphrase("x"))
        let lines = String(decoding: text, as: UTF8.self).split(separator: "\n")
        let body = try XCTUnwrap(Data(base64Encoded: String(lines[1])))
        XCTAssertNil(body.range(of: alice.encryption.secretKey.unsafeCopyToData()))
        XCTAssertNil(body.range(of: alice.signing.seed.unsafeCopyToData()))
    }

    func testPublicHalfWithoutPassphrase() throws {
        let alice = identity()
        let p = path("alice.key")
        try alice.write(to: p, protection: passphrase("a long passphrase"))
        let text = try FileAccess.readSmallText(path: p, limit: 4096)
        XCTAssertEqual(try SecretIdentity.publicHalf(ofFileText: text, path: p), alice.publicIdentity)
    }

    func testLoadRefusesMissingFolderAndHugeFiles() throws {
        assertError(try load(path("missing"), Prompt(nil))) { if case .fileNotFound = $0 { true } else { false } }
        let sub = path("sub")
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        assertError(try load(sub, Prompt(nil))) { if case .notARegularFile = $0 { true } else { false } }
        let huge = make("huge", "DOSSIER-SECRET-KEY-1\n" + String(repeating: "A", count: 70_000) + "\n")
        assertError(try load(huge, Prompt(nil))) { if case .fileUnreadable = $0 { true } else { false } }
    }

    func testGenerateIsReproducibleWithInjectedRandomness() {
        XCTAssertEqual(identity("x").publicIdentity, identity("x").publicIdentity)
        XCTAssertNotEqual(identity("x").publicIdentity, identity("y").publicIdentity)
        XCTAssertNotEqual(SecretIdentity.generate().publicIdentity, SecretIdentity.generate().publicIdentity)
        let alice = identity()
        XCTAssertNotEqual(alice.encryption.publicKey, alice.signing.publicKey)
    }

    func testDescriptionsHideSecrets() {
        let alice = identity()
        let secretHex = [alice.encryption.secretKey.unsafeCopyToData().hex, alice.signing.seed.unsafeCopyToData().hex]
        for text in [String(describing: alice), String(reflecting: alice), "\(alice.encryption)", "\(alice.signing)"] {
            for hex in secretHex { XCTAssertFalse(text.contains(hex)) }
            XCTAssertFalse(text.contains(alice.encryption.secretKey.unsafeCopyToData().base64EncodedString()))
        }
        XCTAssertTrue(String(describing: alice.signing.seed).contains("redacted"))
    }

    // MARK: Passphrase files

    func testPassphraseFile() throws {
        let cases: [(String, String)] = [
            ("secret\n", "secret"), ("secret", "secret"), ("secret\r\n", "secret"),
            ("two words\nsecond line\n", "two words"), (" spaces kept \n", " spaces kept "),
            ("caf\u{e9}\n", "caf\u{e9}"),
        ]
        for (i, (content, expected)) in cases.enumerated() {
            let p = make("pass\(i)", content)
            XCTAssertEqual(try Passphrase.read(fromFile: p).unsafeCopyToData(), Data(expected.utf8), content)
        }
    }

    func testPassphraseFileRefusals() throws {
        for (i, content) in ["", "\n", "\r\n", "\nsecret\n"].enumerated() {
            let p = make("empty\(i)", content)
            assertError(try Passphrase.read(fromFile: p)) { if case .emptyPassphrase = $0 { true } else { false } }
        }
        assertError(try Passphrase.read(fromFile: path("missing"))) { if case .fileNotFound = $0 { true } else { false } }
        let big = make("big", String(repeating: "x", count: 5000))
        assertError(try Passphrase.read(fromFile: big)) { if case .fileUnreadable = $0 { true } else { false } }
    }

    func testANewIdentityNeedsAPassphraseOfAtLeastTwelveCharacters() throws {
        let p = path("alice.key")
        // Characters, not bytes: eleven accented letters are eleven characters.
        for weak in ["x", "right", "elevenchars", "\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}"] {
            assertError(try identity().write(to: p, protection: passphrase(weak))) {
                if case .weakPassphrase(12) = $0 { true } else { false }
            }
            assertError(try Passphrase.requireStrength(secure(weak))) { if case .weakPassphrase = $0 { true } else { false } }
        }
        XCTAssertEqual(try entries(), [], "nothing may be written")
        let message = DossierError.weakPassphrase(minimumCharacters: 12)
        XCTAssertTrue(message.message.contains("at least 12 characters"), message.message)
        XCTAssertTrue(message.hint?.contains("--no-passphrase") ?? false)
        for strong in ["twelve chars", "four random words here", "\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}"] {
            XCTAssertNoThrow(try Passphrase.requireStrength(secure(strong)), strong)
        }
        try identity().write(to: p, protection: passphrase("twelve chars"))
        XCTAssertNoThrow(try load(p, Prompt("twelve chars")))
        // The way out for throwaway identities stays.
        try identity().write(to: path("throwaway.key"), protection: .none)
    }

    func testPassphraseFromFileUnlocks() throws {
        let p = path("alice.key")
        try identity().write(to: p, protection: passphrase("from a file, long enough"))
        let file = make("pass", "from a file, long enough\n")
        XCTAssertNoThrow(try SecretIdentity.load(path: p) { () throws(DossierError) -> SecureBytes in
            try Passphrase.read(fromFile: file)
        })
    }

    // MARK: Public lines

    func testPublicLineRoundTrip() throws {
        let pub = identity().publicIdentity
        let line = pub.line
        XCTAssertEqual(line.count, 117)
        XCTAssertTrue(line.hasPrefix("dossier1"))
        XCTAssertEqual(line, line.lowercased())
        XCTAssertEqual(pub.description, line)
        XCTAssertEqual(try PublicIdentity(line: line), pub)
        XCTAssertEqual(try PublicIdentity(line: "  \(line)\r\n"), pub)
        XCTAssertEqual(try PublicIdentity(line: line).line, line)
    }

    func testPublicIdentityKeyLengths() {
        let k = Data(repeating: 9, count: 32)
        XCTAssertNoThrow(try PublicIdentity(encryptionKey: k, signingKey: k))
        for (a, b) in [(Data(count: 31), k), (k, Data(count: 33)), (Data(), Data())] {
            assertError(try PublicIdentity(encryptionKey: a, signingKey: b)) {
                if case .malformedPublicIdentity = $0 { true } else { false }
            }
        }
    }

    /// Every single-character change to a public line is refused.
    func testEverySingleCharacterChangeIsRefused() throws {
        let line = Array(identity().publicIdentity.line)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        var accepted = [String]()
        for i in 8..<line.count {
            for c in alphabet where c != line[i] {
                var changed = line
                changed[i] = c
                if (try? PublicIdentity(line: String(changed))) != nil { accepted.append(String(changed)) }
            }
        }
        XCTAssertEqual(accepted, [])
    }

    func testResolveLine() throws {
        let pub = identity().publicIdentity
        XCTAssertEqual(try PublicIdentity.resolve(pub.line), pub)
        assertError(try PublicIdentity.resolve(pub.line + "a")) {
            if case .malformedPublicIdentity = $0 { true } else { false }
        }
    }

    func testResolvePublicFileWithComments() throws {
        let pub = identity().publicIdentity
        let plain = make("plain.pub", pub.line + "\n", mode: 0o644)
        XCTAssertEqual(try PublicIdentity.resolve(plain), pub)
        let commented = make("alice.pub", """
            # Alice, counsel at the Court of Appeal
            # fingerprint \(pub.fingerprint)

              \(pub.line)\t

            # end
            """, mode: 0o644)
        XCTAssertEqual(try PublicIdentity.resolve(commented), pub)
        let crlf = make("crlf.pub", "# comment\r\n\(pub.line)\r\n", mode: 0o644)
        XCTAssertEqual(try PublicIdentity.resolve(crlf), pub)
    }

    func testResolveSecretFileGivesPublicHalf() throws {
        let alice = identity()
        let protected = path("alice.key")
        try alice.write(to: protected, protection: passphrase("a long passphrase"))
        XCTAssertEqual(try PublicIdentity.resolve(protected), alice.publicIdentity)
        let unprotected = path("alice-open.key")
        try alice.write(to: unprotected, protection: .none)
        XCTAssertEqual(try PublicIdentity.resolve(unprotected), alice.publicIdentity)
    }

    func testResolveRefusesASecretFileOthersCanReadButNotAPublicLineFile() throws {
        let alice = identity()
        let p = path("alice.key")
        try alice.write(to: p, protection: .none)
        for insecure: mode_t in [0o640, 0o604, 0o644, 0o660, 0o620, 0o602] {
            setMode(p, insecure)
            assertError(try PublicIdentity.resolve(p)) {
                if case let .insecurePermissions(q, m) = $0 { q == p && mode_t(m) == insecure } else { false }
            }
        }
        setMode(p, 0o400)
        XCTAssertEqual(try PublicIdentity.resolve(p), alice.publicIdentity)
        // A public line is no secret: anyone may read its file.
        let pub = make("alice.pub", alice.publicIdentity.line + "\n", mode: 0o644)
        XCTAssertEqual(try PublicIdentity.resolve(pub), alice.publicIdentity)
    }

    func testResolveRefusals() throws {
        let a = identity("a").publicIdentity
        let b = identity("b").publicIdentity
        let two = make("two.pub", a.line + "\n" + b.line + "\n", mode: 0o644)
        assertError(try PublicIdentity.resolve(two)) {
            if case let .malformedPublicIdentity(reason) = $0 { reason.contains("exactly one public line") } else { false }
        }
        let none = make("none.pub", "# nothing here\n\n", mode: 0o644)
        assertError(try PublicIdentity.resolve(none)) { if case .malformedPublicIdentity = $0 { true } else { false } }
        let broken = make("broken.pub", String(a.line.dropLast()) + "q\n", mode: 0o644)
        assertError(try PublicIdentity.resolve(broken)) { if case .malformedPublicIdentity = $0 { true } else { false } }
        let org = make("org.pub", "dossierorg1aaaa\n", mode: 0o644)
        assertError(try PublicIdentity.resolve(org)) {
            if case let .malformedPublicIdentity(reason) = $0 { reason.contains("dossier1") } else { false }
        }
        assertError(try PublicIdentity.resolve(path("missing.pub"))) { if case .fileNotFound = $0 { true } else { false } }
        let corruptSecret = make("bad.key", "DOSSIER-SECRET-KEY-1\nnot base64\n")
        assertError(try PublicIdentity.resolve(corruptSecret)) {
            if case .malformedIdentityFile = $0 { true } else { false }
        }
    }

    func testSecretFileTextGivenAsLineIsRefusedWithHint() throws {
        let text = String(decoding: try identity().fileText(protection: .none), as: UTF8.self)
        assertError(try PublicIdentity(line: text)) {
            if case let .malformedPublicIdentity(reason) = $0 { reason.contains("SECRET") } else { false }
        }
    }

    // MARK: Fingerprints

    func testFingerprintShape() {
        for name in ["a", "b", "c", "d"] {
            let fp = identity(name).publicIdentity.fingerprint
            XCTAssertEqual(fp.count, 19, fp)
            let groups = fp.split(separator: "-", omittingEmptySubsequences: false)
            XCTAssertEqual(groups.count, 4, fp)
            XCTAssertTrue(groups.allSatisfy { $0.count == 4 }, fp)
            XCTAssertTrue(fp.allSatisfy { "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567-".contains($0) }, fp)
            XCTAssertEqual(Fingerprint.normalise(fp), fp)
        }
        XCTAssertNotEqual(identity("a").publicIdentity.fingerprint, identity("b").publicIdentity.fingerprint)
    }

    func testFingerprintFormula() {
        let pub = identity().publicIdentity
        let keys = pub.encryptionKey + pub.signingKey
        let digest = Hash.blake2b(Data("dossier-fingerprint/identity\n".utf8) + keys, length: 32)
        let code = Base32.encode(digest.prefix(10), uppercase: true)
        XCTAssertEqual(pub.fingerprint.replacingOccurrences(of: "-", with: ""), code)
        XCTAssertEqual(Fingerprint.of(domain: "identity", keys), pub.fingerprint)
    }

    func testFingerprintDomainsAreSeparate() {
        let keys = Data(repeating: 7, count: 32)
        XCTAssertNotEqual(Fingerprint.of(domain: "identity", keys), Fingerprint.of(domain: "organisation", keys))
        let org = try? OrganisationKey(signingKey: keys)
        XCTAssertEqual(org?.fingerprint, Fingerprint.of(domain: "organisation", keys))
    }

    func testNormaliseAcceptsWhatPeopleType() {
        let fp = "D7HA-W37P-MWVG-IY65"
        for typed in ["D7HA-W37P-MWVG-IY65", "d7ha-w37p-mwvg-iy65", "D7HAW37PMWVGIY65", "d7ha w37p mwvg iy65",
                      " D7HA-W37P-MWVG-IY65 ", "D7-HA-W3-7P-MW-VG-IY-65", "d7haW37p mwvg-IY65"] {
            XCTAssertEqual(Fingerprint.normalise(typed), fp, typed)
        }
    }

    func testNormaliseRefusesMalformed() {
        for typed in ["", "D7HA-W37P-MWVG-IY6", "D7HA-W37P-MWVG-IY655", "D7HA-W37P-MWVG-IY61", "D7HA-W37P-MWVG-IY60",
                      "D7HA-W37P-MWVG-IY68", "D7HA-W37P-MWVG-IY6!", "D7HA_W37P_MWVG_IY65", "D7HA.W37P.MWVG.IY65"] {
            XCTAssertNil(Fingerprint.normalise(typed), typed)
        }
    }

    /// A fingerprint is ASCII: letters outside A–Z must not be turned into fingerprint letters by
    /// upper-casing ("ß" becomes "SS"), nor combining marks let through. See the report.
    func testNormaliseRefusesNonASCII() {
        for typed in ["D7HA-W37P-MWVG-IYß", "D7HA-W37P-MWVG-IY6\u{0301}5", "D7HA-W37P-MWVG-IY6B\u{0300}",
                      "D7HA-W37P-MWVG-\u{FF29}Y65", "D7HA-W37P-MWVG-ＩY65", "ﬀ7HA-W37P-MWVG-IY6"] {
            XCTAssertNil(Fingerprint.normalise(typed), typed)
        }
    }

    // MARK: Organisation keys

    func testOrganisationKeyLine() throws {
        let signing = identity().signing.publicKey
        let org = try OrganisationKey(signingKey: signing)
        XCTAssertTrue(org.line.hasPrefix("dossierorg1"))
        XCTAssertEqual(org.line.count, 11 + 58)
        XCTAssertEqual(try OrganisationKey(line: org.line), org)
        XCTAssertEqual(try OrganisationKey(line: org.line + "\n"), org)
        let checksum = Hash.blake2b(Data("dossierorg1".utf8) + signing, length: 32).prefix(4)
        XCTAssertEqual(Base32.decode(org.line.dropFirst(11)), signing + checksum)
        var changed = Array(org.line)
        changed[20] = changed[20] == "a" ? "b" : "a"
        assertError(try OrganisationKey(line: String(changed))) { if case .malformedOrganisationKey = $0 { true } else { false } }
        assertError(try OrganisationKey(line: identity().publicIdentity.line)) {
            if case .malformedOrganisationKey = $0 { true } else { false }
        }
        assertError(try OrganisationKey(signingKey: Data(count: 31))) { if case .malformedOrganisationKey = $0 { true } else { false } }
    }
}
