import DossierCrypto
import Foundation
import XCTest

@testable import DossierCore

/// The package vectors in `Vectors/package` (docs/formats/package.md; how they were made:
/// Vectors/package/README.md). `basic` is one small package made deterministically; the
/// failure cases are derived from its bytes. Each case is a header file `NAME.txt` naming the
/// package file it applies to.
///
/// To regenerate (after a deliberate format change), run
///     DOSSIER_WRITE_PACKAGE_VECTORS=1 swift test --filter PackageVectorTests/testGenerator
/// then rebuild so that the new files are copied into the test bundle.
final class PackageVectorTests: XCTestCase {
    // MARK: The generator

    /// Everything that fixes `basic.dpkg`.
    enum Basic {
        static let organisation = "example.org/dossier"
        static let madeAt = "2027-01-01T00:00:00.000Z"
        static let openAt = "2027-01-02T00:00:00.000Z"
        static let windowDays = 7
        static let founderSeed = "package-vector/founder"
        static let vaultSeed = "package-vector/vault"
        static let recipientSeeds = ["package-vector/recipient-1", "package-vector/recipient-2"]
        static let strangerSeed = "package-vector/stranger"
        static let documents: [(name: String, kind: DocumentKind, language: String, content: Data)] = [
            ("report.txt", .expertReport, "en", Data("The diplomatic assurances of 3 March cannot be verified.\n".utf8)),
            ("réfutation.txt", .assuranceRebuttal, "fr", Data("Les assurances ne sont pas fiables.\n".utf8)),
        ]

        static func identity(_ seed: String) -> SecretIdentity {
            SecretIdentity.generate(using: DeterministicRandom(seed: seed))
        }

        /// Makes the package in a fresh vault under `folder`; returns its bytes and the
        /// organisation's public key.
        static func make(in folder: String) throws -> (bytes: Data, organisation: OrganisationKey) {
            let clock = FixedClock(Timestamp.parse(madeAt)!)
            let vault = try Vault.create(at: folder + "/vault", organisation: organisation, founder: identity(founderSeed),
                                         founderName: "Vector founder", clock: clock, random: DeterministicRandom(seed: vaultSeed))
            let session = try vault.unlock(identity(founderSeed))
            var ids: [String] = []
            for (i, d) in documents.enumerated() {
                try FileManager.default.createDirectory(atPath: folder + "/in\(i)", withIntermediateDirectories: true)
                let path = folder + "/in\(i)/" + d.name
                try d.content.write(to: URL(fileURLWithPath: path))
                ids += try session.documents.deposit(DepositRequest(files: [path], kind: d.kind, title: "Vector document \(i + 1)", language: d.language)).map(\.id)
            }
            var counsel: [String] = []
            for (i, seed) in recipientSeeds.enumerated() {
                let c = try session.sharing.addCounsel(identity(seed).publicIdentity, details: .init(name: "Vector recipient \(i + 1)"))
                counsel.append(try session.sharing.vetCounsel(c.id, until: clock.date.addingTimeInterval(90 * 86400), note: nil).id)
            }
            let g = try session.sharing.grant(GrantRequest(documents: ids, counsel: counsel, window: .duration(seconds: windowDays * 86400)))
            let out = folder + "/basic.dpkg"
            _ = try session.sharing.makePackage(grant: g.id, to: out)
            return (try Data(contentsOf: URL(fileURLWithPath: out)), try OrganisationKey(line: try vault.organisation().publicKey))
        }
    }

    /// A failure case derived from basic.dpkg.
    struct Derived: Sendable {
        let name: String
        let comment: String
        let error: String
        let clock: String
        let extraSeed: String?
        let make: @Sendable (Data) throws -> Data?   // nil: the case uses basic.dpkg itself
    }

    static let derived: [Derived] = [
        Derived(name: "signature_bitflip", comment: "bit 0 of the first signature byte flipped", error: "tampered", clock: Basic.openAt, extraSeed: nil) { b in
            var x = b; x[try PackageMap(b).signature.lowerBound] ^= 1; return x
        },
        Derived(name: "truncated_signature", comment: "the last 32 bytes (half the signature) cut off", error: "malformed", clock: Basic.openAt, extraSeed: nil) { b in
            Data(b.prefix(b.count - 32))
        },
        Derived(name: "truncated_content", comment: "cut at the end of the first document's content", error: "malformed", clock: Basic.openAt, extraSeed: nil) { b in
            Data(b.prefix(try PackageMap(b).documents[0].range.upperBound))
        },
        Derived(name: "appended_byte", comment: "one zero byte appended after the signature", error: "malformed", clock: Basic.openAt, extraSeed: nil) { b in
            b + Data([0])
        },
        Derived(name: "content_bitflip", comment: "bit 0 of the second document's first content byte flipped", error: "tampered", clock: Basic.openAt, extraSeed: nil) { b in
            var x = b; x[try PackageMap(b).documents[1].range.lowerBound] ^= 1; return x
        },
        Derived(name: "stanza_swap", comment: "the two recipients' stanzas swapped", error: "tampered", clock: Basic.openAt, extraSeed: nil) { b in
            let m = try PackageMap(b)
            var x = b
            x.replaceSubrange(m.stanzas[0], with: b[m.stanzas[1]])
            x.replaceSubrange(m.stanzas[1], with: b[m.stanzas[0]])
            return x
        },
        Derived(name: "window_extended", comment: "not-after rewritten to 2099-12-31T23:59:59.999Z (same length), old signature kept", error: "tampered",
                clock: "2027-02-01T00:00:00.000Z", extraSeed: nil) { b in
            let m = try PackageMap(b)
            var manifest = try PackageManifest.parse(Data(b[m.manifest]), path: "basic.dpkg")
            manifest.notAfter = "2099-12-31T23:59:59.999Z"
            return m.replacingManifest(manifest.bytes)
        },
        Derived(name: "expired", comment: "basic.dpkg opened one millisecond after not-after", error: "expired",
                clock: "2027-01-08T00:00:00.001Z", extraSeed: nil) { _ in nil },
        Derived(name: "not_yet_valid", comment: "basic.dpkg opened one millisecond before not-before", error: "not-yet-valid",
                clock: "2026-12-31T23:59:59.999Z", extraSeed: nil) { _ in nil },
        Derived(name: "not_a_recipient", comment: "basic.dpkg opened by an identity it was not sealed to", error: "not-a-recipient",
                clock: Basic.openAt, extraSeed: Basic.strangerSeed) { _ in nil },
    ]

    static var sourceFolder: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors/package") }

    /// The header lines every case shares: keys, trust, recipients.
    static func commonHeader(organisation: OrganisationKey) -> [String] {
        var h = ["organisation: \(Basic.organisation)", "trusted: \(organisation.line)", "issuer-fingerprint: \(organisation.fingerprint)"]
        for (i, seed) in Basic.recipientSeeds.enumerated() {
            let id = Basic.identity(seed)
            h += ["recipient-\(i + 1)-seed: \(seed)",
                  "recipient-\(i + 1)-public: \(id.publicIdentity.line)",
                  "recipient-\(i + 1)-fingerprint: \(id.publicIdentity.fingerprint)",
                  "recipient-\(i + 1)-x25519-secret: \(id.encryption.secretKey.unsafeCopyToData().hex)"]
        }
        return h
    }

    func testGenerator() throws {
        let folder = try ShareKit.makeTemporaryFolder("pkg-vector-gen")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        guard ProcessInfo.processInfo.environment["DOSSIER_WRITE_PACKAGE_VECTORS"] == "1" else {
            // Without the switch, check that every derived case on disk is what the generator
            // makes from the checked-in basic.dpkg.
            let basic = try Self.vectorData("basic.dpkg")
            for d in Self.derived {
                guard let made = try d.make(basic) else { continue }
                XCTAssertEqual(try Self.vectorData(d.name + ".dpkg"), made, "\(d.name).dpkg is not what the generator makes")
            }
            return
        }
        let (bytes, org) = try Basic.make(in: folder)
        let out = Self.sourceFolder
        try bytes.write(to: out.appendingPathComponent("basic.dpkg"))
        let first = Basic.identity(Basic.recipientSeeds[0])
        let opened = try SpecReader.open(bytes, identity: first, trusted: [org.signingKey])
        var header = ["expect: success",
                      "comment: two documents (expert-report in English, assurance-rebuttal in French, non-ASCII file name) sealed to two recipients",
                      "package: basic.dpkg", "clock: \(Basic.openAt)", "made-at: \(Basic.madeAt)",
                      "vault-random-seed: \(Basic.vaultSeed)", "founder-seed: \(Basic.founderSeed)"]
        header += Self.commonHeader(organisation: org)
        header.append("package-key: \(opened.packageKey.hex)")
        for (i, d) in Basic.documents.enumerated() {
            header += ["document-\(i + 1)-name: \(d.name)", "document-\(i + 1)-kind: \(d.kind.rawValue)",
                       "document-\(i + 1)-language: \(d.language)", "document-\(i + 1)-plaintext: \(d.content.hex)",
                       "document-\(i + 1)-blake2b-256: \(Hash.blake2b(d.content).hex)"]
        }
        try (header.joined(separator: "\n") + "\n").write(to: out.appendingPathComponent("basic.txt"), atomically: true, encoding: .utf8)
        for d in Self.derived {
            var h = ["expect: failure", "error: \(d.error)", "comment: \(d.comment)"]
            if let made = try d.make(bytes) {
                try made.write(to: out.appendingPathComponent(d.name + ".dpkg"))
                h += ["package: \(d.name).dpkg", "derived-from: basic.dpkg"]
            } else {
                h.append("package: basic.dpkg")
            }
            h.append("clock: \(d.clock)")
            h += Self.commonHeader(organisation: org)
            if let s = d.extraSeed { h.append("opener-seed: \(s)") }
            try (h.joined(separator: "\n") + "\n").write(to: out.appendingPathComponent(d.name + ".txt"), atomically: true, encoding: .utf8)
        }
    }

    // MARK: Loading

    struct Vector {
        let name: String
        let headers: [String: String]
        func header(_ key: String) throws -> String { try XCTUnwrap(headers[key], "\(name): no \(key) header") }
    }

    static func vectorFolder() throws -> URL {
        try XCTUnwrap(Bundle.module.url(forResource: "Vectors", withExtension: nil), "no Vectors resource").appendingPathComponent("package")
    }

    static func vectorData(_ file: String) throws -> Data {
        try Data(contentsOf: try vectorFolder().appendingPathComponent(file))
    }

    static func loadVectors() throws -> [Vector] {
        let names = try FileManager.default.contentsOfDirectory(atPath: try vectorFolder().path).filter { $0.hasSuffix(".txt") }.sorted()
        return try names.map { file in
            let text = try XCTUnwrap(String(data: try vectorData(file), encoding: .utf8), file)
            var headers: [String: String] = [:]
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1)
                XCTAssertEqual(parts.count, 2, "\(file): '\(line)' is not 'key: value'")
                guard parts.count == 2 else { continue }
                XCTAssertNil(headers[String(parts[0])], "\(file): \(parts[0]) twice")
                headers[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces)
            }
            return Vector(name: String(file.dropLast(4)), headers: headers)
        }
    }

    private func recipients(_ v: Vector) throws -> [SecretIdentity] {
        var out: [SecretIdentity] = []
        var i = 1
        while let seed = v.headers["recipient-\(i)-seed"] {
            let id = Basic.identity(seed)
            // The recorded keys are what the seed gives: readers in other languages use the hex.
            XCTAssertEqual(id.publicIdentity.line, try v.header("recipient-\(i)-public"), v.name)
            XCTAssertEqual(id.publicIdentity.fingerprint, try v.header("recipient-\(i)-fingerprint"), v.name)
            XCTAssertEqual(id.encryption.secretKey.unsafeCopyToData().hex, try v.header("recipient-\(i)-x25519-secret"), v.name)
            out.append(id)
            i += 1
        }
        return out
    }

    private func keyword(_ e: DossierError?) -> String {
        switch e {
        case .packageTampered?: return "tampered"
        case .malformedPackage?: return "malformed"
        case .packageExpired?: return "expired"
        case .packageNotYetValid?: return "not-yet-valid"
        case .notARecipient?: return "not-a-recipient"
        case .untrustedSigner?: return "untrusted"
        default: return "other: \(String(describing: e))"
        }
    }

    // MARK: The runner

    func testCorpusIsComplete() throws {
        let vectors = try Self.loadVectors()
        XCTAssertEqual(Set(vectors.map(\.name)), Set(["basic"] + Self.derived.map(\.name)))
        for v in vectors {
            XCTAssertFalse(try v.header("comment").isEmpty, v.name)
            XCTAssertTrue(["success", "failure"].contains(try v.header("expect")), v.name)
            XCTAssertNoThrow(try Self.vectorData(try v.header("package")), v.name)
        }
        let readme = try Self.vectorData("README.md")
        XCTAssertFalse(readme.isEmpty)
    }

    func testEveryVector() throws {
        let vectors = try Self.loadVectors()
        XCTAssertFalse(vectors.isEmpty)
        for v in vectors {
            let root = try ShareKit.makeTemporaryFolder("pkg-vector-run")
            defer { try? FileManager.default.removeItem(atPath: root) }
            let package = root + "/" + (try v.header("package"))
            try Self.vectorData(try v.header("package")).write(to: URL(fileURLWithPath: package))
            let trust = TrustStore(path: root + "/trusted")
            let org = try OrganisationKey(line: try v.header("trusted"))
            XCTAssertEqual(org.fingerprint, try v.header("issuer-fingerprint"), v.name)
            _ = try trust.add(org, name: "vector organisation")
            let clock = FixedClock(try XCTUnwrap(Timestamp.parse(try v.header("clock")), v.name))
            let reader = PackageReader(path: package, clock: clock)
            let recipients = try recipients(v)
            XCTAssertEqual(recipients.count, 2, v.name)

            switch try v.header("expect") {
            case "success":
                for (r, who) in recipients.enumerated() {
                    let out = root + "/out\(r)"
                    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                    let opened = try reader.open(identity: who, trust: trust, into: out)
                    XCTAssertEqual(opened.count, 2, v.name)
                    for (i, d) in opened.enumerated() {
                        let n = "document-\(i + 1)-"
                        XCTAssertEqual((d.path as NSString).lastPathComponent, try v.header(n + "name"), v.name)
                        XCTAssertEqual(d.kind, try v.header(n + "kind"), v.name)
                        XCTAssertEqual(d.language, try v.header(n + "language"), v.name)
                        let plain = try Data(contentsOf: URL(fileURLWithPath: d.path))
                        XCTAssertEqual(plain.hex, try v.header(n + "plaintext"), "\(v.name): document \(i + 1) for recipient \(r + 1)")
                        XCTAssertEqual(Hash.blake2b(plain).hex, try v.header(n + "blake2b-256"), v.name)
                    }
                    // The reader written from the specification agrees, down to the package key.
                    let spec = try SpecReader.open(try Self.vectorData(try v.header("package")), identity: who, trusted: [org.signingKey])
                    XCTAssertEqual(spec.packageKey.hex, try v.header("package-key"), v.name)
                    XCTAssertEqual(spec.files.map(\.content.hex), [try v.header("document-1-plaintext"), try v.header("document-2-plaintext")])
                }
            case "failure":
                let opener = v.headers["opener-seed"].map { Basic.identity($0) } ?? recipients[0]
                let out = root + "/out"
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                let e = ShareKit.caught { _ = try reader.open(identity: opener, trust: trust, into: out) }
                XCTAssertEqual(keyword(e), try v.header("error"), v.name)
                XCTAssertEqual(ShareKit.names(in: out), [], "\(v.name): something was written")
            default:
                XCTFail("\(v.name): unknown expect")
            }
        }
    }

    // MARK: Freezing the format

    func testRegeneratingGivesTheSameBytesOutsideTheStanzas() throws {
        let folder = try ShareKit.makeTemporaryFolder("pkg-vector-regen")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (made, org) = try Basic.make(in: folder)
        let checkedIn = try Self.vectorData("basic.dpkg")
        let a = try PackageMap(made), b = try PackageMap(checkedIn)
        XCTAssertEqual(made.count, checkedIn.count)
        XCTAssertEqual(org.line, try Self.loadVectors().first { $0.name == "basic" }?.header("trusted"))
        // Everything the writer derives from the injected clock and random source is identical:
        // framing, manifest, content and sealed list.
        XCTAssertEqual(made[0..<a.stanzas[0].lowerBound], checkedIn[0..<b.stanzas[0].lowerBound], "magic, length or manifest differ")
        XCTAssertEqual(made[a.contentStart..<a.signature.lowerBound], checkedIn[b.contentStart..<b.signature.lowerBound],
                       "content, list length or sealed list differ")
        // The stanzas (and so the signature) are not reproducible: crypto_box_seal draws its
        // ephemeral key from libsodium's own generator, not from the injected RandomSource.
        // Both files must still open to the same documents.
        for seed in Basic.recipientSeeds {
            let x = try SpecReader.open(made, identity: Basic.identity(seed), trusted: [org.signingKey])
            let y = try SpecReader.open(checkedIn, identity: Basic.identity(seed), trusted: [org.signingKey])
            XCTAssertEqual(x.packageKey, y.packageKey)
            XCTAssertEqual(x.files.map(\.content), y.files.map(\.content))
            XCTAssertEqual(x.documentList, y.documentList)
        }
    }

    func testCheckedInManifestFields() throws {
        let bytes = try Self.vectorData("basic.dpkg")
        let map = try PackageMap(bytes)
        let v = try XCTUnwrap(try Self.loadVectors().first { $0.name == "basic" })
        let m = try PackageManifest.parse(Data(bytes[map.manifest]), path: "basic.dpkg")
        XCTAssertTrue(String(decoding: bytes[map.manifest], as: UTF8.self).hasPrefix("dossier-package/1\norganisation example.org/dossier\nissuer dossierorg1"))
        XCTAssertEqual(m.organisation, try v.header("organisation"))
        XCTAssertEqual(m.issuer.line, try v.header("trusted"))
        XCTAssertTrue(Identifier.isWellFormed(m.packageID, prefix: "pkg"), m.packageID)
        XCTAssertTrue(Identifier.isWellFormed(m.grantID, prefix: "grant"), m.grantID)
        XCTAssertEqual(m.created, Basic.madeAt)
        XCTAssertEqual(m.notBefore, Basic.madeAt)
        XCTAssertEqual(m.notAfter, "2027-01-08T00:00:00.000Z")
        XCTAssertNil(m.online)
        XCTAssertEqual(Set(m.recipients), Set([try v.header("recipient-1-fingerprint"), try v.header("recipient-2-fingerprint")]))
        XCTAssertEqual(m.contentSizes, Basic.documents.map { UInt64($0.content.count) })
        XCTAssertEqual(map.list.count, 24 + 16 + String(decoding: try SpecReader.open(bytes, identity: Basic.identity(Basic.recipientSeeds[0]),
                                                                                    trusted: [m.issuer.signingKey]).documentList.utf8, as: UTF8.self).utf8.count)
    }

    func testManifestParseThenSerialiseIsTheIdentity() throws {
        let bytes = try Self.vectorData("basic.dpkg")
        let map = try PackageMap(bytes)
        let manifest = Data(bytes[map.manifest])
        XCTAssertEqual(try PackageManifest.parse(manifest, path: "basic.dpkg").bytes, manifest)
        // The sealed document list too.
        let opened = try SpecReader.open(bytes, identity: Basic.identity(Basic.recipientSeeds[1]), trusted: [try PackageManifest.parse(manifest, path: "p").issuer.signingKey])
        let list = Data(opened.documentList.utf8)
        let docs = try DocumentList.parse(list, path: "basic.dpkg").documents
        XCTAssertEqual(DocumentList.bytes(docs), list)
        XCTAssertEqual(docs.map(\.fileName), Basic.documents.map(\.name))
        // A manifest with an online line round-trips as well.
        var online = try PackageManifest.parse(manifest, path: "p")
        online.online = "https://keys.example.org/release"
        XCTAssertEqual(try PackageManifest.parse(online.bytes, path: "p"), online)
    }

    func testNoOtherEncodingOfAManifestIsAccepted() throws {
        let bytes = try Self.vectorData("basic.dpkg")
        let text = String(decoding: bytes[try PackageMap(bytes).manifest], as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines.removeLast(), "")
        func joined(_ l: [String]) -> String { l.joined(separator: "\n") + "\n" }
        func edit(_ i: Int, _ f: (String) -> String) -> String { var l = lines; l[i] = f(l[i]); return joined(l) }
        let recipient = lines.firstIndex { $0.hasPrefix("recipient ") }!
        let content = lines.firstIndex { $0.hasPrefix("content ") }!
        var swapped = lines; swapped.swapAt(5, 6)
        var duplicate = lines; duplicate.insert(lines[recipient], at: recipient)
        var noRecipients = lines; noRecipients.removeAll { $0.hasPrefix("recipient ") }
        var noContent = lines; noContent.removeAll { $0.hasPrefix("content ") }
        var unknown = lines; unknown.insert("comment hello", at: content)
        let variants: [(String, String)] = [
            ("no final newline", String(joined(lines).dropLast())),
            ("CRLF", joined(lines).replacingOccurrences(of: "\n", with: "\r\n")),
            ("blank line at the end", joined(lines) + "\n"),
            ("trailing space", edit(3) { $0 + " " }),
            ("two spaces", edit(4) { $0.replacingOccurrences(of: "grant ", with: "grant  ") }),
            ("tab", edit(3) { $0.replacingOccurrences(of: "package ", with: "package\t") }),
            ("version 2", edit(0) { _ in "dossier-package/2" }),
            ("unknown header", edit(0) { _ in "age-encryption.org/v1" }),
            ("lines reordered", joined(swapped)),
            ("lowercase fingerprint", edit(recipient) { $0.lowercased() }),
            ("fingerprint without dashes", edit(recipient) { "recipient " + $0.dropFirst(10).replacingOccurrences(of: "-", with: "") }),
            ("duplicate recipient", joined(duplicate)),
            ("no recipients", joined(noRecipients)),
            ("no documents", joined(noContent)),
            ("unknown line", joined(unknown)),
            ("leading zero in a size", edit(content) { "content 0" + $0.dropFirst(8) }),
            ("plus sign in a size", edit(content) { "content +" + $0.dropFirst(8) }),
            ("bad package id", edit(3) { _ in "package pkg-1" }),
            ("bad grant id", edit(4) { _ in "grant grant-ABCDEFGHIJKLM" }),
            ("impossible date", edit(5) { _ in "created 2027-02-30T00:00:00.000Z" }),
            ("seconds without milliseconds", edit(6) { _ in "not-before 2027-01-01T00:00:00Z" }),
            ("window ends before it starts", edit(7) { _ in "not-after 2026-12-31T00:00:00.000Z" }),
            ("issuer checksum broken", edit(2) { String($0.dropLast()) + ($0.hasSuffix("a") ? "b" : "a") }),
            ("not UTF-8", "dossier-package/1\n\u{FFFD}\n"),
        ]
        XCTAssertTrue(lines[5].hasPrefix("created ") && lines[6].hasPrefix("not-before ") && lines[7].hasPrefix("not-after "), "fixture lines moved")
        for (what, variant) in variants {
            var data = Data(variant.utf8)
            if what == "not UTF-8" { data = Data("dossier-package/1\n".utf8) + Data([0xff, 0x0a]) }
            let e = ShareKit.caught { _ = try PackageManifest.parse(data, path: "p") }
            switch e {
            case .malformedPackage?, .malformedOrganisationKey?: break
            default: XCTFail("\(what): got \(String(describing: e))")
            }
        }
    }

    func testABadIssuerLineIsReportedAsAMalformedPackage() throws {
        // The error must name the package and say it is malformed: "not a valid organisation
        // key: … a character was mistyped" would send the user looking for a typo of theirs.
        let bytes = try Self.vectorData("basic.dpkg")
        let text = String(decoding: bytes[try PackageMap(bytes).manifest], as: UTF8.self)
        let broken = text.replacingOccurrences(of: "issuer dossierorg1p", with: "issuer dossierorg1q")
        XCTAssertNotEqual(broken, text)
        let e = ShareKit.caught { _ = try PackageManifest.parse(Data(broken.utf8), path: "basic.dpkg") }
        guard case let .malformedPackage(path, _)? = e else { return XCTFail("got \(String(describing: e))") }
        XCTAssertEqual(path, "basic.dpkg")
    }

    func testTheOrganisationNameFollowsTheWritersGrammar() throws {
        // The writer only ever writes what `Vault.create` accepts: printable ASCII without spaces
        // or '+'. `inspect` prints the name before anything is trusted, so a reader must refuse
        // anything else — a carriage return or an escape sequence could redraw the terminal
        // line that says whether the signature is trusted.
        let bytes = try Self.vectorData("basic.dpkg")
        let text = String(decoding: bytes[try PackageMap(bytes).manifest], as: UTF8.self)
        let line = "organisation example.org/dossier\n"
        XCTAssertTrue(text.contains(line))
        let variants: [(String, String)] = [
            ("empty", "organisation \n"),
            ("trailing space", "organisation example.org/dossier \n"),
            ("leading space", "organisation  example.org/dossier\n"),
            ("inner space", "organisation example.org dossier\n"),
            ("plus sign", "organisation example.org+dossier\n"),
            ("non-ASCII", "organisation exämple.org/dossier\n"),
            ("carriage return", "organisation evil.example\rsignature:    valid, trusted as Example\n"),
            ("escape sequence", "organisation evil.example\u{1b}[2K\u{1b}[1G\n"),
        ]
        for (what, replacement) in variants {
            let e = ShareKit.caught { _ = try PackageManifest.parse(Data(text.replacingOccurrences(of: line, with: replacement).utf8), path: "p") }
            guard case .malformedPackage? = e else { XCTFail("organisation \(what): got \(String(describing: e))"); continue }
        }
    }
}
