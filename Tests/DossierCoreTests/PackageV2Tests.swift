import DossierCrypto
import Foundation
import XCTest

@testable import DossierCore

/// Packages of format 2 (docs/formats/package.md, section 11): signed by the member who made
/// them under a certificate by the organisation root, which counsel pins. The vector
/// `Vectors/package-v2/basic.dpkg` is checked in; the failure cases are derived from it here.
final class PackageV2Tests: XCTestCase {
    enum V {
        static let rootSeed = "package-v2-vector/root"
        static let madeAt = ShareKit.start                       // 2027-01-01T00:00:00.000Z
        static let openAt = ShareKit.start.addingTimeInterval(ShareKit.day)
        static var root: OrganisationRoot { OrganisationRoot.generate(using: DeterministicRandom(seed: rootSeed)) }
    }

    /// A vault whose root is offline, certifying the founder for `certificateDays`.
    func world(_ name: String, certificateDays: Double = 30, clock: any TimeSource = ShareKit.clock()) throws -> ShareWorld {
        try ShareWorld(name, clock: clock, randomSeed: "v2/" + name, organisationRoot: V.root, certificateValidity: certificateDays * ShareKit.day)
    }

    func makePackage(_ w: ShareWorld, days: Double = 7) throws -> (path: String, recipient: SecretIdentity) {
        let doc = try w.document(name: "report.txt", content: Data("The assurances cannot be verified.\n".utf8))
        let c = try w.counsel("recipient")
        return (try w.package([doc], to: [c.counsel], days: days).path, c.identity)
    }

    func open(_ path: String, _ who: SecretIdentity, trust: TrustStore, at date: Date) throws -> [OpenedDocument] {
        let out = try ShareKit.makeTemporaryFolder("v2-out")
        return try PackageReader(path: path, clock: FixedClock(date)).open(identity: who, trust: trust, into: out)
    }

    static var sourceFolder: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors/package-v2") }
    static func vectorData(_ file: String) throws -> Data {
        let folder = try XCTUnwrap(Bundle.module.url(forResource: "Vectors", withExtension: nil)).appendingPathComponent("package-v2")
        return try Data(contentsOf: folder.appendingPathComponent(file))
    }

    // MARK: Round trip and the vector

    func testRoundTripShowsTheIssuerAndItsCertificate() throws {
        let w = try world("round-trip")
        try w.trustOrganisation()
        let (path, recipient) = try makePackage(w)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(bytes.prefix(4), Data([0x44, 0x50, 0x4b, 0x02]))
        let i = try PackageReader(path: path, clock: FixedClock(V.openAt)).inspect(trust: w.trust)
        XCTAssertEqual(i.manifest.version, 2)
        XCTAssertEqual(i.manifest.issuer, V.root.key)
        XCTAssertEqual(i.certificate?.fingerprint, w.founder.publicIdentity.fingerprint)
        XCTAssertEqual(i.certificateValidity, .valid)
        XCTAssertTrue(i.signatureValid)
        XCTAssertNotNil(i.trustedAs)
        XCTAssertEqual(try open(path, recipient, trust: w.trust, at: V.openAt).count, 1)
        // The package entry and the vault name the certificate.
        let entry = try XCTUnwrap(try w.entries("package").last)
        let hash = try XCTUnwrap(entry.details.first { $0.key == "certificate-sha256" }?.value)
        XCTAssertEqual(hash, i.certificate?.sha256)
        XCTAssertEqual(try w.vault.read { tx in try tx.packageCertificate(package: i.manifest.packageID) }, hash)
        // A v1 package from a vault not yet migrated still opens, verified against the organisation key.
        let old = try ShareWorld("round-trip-v1")
        try old.trustOrganisation()
        let (oldPath, oldRecipient) = try makePackage(old)
        XCTAssertEqual(try PackageReader(path: oldPath, clock: FixedClock(V.openAt)).inspect(trust: old.trust).manifest.version, 1)
        XCTAssertEqual(try open(oldPath, oldRecipient, trust: old.trust, at: V.openAt).count, 1)
    }

    /// `DOSSIER_WRITE_PACKAGE_V2_VECTORS=1` rewrites basic.dpkg and basic.txt.
    func testVector() throws {
        if ProcessInfo.processInfo.environment["DOSSIER_WRITE_PACKAGE_V2_VECTORS"] == "1" {
            let w = try world("vector")
            let (path, recipient) = try makePackage(w)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            try bytes.write(to: Self.sourceFolder.appendingPathComponent("basic.dpkg"))
            let m = try PackageMap(bytes)
            let header = ["expect: success", "package: basic.dpkg", "clock: \(Timestamp.format(V.openAt))",
                          "root-seed: \(V.rootSeed)", "trusted: \(V.root.key.line)", "issuer-fingerprint: \(V.root.key.fingerprint)",
                          "signer-fingerprint: \(w.founder.publicIdentity.fingerprint)",
                          "signer-ed25519-public: \(w.founder.publicIdentity.signingKey.hex)",
                          "recipient-seed: counsel/recipient (ShareKit.identity)",
                          "recipient-x25519-secret: \(recipient.encryption.secretKey.unsafeCopyToData().hex)",
                          "manifest-bytes: \(m.manifest.count)", "file-bytes: \(bytes.count)"]
            try (header.joined(separator: "\n") + "\n").write(to: Self.sourceFolder.appendingPathComponent("basic.txt"), atomically: true, encoding: .utf8)
        }
        let bytes = try Self.vectorData("basic.dpkg")
        let folder = try ShareKit.makeTemporaryFolder("v2-vector")
        let path = folder + "/basic.dpkg"
        try bytes.write(to: URL(fileURLWithPath: path))
        let trust = TrustStore(path: folder + "/trusted")
        _ = try trust.add(V.root.key, name: "vector")
        let recipient = ShareKit.identity("counsel/recipient")
        let text = String(decoding: try Self.vectorData("basic.txt"), as: UTF8.self)
        XCTAssertTrue(text.contains("recipient-x25519-secret: \(recipient.encryption.secretKey.unsafeCopyToData().hex)\n"))
        let docs = try open(path, recipient, trust: trust, at: V.openAt)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: docs[0].path)), Data("The assurances cannot be verified.\n".utf8))
        // The signature is by the certified member key over the framing with version byte 2.
        let m = try PackageMap(bytes)
        let manifest = try PackageManifest.parse(Data(bytes[m.manifest]), path: "v")
        let c = try XCTUnwrap(manifest.certificate)
        XCTAssertTrue(text.contains("signer-ed25519-public: \(c.subject.signingKey.hex)\n"))
        XCTAssertTrue(Signature.verify(Data(bytes[m.signature]), of: m.signedMessage, publicKey: c.subject.signingKey))
        XCTAssertFalse(Signature.verify(Data(bytes[m.signature]), of: m.signedMessage, publicKey: V.root.key.signingKey))

        // Derived failures.
        func refused(_ expected: String, _ altered: Data, at date: Date = V.openAt, _ why: String) {
            let p = folder + "/case.dpkg"
            try? FileManager.default.removeItem(atPath: p)
            XCTAssertNoThrow(try altered.write(to: URL(fileURLWithPath: p)))
            assertDossierError(expected, why) { try open(p, recipient, trust: trust, at: date) }
        }
        let member = ShareKit.identity("v2/vector/founder")   // not the signer: cannot re-sign
        _ = member
        func withCertificate(_ cert: String, resignWith key: SigningKeyPair?) throws -> Data {
            var lines = String(decoding: bytes[m.manifest], as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let i = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("certificate ") })
            lines[i] = "certificate " + cert
            let changed = m.replacingManifest(Data(lines.joined(separator: "\n").utf8))
            return try key.map { try PackageMap.resign(changed, with: $0) } ?? changed
        }
        // Expired certificate: the window is 7 days, the certificate 30.
        refused("certificateNotCurrent", bytes, at: Timestamp.parse(c.notAfter)!.addingTimeInterval(0.001), "expired certificate")
        // Not the signer's certificate: a valid certificate of another member, same root.
        let other = ShareKit.identity("v2/someone-else")
        let otherCert = Certificate.issue(by: V.root, organisation: c.organisation, subject: other.publicIdentity, role: .staff,
                                          notBefore: V.madeAt, validity: 30 * ShareKit.day, random: DeterministicRandom(seed: "v2/other"))
        refused("packageTampered", try withCertificate(otherCert.line, resignWith: nil), "certificate for another key than the signer")
        // Signed by that other member, whose certificate is by another root.
        let stranger = OrganisationRoot.generate(using: DeterministicRandom(seed: "v2/stranger-root"))
        let foreign = Certificate.issue(by: stranger, organisation: c.organisation, subject: other.publicIdentity, role: .staff,
                                        notBefore: V.madeAt, validity: 30 * ShareKit.day, random: DeterministicRandom(seed: "v2/foreign"))
        refused("certificateInvalid", try withCertificate(foreign.line, resignWith: other.signing), "certificate by another root")
        // A certificate of role service cannot sign packages.
        let service = Certificate.issue(by: V.root, organisation: c.organisation, subject: other.publicIdentity, role: .service,
                                        notBefore: V.madeAt, validity: 30 * ShareKit.day, random: DeterministicRandom(seed: "v2/service"))
        refused("certificateInvalid", try withCertificate(service.line, resignWith: other.signing), "role mismatch")
        // Malformed certificate line.
        refused("malformedPackage", try withCertificate(String(c.line.dropLast(4)), resignWith: nil), "malformed certificate line")
        refused("malformedPackage", try withCertificate(c.line + "AAAA", resignWith: nil), "certificate with trailing bytes")
        // Version byte 1 with a format-2 manifest, and the reverse.
        var v1 = bytes
        v1[3] = 1
        refused("malformedPackage", v1, "version byte disagrees with the manifest")
        // An untrusted root.
        let emptyTrust = TrustStore(path: folder + "/nobody")
        assertDossierError("untrustedSigner") { try PackageReader(path: path, clock: FixedClock(V.openAt)).open(identity: recipient, trust: emptyTrust, into: folder) }
    }

    // MARK: Removed members

    /// A member removed from the organisation who kept a copy of the vault can still make a
    /// package with it, but counsel refuses it once the member's certificate expires: the bound
    /// is the certificate's validity.
    func testAPackageFromARemovedMembersOldCopyIsRefusedOnceTheCertificateExpires() throws {
        let w = try world("removed")
        try w.trustOrganisation()
        let bob = ShareKit.identity("bob")
        _ = try w.session.staff.add(bob.publicIdentity, name: "Bob")
        let cert = try w.session.staff.certify(bob.publicIdentity.fingerprint, root: V.root, rootPath: "root", validity: 3 * ShareKit.day)
        let doc = try w.document()
        let c = try w.counsel("removed-recipient")
        // Bob's copy of the vault, taken before his removal.
        let copy = w.root + "/bob-copy"
        try FileManager.default.copyItem(atPath: w.vaultPath, toPath: copy)
        try w.session.staff.remove(bob.publicIdentity.fingerprint)
        XCTAssertEqual(try w.vault.certificates().first { $0.serial == cert.serial }?.state, .revoked)
        // The live vault refuses him; his old copy does not know.
        assertDossierError("notStaff") { try w.vault.unlock(bob) }
        let bobSession = try Vault.open(at: copy, clock: ShareKit.clock(days: 1)).unlock(bob)
        let g = try bobSession.sharing.grant(GrantRequest(documents: [doc.id], counsel: [c.counsel.id], window: .duration(seconds: 7 * 86400)))
        let path = w.packagePath("from-bob")
        _ = try bobSession.sharing.makePackage(grant: g.id, to: path)
        // Before expiry it opens (the documented bound), after it is refused.
        XCTAssertEqual(try open(path, c.identity, trust: w.trust, at: ShareKit.start.addingTimeInterval(2 * ShareKit.day)).count, 1)
        let e = assertDossierError("certificateNotCurrent") {
            try open(path, c.identity, trust: w.trust, at: ShareKit.start.addingTimeInterval(3 * ShareKit.day + 1))
        }
        XCTAssertTrue(e?.message.contains(bob.publicIdentity.fingerprint) ?? false)
        // And a member without a current certificate cannot package at all.
        let late = try Vault.open(at: copy, clock: ShareKit.clock(days: 4)).unlock(bob)
        assertDossierError("noCurrentCertificate") { try late.sharing.makePackage(grant: g.id, to: w.packagePath("too-late")) }
    }
}

/// Calls the service in process.
private struct InProcessTransport: KeyReleaseTransport {
    let service: KeyReleaseService
    func post(_ url: String, body: Data, timeout: TimeInterval) throws(DossierError) -> (status: Int, body: Data) {
        let r = service.decide([body])[0]
        return (r.status, r.body)
    }
}

extension PackageV2Tests {
    /// Online, a removed member's packages are refused at once: the service checks that the
    /// package's maker is current staff and their certificate not revoked.
    func testTheServiceRefusesPackagesOfARemovedMember() throws {
        let w = try world("service")
        try w.trustOrganisation()
        let bob = ShareKit.identity("bob")
        _ = try w.session.staff.add(bob.publicIdentity, name: "Bob")
        _ = try w.session.staff.certify(bob.publicIdentity.fingerprint, root: V.root, rootPath: "root")
        let bobSession = try w.vault.unlock(bob)
        let doc = try w.document()
        let c = try w.counsel("service-recipient")
        let g = try bobSession.sharing.grant(GrantRequest(documents: [doc.id], counsel: [c.counsel.id], window: .duration(seconds: 7 * 86400)))
        let before = w.packagePath("bob-online"), after = w.packagePath("bob-online-2")
        _ = try bobSession.sharing.makePackage(grant: g.id, to: before, online: ShareKit.online)
        _ = try bobSession.sharing.makePackage(grant: g.id, to: after, online: ShareKit.online)
        let service = KeyReleaseService(session: w.session)
        let client = KeyReleaseClient(transport: InProcessTransport(service: service), clock: ShareKit.clock())
        let out = try w.folder("online-out")
        // While Bob is staff, it opens.
        XCTAssertEqual(try PackageReader(path: before, clock: ShareKit.clock()).open(identity: c.identity, trust: w.trust, into: out, keyRelease: client).count, 1)
        try w.session.staff.remove(bob.publicIdentity.fingerprint)
        let service2 = KeyReleaseService(session: try w.vault.unlock(w.founder))
        let client2 = KeyReleaseClient(transport: InProcessTransport(service: service2), clock: ShareKit.clock())
        let out2 = try w.folder("online-out-2")
        let e = assertDossierError("keyReleaseRefused") {
            try PackageReader(path: after, clock: ShareKit.clock()).open(identity: c.identity, trust: w.trust, into: out2, keyRelease: client2)
        }
        guard case let .keyReleaseRefused(_, reason, _)? = e else { return }
        XCTAssertEqual(reason, "issuer-not-current")
        XCTAssertEqual(ShareKit.names(in: out2), [])
        let deny = try XCTUnwrap(try w.entries("deny").last)
        XCTAssertEqual(deny.details.first { $0.key == "rule" }?.value, "issuer.not-staff")
        // Revoked certificate alone (maker still staff) is refused too.
        try w.vault.write { tx in
            let p = try XCTUnwrap(try tx.packageCertificate(package: try PackageReader(path: after).inspect(trust: w.trust).manifest.packageID))
            XCTAssertNotNil(try tx.certificate(sha256: p)?.revokedAt)
        }
    }
}
