import DossierCrypto
import Foundation
import XCTest

@testable import DossierCore

/// A grant made in answer to a request (`grant --answer`): the grant and the answer in one
/// transaction, the package naming the request in its sealed list (package.md section 11.2),
/// the list grammar's request lines, the `request-read` entries of `show` and `save`, and the
/// request figures of the audit report.
final class RequestAnswerTests: XCTestCase {
    static let root = OrganisationRoot.generate(using: DeterministicRandom(seed: "request-answer-tests/root"))

    private func world(_ name: String = #function, root: OrganisationRoot? = RequestAnswerTests.root) throws -> ShareWorld {
        try ShareWorld("request-answer/" + name, organisationRoot: root)
    }

    private func request(_ w: ShareWorld, from counsel: SecretIdentity, need: RequestNeed = .reports, languages: [String] = ["ar", "en"],
                         label: String = "request") throws -> InboxRequest {
        let intake = try XCTUnwrap(try w.vault.intakeKey())
        let folder = try w.folder(label)
        try Data("the extradition request\n".utf8).write(to: URL(fileURLWithPath: folder + "/order.pdf"))
        let draft = RequestDraft(to: intake, need: need, languages: languages, jurisdiction: "Republic of Answeria", court: "Court of Answers",
                                 caseReference: "EXT-ANSWER-1", hearing: "2027-04-01", message: SecureBytes(copying: Data("Please.\n".utf8)),
                                 attachments: [folder + "/order.pdf"])
        let path = folder + "/request.drq"
        _ = try RequestWriter(clock: ShareKit.clock(), random: SystemRandom()).write(draft, identity: counsel, to: path)
        return try w.session.requests.importRequest(path: path)
    }

    /// Registers the request's sender, vetted.
    private func register(_ w: ShareWorld, _ r: InboxRequest) throws -> Counsel {
        let c = try w.session.sharing.addCounsel(fromRequest: r.id, details: .init(name: "Counsel \(r.id)"))
        _ = try w.session.sharing.vetCounsel(c.id, until: ShareKit.clock(days: 30).now(), note: nil)
        return c
    }

    func testAGrantMadeInAnswerClosesTheRequestAndItsPackageNamesIt() throws {
        let w = try world()
        try w.trustOrganisation()
        let sender = ShareKit.identity("request-answer/sender")
        let r = try request(w, from: sender)
        let c = try register(w, r)
        let doc = try w.document(name: "report.txt", content: Data("Assurances rebutted.\n".utf8))
        let g = try w.session.sharing.grant(GrantRequest(documents: [doc.id], counsel: [c.id], window: .duration(seconds: 86400), answering: r.id))

        let answered = try w.session.requests.request(r.id)
        XCTAssertEqual(answered.state, .answered)
        XCTAssertEqual(answered.grant, g.id)
        // One transaction: the answer's entry right after the grant's.
        let log = try w.vault.auditEntries()
        let grantAt = try XCTUnwrap(log.firstIndex { $0.action == "grant" && $0.subjects.first == "grant:" + g.id })
        XCTAssertEqual(log[grantAt + 1].action, "request-answer")
        XCTAssertEqual(log[grantAt + 1].subjects, ["request:" + r.id, "grant:" + g.id])

        let path = w.packagePath()
        let summary = try w.session.sharing.makePackage(grant: g.id, to: path)
        XCTAssertEqual(summary.answers, [r.id])
        var named: [AnsweredRequest] = []
        let out = try ShareKit.makeTemporaryFolder("request-answer-out")
        let docs = try PackageReader(path: path, clock: ShareKit.clock()).open(identity: sender, trust: w.trust, into: out, answers: { named = $0 })
        XCTAssertEqual(docs.map(\.id), [doc.id])
        XCTAssertEqual(named, [AnsweredRequest(id: r.id, sha256: r.sha256)])
    }

    func testAGrantAnsweringSomeoneElsesOrAClosedRequestIsRefusedWhole() throws {
        let w = try world()
        let sender = ShareKit.identity("request-answer/sender")
        let r = try request(w, from: sender)
        let doc = try w.document()
        let (_, stranger) = try w.counsel("stranger")
        let grantsBefore = try w.entries("grant").count
        // The sender is not a recipient: nothing is written, neither grant nor answer.
        let refused = ShareKit.caught { _ = try w.session.sharing.grant(GrantRequest(documents: [doc.id], counsel: [stranger.id], answering: r.id)) }
        XCTAssertEqual(refused.map(caseName), "invalidArgument")
        XCTAssertEqual(try w.entries("grant").count, grantsBefore)
        XCTAssertEqual(try w.session.sharing.listGrants().count, 0)
        XCTAssertEqual(try w.session.requests.request(r.id).state, .new)
        XCTAssertEqual(ShareKit.caught { _ = try w.session.sharing.grant(GrantRequest(documents: [doc.id], counsel: [stranger.id], answering: "req-aaaaaaaaaaaaa")) }
                        .map(caseName), "unknownRequest")
        // Declined: no grant answers it any more.
        let c = try register(w, r)
        _ = try w.session.requests.decline(r.id, reason: "outside our mandate")
        XCTAssertEqual(ShareKit.caught { _ = try w.session.sharing.grant(GrantRequest(documents: [doc.id], counsel: [c.id], answering: r.id)) }
                        .map(caseName), "requestClosed")
        XCTAssertEqual(try w.session.sharing.listGrants().count, 0)
    }

    func testAPackageOfAGrantAnsweredLaterNamesItAndOtherPackagesNameNothing() throws {
        let w = try world()
        try w.trustOrganisation()
        let sender = ShareKit.identity("request-answer/later")
        let r = try request(w, from: sender)
        let c = try register(w, r)
        let doc = try w.document()
        let g = try w.session.sharing.grant(GrantRequest(documents: [doc.id], counsel: [c.id], window: .duration(seconds: 86400)))
        let before = w.packagePath()
        XCTAssertNil(try w.session.sharing.makePackage(grant: g.id, to: before).answers)
        _ = try w.session.requests.answer(r.id, grant: g.id)
        let after = w.packagePath()
        XCTAssertEqual(try w.session.sharing.makePackage(grant: g.id, to: after).answers, [r.id])
        for (path, expected) in [(before, [AnsweredRequest]()), (after, [AnsweredRequest(id: r.id, sha256: r.sha256)])] {
            var named: [AnsweredRequest] = []
            _ = try PackageReader(path: path, clock: ShareKit.clock()).open(identity: sender, trust: w.trust,
                                                                         into: try ShareKit.makeTemporaryFolder("later-out"), answers: { named = $0 })
            XCTAssertEqual(named, expected, path)
        }
    }

    func testAFormatOnePackageNeverNamesARequest() throws {
        // A vault that still holds its organisation key signs format 1, whose list has no request lines.
        let w = try world(root: nil)
        let sender = ShareKit.identity("request-answer/v1")
        let r = try request(w, from: sender)
        let c = try register(w, r)
        let doc = try w.document()
        let g = try w.session.sharing.grant(GrantRequest(documents: [doc.id], counsel: [c.id], window: .duration(seconds: 86400), answering: r.id))
        let path = w.packagePath()
        XCTAssertNil(try w.session.sharing.makePackage(grant: g.id, to: path).answers)
        XCTAssertEqual(try readFile(path).prefix(4), Data([0x44, 0x50, 0x4b, 0x01]))
    }

    // MARK: The vector

    static var vectorFolder: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors/package-v2") }

    /// `Vectors/package-v2/answers.dpkg`: a format-2 package whose list names the request its
    /// grant answers; answers.txt gives its keys and the list's plaintext.
    /// `DOSSIER_WRITE_PACKAGE_V2_VECTORS=1` rewrites both.
    func testVectorOfAPackageThatAnswersARequest() throws {
        let sender = ShareKit.identity("request-answer/vector-sender")
        if ProcessInfo.processInfo.environment["DOSSIER_WRITE_PACKAGE_V2_VECTORS"] == "1" {
            let w = try world("vector")
            let r = try request(w, from: sender)
            let c = try register(w, r)
            let doc = try w.document(name: "rebuttal.txt", content: Data("The assurances are not verifiable.\n".utf8))
            let g = try w.session.sharing.grant(GrantRequest(documents: [doc.id], counsel: [c.id], window: .duration(seconds: 86400), answering: r.id))
            let path = w.packagePath()
            _ = try w.session.sharing.makePackage(grant: g.id, to: path)
            let bytes = try readFile(path)
            try bytes.write(to: Self.vectorFolder.appendingPathComponent("answers.dpkg"))
            let list = DocumentList.bytes([PackagedDocument(id: doc.id, kind: doc.kind.rawValue, language: doc.language, size: doc.size,
                                                            hash: Hash.blake2b(Data("The assurances are not verifiable.\n".utf8)),
                                                            fileName: "rebuttal.txt")],
                                          requests: [AnsweredRequest(id: r.id, sha256: r.sha256)])
            let text = ["expect: success", "package: answers.dpkg", "clock: \(Timestamp.format(ShareKit.clock(seconds: 3600).now()))",
                        "root-seed: request-answer-tests/root", "trusted: \(Self.root.key.line)",
                        "recipient-seed: request-answer/vector-sender (ShareKit.identity)",
                        "recipient-x25519-secret: \(sender.encryption.secretKey.unsafeCopyToData().hex)",
                        "request: \(r.id) \(r.sha256)", "file-bytes: \(bytes.count)", "list:"]
            try ((text.joined(separator: "\n") + "\n") + String(decoding: list, as: UTF8.self))
                .write(to: Self.vectorFolder.appendingPathComponent("answers.txt"), atomically: true, encoding: .utf8)
        }
        let folder = try XCTUnwrap(Bundle.module.url(forResource: "Vectors", withExtension: nil)).appendingPathComponent("package-v2")
        let bytes = try Data(contentsOf: folder.appendingPathComponent("answers.dpkg"))
        let text = String(decoding: try Data(contentsOf: folder.appendingPathComponent("answers.txt")), as: UTF8.self)
        XCTAssertTrue(text.contains("recipient-x25519-secret: \(sender.encryption.secretKey.unsafeCopyToData().hex)\n"))
        let requestLine = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("request: ") }).split(separator: " ")
        let expected = AnsweredRequest(id: String(requestLine[1]), sha256: String(requestLine[2]))
        let listText = try XCTUnwrap(text.components(separatedBy: "list:\n").last)
        XCTAssertTrue(listText.hasPrefix(DocumentList.header + "\nrequest \(expected.id) \(expected.sha256)\ndocument "), listText)

        let work = try ShareKit.makeTemporaryFolder("answers-vector")
        let path = work + "/answers.dpkg"
        try bytes.write(to: URL(fileURLWithPath: path))
        let trust = TrustStore(path: work + "/trusted")
        _ = try trust.add(Self.root.key, name: "vector")
        var named: [AnsweredRequest] = []
        let docs = try PackageReader(path: path, clock: ShareKit.clock(seconds: 3600)).open(identity: sender, trust: trust, into: work,
                                                                                           answers: { named = $0 })
        XCTAssertEqual(named, [expected])
        XCTAssertEqual(try readFile(docs[0].path), Data("The assurances are not verifiable.\n".utf8))
    }

    // MARK: The list grammar

    func testRequestLinesParseInFormatTwoOnlyInOrderAndBeforeTheDocuments() throws {
        let doc = PackagedDocument(id: "doc-aaaaaaaaaaaaa", kind: "expert-report", language: "en", size: 3, hash: Data(repeating: 7, count: 32), fileName: "a.txt")
        let a = AnsweredRequest(id: "req-aaaaaaaaaaaaa", sha256: String(repeating: "0f", count: 32))
        let b = AnsweredRequest(id: "req-bbbbbbbbbbbba", sha256: String(repeating: "a1", count: 32))
        let good = DocumentList.bytes([doc], requests: [a, b])
        let parsed = try DocumentList.parse(good, path: "p", version: 2)
        XCTAssertEqual(parsed.requests, [a, b])
        XCTAssertEqual(parsed.documents.map(\.id), [doc.id])
        // Format 1 has no request lines.
        XCTAssertThrowsError(try DocumentList.parse(good, path: "p", version: 1)) { XCTAssertTrue("\($0)".contains("format-1"), "\($0)") }
        let header = DocumentList.header + "\n"
        let docLine = String(decoding: DocumentList.bytes([doc]), as: UTF8.self).dropFirst(header.count)
        let lineA = "request \(a.id) \(a.sha256)\n", lineB = "request \(b.id) \(b.sha256)\n"
        let bad: [(String, String)] = [
            (header + docLine + lineA, "after a document"),
            (header + lineB + lineA + docLine, "out of order"),
            (header + lineA + lineA + docLine, "out of order or repeated"),
            (header + "request \(a.id) \(String(repeating: "0F", count: 32))\n" + docLine, "malformed request line"),
            (header + "request \(a.id) \(String(repeating: "0f", count: 31))\n" + docLine, "malformed request line"),
            (header + "request doc-aaaaaaaaaaaaa \(a.sha256)\n" + docLine, "malformed request line"),
            (header + "request \(a.id)  \(a.sha256)\n" + docLine, "malformed request line"),
            (header + "request \(a.id) \(a.sha256) extra\n" + docLine, "malformed request line"),
        ]
        for (text, words) in bad {
            XCTAssertThrowsError(try DocumentList.parse(Data(text.utf8), path: "p", version: 2), text) { error in
                XCTAssertTrue("\(error)".contains(words), "\(error) should say \(words)")
            }
        }
    }

    // MARK: Reading is logged

    func testShowAndSaveAreLoggedBeforeAnythingIsDecrypted() throws {
        let w = try world()
        let r = try request(w, from: ShareKit.identity("request-answer/read"))
        XCTAssertEqual(try w.entries("request-read").count, 0)
        _ = try w.session.requests.show(r.id)
        try w.session.requests.saveAttachment(r.id, attachment: "1", to: try w.folder("saved") + "/order.pdf")
        let reads = try w.entries("request-read")
        XCTAssertEqual(reads.map(\.subjects), [["request:" + r.id], ["request:" + r.id]])
        XCTAssertEqual(reads.map { $0.detail("part") }, ["message", "attachment"])
        XCTAssertEqual(reads.map(\.actor), [w.session.actor, w.session.actor])
        // An unknown request writes nothing.
        XCTAssertEqual(ShareKit.caught { _ = try w.session.requests.show("req-aaaaaaaaaaaaa") }.map(caseName), "unknownRequest")
        XCTAssertEqual(try w.entries("request-read").count, 2)
        XCTAssertTrue(try AuditVerifier.verify(w.vault.logSnapshot()).entries > 0)
    }

    // MARK: The report's figures

    func testTheReportCountsRequestsPerLanguageAndKindAndTheMedianTimeToAnswer() throws {
        let w = try world()
        let one = try request(w, from: ShareKit.identity("request-answer/one"), need: .reports, languages: ["ar", "en"], label: "one")
        let two = try request(w, from: ShareKit.identity("request-answer/two"), need: .expertWitness, languages: ["ar"], label: "two")
        let three = try request(w, from: ShareKit.identity("request-answer/three"), need: .reports, languages: ["fr"], label: "three")
        let doc = try w.document()
        for r in [one, two] {
            let c = try register(w, r)
            _ = try w.session.sharing.grant(GrantRequest(documents: [doc.id], counsel: [c.id], window: .duration(seconds: 86400), answering: r.id))
        }
        _ = try w.session.requests.decline(three.id, reason: "not ours")
        let entries = try w.vault.auditEntries()
        let f = RequestFigures(entries)
        XCTAssertEqual([f.received, f.answered, f.declined, f.open], [3, 2, 1, 0])
        XCTAssertEqual(f.perLanguage["ar"], .init(received: 2, answered: 2))
        XCTAssertEqual(f.perLanguage["en"], .init(received: 1, answered: 1))
        XCTAssertEqual(f.perLanguage["fr"], .init(received: 1, answered: 0))
        XCTAssertEqual(f.perKind["reports"], .init(received: 2, answered: 1))
        XCTAssertEqual(f.perKind["expert-witness"], .init(received: 1, answered: 1))
        // The median of the two waits, from the signed times.
        func time(_ action: String, _ id: String) throws -> Date {
            try XCTUnwrap(entries.first { $0.action == action && $0.subjects.contains("request:" + id) }?.date)
        }
        let waits = try [one, two].map { try time("request-answer", $0.id).timeIntervalSince(try time("request-receive", $0.id)) }
        XCTAssertEqual(try XCTUnwrap(f.medianSecondsToAnswer), (waits[0] + waits[1]) / 2, accuracy: 0.001)

        let html = try AuditReport.html(w.vault.logSnapshot(), verification: .failure(.integrity("not checked here")), generatedAt: Date())
        XCTAssertTrue(html.contains("<h2>Requests</h2>"))
        XCTAssertTrue(html.contains("<tr><td><code>ar</code></td><td>2</td><td>2</td></tr>"), "per-language row missing")
        XCTAssertTrue(html.contains("<tr><td><code>expert-witness</code></td><td>1</td><td>1</td></tr>"), "per-kind row missing")
        // Still no secret: courts, cases, reasons and messages are not in the page.
        for secret in ["Court of Answers", "EXT-ANSWER-1", "Republic of Answeria", "not ours", "Please."] {
            XCTAssertFalse(html.contains(secret), secret)
        }
    }

    func testRequestsReceivedBeforeKindsWereLoggedCountAsNotRecorded() throws {
        // A request-receive entry as earlier versions wrote it: no need, no language.
        let w = try world()
        let r = try request(w, from: ShareKit.identity("request-answer/old"))
        let entries = try w.vault.auditEntries().map { e -> AuditEntry in
            guard e.action == "request-receive" else { return e }
            return AuditEntry(seq: e.seq, time: e.time, actor: e.actor, action: e.action, subjects: e.subjects,
                              details: e.details.filter { $0.key == "sha256" || $0.key == "sender" }, previousHash: e.previousHash, signature: e.signature)
        }
        let f = RequestFigures(entries)
        XCTAssertEqual(f.received, 1)
        XCTAssertEqual(f.perLanguage, [RequestFigures.notRecorded: .init(received: 1, answered: 0)])
        XCTAssertEqual(f.perKind, [RequestFigures.notRecorded: .init(received: 1, answered: 0)])
        XCTAssertNil(f.medianSecondsToAnswer)
        XCTAssertEqual(r.state, .new)
    }
}
