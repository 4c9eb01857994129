import DossierCrypto
import Foundation
import XCTest

@testable import DossierCore

/// Packages end to end (docs/formats/package.md): every recipient opens them byte for byte;
/// everyone and everything else is refused, and a refusal leaves no file behind.
final class PackageTests: XCTestCase {
    /// A vault with three documents (150 000 bytes = three chunks, 100 bytes, empty) granted to
    /// two vetted counsel for seven days, and the package made from it.
    private struct Fixture {
        let world: ShareWorld
        let documents: [Document]
        let contents: [String: Data]
        let recipients: [SecretIdentity]
        let grant: Grant
        let path: String
        let bytes: Data
        let map: PackageMap
    }

    private func makeFixture(_ name: String) throws -> Fixture {
        let world = try ShareWorld(name)
        let contents: [String: Data] = [
            "report.pdf": ShareKit.content("report", count: 150_000),
            "notes.txt": Data(String(repeating: "n", count: 100).utf8),
            "empty.bin": Data(),
        ]
        let docs = try world.deposit(["report.pdf", "notes.txt", "empty.bin"].map { ($0, contents[$0]!) })
        let a = try world.counsel("alpha"), b = try world.counsel("bravo")
        let (g, path) = try world.package(docs, to: [a.counsel, b.counsel])
        try world.trustOrganisation()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        return Fixture(world: world, documents: docs, contents: contents, recipients: [a.identity, b.identity], grant: g,
                       path: path, bytes: bytes, map: try PackageMap(bytes))
    }

    /// A reader at a time inside the fixture's window.
    private func reader(_ path: String, days: Double = 1) -> PackageReader {
        PackageReader(path: path, clock: ShareKit.clock(days: days))
    }

    /// Opens `path` and asserts it is refused with nothing written; returns the error.
    @discardableResult
    private func assertRefused(_ f: Fixture, path: String, identity: SecretIdentity? = nil, trust: TrustStore? = nil, days: Double = 1,
                               _ what: String, file: StaticString = #filePath, line: UInt = #line) throws -> DossierError? {
        let out = try f.world.folder("refused")
        let e = ShareKit.caught(file: file, line: line) {
            _ = try PackageReader(path: path, clock: ShareKit.clock(days: days))
                .open(identity: identity ?? f.recipients[0], trust: trust ?? f.world.trust, into: out)
        }
        XCTAssertEqual(ShareKit.names(in: out), [], "\(what): files were left in the output folder", file: file, line: line)
        return e
    }

    /// Writes `bytes` as a package file and asserts that opening it is refused as corrupt or
    /// tampered with, leaving nothing behind.
    private func assertTamperRefused(_ f: Fixture, _ bytes: Data, _ what: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let path = f.world.packagePath("tampered")
        try bytes.write(to: URL(fileURLWithPath: path))
        for who in f.recipients {
            let e = try assertRefused(f, path: path, identity: who, what, file: file, line: line)
            switch e {
            case .malformedPackage?, .packageTampered?, .malformedOrganisationKey?: break
            default: XCTFail("\(what): expected a malformed or tampered package, got \(String(describing: e))", file: file, line: line)
            }
        }
        try FileManager.default.removeItem(atPath: path)
    }

    private func flipped(_ bytes: Data, at offset: Int, bit: Int = 0) -> Data {
        var b = bytes
        b[offset] ^= UInt8(1 << (bit % 8))
        return b
    }

    /// About `count` offsets spread over `range`, both ends included.
    private func offsets(in range: Range<Int>, count: Int = 12) -> [Int] {
        guard !range.isEmpty else { return [] }
        let step = max(1, range.count / count)
        return Array(Set(Array(stride(from: range.lowerBound, to: range.upperBound, by: step)) + [range.upperBound - 1])).sorted()
    }

    // MARK: Opening

    func testEveryRecipientOpensEveryDocumentByteForByte() throws {
        let f = try makeFixture("open-all")
        XCTAssertEqual(f.map.stanzas.count, 2)
        XCTAssertEqual(f.map.documents.map(\.chunks.count), [3, 1, 1])
        for (i, who) in f.recipients.enumerated() {
            let out = try f.world.folder("counsel-\(i)")
            let opened = try reader(f.path).open(identity: who, trust: f.world.trust, into: out)
            XCTAssertEqual(opened.map(\.id), f.documents.map(\.id))
            XCTAssertEqual(opened.map(\.kind), ["expert-report", "expert-report", "expert-report"])
            XCTAssertEqual(opened.map(\.language), ["en", "en", "en"])
            XCTAssertEqual(opened.map(\.size), [150_000, 100, 0])
            XCTAssertEqual(opened.map { ($0.path as NSString).lastPathComponent }, ["report.pdf", "notes.txt", "empty.bin"])
            for d in opened {
                let name = (d.path as NSString).lastPathComponent
                XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: d.path)), f.contents[name], "\(name) for recipient \(i)")
            }
            XCTAssertEqual(ShareKit.names(in: out), ["empty.bin", "notes.txt", "report.pdf"], "no temporary file is left")
        }
    }

    func testLargeDocumentAndChunkBoundaries() throws {
        let world = try ShareWorld("open-boundaries")
        let sizes = [65_535, 65_536, 65_537, 131_072, 300_001]
        let files = sizes.map { ("f\($0).bin", ShareKit.content("b\($0)", count: $0)) }
        let docs = try world.deposit(files)
        let c = try world.counsel("charlie")
        let (_, path) = try world.package(docs, to: [c.counsel])
        try world.trustOrganisation()
        let map = try PackageMap(try Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertEqual(map.documents.map(\.chunks.count), [1, 1, 2, 2, 5])
        let out = try world.folder("out")
        let opened = try reader(path).open(identity: c.identity, trust: world.trust, into: out)
        for (d, file) in zip(opened, files) {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: d.path)), file.1, file.0)
        }
    }

    func testTheSpecificationAloneIsEnoughToRead() throws {
        // SpecReader follows docs/formats/package.md using only DossierCrypto primitives.
        let f = try makeFixture("spec-reader")
        let issuer = try f.world.organisationKey().signingKey
        for who in f.recipients {
            let opened = try SpecReader.open(f.bytes, identity: who, trusted: [issuer])
            XCTAssertEqual(opened.files.map(\.name), ["report.pdf", "notes.txt", "empty.bin"])
            XCTAssertEqual(opened.files.map(\.content), ["report.pdf", "notes.txt", "empty.bin"].map { f.contents[$0]! })
            XCTAssertEqual(opened.files.map(\.kind), ["expert-report", "expert-report", "expert-report"])
        }
        XCTAssertThrowsError(try SpecReader.open(f.bytes, identity: ShareKit.identity("stranger"), trusted: [issuer]))
    }

    func testTheTotalSizeRule() throws {
        let f = try makeFixture("size-rule")
        let m = try PackageManifest.parse(Data(f.bytes[f.map.manifest]), path: "p")
        let content = m.contentSizes.reduce(UInt64(0)) { $0 + DossierCrypto.ContentStream.ciphertextSize(plaintextSize: $1) }
        let manifestBytes = UInt64(f.map.manifest.count)
        let stanzaBytes: UInt64 = 80 * UInt64(m.recipients.count)
        let listBytes = UInt64(f.map.list.count)
        let expected: UInt64 = 8 + manifestBytes + stanzaBytes + content + 4 + listBytes + 64
        XCTAssertEqual(UInt64(f.bytes.count), expected)
        let expectedContent: UInt64 = 150_000 + 3 * 16 + 100 + 16 + 16
        XCTAssertEqual(content, expectedContent)
    }

    func testANonRecipientIsRefused() throws {
        let f = try makeFixture("non-recipient")
        let stranger = ShareKit.identity("stranger")
        let e = try assertRefused(f, path: f.path, identity: stranger, "non-recipient")
        guard case let .notARecipient(fp)? = e else { return XCTFail("got \(String(describing: e))") }
        XCTAssertEqual(fp, stranger.publicIdentity.fingerprint)
    }

    func testAnUntrustedSignerIsRefused() throws {
        let f = try makeFixture("untrusted")
        let fp = try f.world.organisationKey().fingerprint
        // Nobody trusted at all.
        let empty = TrustStore(path: f.world.root + "/nobody/trusted")
        var e = try assertRefused(f, path: f.path, trust: empty, "empty trust store")
        guard case let .untrustedSigner(got)? = e else { return XCTFail("got \(String(describing: e))") }
        XCTAssertEqual(got, fp)
        // Only another organisation trusted.
        let other = try ShareWorld("untrusted-other", organisation: "other.example/vault")
        let otherOnly = TrustStore(path: f.world.root + "/other/trusted")
        _ = try otherOnly.add(try other.organisationKey(), name: "Other")
        e = try assertRefused(f, path: f.path, trust: otherOnly, "other organisation trusted")
        guard case .untrustedSigner? = e else { return XCTFail("got \(String(describing: e))") }
        // inspect says so too, without any secret.
        let i = try reader(f.path).inspect(trust: otherOnly)
        XCTAssertTrue(i.signatureValid)
        XCTAssertNil(i.trustedAs)
    }

    func testNotYetValidAndExpiredPackagesAreRefused() throws {
        let f = try makeFixture("window")
        let early = try assertRefused(f, path: f.path, days: 0 - 1 / ShareKit.day, "one second early")
        guard case let .packageNotYetValid(nb)? = early else { return XCTFail("got \(String(describing: early))") }
        XCTAssertEqual(nb, f.grant.notBefore)
        let late = try assertRefused(f, path: f.path, days: 7 + 1 / ShareKit.day, "one second late")
        guard case let .packageExpired(na)? = late else { return XCTFail("got \(String(describing: late))") }
        XCTAssertEqual(na, f.grant.notAfter)
        // Both ends of the window are inside it.
        for days in [0.0, 7.0] {
            let out = try f.world.folder("edge")
            XCTAssertEqual(try reader(f.path, days: days).open(identity: f.recipients[1], trust: f.world.trust, into: out).count, 3)
        }
    }

    func testAnotherOrganisationCannotReissueThePackage() throws {
        let f = try makeFixture("reissue")
        let other = try ShareWorld("reissue-other", organisation: "other.example/vault")
        let otherKey = try other.session.organisationSigningKey()
        let otherPublic = try other.organisationKey()

        // 1. Signed by the other key, issuer line unchanged: the signature does not verify.
        let resigned = try PackageMap.resign(f.bytes, with: otherKey)
        XCTAssertEqual(resigned.count, f.bytes.count)
        try assertTamperRefused(f, resigned, "signature by another organisation")

        // 2. Issuer line replaced by the other key and re-signed by it.
        var manifest = try PackageManifest.parse(Data(f.bytes[f.map.manifest]), path: "p")
        manifest.issuer = otherPublic
        let reissued = f.map.replacingManifest(manifest.bytes, signer: otherKey)
        let path = f.world.packagePath("reissued")
        try reissued.write(to: URL(fileURLWithPath: path))
        //    a counsel who trusts only the real organisation refuses it as untrusted;
        let e = try assertRefused(f, path: path, "reissued, real organisation trusted")
        guard case let .untrustedSigner(fp)? = e else { return XCTFail("got \(String(describing: e))") }
        XCTAssertEqual(fp, otherPublic.fingerprint)
        //    one who trusts both still refuses it: the sealed document list is bound to the
        //    original manifest.
        let both = TrustStore(path: f.world.root + "/both/trusted")
        _ = try both.add(try f.world.organisationKey(), name: "Real")
        _ = try both.add(otherPublic, name: "Other")
        XCTAssertTrue(try reader(path).inspect(trust: both).signatureValid)
        let e2 = try assertRefused(f, path: path, trust: both, "reissued, both trusted")
        guard case .packageTampered? = e2 else { return XCTFail("got \(String(describing: e2))") }
    }

    func testAnOnlinePackageIsRefusedWithoutTheKeyReleaseService() throws {
        let f = try makeFixture("online")
        var manifest = try PackageManifest.parse(Data(f.bytes[f.map.manifest]), path: "p")
        manifest.online = "https://keys.example.org/release"
        let signed = f.map.replacingManifest(manifest.bytes, signer: try f.world.session.organisationSigningKey())
        let path = f.world.packagePath("online")
        try signed.write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try reader(path).inspect(trust: f.world.trust).manifest.online, "https://keys.example.org/release")
        // Without a client for the service, the stanza secret is never used as the key.
        let e = try assertRefused(f, path: path, "online package")
        guard case let .onlinePackage(url)? = e else { return XCTFail("got \(String(describing: e))") }
        XCTAssertEqual(url, "https://keys.example.org/release")
    }

    func testAnExistingFileIsNotOverwritten() throws {
        let f = try makeFixture("no-overwrite")
        let out = try f.world.folder("existing")
        try Data("mine".utf8).write(to: URL(fileURLWithPath: out + "/notes.txt"))
        let e = ShareKit.caught { _ = try self.reader(f.path).open(identity: f.recipients[0], trust: f.world.trust, into: out) }
        guard case .fileExists? = e else { return XCTFail("got \(String(describing: e))") }
        XCTAssertEqual(ShareKit.names(in: out), ["notes.txt"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/notes.txt")), Data("mine".utf8))
    }

    func testFileNamesFromAPackageCannotLeaveTheOutputFolder() {
        XCTAssertEqual(PackageReader.safeFileName("report.pdf", fallback: "doc-x"), "report.pdf")
        XCTAssertEqual(PackageReader.safeFileName("réfutation.txt", fallback: "doc-x"), "réfutation.txt")
        for hostile in ["", ".", "..", "../../etc/passwd", ".hidden", "/", "\u{0}", "\n", String(repeating: "a", count: 256)] {
            let safe = PackageReader.safeFileName(hostile, fallback: "doc-x")
            XCTAssertFalse(safe.contains("/") || safe.hasPrefix(".") || safe.isEmpty || safe.utf8.count > 255, "'\(hostile)' gave '\(safe)'")
        }
        XCTAssertEqual(PackageReader.safeFileName("a/b\\c\u{7}d", fallback: "doc-x"), "abcd")
    }

    func testTheDocumentListRefusesAnIdThatIsNotCanonical() throws {
        let doc = PackagedDocument(id: "doc-aaaaaaaaaaaaa", kind: "expert-report", language: "en", size: 3,
                                   hash: Data(repeating: 7, count: 32), fileName: "a.txt")
        let good = DocumentList.bytes([doc])
        XCTAssertEqual(try DocumentList.parse(good, path: "p").documents.map(\.id), ["doc-aaaaaaaaaaaaa"])
        // 13 base32 characters carry 65 bits; the last must leave the unused bit zero.
        for bad in ["doc-aaaaaaaaaaaab", "doc-AAAAAAAAAAAAA", "doc-aaaaaaaaaaaa", "dox-aaaaaaaaaaaaa"] {
            let text = String(decoding: good, as: UTF8.self).replacingOccurrences(of: "doc-aaaaaaaaaaaaa", with: bad)
            XCTAssertThrowsError(try DocumentList.parse(Data(text.utf8), path: "p"), "\(bad) was accepted")
        }
    }

    func testADuplicateNamePushedPast255BytesIsWrittenUnderTheDocumentID() throws {
        let world = try ShareWorld("long-duplicate-names")
        let (counsel, c) = try world.counsel("long")
        try world.trustOrganisation()
        let long = String(repeating: "n", count: 250) + ".txt"
        let first = try world.deposit([(long, Data("one\n".utf8))])[0]
        let second = try world.deposit([(long, Data("two\n".utf8))])[0]
        let (_, path) = try world.package([first, second], to: [c])
        let out = try world.folder("out")
        let opened = try reader(path).open(identity: counsel, trust: world.trust, into: out)
        XCTAssertEqual(opened.map { URL(fileURLWithPath: $0.path).lastPathComponent }, [long, second.id])
        XCTAssertEqual(ShareKit.names(in: out), [long, second.id].sorted())
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/" + second.id)), Data("two\n".utf8))
    }

    func testAnExistingPackageFileIsNotOverwritten() throws {
        let world = try ShareWorld("package-exists")
        let (_, c) = try world.counsel("echo")
        let g = try world.session.sharing.grant(GrantRequest(documents: [try world.document().id], counsel: [c.id], window: .duration(seconds: 86400)))
        let path = world.packagePath()
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: path))
        let e = ShareKit.caught { _ = try world.session.sharing.makePackage(grant: g.id, to: path) }
        guard case .fileExists? = e else { return XCTFail("got \(String(describing: e))") }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), Data("keep me".utf8))
        XCTAssertTrue(try world.entries("package").isEmpty)
        XCTAssertEqual(ShareKit.names(in: world.root).filter { $0.contains("dossier-tmp") }, [])
        // With overwrite it is replaced by a package.
        _ = try world.session.sharing.makePackage(grant: g.id, to: path, overwrite: true)
        XCTAssertNoThrow(try PackageMap(try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    func testAnInterceptorSeesNoNameKindOrTitle() throws {
        let world = try ShareWorld("interceptor")
        let docs = try world.deposit([("Witness-Statement-Ivanov.txt", Data("statement".utf8))], kind: .witnessTestimony,
                                     title: "Testimony of the second witness")
        let (_, c) = try world.counsel("delta", details: .init(name: "Delta Counsel-Name"))
        let second = try world.addStaff("second")
        let g = try world.session.sharing.grant(GrantRequest(documents: docs.map(\.id), counsel: [c.id], window: .duration(seconds: 86400),
                                                     caseReference: "EXT-CASE-REF", purpose: "hearing-purpose", online: ShareKit.online))
        _ = try second.sharing.approve(g.id)
        let path = world.packagePath()
        _ = try world.session.sharing.makePackage(grant: g.id, to: path)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        for visible in ["Witness-Statement-Ivanov", "Testimony", "witness-testimony", "Delta", "EXT-CASE-REF", "hearing-purpose", docs[0].id] {
            XCTAssertNil(bytes.range(of: ShareKit.utf8(visible)), "'\(visible)' is readable in the package")
        }
        // What is visible: the grant id, the recipient's fingerprint, the window.
        XCTAssertNotNil(bytes.range(of: ShareKit.utf8(g.id)))
        XCTAssertNotNil(bytes.range(of: ShareKit.utf8(c.fingerprint)))
    }

    // MARK: Tampering

    func testOneFlippedBitAnywhereIsRefused() throws {
        let f = try makeFixture("bitflips")
        let m = f.map
        let report = m.documents[0]
        var regions: [(String, Range<Int>)] = [
            ("magic", 0..<4),
            ("manifest length", 4..<8),
            ("manifest", m.manifest),
            ("sealed list length", m.listLength),
            ("sealed list nonce", m.list.lowerBound..<m.list.lowerBound + 24),
            ("sealed list ciphertext", m.list.lowerBound + 24..<m.list.upperBound - 16),
            ("sealed list tag", m.list.upperBound - 16..<m.list.upperBound),
            ("signature", m.signature),
            ("first content chunk", report.chunks[0].lowerBound..<report.chunks[0].upperBound - 16),
            ("middle content chunk", report.chunks[1].lowerBound..<report.chunks[1].upperBound - 16),
            ("last content chunk", report.chunks[2].lowerBound..<report.chunks[2].upperBound - 16),
            ("tag of the first chunk", report.chunks[0].upperBound - 16..<report.chunks[0].upperBound),
            ("tag of the last chunk", report.chunks[2].upperBound - 16..<report.chunks[2].upperBound),
            ("small document", m.documents[1].range),
            ("tag of the empty document", m.documents[2].range),
        ]
        for (i, s) in m.stanzas.enumerated() { regions.append(("stanza \(i + 1)", s)) }
        var tried = 0
        for (name, range) in regions {
            XCTAssertFalse(range.isEmpty, name)
            for (k, offset) in offsets(in: range, count: name == "manifest" ? 40 : 10).enumerated() {
                try assertTamperRefused(f, flipped(f.bytes, at: offset, bit: k), "\(name): bit flipped at \(offset)")
                tried += 1
            }
        }
        XCTAssertGreaterThan(tried, 150)
    }

    func testTruncationAnywhereIsRefused() throws {
        let f = try makeFixture("truncation")
        let m = f.map
        var points = [0, 1, 3, 4, 7, 8, m.manifest.lowerBound + m.manifest.count / 2, m.manifest.upperBound - 1, m.manifest.upperBound,
                      m.stanzas[0].lowerBound + 40, m.stanzas[1].lowerBound, m.contentStart,
                      m.listLength.lowerBound + 2, m.list.lowerBound, m.list.lowerBound + 30, m.list.upperBound,
                      m.signature.lowerBound + 1, m.signature.lowerBound + 32, m.signature.upperBound - 1]
        for d in m.documents {
            points += [d.range.lowerBound + 1, d.range.upperBound, d.range.upperBound - 1]
            for c in d.chunks { points += [c.upperBound, c.upperBound - 16] }
        }
        for p in Set(points).sorted() where p < f.bytes.count {
            try assertTamperRefused(f, Data(f.bytes.prefix(p)), "truncated to \(p) bytes")
        }
    }

    func testTrailingBytesAreRefused() throws {
        let f = try makeFixture("trailing")
        try assertTamperRefused(f, f.bytes + Data([0]), "one byte appended")
        try assertTamperRefused(f, f.bytes + Data(repeating: 0x41, count: 100), "garbage appended")
        try assertTamperRefused(f, f.bytes + f.bytes[f.map.signature], "a second signature appended")
        try assertTamperRefused(f, f.bytes + f.bytes, "the package twice")
    }

    func testSwappedStanzasAreRefused() throws {
        let f = try makeFixture("swap")
        let m = f.map
        var swapped = f.bytes
        swapped.replaceSubrange(m.stanzas[0], with: f.bytes[m.stanzas[1]])
        swapped.replaceSubrange(m.stanzas[1], with: f.bytes[m.stanzas[0]])
        XCTAssertNotEqual(swapped, f.bytes)
        try assertTamperRefused(f, swapped, "stanzas swapped")
        // Even re-signed by the organisation itself, each stanza opens only for its own key.
        let resigned = try PackageMap.resign(swapped, with: try f.world.session.organisationSigningKey())
        try assertTamperRefused(f, resigned, "stanzas swapped and re-signed")
    }

    func testALongerWindowBreaksTheSignature() throws {
        let f = try makeFixture("window-extended")
        var manifest = try PackageManifest.parse(Data(f.bytes[f.map.manifest]), path: "p")
        manifest.notAfter = "2099-12-31T23:59:59.999Z"
        let extended = f.map.replacingManifest(manifest.bytes)
        XCTAssertEqual(try PackageMap(extended).manifest.count, f.map.manifest.count)
        let path = f.world.packagePath("extended")
        try extended.write(to: URL(fileURLWithPath: path))
        // Well formed, so inspect reads it, and reports the signature invalid.
        let i = try reader(path).inspect(trust: f.world.trust)
        XCTAssertEqual(i.manifest.notAfter, "2099-12-31T23:59:59.999Z")
        XCTAssertFalse(i.signatureValid)
        XCTAssertTrue(try reader(f.path).inspect(trust: f.world.trust).signatureValid)
        // Refused even after the real window has ended.
        let e = try assertRefused(f, path: path, days: 30, "window extended")
        guard case .packageTampered? = e else { return XCTFail("got \(String(describing: e))") }
        // A longer manifest (a recipient added), length fixed up, is refused the same way.
        manifest = try PackageManifest.parse(Data(f.bytes[f.map.manifest]), path: "p")
        manifest.recipients.append(ShareKit.identity("intruder").publicIdentity.fingerprint)
        try assertTamperRefused(f, f.map.replacingManifest(manifest.bytes), "recipient added")
    }

    func testInspectReadsTheManifestWithoutASecret() throws {
        let f = try makeFixture("inspect")
        let i = try reader(f.path).inspect(trust: f.world.trust)
        XCTAssertTrue(i.signatureValid)
        XCTAssertEqual(i.trustedAs?.fingerprint, try f.world.organisationKey().fingerprint)
        XCTAssertEqual(i.fileSize, UInt64(f.bytes.count))
        XCTAssertEqual(i.manifest.grantID, f.grant.id)
        XCTAssertEqual(i.manifest.organisation, "example.org/dossier")
        XCTAssertEqual(i.manifest.notBefore, f.grant.notBefore)
        XCTAssertEqual(i.manifest.notAfter, f.grant.notAfter)
        XCTAssertEqual(Set(i.manifest.recipients), Set(f.recipients.map(\.publicIdentity.fingerprint)))
        XCTAssertEqual(i.manifest.contentSizes, [150_000, 100, 0])
        XCTAssertNil(i.manifest.online)
        // A flipped signature bit: still readable, signature invalid.
        let path = f.world.packagePath("bad-signature")
        try flipped(f.bytes, at: f.map.signature.lowerBound + 5).write(to: URL(fileURLWithPath: path))
        XCTAssertFalse(try reader(path).inspect(trust: f.world.trust).signatureValid)
    }

    func testNotAPackageIsRefused() throws {
        let f = try makeFixture("not-a-package")
        for (what, bytes) in [("empty file", Data()), ("text", Data("hello, counsel\n".utf8)),
                              ("version 2", Data([0x44, 0x50, 0x4b, 0x02]) + f.bytes.dropFirst(4)),
                              ("huge manifest length", Data([0x44, 0x50, 0x4b, 0x01, 0xff, 0xff, 0xff, 0xff]) + f.bytes.dropFirst(8)),
                              ("zero manifest length", Data([0x44, 0x50, 0x4b, 0x01, 0, 0, 0, 0]) + f.bytes.dropFirst(8))] {
            try assertTamperRefused(f, bytes, what)
        }
        let missing = try assertRefused(f, path: f.world.root + "/no-such.dpkg", "missing file")
        guard case .fileNotFound? = missing else { return XCTFail("got \(String(describing: missing))") }
    }
}
