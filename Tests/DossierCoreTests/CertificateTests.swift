import DossierCrypto
import Foundation
import XCTest

@testable import DossierCore

/// The organisation root file and the certificate format (docs/formats/identity.md, sections 6
/// and 7), and certificates in a vault: issuing, listing, renewing, revoking.
final class CertificateTests: XCTestCase {
    // MARK: The vector

    enum Vector {
        static let rootSeed = "certificate-vector/root"
        static let subjectSeed = "certificate-vector/subject"
        static let serialSeed = "certificate-vector/serial"
        static let organisation = "example.org/dossier"
        static let notBefore = "2027-01-01T00:00:00.000Z"

        static var root: OrganisationRoot { OrganisationRoot.generate(using: DeterministicRandom(seed: rootSeed)) }
        static var subject: SecretIdentity { SecretIdentity.generate(using: DeterministicRandom(seed: subjectSeed)) }

        static func make() -> Certificate {
            Certificate.issue(by: root, organisation: organisation, subject: subject.publicIdentity, role: .staff,
                              notBefore: Timestamp.parse(notBefore)!, validity: 30 * 86400, random: DeterministicRandom(seed: serialSeed))
        }
    }

    static var sourceFolder: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors/certificate") }

    static func vectorData(_ file: String) throws -> Data {
        let folder = try XCTUnwrap(Bundle.module.url(forResource: "Vectors", withExtension: nil)).appendingPathComponent("certificate")
        return try Data(contentsOf: folder.appendingPathComponent(file))
    }

    /// `DOSSIER_WRITE_CERTIFICATE_VECTORS=1` writes the vector; otherwise the checked-in bytes
    /// must be what the seeds give, and verify under the recorded root.
    func testVector() throws {
        let c = Vector.make()
        if ProcessInfo.processInfo.environment["DOSSIER_WRITE_CERTIFICATE_VECTORS"] == "1" {
            try c.bytes.write(to: Self.sourceFolder.appendingPathComponent("basic.cert"))
            let header = ["root-seed: \(Vector.rootSeed)", "root: \(Vector.root.key.line)", "root-fingerprint: \(Vector.root.key.fingerprint)",
                          "root-ed25519-public: \(Vector.root.signing.publicKey.hex)",
                          "subject-seed: \(Vector.subjectSeed)", "subject-fingerprint: \(c.fingerprint)",
                          "serial-random-seed: \(Vector.serialSeed)", "body-bytes: \(c.body.count)", "certificate-sha256: \(c.sha256)",
                          "line: \(c.line)"]
            try (header.joined(separator: "\n") + "\n").write(to: Self.sourceFolder.appendingPathComponent("basic.txt"), atomically: true, encoding: .utf8)
        }
        let checkedIn = try Self.vectorData("basic.cert")
        XCTAssertEqual(checkedIn, c.bytes, "basic.cert is not what the seeds give: the format changed")
        let parsed = try Certificate.parse(checkedIn)
        XCTAssertEqual(parsed, c)
        XCTAssertTrue(parsed.signatureValid)
        XCTAssertNoThrow(try parsed.check(root: Vector.root.key, organisation: Vector.organisation, role: .staff,
                                          at: Timestamp.parse("2027-01-15T00:00:00.000Z"), context: "vector"))
        let text = try XCTUnwrap(String(data: try Self.vectorData("basic.txt"), encoding: .utf8))
        XCTAssertTrue(text.contains("certificate-sha256: \(c.sha256)\n"))
        XCTAssertTrue(text.contains("line: \(c.line)\n"))
        // The signature is Ed25519 over exactly the lines before `signature`.
        XCTAssertTrue(Signature.verify(c.signature, of: Data(checkedIn.prefix(c.body.count)), publicKey: Vector.root.signing.publicKey))
        XCTAssertEqual(try Certificate.parse(line: c.line), c)
    }

    // MARK: Parsing

    func testMalformedCertificatesAreRefused() throws {
        let good = String(decoding: Vector.make().bytes, as: UTF8.self)
        var cases: [(String, String)] = [
            ("version", good.replacingOccurrences(of: "dossier-certificate/1", with: "dossier-certificate/2")),
            ("role", good.replacingOccurrences(of: "role staff", with: "role admin")),
            ("trailing space", good.replacingOccurrences(of: "role staff\n", with: "role staff \n")),
            ("extra line", good + "comment hello\n"),
            ("no final newline", String(good.dropLast())),
            ("CRLF", good.replacingOccurrences(of: "\n", with: "\r\n")),
            ("missing line", good.replacingOccurrences(of: "role staff\n", with: "")),
            ("bad time", good.replacingOccurrences(of: "not-before 2027-01-01T00:00:00.000Z", with: "not-before 2027-01-01T00:00:00Z")),
            ("reversed period", good.replacingOccurrences(of: "not-before 2027-01-01", with: "not-before 2028-01-01")),
            ("bad serial", good.replacingOccurrences(of: "serial cert-", with: "serial crt-")),
            ("short signature", good.replacingOccurrences(of: "signature ", with: "signature AAAA")),
        ]
        // Non-canonical base64 in the signature: flip the unused low bits of the last character.
        let sigLine = good.split(separator: "\n").last!
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        let last = sigLine.dropLast(2).last!   // "…X==": X carries 2 bits of data and 4 unused bits
        let other = alphabet[alphabet.firstIndex(of: last)! ^ 1]
        cases.append(("non-canonical base64", good.replacingOccurrences(of: String(sigLine), with: String(sigLine.dropLast(3)) + String(other) + "==")))
        for (name, text) in cases {
            assertDossierError("malformedCertificate", name) { try Certificate.parse(Data(text.utf8)) }
        }
        assertDossierError("malformedCertificate") { try Certificate.parse(line: Vector.make().line + "=") }
        assertDossierError("malformedCertificate") { try Certificate.parse(Data(count: Certificate.maximumBytes + 1)) }
    }

    func testCheckRefusesAnotherRootABadSignatureAndTheWrongRoleOrTime() throws {
        let c = Vector.make()
        let other = OrganisationRoot.generate(using: DeterministicRandom(seed: "certificate-tests/other-root"))
        let at = Timestamp.parse("2027-01-15T00:00:00.000Z")!
        assertDossierError("certificateInvalid") { try c.check(root: other.key, organisation: nil, role: nil, at: at, context: "t") }
        assertDossierError("certificateInvalid") { try c.check(root: Vector.root.key, organisation: "other.example/x", role: nil, at: at, context: "t") }
        assertDossierError("certificateInvalid") { try c.check(root: Vector.root.key, organisation: nil, role: .service, at: at, context: "t") }
        var sig = c.signature
        sig[0] ^= 1
        let forged = Certificate(organisation: c.organisation, root: c.root, serial: c.serial, subject: c.subject, role: c.role,
                                 notBefore: c.notBefore, notAfter: c.notAfter, signature: sig)
        assertDossierError("certificateInvalid") { try forged.check(root: Vector.root.key, organisation: nil, role: nil, at: nil, context: "t") }
        // A certificate re-signed by another root while naming the pinned one.
        let resigned = Certificate(organisation: c.organisation, root: c.root, serial: c.serial, subject: c.subject, role: c.role,
                                   notBefore: c.notBefore, notAfter: c.notAfter, signature: other.signing.sign(c.body))
        assertDossierError("certificateInvalid") { try resigned.check(root: Vector.root.key, organisation: nil, role: nil, at: nil, context: "t") }
        // Both ends of the period are included.
        XCTAssertNoThrow(try c.check(root: Vector.root.key, organisation: nil, role: .staff, at: Timestamp.parse(c.notAfter), context: "t"))
        XCTAssertNoThrow(try c.check(root: Vector.root.key, organisation: nil, role: .staff, at: Timestamp.parse(c.notBefore), context: "t"))
        let late = assertDossierError("certificateNotCurrent") {
            try c.check(root: Vector.root.key, organisation: nil, role: .staff, at: Timestamp.parse(c.notAfter)!.addingTimeInterval(0.001), context: "t")
        }
        XCTAssertTrue(late?.message.contains("expired") ?? false)
        assertDossierError("certificateNotCurrent") {
            try c.check(root: Vector.root.key, organisation: nil, role: .staff, at: Timestamp.parse(c.notBefore)!.addingTimeInterval(-0.001), context: "t")
        }
    }

    // MARK: The root file

    func testRootFileRoundTripsAndIsProtected() throws {
        let folder = try makeTemporaryFolder()
        let root = OrganisationRoot.generate()
        let pass = SecureBytes(copying: Data("correct horse battery staple".utf8))
        let path = folder.file("org-root.key")
        try root.write(to: path, protection: .passphrase(pass, .testingOnly))
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(text.hasPrefix(OrganisationRoot.marker + "\n"))
        XCTAssertFalse(contains(try readFile(path), root.signing.seed.unsafeCopyToData()), "the seed must not be in the file in the clear")
        var st = stat()
        XCTAssertEqual(stat(path, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o600)
        XCTAssertEqual(try OrganisationRoot.publicKey(path: path), root.key)
        let loaded = try OrganisationRoot.load(path: path) { () throws(DossierError) in pass }
        XCTAssertEqual(loaded.signing.publicKey, root.signing.publicKey)
        assertDossierError("wrongPassphrase") {
            try OrganisationRoot.load(path: path) { () throws(DossierError) in SecureBytes(copying: Data("wrong passphrase!!".utf8)) }
        }
        // Never over an existing file; a weak passphrase is refused.
        assertDossierError("fileExists") { try root.write(to: path, protection: .none) }
        assertDossierError("weakPassphrase") { try root.write(to: folder.file("weak.key"), protection: .passphrase(SecureBytes(copying: Data("short".utf8)), .testingOnly)) }
        // Group- or world-readable: refused before any passphrase is asked.
        chmod(path, 0o640)
        assertDossierError("insecurePermissions") { try OrganisationRoot.load(path: path) { () throws(DossierError) in XCTFail("asked"); return pass } }
        chmod(path, 0o600)
        // Unprotected (tests, demonstrations) and the wrong kind of file.
        let plain = folder.file("plain.key")
        try root.write(to: plain, protection: .none)
        XCTAssertEqual(try OrganisationRoot.load(path: plain) { () throws(DossierError) in XCTFail("asked"); return pass }.key, root.key)
        let identityFile = folder.file("staff.key")
        try SecretIdentity.generate().write(to: identityFile, protection: .none)
        assertDossierError("malformedRootFile") { try OrganisationRoot.load(path: identityFile) { () throws(DossierError) in pass } }
    }

    // MARK: In a vault

    func makeRootVault(validity: TimeInterval = Certificate.defaultValidity) throws -> (VaultFixture, OrganisationRoot) {
        let folder = try makeTemporaryFolder(label: "dossier-vault")
        let path = folder.file("vault")
        let root = OrganisationRoot.generate(using: DeterministicRandom(seed: "root/" + name))
        let founder = TestIdentity.make("alice")
        let vault = try Vault.create(at: path, organisation: "test.example/dossier", founder: founder, founderName: "Alice Founder",
                                     root: root, certificateValidity: validity, clock: testClock, random: DeterministicRandom(seed: "vault/" + name))
        return (VaultFixture(folder: folder, path: path, vault: vault, founder: founder, session: try vault.unlock(founder)), root)
    }

    func testInitKeepsOnlyThePublicRootAndCertifiesTheFounder() throws {
        let (v, root) = try makeRootVault()
        XCTAssertEqual(try v.vault.organisation().publicKey, root.key.line)
        XCTAssertFalse(try v.vault.organisationKeyInVault())
        assertDossierError("integrity") { try v.session.organisationSigningKey() }
        // No byte of the root's seed anywhere in the vault's files.
        let seed = root.signing.seed.unsafeCopyToData()
        for file in regularFiles(under: v.path) { XCTAssertFalse(contains(try readFile(file), seed), file) }
        let certs = try v.vault.certificates()
        XCTAssertEqual(certs.count, 1)
        XCTAssertEqual(certs[0].fingerprint, v.founder.publicIdentity.fingerprint)
        XCTAssertEqual(certs[0].state, .valid)
        XCTAssertEqual(certs[0].certificate?.notAfter, Timestamp.format(testDate.addingTimeInterval(30 * 86400)))
        let log = try rawLog(v).map { try AuditEntry.parse($0.bytes) }
        XCTAssertEqual(log.map(\.action), ["init", "certify"])
        XCTAssertEqual(log[1].details.first { $0.key == "certificate-sha256" }?.value, certs[0].sha256)
        XCTAssertEqual(try Certificate.parse(line: try XCTUnwrap(log[1].details.first { $0.key == "certificate" }?.value)).sha256, certs[0].sha256)
    }

    func testCertifyRenewsRefusesAnotherRootAndStaffRemoveRevokes() throws {
        let (v, root) = try makeRootVault()
        let bob = TestIdentity.make("bob")
        _ = try v.session.staff.add(bob.publicIdentity, name: "Bob")
        let fp = bob.publicIdentity.fingerprint
        let other = OrganisationRoot.generate(using: DeterministicRandom(seed: "other root"))
        assertDossierError("wrongRoot") { try v.session.staff.certify(fp, root: other, rootPath: "other.key") }
        assertDossierError("invalidArgument") { try v.session.staff.certify(fp, root: root, rootPath: "r", validity: 400 * 86400) }
        assertDossierError("unknownStaff") { try v.session.staff.certify(TestIdentity.make("nobody").publicIdentity.fingerprint, root: root, rootPath: "r") }
        let first = try v.session.staff.certify(fp, root: root, rootPath: "r", validity: 86400)
        let renewed = try v.session.staff.certify(fp, root: root, rootPath: "r", validity: 7 * 86400)
        XCTAssertNotEqual(first.serial, renewed.serial)
        let bobSession = try v.vault.unlock(bob)
        XCTAssertEqual(try bobSession.currentCertificate().serial, renewed.serial, "the one valid longest is used")
        try v.session.staff.remove(fp)
        let states = try v.vault.certificates().filter { $0.fingerprint == fp }.map(\.state)
        XCTAssertEqual(states, [.revoked, .revoked])
        let log = try rawLog(v).map { try AuditEntry.parse($0.bytes) }
        XCTAssertEqual(log.filter { $0.action == "certificate-revoke" }.count, 2)
        XCTAssertEqual(log.filter { $0.action == "certify" }.count, 3)
        // A removed member cannot be certified again.
        assertDossierError("unknownStaff") { try v.session.staff.certify(fp, root: root, rootPath: "r") }
        // The log still verifies (the new actions do not change who may sign).
        XCTAssertNoThrow(try AuditVerifier.verify(try v.vault.logSnapshot()))
    }

    func testAStoredCertificateThatWasAlteredIsListedInvalidAndNotUsed() throws {
        let (v, _) = try makeRootVault()
        let db = try rawDatabase(v)
        try db.write { db in
            let bytes = try Data.fetchOne(db, sql: "SELECT certificate FROM certificates")!
            let altered = Data(String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "not-after 2027-02-14", with: "not-after 2099-02-14").utf8)
            try db.execute(sql: "UPDATE certificates SET certificate = ?", arguments: [altered])
        }
        XCTAssertEqual(try v.vault.certificates().map(\.state), [.invalid])
        assertDossierError("noCurrentCertificate") { try v.session.currentCertificate() }
    }
}
