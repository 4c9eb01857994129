import DossierCrypto
import Foundation
import GRDB
import XCTest

@testable import DossierCore

/// The organisation root's certificate of the intake key (request.md section 2.3): the checked-in
/// vector and every malformed or mis-issued variant, what `init` stores and how an edit of it is
/// refused, `--certify` with the right and the wrong root, and counsel's side: keeping a
/// certificate only for a trusted root, and resolving `request new --org`.
final class IntakeCertificateTests: XCTestCase {
    enum V {
        static let rootSeed = "intake-certificate-vector/root"
        static var root: OrganisationRoot { OrganisationRoot.generate(using: DeterministicRandom(seed: rootSeed)) }
        static var intake: IntakeKey {
            try! IntakeKey(encryptionKey: BoxKeyPair.generate(using: DeterministicRandom(seed: "intake-certificate-vector/intake")).publicKey)
        }
        static let issued = Timestamp.parse("2027-01-01T00:00:00.000Z")!
    }

    static var sourceFolder: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors/intake-certificate") }

    private func vector() throws -> Data {
        let folder = try XCTUnwrap(Bundle.module.url(forResource: "Vectors", withExtension: nil)).appendingPathComponent("intake-certificate")
        return try Data(contentsOf: folder.appendingPathComponent("basic.cert"))
    }

    /// `DOSSIER_WRITE_INTAKE_CERTIFICATE_VECTORS=1` rewrites basic.cert.
    func testVectorReadsChecksAndIsReproducedByTheWriter() throws {
        let issued = IntakeCertificate.issue(by: V.root, organisation: "example.org/dossier", intake: V.intake, notBefore: V.issued)
        if ProcessInfo.processInfo.environment["DOSSIER_WRITE_INTAKE_CERTIFICATE_VECTORS"] == "1" {
            try FileManager.default.createDirectory(at: Self.sourceFolder, withIntermediateDirectories: true)
            try issued.bytes.write(to: Self.sourceFolder.appendingPathComponent("basic.cert"))
        }
        let bytes = try vector()
        // Ed25519 is deterministic: the writer gives the vector byte for byte.
        XCTAssertEqual(issued.bytes, bytes)
        let c = try IntakeCertificate.parse(bytes)
        XCTAssertEqual(c.root, V.root.key)
        XCTAssertEqual(c.intake, V.intake)
        XCTAssertEqual(c.notAfter, "2028-01-02T00:00:00.000Z")
        XCTAssertNoThrow(try c.check(root: V.root.key, organisation: "example.org/dossier", at: V.issued, context: "v"))
        XCTAssertTrue(String(decoding: bytes, as: UTF8.self).hasPrefix("dossier-intake-certificate/1\norganisation example.org/dossier\nroot dossierorg1"))
    }

    func testEveryAlterationIsRefused() throws {
        let bytes = try vector()
        let text = String(decoding: bytes, as: UTF8.self)
        let lines = text.split(separator: "\n").map(String.init)
        func malformed(_ t: String, _ why: String) {
            assertDossierError("malformedCertificate", why) { _ = try IntakeCertificate.parse(Data(t.utf8)) }
        }
        malformed(text.replacingOccurrences(of: "dossier-intake-certificate/1", with: "dossier-certificate/1"), "another header")
        malformed(text.replacingOccurrences(of: "dossier-intake-certificate/1", with: "dossier-intake-certificate/2"), "another version")
        malformed(String(text.dropLast()), "no final newline")
        malformed(text + "extra line\n", "a line too many")
        malformed(([lines[0], lines[2], lines[1]] + lines[3...]).joined(separator: "\n") + "\n", "lines reordered")
        malformed(text.replacingOccurrences(of: "intake dossierintake1", with: "intake dossierorg1"), "not an intake line")
        malformed(text.replacingOccurrences(of: "not-after 2028", with: "not-after 2026"), "not-after before not-before")
        malformed(text.replacingOccurrences(of: "\norganisation ", with: "\norganisation  "), "not canonical")
        malformed(text + String(repeating: "x", count: 5000), "oversize")
        // Well-formed but not the root's: the signature no longer verifies.
        let other = try IntakeKey(encryptionKey: BoxKeyPair.generate(using: DeterministicRandom(seed: "intake-certificate/other")).publicKey)
        let swapped = try IntakeCertificate.parse(Data(text.replacingOccurrences(of: V.intake.line, with: other.line).utf8))
        assertDossierError("certificateInvalid", "intake key swapped") { try swapped.check(root: V.root.key, at: V.issued, context: "v") }
        let renamed = try IntakeCertificate.parse(Data(text.replacingOccurrences(of: "example.org/dossier", with: "example.org/other").utf8))
        assertDossierError("certificateInvalid", "organisation renamed") { try renamed.check(root: V.root.key, at: V.issued, context: "v") }
        // By another root, re-signed properly: not the pinned one.
        let stranger = OrganisationRoot.generate(using: DeterministicRandom(seed: "intake-certificate/stranger"))
        let foreign = IntakeCertificate.issue(by: stranger, organisation: "example.org/dossier", intake: V.intake, notBefore: V.issued)
        assertDossierError("certificateInvalid", "another root") { try foreign.check(root: V.root.key, at: V.issued, context: "v") }
        // Time: both ends included, then refused.
        let c = try IntakeCertificate.parse(bytes)
        let na = try XCTUnwrap(Timestamp.parse(c.notAfter))
        XCTAssertNoThrow(try c.check(root: V.root.key, at: na, context: "v"))
        assertDossierError("intakeCertificateNotCurrent", "expired") { try c.check(root: V.root.key, at: na.addingTimeInterval(0.001), context: "v") }
        assertDossierError("intakeCertificateNotCurrent", "not yet valid") { try c.check(root: V.root.key, at: V.issued.addingTimeInterval(-1), context: "v") }
    }

    // MARK: The vault

    func testInitCertifiesTheIntakeKeyAndAnEditedCertificateIsRefused() throws {
        let root = OrganisationRoot.generate(using: DeterministicRandom(seed: "intake-certificate/vault-root"))
        let w = try ShareWorld("intake-certificate/init", organisationRoot: root)
        let c = try XCTUnwrap(try w.vault.intakeCertificate())
        XCTAssertEqual(c.root, root.key)
        XCTAssertEqual(c.intake, try w.vault.intakeKey())
        XCTAssertEqual(c.organisation, "example.org/dossier")
        XCTAssertEqual(c.notBefore, Timestamp.format(ShareKit.clock().now()))
        // A vault that keeps its organisation key (older format) certifies with it.
        let old = try ShareWorld("intake-certificate/old-format")
        XCTAssertEqual(try old.vault.intakeCertificate()?.root.line, try old.vault.organisation().publicKey)
        // Moving its key out to a root file re-certifies the intake key with the new root.
        let newRoot = OrganisationRoot.generate(using: DeterministicRandom(seed: "intake-certificate/migrated-root"))
        _ = try old.session.staff.migrateRoot(to: newRoot)
        XCTAssertEqual(try old.vault.intakeCertificate()?.root, newRoot.key)
        XCTAssertEqual(try old.vault.intakeCertificate()?.intake, try old.vault.intakeKey())

        // Someone with the storage puts in a certificate by another root for their own intake key.
        let stranger = OrganisationRoot.generate(using: DeterministicRandom(seed: "intake-certificate/attacker"))
        let theirs = try IntakeKey(encryptionKey: BoxKeyPair.generate(using: DeterministicRandom(seed: "intake-certificate/attacker-intake")).publicKey)
        let forged = IntakeCertificate.issue(by: stranger, organisation: "example.org/dossier", intake: theirs, notBefore: ShareKit.clock().now())
        let db = try DatabaseQueue(path: w.vaultPath + "/vault.sqlite")
        try db.write { d in try d.execute(sql: "UPDATE settings SET value = ? WHERE key = 'intake_certificate'", arguments: [String(decoding: forged.bytes, as: UTF8.self)]) }
        assertDossierError("altered", "another root's certificate") { _ = try w.vault.intakeCertificate() }
        // The root's own certificate, but of another intake key: refused too.
        let otherKey = IntakeCertificate.issue(by: root, organisation: "example.org/dossier", intake: theirs, notBefore: ShareKit.clock().now())
        try db.write { d in try d.execute(sql: "UPDATE settings SET value = ? WHERE key = 'intake_certificate'", arguments: [String(decoding: otherKey.bytes, as: UTF8.self)]) }
        assertDossierError("altered", "a certificate of another intake key") { _ = try w.vault.intakeCertificate() }

        // --certify with the wrong root is refused; with the right one it replaces the bad row.
        assertDossierError("wrongRoot", "the wrong root") { _ = try w.session.staff.certifyIntakeKey(root: stranger, rootPath: "stranger.key") }
        assertDossierError("missingOption", "no root for a vault without its key") { _ = try w.session.staff.certifyIntakeKey(root: nil) }
        assertDossierError("invalidArgument", "too long") { _ = try w.session.staff.certifyIntakeKey(root: root, validity: 367 * 86400) }
        let renewed = try w.session.staff.certifyIntakeKey(root: root, validity: 90 * 86400)
        XCTAssertEqual(try w.vault.intakeCertificate(), renewed)
        XCTAssertEqual(renewed.intake, try w.vault.intakeKey())
    }

    // MARK: Counsel's side

    func testCounselKeepACertificateOnlyForATrustedRootAndResolveTheOrganisation() throws {
        let root = OrganisationRoot.generate(using: DeterministicRandom(seed: "intake-certificate/counsel-root"))
        let w = try ShareWorld("intake-certificate/counsel", organisationRoot: root)
        let certificate = try XCTUnwrap(try w.vault.intakeCertificate())
        let intake = try XCTUnwrap(try w.vault.intakeKey())
        let now = ShareKit.clock().now()
        let folder = try w.folder("counsel")
        let file = folder + "/intake.cert"
        try certificate.bytes.write(to: URL(fileURLWithPath: file))

        // Not trusted yet: refused, nothing kept; by name, nothing is found.
        assertDossierError("untrustedOrganisation", "untrusted root") { _ = try w.trust.addIntakeCertificate(certificate.bytes, source: file, at: now) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: w.trust.intakeFolder))
        assertDossierError("untrustedOrganisation", "a certificate file of an untrusted root") { _ = try w.trust.intakeKey(for: file, at: now) }
        assertDossierError("invalidArgument", "unknown name") { _ = try w.trust.intakeKey(for: "Example project", at: now) }

        _ = try w.trustOrganisation(name: "Example project")
        // Trusted but no certificate kept yet.
        assertDossierError("noIntakeCertificate", "no certificate kept") { _ = try w.trust.intakeKey(for: "Example project", at: now) }
        // The certificate file itself works at once, checked against the trusted root.
        XCTAssertEqual(try w.trust.intakeKey(for: file, at: now).key, intake)
        // Expired: refused.
        let late = try XCTUnwrap(Timestamp.parse(certificate.notAfter)).addingTimeInterval(1)
        assertDossierError("intakeCertificateNotCurrent", "expired") { _ = try w.trust.addIntakeCertificate(certificate.bytes, source: file, at: late) }

        let (entry, kept) = try w.trust.addIntakeCertificate(certificate.bytes, source: file, at: now)
        XCTAssertEqual(entry.name, "Example project")
        XCTAssertEqual(kept, certificate)
        let keptPath = w.trust.intakeFolder + "/" + root.key.fingerprint + ".cert"
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: keptPath)[.posixPermissions] as? Int, 0o600)
        for argument in ["Example project", root.key.line] {
            let resolved = try w.trust.intakeKey(for: argument, at: now)
            XCTAssertEqual(resolved.key, intake, argument)
            XCTAssertEqual(resolved.source, .certified(organisation: "Example project", notAfter: certificate.notAfter), argument)
        }
        XCTAssertEqual(try w.trust.intakeKey(for: intake.line, at: now).source, .line)
        assertDossierError("intakeCertificateNotCurrent", "a kept certificate that has expired") { _ = try w.trust.intakeKey(for: "Example project", at: late) }

        // A kept certificate replaced on disk by one for the attacker's intake key is refused at use.
        let theirs = try IntakeKey(encryptionKey: BoxKeyPair.generate(using: DeterministicRandom(seed: "intake-certificate/swap")).publicKey)
        var swapped = String(decoding: certificate.bytes, as: UTF8.self)
        swapped = swapped.replacingOccurrences(of: intake.line, with: theirs.line)
        try Data(swapped.utf8).write(to: URL(fileURLWithPath: keptPath))
        assertDossierError("certificateInvalid", "a kept certificate edited on disk") { _ = try w.trust.intakeKey(for: "Example project", at: now) }
    }
}
