import DossierCrypto
import Foundation
import XCTest

@testable import DossierCore

/// Requests from counsel (docs/formats/request.md): the intake key line, the writer, the
/// reader, and every refusal of section 7.
final class RequestTests: XCTestCase {
    var root = ""
    let sender = RequestKit.identity("counsel")
    let intake = RequestKit.intake("organisation")

    override func setUpWithError() throws {
        root = try ShareKit.makeTemporaryFolder("request-tests")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: root)
    }

    func write(_ draft: RequestDraft, as identity: SecretIdentity? = nil, name: String = "request.drq") throws -> String {
        let path = root + "/" + name
        _ = try RequestWriter(clock: RequestKit.clock).write(draft, identity: identity ?? sender, to: path)
        return path
    }

    func open(_ path: String, with pair: BoxKeyPair? = nil) throws -> OpenedRequest {
        try RequestReader.open(path: path, intakeSecret: (pair ?? intake).secretKey)
    }

    /// The error `RequestReader.open` gives for `bytes`, written to a file.
    func refusal(_ bytes: Data, file: StaticString = #filePath, line: UInt = #line) -> DossierError? {
        let path = root + "/refused-\(UUID().uuidString).drq"
        try? bytes.write(to: URL(fileURLWithPath: path))
        return ShareKit.caught(file: file, line: line) { _ = try open(path) }
    }

    func assertMalformed(_ e: DossierError?, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        guard case .malformedRequest? = e else { return XCTFail("\(what): got \(String(describing: e))", file: file, line: line) }
    }

    func assertTampered(_ e: DossierError?, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        guard case .requestTampered? = e else { return XCTFail("\(what): got \(String(describing: e))", file: file, line: line) }
    }

    // MARK: The intake key line

    func testIntakeKeyLineRoundTripsAndCarriesAChecksum() throws {
        let key = RequestKit.intakeKey(intake)
        XCTAssertTrue(key.line.hasPrefix("dossierintake1"))
        XCTAssertEqual(key.line.count, 14 + 58)
        XCTAssertEqual(try IntakeKey(line: "  " + key.line + "\n"), key)
        // The checksum, computed here from the rule: BLAKE2b-256("dossierintake1" ‖ key)[0..3].
        let checksum = Hash.blake2b(Data("dossierintake1".utf8) + intake.publicKey, length: 32).prefix(4)
        XCTAssertEqual(Base32.decode(key.line.dropFirst(14)), intake.publicKey + checksum)
        // Its own fingerprint domain: never an organisation key's or an identity's.
        XCTAssertEqual(key.fingerprint, Fingerprint.of(domain: "intake", intake.publicKey))
        XCTAssertNotEqual(key.fingerprint, Fingerprint.of(domain: "organisation", intake.publicKey))
        XCTAssertNotEqual(key.fingerprint, try OrganisationKey(signingKey: intake.publicKey).fingerprint)
        XCTAssertNotNil(Fingerprint.normalise(key.fingerprint))
    }

    func testIntakeKeyLineRefusals() throws {
        let line = RequestKit.intakeKey(intake).line
        let last = line.last!
        let variants: [(String, String)] = [
            ("empty", ""),
            ("organisation prefix", "dossierorg1" + line.dropFirst(14)),
            ("identity line", sender.publicIdentity.line),
            ("upper case", line.uppercased()),
            ("checksum broken", String(line.dropLast()) + (last == "a" ? "b" : "a")),
            ("cut short", String(line.dropLast(2))),
            ("one character more", line + "a"),
            ("a digit outside base32", String(line.dropLast()) + "1"),
            ("inner space", String(line.prefix(30)) + " " + String(line.dropFirst(30))),
        ]
        for (what, text) in variants {
            let e = ShareKit.caught { _ = try IntakeKey(line: text) }
            guard case .malformedIntakeKey? = e else { XCTFail("\(what): got \(String(describing: e))"); continue }
        }
        let e = ShareKit.caught { _ = try IntakeKey(line: "dossierorg1" + line.dropFirst(14)) }
        XCTAssertTrue(e?.message.contains("intake key") ?? false, "\(String(describing: e))")
    }

    // MARK: Round trips

    func roundTrip(_ items: [(name: String, content: Data)], file: StaticString = #filePath, line: UInt = #line) throws {
        let folder = root + "/in-\(items.count)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let paths = try RequestKit.files(in: folder, items)
        let message = "We act for a man whose extradition is sought.\nΣας ευχαριστούμε. شكرا\n"
        let path = try write(RequestKit.draft(to: intake, message: message, attachments: paths), name: "rt-\(items.count).drq")
        let opened = try open(path)
        let d = opened.details
        XCTAssertEqual(d.from, sender.publicIdentity, file: file, line: line)
        XCTAssertEqual(opened.sender.fingerprint, sender.publicIdentity.fingerprint, file: file, line: line)
        XCTAssertEqual(d.need, .expertReport)
        XCTAssertEqual(d.languages, ["en", "fr"])
        XCTAssertEqual(d.jurisdiction, "England and Wales")
        XCTAssertEqual(d.court, "Westminster Magistrates' Court")
        XCTAssertEqual(d.caseReference, "EXT-2027-0042")
        XCTAssertEqual(d.hearing, "2027-03-15")
        XCTAssertEqual(d.messageSize, UInt64(message.utf8.count))
        XCTAssertEqual(d.attachments, items.map { RequestAttachment(name: $0.name, size: UInt64($0.content.count)) }, file: file, line: line)
        XCTAssertEqual(opened.header.to, RequestKit.intakeKey(intake))
        XCTAssertEqual(opened.header.created, RequestKit.madeAt)
        XCTAssertTrue(Identifier.isWellFormed(opened.header.requestID, prefix: "req"))
        XCTAssertEqual(try opened.message().unsafeCopyToData(), Data(message.utf8), file: file, line: line)
        let out = root + "/out-\(items.count)"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try opened.saveMessage(to: out + "/message.txt")
        XCTAssertEqual(try readFile(out + "/message.txt"), Data(message.utf8))
        for (i, item) in items.enumerated() {
            try opened.saveAttachment(i, to: out + "/" + item.name)
            XCTAssertEqual(try readFile(out + "/" + item.name), item.content, "attachment \(i + 1)", file: file, line: line)
        }
        // The reader written from the document's text agrees.
        let spec = try SpecRequest.open(try readFile(path), intake: intake)
        XCTAssertEqual(spec.plaintexts, [Data(message.utf8)] + items.map(\.content), file: file, line: line)
        XCTAssertEqual(Data(spec.detailsText.utf8), d.bytes)
        XCTAssertEqual(UInt64(try readFile(path).count), opened.fileSize)
    }

    func testRoundTripWithoutAttachments() throws {
        try roundTrip([])
    }

    func testRoundTripWithOneAttachment() throws {
        try roundTrip([("extradition-request.pdf", ShareKit.content("one", count: 70_000))])
    }

    func testRoundTripWithSeveralAttachmentsIncludingAnEmptyOneAndNonASCIINames() throws {
        try roundTrip([("ordonnance.pdf", ShareKit.content("a", count: 65_536)), ("vide.txt", Data()),
                       ("решение суда.txt", ShareKit.content("b", count: 10)), ("الحكم.pdf", ShareKit.content("c", count: 131_073))])
    }

    func testAFiveMiBAttachmentStreams() throws {
        try roundTrip([("scan.tiff", ShareKit.content("five", count: 5 << 20))])
    }

    func testTheOptionalFieldsMayBeLeftOut() throws {
        let draft = RequestDraft(to: RequestKit.intakeKey(intake), need: .other, languages: ["zh-Hans"], message: RequestKit.message("?"))
        let d = try open(try write(draft)).details
        XCTAssertNil(d.jurisdiction); XCTAssertNil(d.court); XCTAssertNil(d.caseReference); XCTAssertNil(d.hearing)
        XCTAssertEqual(String(decoding: d.bytes, as: UTF8.self),
                       "dossier-request-details/1\nfrom \(sender.publicIdentity.line)\nneed other\nlanguage zh-Hans\nmessage 1\n")
    }

    func testLanguageTagsAreWrittenInCanonicalCase() throws {
        var draft = RequestKit.draft(to: intake)
        draft.languages = ["ZH-hans", "es-419", "AR"]
        XCTAssertEqual(try open(try write(draft)).details.languages, ["zh-Hans", "es-419", "ar"])
    }

    // MARK: What an interceptor sees

    func testTheFileHoldsNothingSecretInTheClear() throws {
        let folder = root + "/in"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let secretName = "ordre-d-extradition-Ivanov.pdf"
        let content = Data("Request for the extradition of Mr Ivanov to the Republic of X\n".utf8)
        let paths = try RequestKit.files(in: folder, [(secretName, content)])
        let message = "Our client Mr Ivanov fears torture in detention."
        let bytes = try readFile(try write(RequestKit.draft(to: intake, message: message, attachments: paths)))
        let needles: [(String, Data)] = [
            ("court", Data("Westminster Magistrates".utf8)), ("case", Data("EXT-2027-0042".utf8)),
            ("jurisdiction", Data("England and Wales".utf8)), ("hearing", Data("2027-03-15".utf8)),
            ("sender line", Data(sender.publicIdentity.line.utf8)), ("sender line body", Data(sender.publicIdentity.line.dropFirst(8).prefix(40).utf8)),
            ("sender fingerprint", Data(sender.publicIdentity.fingerprint.utf8)),
            ("sender signing key", sender.signing.publicKey), ("sender encryption key", sender.encryption.publicKey),
            ("attachment name", Data("Ivanov".utf8)), ("attachment content", content.prefix(32)),
            ("message", Data("torture".utf8)), ("need", Data("expert-report".utf8)), ("details header", Data("dossier-request-details".utf8)),
        ]
        for (what, needle) in needles {
            XCTAssertFalse(contains(bytes, needle), "the request holds the \(what) in the clear")
        }
        // What is public: the intake line, the id and the time.
        XCTAssertTrue(contains(bytes, Data(RequestKit.intakeKey(intake).line.utf8)))
        XCTAssertTrue(contains(bytes, Data("created 2027-01-01T00:00:00.000Z\n".utf8)))
    }

    func testTheHeaderCanBeReadWithoutTheSecret() throws {
        let path = try write(RequestKit.draft(to: intake))
        let h = try RequestReader.header(path: path)
        XCTAssertEqual(h.to, RequestKit.intakeKey(intake))
        XCTAssertEqual(h.created, RequestKit.madeAt)
    }

    // MARK: The writer's refusals

    func testTheWriterNeverReplacesAFileUnlessTold() throws {
        let path = try write(RequestKit.draft(to: intake))
        let before = try readFile(path)
        let e = ShareKit.caught { _ = try RequestWriter().write(RequestKit.draft(to: intake), identity: sender, to: path) }
        guard case .fileExists? = e else { return XCTFail("got \(String(describing: e))") }
        XCTAssertEqual(try readFile(path), before)
        _ = try RequestWriter().write(RequestKit.draft(to: intake), identity: sender, to: path, overwrite: true)
        XCTAssertNotEqual(try readFile(path), before)
    }

    func testTheWriterRefusesBadFieldsAndLeavesNothing() throws {
        let folder = root + "/in"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let backslash = try RequestKit.files(in: folder, [("a\\b.txt", Data("x".utf8))])[0]
        let hidden = try RequestKit.files(in: folder, [(".hidden", Data("x".utf8))])[0]
        try FileManager.default.createDirectory(atPath: folder + "/other", withIntermediateDirectories: true)
        let twin = try RequestKit.files(in: folder, [("same.txt", Data("1".utf8))])[0]
        let twin2 = try RequestKit.files(in: folder + "/other", [("same.txt", Data("2".utf8))])[0]
        var cases: [(String, RequestDraft, (DossierError?) -> Bool)] = []
        func invalid(_ e: DossierError?) -> Bool { if case .invalidArgument? = e { return true }; return false }
        var d = RequestKit.draft(to: intake); d.languages = []; cases.append(("no language", d, invalid))
        d = RequestKit.draft(to: intake); d.languages = ["en_GB"]
        cases.append(("bad tag", d, { if case .invalidLanguageTag? = $0 { return true }; return false }))
        d = RequestKit.draft(to: intake); d.court = "Court\nsecond line"; cases.append(("newline in court", d, invalid))
        d = RequestKit.draft(to: intake); d.caseReference = "EXT\u{202E}42"; cases.append(("bidi override in case", d, invalid))
        d = RequestKit.draft(to: intake); d.jurisdiction = String(repeating: "é", count: 129); cases.append(("jurisdiction over 256 bytes", d, invalid))
        d = RequestKit.draft(to: intake); d.jurisdiction = ""; cases.append(("empty jurisdiction", d, invalid))
        d = RequestKit.draft(to: intake); d.hearing = "2027-02-30"; cases.append(("impossible hearing date", d, invalid))
        d = RequestKit.draft(to: intake); d.hearing = "15/03/2027"; cases.append(("hearing date in another form", d, invalid))
        d = RequestKit.draft(to: intake); d.message = SecureBytes(copying: Data()); cases.append(("empty message", d, invalid))
        d = RequestKit.draft(to: intake); d.message = SecureBytes(copying: Data([0x66, 0xff])); cases.append(("message not UTF-8", d, invalid))
        d = RequestKit.draft(to: intake); d.message = SecureBytes(copying: Data(repeating: 0x61, count: (1 << 20) + 1)); cases.append(("message over 1 MiB", d, invalid))
        d = RequestKit.draft(to: intake, attachments: [backslash]); cases.append(("backslash in a name", d, invalid))
        d = RequestKit.draft(to: intake, attachments: [hidden]); cases.append(("hidden name", d, invalid))
        d = RequestKit.draft(to: intake, attachments: [twin, twin2]); cases.append(("two attachments of one name", d, invalid))
        d = RequestKit.draft(to: intake, attachments: [folder + "/missing.pdf"])
        cases.append(("missing attachment", d, { if case .fileNotFound? = $0 { return true }; return false }))
        d = RequestKit.draft(to: intake, attachments: [folder + "/other"])
        cases.append(("folder as attachment", d, { if case .notARegularFile? = $0 { return true }; return false }))
        for (what, draft, expected) in cases {
            let out = root + "/refused.drq"
            let e = ShareKit.caught { _ = try RequestWriter().write(draft, identity: sender, to: out) }
            XCTAssertTrue(expected(e), "\(what): got \(String(describing: e))")
            XCTAssertFalse(fileExists(out), "\(what): something was written")
        }
        XCTAssertEqual(ShareKit.names(in: root), ["in"], "a temporary file was left behind")
    }

    func testTheWriterRefusesARequestOver64MiBBeforeWritingAnything() throws {
        let big = root + "/big.bin"
        // A sparse file: 64 MiB of attachment alone takes the request past the limit.
        XCTAssertTrue(FileManager.default.createFile(atPath: big, contents: nil))
        try truncateFile(big, to: 64 << 20)
        let e = ShareKit.caught { _ = try RequestWriter().write(RequestKit.draft(to: intake, attachments: [big]), identity: sender, to: root + "/out.drq") }
        guard case let .invalidArgument(message, _)? = e else { return XCTFail("got \(String(describing: e))") }
        XCTAssertTrue(message.contains("64 MiB"), message)
        XCTAssertEqual(ShareKit.names(in: root), ["big.bin"])
    }

    // MARK: The reader's refusals (request.md, section 7)

    /// A valid request of one attachment, and the parts it is made of.
    func sample() throws -> (bytes: Data, opened: SpecRequest.Opened) {
        let folder = root + "/sample"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let paths = try RequestKit.files(in: folder, [("order.pdf", ShareKit.content("order", count: 70_000))])
        let bytes = try readFile(try write(RequestKit.draft(to: intake, attachments: paths), name: "sample.drq"))
        return (bytes, try SpecRequest.open(bytes, intake: intake))
    }

    func testAZeroedOrMissingSignatureIsRefusedAsTampered() throws {
        let (bytes, _) = try sample()
        assertTampered(refusal(bytes.prefix(bytes.count - 104) + Data(count: 104)), "zeroed sealed signature")
        var flipped = bytes; flipped[flipped.count - 1] ^= 1
        assertTampered(refusal(flipped), "sealed signature's tag flipped")
        var nonce = bytes; nonce[nonce.count - 104] ^= 1
        assertTampered(refusal(nonce), "sealed signature's nonce flipped")
        // Cut off: the file no longer has the size its details declare.
        assertMalformed(refusal(bytes.prefix(bytes.count - 104)), "signature cut off")
    }

    func testASignatureByAnotherKeyThanTheSenderInsideIsRefused() throws {
        let (_, s) = try sample()
        let mallory = RequestKit.identity("mallory")
        // Everything as the real request, but signed by another identity.
        var parts = s.parts
        parts.sealedSignature = SpecRequest.sealSignature(for: parts.signedPrefix, signer: mallory.signing, key: s.key, nonce: s.signatureNonce)
        let e = refusal(parts.bytes)
        assertTampered(e, "signed by another key")
        XCTAssertTrue(e?.message.contains(sender.publicIdentity.fingerprint) ?? false, "\(String(describing: e))")
        // The same parts re-signed by the sender open: the test changes nothing else.
        parts.sealedSignature = SpecRequest.sealSignature(for: parts.signedPrefix, signer: sender.signing, key: s.key, nonce: s.signatureNonce)
        let path = root + "/resigned.drq"
        try parts.bytes.write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try open(path).details.from, sender.publicIdentity)
    }

    func testARequestSealedToAnotherIntakeKeyIsRefusedAsNotForUs() throws {
        let other = RequestKit.intake("another organisation")
        let path = try write(RequestKit.draft(to: other))
        let e = ShareKit.caught { _ = try open(path) }
        guard case let .requestNotForThisIntake(_, sealedTo, ours)? = e else { return XCTFail("got \(String(describing: e))") }
        XCTAssertEqual(sealedTo, RequestKit.intakeKey(other).fingerprint)
        XCTAssertEqual(ours, RequestKit.intakeKey(intake).fingerprint)
        XCTAssertNoThrow(try open(path, with: other))
        // The `to` line rewritten to our key, the stanza left sealed to the other: it does not open.
        let bytes = try readFile(path)
        var spliced = bytes
        let range = bytes.range(of: Data(RequestKit.intakeKey(other).line.utf8))!
        spliced.replaceSubrange(range, with: Data(RequestKit.intakeKey(intake).line.utf8))
        assertTampered(refusal(spliced), "to line rewritten")
    }

    func testTruncationAnywhereIsRefused() throws {
        let (bytes, s) = try sample()
        let m = s.parts.header.count
        let detailsEnd = 92 + m + s.parts.sealedDetails.count
        let cuts: [(String, Int)] = [
            ("empty", 0), ("inside the magic", 3), ("after the header length", 8), ("inside the header", 8 + m / 2),
            ("after the header", 8 + m), ("inside the stanza", 8 + m + 40), ("after the stanza", 88 + m),
            ("inside the details", detailsEnd - 10), ("after the details", detailsEnd),
            ("inside the message", detailsEnd + 5), ("after the message", detailsEnd + s.parts.streams[0].count),
            ("inside the attachment", detailsEnd + s.parts.streams[0].count + 65_552),
            ("after the attachment", bytes.count - 104), ("inside the signature", bytes.count - 50), ("one byte short", bytes.count - 1),
        ]
        for (what, cut) in cuts { assertMalformed(refusal(bytes.prefix(cut)), "cut \(what)") }
        assertMalformed(refusal(bytes + Data([0])), "one byte appended")
    }

    func testAnOversizeFileIsRefusedBeforeAnythingIsRead() throws {
        let (bytes, _) = try sample()
        let path = root + "/huge.drq"
        try bytes.write(to: URL(fileURLWithPath: path))
        try truncateFile(path, to: (64 << 20) + 1)
        let e = ShareKit.caught { _ = try open(path) }
        assertMalformed(e, "over 64 MiB")
        XCTAssertTrue(e?.message.contains("64 MiB") ?? false)
    }

    func testBadMagicAndVersionAreRefused() throws {
        let (bytes, _) = try sample()
        var magic = bytes; magic[0] = 0x44; magic[1] = 0x50; magic[2] = 0x4b   // "DPK": a package
        var version = bytes; version[3] = 2
        assertMalformed(refusal(magic), "package magic")
        let e = refusal(version)
        assertMalformed(e, "version 2")
        XCTAssertTrue(e?.message.contains("version 2") ?? false)
        var length = bytes; length[4] = 0xff
        assertMalformed(refusal(length), "header length out of range")
        var zero = bytes; zero.replaceSubrange(4..<8, with: Data(count: 4))
        assertMalformed(refusal(zero), "header length 0")
    }

    /// A request from the spec writer with the given header or details text, otherwise valid.
    func forged(header: String? = nil, details: String? = nil, message: Data = Data("hello\n".utf8), attachments: [Data] = [Data("abcde".utf8)]) -> Data {
        let h = header ?? "dossier-request/1\nto \(RequestKit.intakeKey(intake).line)\nrequest req-aaaaaaaaaaaaa\ncreated 2027-01-01T00:00:00.000Z\n"
        let d = details ?? validDetails(message: message.count, attachments: attachments.map { ("a.txt", $0.count) })
        return SpecRequest.make(header: h, details: d, message: message, attachments: attachments, to: intake.publicKey,
                                signer: sender.signing, key: SecureBytes(randomCount: 32)).bytes
    }

    func validDetails(message: Int = 6, attachments: [(String, Int)] = [("a.txt", 5)], replacing: [String: String] = [:]) -> String {
        var lines = ["dossier-request-details/1", "from \(sender.publicIdentity.line)", "need expert-witness", "language en", "language ar",
                     "jurisdiction England and Wales", "court Westminster Magistrates' Court", "case EXT-2027-0042", "hearing 2027-03-15",
                     "message \(message)"]
        lines += attachments.map { "attachment \($0.1) \($0.0)" }
        return lines.map { line in replacing.first { line.hasPrefix($0.key) }.map(\.value) ?? line }.joined(separator: "\n") + "\n"
    }

    func testTheSpecWritersRequestOpens() throws {
        let path = root + "/forged.drq"
        try forged().write(to: URL(fileURLWithPath: path))
        let opened = try open(path)
        XCTAssertEqual(opened.details.need, .expertWitness)
        XCTAssertEqual(opened.details.languages, ["en", "ar"])
        XCTAssertEqual(try opened.message().unsafeCopyToData(), Data("hello\n".utf8))
        XCTAssertEqual(opened.header.requestID, "req-aaaaaaaaaaaaa")
    }

    func testANonCanonicalHeaderIsRefused() throws {
        let line = RequestKit.intakeKey(intake).line
        let good = "dossier-request/1\nto \(line)\nrequest req-aaaaaaaaaaaaa\ncreated 2027-01-01T00:00:00.000Z\n"
        let variants: [(String, String)] = [
            ("version 2", good.replacingOccurrences(of: "dossier-request/1", with: "dossier-request/2")),
            ("a package header", good.replacingOccurrences(of: "dossier-request/1", with: "dossier-package/1")),
            ("CRLF", good.replacingOccurrences(of: "\n", with: "\r\n")),
            ("no final newline", String(good.dropLast())),
            ("blank line at the end", good + "\n"),
            ("trailing space", good.replacingOccurrences(of: "aaaa\n", with: "aaaa \n")),
            ("two spaces", good.replacingOccurrences(of: "request ", with: "request  ")),
            ("tab", good.replacingOccurrences(of: "created ", with: "created\t")),
            ("lines reordered", "dossier-request/1\nrequest req-aaaaaaaaaaaaa\nto \(line)\ncreated 2027-01-01T00:00:00.000Z\n"),
            ("unknown line", good + "comment hello\n"),
            ("organisation key instead of intake key", good.replacingOccurrences(of: "to dossierintake1", with: "to dossierorg1")),
            ("intake checksum broken", good.replacingOccurrences(of: line, with: String(line.dropLast()) + (line.hasSuffix("a") ? "b" : "a"))),
            ("upper-case intake line", good.replacingOccurrences(of: line, with: line.uppercased())),
            ("bad request id", good.replacingOccurrences(of: "req-aaaaaaaaaaaaa", with: "req-1")),
            ("request id with a non-zero unused bit", good.replacingOccurrences(of: "req-aaaaaaaaaaaaa", with: "req-aaaaaaaaaaaab")),
            ("package id", good.replacingOccurrences(of: "req-aaaaaaaaaaaaa", with: "pkg-aaaaaaaaaaaaa")),
            ("time without milliseconds", good.replacingOccurrences(of: "00:00:00.000Z", with: "00:00:00Z")),
            ("impossible date", good.replacingOccurrences(of: "2027-01-01", with: "2027-02-30")),
        ]
        for (what, header) in variants { assertMalformed(refusal(forged(header: header)), "header: \(what)") }
    }

    func testMalformedDetailsAreRefusedRuleByRule() throws {
        let from = "from \(sender.publicIdentity.line)"
        let brokenLine = String(from.dropLast()) + (from.hasSuffix("a") ? "b" : "a")
        let seventeen = (0..<17).map { "language x-l\($0)" }.joined(separator: "\n")
        let nfc = "r\u{E9}sum\u{E9}.txt", nfd = "re\u{301}sume\u{301}.txt"
        let variants: [(String, String)] = [
            ("unknown first line", validDetails(replacing: ["dossier-request-details/1": "dossier-request-details/2"])),
            ("CRLF", validDetails().replacingOccurrences(of: "\n", with: "\r\n")),
            ("no final newline", String(validDetails().dropLast())),
            ("missing from", validDetails(replacing: ["from ": "need other"]).replacingOccurrences(of: "need other\nneed expert-witness", with: "need other")),
            ("sender checksum broken", validDetails(replacing: ["from ": brokenLine])),
            ("an intake line as sender", validDetails(replacing: ["from ": "from \(RequestKit.intakeKey(intake).line)"])),
            ("unknown need", validDetails(replacing: ["need ": "need everything"])),
            ("need in upper case", validDetails(replacing: ["need ": "need Expert-Witness"])),
            ("no language", validDetails().replacingOccurrences(of: "language en\nlanguage ar\n", with: "")),
            ("malformed tag", validDetails(replacing: ["language en": "language en_GB"])),
            ("tag not in canonical case", validDetails(replacing: ["language en": "language EN"])),
            ("a language twice", validDetails(replacing: ["language ar": "language en"])),
            ("seventeen languages", validDetails().replacingOccurrences(of: "language en\nlanguage ar", with: seventeen)),
            ("empty jurisdiction", validDetails(replacing: ["jurisdiction ": "jurisdiction "])),
            ("tab in the court", validDetails(replacing: ["court ": "court Westminster\tCourt"])),
            ("escape in the case", validDetails(replacing: ["case ": "case EXT\u{1b}[2K"])),
            ("bidi override in the court", validDetails(replacing: ["court ": "court \u{202E}truoC"])),
            ("C1 control in the jurisdiction", validDetails(replacing: ["jurisdiction ": "jurisdiction A\u{85}B"])),
            ("line separator in the case", validDetails(replacing: ["case ": "case A\u{2028}B"])),
            ("leading space in the court", validDetails(replacing: ["court ": "court  Westminster"])),
            ("trailing space in the case", validDetails(replacing: ["case ": "case EXT "])),
            ("court over 256 bytes", validDetails(replacing: ["court ": "court " + String(repeating: "x", count: 257)])),
            ("impossible hearing date", validDetails(replacing: ["hearing ": "hearing 2027-02-29"])),
            ("hearing with a time", validDetails(replacing: ["hearing ": "hearing 2027-03-15T10:00:00.000Z"])),
            ("short hearing date", validDetails(replacing: ["hearing ": "hearing 2027-3-15"])),
            ("fields reordered", validDetails().replacingOccurrences(of: "jurisdiction England and Wales\ncourt Westminster Magistrates' Court",
                                                                       with: "court Westminster Magistrates' Court\njurisdiction England and Wales")),
            ("a field twice", validDetails(replacing: ["case ": "case A\ncase B"])),
            ("unknown line", validDetails(replacing: ["hearing ": "hearing 2027-03-15\nurgent yes"])),
            ("empty message", validDetails(message: 0)),
            ("message size with a leading zero", validDetails(replacing: ["message ": "message 06"])),
            ("message size with a sign", validDetails(replacing: ["message ": "message +6"])),
            ("message over 1 MiB", validDetails(message: (1 << 20) + 1)),
            ("no message line", validDetails().replacingOccurrences(of: "message 6\n", with: "")),
            ("attachment name with a slash", validDetails(attachments: [("../../etc/passwd", 5)])),
            ("attachment name with a backslash", validDetails(attachments: [("..\\evil.exe", 5)])),
            ("hidden attachment name", validDetails(attachments: [(".bashrc", 5)])),
            ("attachment name with a terminal escape", validDetails(attachments: [("a\u{1b}]0;x\u{7}.txt", 5)])),
            ("attachment name with a bidi override", validDetails(attachments: [("cod\u{202E}fdp.exe", 5)])),
            ("attachment without a name", validDetails(attachments: [("", 5)])),
            ("attachment name over 255 bytes", validDetails(attachments: [(String(repeating: "n", count: 256), 5)])),
            ("attachment size with a leading zero", validDetails().replacingOccurrences(of: "attachment 5 a.txt", with: "attachment 05 a.txt")),
            ("attachment without a size", validDetails().replacingOccurrences(of: "attachment 5 a.txt", with: "attachment a.txt")),
            ("two attachments of one name", validDetails(attachments: [("a.txt", 5), ("a.txt", 5)])),
            ("two attachments of one name, NFC and NFD", validDetails(attachments: [(nfc, 5), (nfd, 5)])),
            ("101 attachments", validDetails(attachments: (0...100).map { ("f\($0)", 5) })),
        ]
        for (what, details) in variants {
            XCTAssertNotEqual(details, validDetails(), "\(what): the variant changes nothing")
            assertMalformed(refusal(forged(details: details)), "details: \(what)")
        }
    }

    func testDetailsThatDisagreeWithTheStreamsAreRefused() throws {
        // Declared sizes that differ from the streams written: the file has the wrong size.
        assertMalformed(refusal(forged(details: validDetails(message: 7))), "message size one too many")
        assertMalformed(refusal(forged(details: validDetails(attachments: [("a.txt", 5), ("b.txt", 1)]))), "an attachment too many")
        // A message that authenticates but is not UTF-8 text.
        assertMalformed(refusal(forged(details: validDetails(message: 2), message: Data([0xc3, 0x28]))), "message not UTF-8")
    }

    func testAFlippedByteAnywhereAfterTheHeaderIsRefusedAsTampered() throws {
        let (bytes, s) = try sample()
        let m = s.parts.header.count
        let detailsStart = 92 + m
        let messageStart = detailsStart + s.parts.sealedDetails.count
        let attachmentStart = messageStart + s.parts.streams[0].count
        let places: [(String, Int)] = [
            ("stanza", 8 + m + 1), ("stanza's ephemeral key", 8 + m), ("details nonce", detailsStart), ("details ciphertext", detailsStart + 30),
            ("message chunk", messageStart + 1), ("attachment's first chunk", attachmentStart), ("attachment's last chunk", bytes.count - 105),
        ]
        for (what, offset) in places {
            var x = bytes; x[offset] ^= 0x01
            let e = refusal(x)
            assertTampered(e, what)
        }
        // The creation time changed within the grammar: the details no longer authenticate.
        let text = "created 2027-01-01T00:00:00.000Z"
        var retimed = bytes
        retimed.replaceSubrange(bytes.range(of: Data(text.utf8))!, with: Data("created 2027-01-01T00:00:00.001Z".utf8))
        assertTampered(refusal(retimed), "created time changed")
    }

    func testSavingAnAttachmentIsAtomic() throws {
        let folder = root + "/sample-in"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let paths = try RequestKit.files(in: folder, [("order.pdf", ShareKit.content("order", count: 200_000))])
        let path = try write(RequestKit.draft(to: intake, attachments: paths))
        let opened = try open(path)
        let out = root + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try writeFile(out + "/exists.pdf", "mine")
        let e1 = ShareKit.caught { try opened.saveAttachment(0, to: out + "/exists.pdf") }
        guard case .fileExists? = e1 else { return XCTFail("got \(String(describing: e1))") }
        XCTAssertEqual(try readFile(out + "/exists.pdf"), Data("mine".utf8))
        let e2 = ShareKit.caught { try opened.saveAttachment(1, to: out + "/none") }
        guard case .invalidArgument? = e2 else { return XCTFail("got \(String(describing: e2))") }
        // The file altered after it was opened: the last chunk fails, nothing is left.
        try flipByte(in: path, at: UInt64(try readFile(path).count - 110))
        let e3 = ShareKit.caught { try opened.saveAttachment(0, to: out + "/order.pdf") }
        guard case .requestTampered? = e3 else { return XCTFail("got \(String(describing: e3))") }
        XCTAssertEqual(ShareKit.names(in: out), ["exists.pdf"])
    }

    func testErrorsNameTheFileAndHoldNoSecret() throws {
        let (bytes, _) = try sample()
        var x = bytes; x[x.count - 200] ^= 1
        let e = try XCTUnwrap(refusal(x))
        for needle in ["Westminster", "EXT-2027", "extradition", sender.publicIdentity.line] {
            XCTAssertFalse(e.description.contains(needle), "the error shows \(needle): \(e.description)")
        }
        XCTAssertTrue(e.message.contains(".drq"), e.message)
    }
}
