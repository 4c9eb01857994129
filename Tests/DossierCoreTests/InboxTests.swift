import DossierCrypto
import Foundation
import GRDB
import XCTest

@testable import DossierCore

/// The organisation's intake key in the vault and the staff inbox of requests from counsel:
/// import (verified, replay refused, nothing stored on refusal), listing and its filters, show
/// and save, the assign/answer/decline state machine and its log entries, rows edited outside
/// dossier refused against the signed log, rotation, and no request plaintext in the folder.
final class InboxTests: XCTestCase {
    let court = "Westminster Magistrates' Court"
    let caseReference = "EXT-2027-0042-INBOX"
    let jurisdiction = "Republic of Inboxia"
    let messageText = "We act for Mr Petrov; the extradition hearing needs an expert on prison conditions.\n"
    let attachmentBytes = Data("ATTACHMENT: the extradition request of the Republic of Inboxia, page 1 of 40.\n".utf8)

    private func world(_ name: String = #function) throws -> ShareWorld {
        try ShareWorld("inbox/" + name)
    }

    /// Writes a request from `counsel` to the world's intake key; returns its path.
    private func writeRequest(_ w: ShareWorld, from counsel: SecretIdentity, languages: [String] = ["en", "fr"], hearing: String? = "2027-03-15",
                              need: RequestNeed = .expertWitness, attach: Bool = true, label: String = "request") throws -> String {
        let intake = try XCTUnwrap(try w.vault.intakeKey())
        let folder = try w.folder(label)
        var attachments: [String] = []
        if attach {
            attachments.append(folder + "/order.pdf")
            try attachmentBytes.write(to: URL(fileURLWithPath: attachments[0]))
        }
        let draft = RequestDraft(to: intake, need: need, languages: languages, jurisdiction: jurisdiction, court: court,
                                 caseReference: caseReference, hearing: hearing, message: SecureBytes(copying: Data(messageText.utf8)),
                                 attachments: attachments)
        let path = folder + "/request.drq"
        _ = try RequestWriter(clock: ShareKit.clock(), random: SystemRandom()).write(draft, identity: counsel, to: path)
        return path
    }

    private func requestFiles(_ w: ShareWorld) -> [String] {
        ShareKit.allBytes(under: w.vaultPath + "/blobs").map(\.path).filter { ($0 as NSString).lastPathComponent.hasPrefix("req-") }
    }

    private func raw(_ w: ShareWorld) throws -> DatabaseQueue { try DatabaseQueue(path: w.vaultPath + "/vault.sqlite") }

    // MARK: The intake key

    func testInitMakesAnIntakeKeyNamedInTheSignedLogWhoseSecretOpens() throws {
        let w = try world()
        let key = try XCTUnwrap(try w.vault.intakeKey())
        XCTAssertEqual(try w.entries("init").first?.detail("intake-key"), key.line)
        let (signed, secret) = try w.session.intakeSecret()
        XCTAssertEqual(signed, key)
        XCTAssertEqual(try BoxKeyPair(secretKey: secret).publicKey, key.encryptionKey)
        // The secret is sealed, never stored as is.
        let stored = try XCTUnwrap(try raw(w).read { db in try Data.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'intake_secret_sealed'") })
        XCTAssertFalse(contains(stored, secret.unsafeCopyToData()))
        // A vault that has one refuses a second.
        XCTAssertEqual(ShareKit.caught { _ = try w.session.staff.createIntakeKey() }.map(caseName), "intakeKeyExists")
    }

    func testAnIntakeKeyRowEditedOutsideDossierIsRefused() throws {
        let w = try world()
        let other = try IntakeKey(encryptionKey: BoxKeyPair.generate().publicKey)
        try raw(w).write { db in try db.execute(sql: "UPDATE settings SET value = ? WHERE key = 'intake_key'", arguments: [other.line]) }
        XCTAssertEqual(ShareKit.caught { _ = try w.vault.intakeKey() }.map(caseName), "altered")
        XCTAssertEqual(ShareKit.caught { _ = try w.session.intakeSecret() }.map(caseName), "altered")
        let altered = try w.vault.alteredRows()
        XCTAssertTrue(altered.contains { $0.contains("intake key") }, "\(altered)")
    }

    // MARK: Import

    func testImportVerifiesKeepsAndLogsOnlyIdsHashesAndFingerprints() throws {
        let w = try world()
        let counsel = ShareKit.identity("counsel/first-contact")
        let path = try writeRequest(w, from: counsel)
        let r = try w.session.requests.importRequest(path: path)
        XCTAssertEqual(r.state, .new)
        XCTAssertEqual(r.senderFingerprint, counsel.publicIdentity.fingerprint)
        XCTAssertNil(r.counsel)
        XCTAssertEqual(r.court, court)
        XCTAssertEqual(r.hearing, "2027-03-15")
        XCTAssertEqual(r.languages, ["en", "fr"])
        let fileHash = Hash.sha256(try readFile(path)).hex
        XCTAssertEqual(r.sha256, fileHash)
        let entry = try XCTUnwrap(try w.entries("request-receive").first)
        XCTAssertEqual(entry.subjects, ["request:" + r.id])
        XCTAssertEqual(entry.details, [.init("sha256", fileHash), .init("sender", counsel.publicIdentity.fingerprint),
                                       .init("need", "expert-witness"), .init("language", "en"), .init("language", "fr")])
        // Kept byte for byte as received.
        XCTAssertEqual(requestFiles(w).count, 1)
        XCTAssertEqual(try readFile(try XCTUnwrap(requestFiles(w).first)), try readFile(path))
        // Doctor knows the request file: no orphan, nothing damaged.
        let report = try w.vault.doctor(session: w.session)
        XCTAssertTrue(report.isHealthy)
        XCTAssertEqual(report.findings.map(\.message), [])
    }

    func testAReplayedRequestIsRefusedAndNothingMoreIsStored() throws {
        let w = try world()
        let path = try writeRequest(w, from: ShareKit.identity("counsel/replay"))
        let r = try w.session.requests.importRequest(path: path)
        let logSize = try w.vault.auditEntries().count
        let copy = try w.folder("replay") + "/again.drq"
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        let e = ShareKit.caught { _ = try w.session.requests.importRequest(path: copy) }
        XCTAssertEqual(e.map(caseName), "requestAlreadyReceived")
        XCTAssertTrue(e?.message.contains(r.id) ?? false)
        XCTAssertEqual(try w.vault.auditEntries().count, logSize)
        XCTAssertEqual(try w.session.requests.list().count, 1)
        XCTAssertEqual(requestFiles(w).count, 1)
        XCTAssertEqual(try readFile(try XCTUnwrap(requestFiles(w).first)), try readFile(path))
    }

    func testARefusedRequestLeavesNothingInTheVault() throws {
        let w = try world()
        let path = try writeRequest(w, from: ShareKit.identity("counsel/tamper"))
        let size = try XCTUnwrap(fileSize(path))
        try flipByte(in: path, at: size - 200)
        let logSize = try w.vault.auditEntries().count
        XCTAssertEqual(ShareKit.caught { _ = try w.session.requests.importRequest(path: path) }.map(caseName), "requestTampered")
        // Sealed to another organisation's intake key.
        let other = try ShareWorld("inbox/other-organisation")
        let foreign = try writeRequest(other, from: ShareKit.identity("counsel/tamper"), label: "foreign")
        XCTAssertEqual(ShareKit.caught { _ = try w.session.requests.importRequest(path: foreign) }.map(caseName), "requestNotForThisIntake")
        XCTAssertEqual(try w.vault.auditEntries().count, logSize)
        XCTAssertEqual(requestFiles(w), [])
        XCTAssertEqual(try w.session.requests.list().count, 0)
        XCTAssertTrue(try w.vault.doctor().findings.isEmpty)
    }

    // MARK: Reading

    func testShowDecryptsTheMessageAndSaveWritesAnAttachmentNeverOverAFile() throws {
        let w = try world()
        let r = try w.session.requests.importRequest(path: try writeRequest(w, from: ShareKit.identity("counsel/show")))
        let shown = try w.session.requests.show(r.id)
        XCTAssertEqual(shown.message, messageText)
        XCTAssertEqual(shown.attachments, [RequestAttachment(name: "order.pdf", size: UInt64(attachmentBytes.count))])
        let out = try w.folder("saved")
        try w.session.requests.saveAttachment(r.id, attachment: "order.pdf", to: out + "/a.pdf")
        XCTAssertEqual(try readFile(out + "/a.pdf"), attachmentBytes)
        try w.session.requests.saveAttachment(r.id, attachment: "1", to: out + "/b.pdf")
        XCTAssertEqual(try readFile(out + "/b.pdf"), attachmentBytes)
        try writeFile(out + "/taken.pdf", "mine")
        XCTAssertEqual(ShareKit.caught { try w.session.requests.saveAttachment(r.id, attachment: "order.pdf", to: out + "/taken.pdf") }.map(caseName), "fileExists")
        XCTAssertEqual(try readFile(out + "/taken.pdf"), Data("mine".utf8))
        XCTAssertEqual(ShareKit.caught { try w.session.requests.saveAttachment(r.id, attachment: "2", to: out + "/c.pdf") }.map(caseName), "invalidArgument")
        XCTAssertEqual(ShareKit.caught { _ = try w.session.requests.show("req-aaaaaaaaaaaaa") }.map(caseName), "unknownRequest")
    }

    func testAKeptRequestFileSwappedOutsideDossierIsRefused() throws {
        let w = try world()
        let a = try w.session.requests.importRequest(path: try writeRequest(w, from: ShareKit.identity("counsel/swap"), label: "a"))
        let b = try w.session.requests.importRequest(path: try writeRequest(w, from: ShareKit.identity("counsel/swap"), label: "b"))
        let files = requestFiles(w)
        let fileA = try XCTUnwrap(files.first { $0.hasSuffix(a.id) }), fileB = try XCTUnwrap(files.first { $0.hasSuffix(b.id) })
        try FileManager.default.removeItem(atPath: fileA)
        try FileManager.default.copyItem(atPath: fileB, toPath: fileA)
        XCTAssertEqual(ShareKit.caught { _ = try w.session.requests.show(a.id) }.map(caseName), "integrity")
        XCTAssertNoThrow(try w.session.requests.show(b.id))
    }

    func testListFiltersByStateLanguageAndHearing() throws {
        let w = try world()
        let c = ShareKit.identity("counsel/filters")
        let early = try w.session.requests.importRequest(path: try writeRequest(w, from: c, languages: ["fr-CA"], hearing: "2027-02-01", label: "early"))
        let late = try w.session.requests.importRequest(path: try writeRequest(w, from: c, languages: ["en"], hearing: "2027-06-01", label: "late"))
        let none = try w.session.requests.importRequest(path: try writeRequest(w, from: c, languages: ["ar", "en"], hearing: nil, need: .reports, label: "none"))
        _ = try w.session.requests.decline(late.id, reason: "outside our mandate")
        func ids(_ f: RequestFilter) throws -> [String] { try w.session.requests.list(f).map(\.id) }
        XCTAssertEqual(try ids(RequestFilter()), [early.id, late.id, none.id])
        XCTAssertEqual(try ids(RequestFilter(state: .new)), [early.id, none.id])
        XCTAssertEqual(try ids(RequestFilter(state: .declined)), [late.id])
        XCTAssertEqual(try ids(RequestFilter(language: "fr")), [early.id])
        XCTAssertEqual(try ids(RequestFilter(language: "EN")), [late.id, none.id])
        XCTAssertEqual(try ids(RequestFilter(hearingBefore: "2027-06-01")), [early.id])
        XCTAssertEqual(try ids(RequestFilter(hearingBefore: "2027-06-02")), [early.id, late.id])
        XCTAssertEqual(try ids(RequestFilter(state: .new, language: "ar")), [none.id])
        XCTAssertEqual(ShareKit.caught { _ = try w.session.requests.list(RequestFilter(hearingBefore: "June")) }.map(caseName), "invalidArgument")
        XCTAssertEqual(ShareKit.caught { _ = try w.session.requests.list(RequestFilter(language: "not a tag")) }.map(caseName), "invalidLanguageTag")
    }

    // MARK: Working a request

    func testAssignAnswerAndDeclineFollowTheStateMachineAndAreLogged() throws {
        let w = try world()
        let sender = ShareKit.identity("counsel/sender")
        let r = try w.session.requests.importRequest(path: try writeRequest(w, from: sender, label: "one"))
        let bob = try w.addStaff("bob")
        let assigned = try w.session.requests.assign(r.id, to: bob.actor)
        XCTAssertEqual(assigned.state, .assigned)
        XCTAssertEqual(assigned.assignedTo, bob.actor)
        XCTAssertEqual(try w.entries("request-assign").last?.subjects, ["request:" + r.id, "staff:" + bob.actor])
        XCTAssertEqual(ShareKit.caught { _ = try w.session.requests.assign(r.id, to: "AAAA-BBBB-CCCC-DDDD") }.map(caseName), "unknownStaff")

        // A grant to someone else does not answer it.
        let doc = try w.document()
        let (_, stranger) = try w.counsel("stranger")
        let wrong = try w.session.sharing.grant(GrantRequest(documents: [doc.id], counsel: [stranger.id], window: .duration(seconds: 86400)))
        XCTAssertEqual(ShareKit.caught { _ = try w.session.requests.answer(r.id, grant: wrong.id) }.map(caseName), "invalidArgument")
        XCTAssertEqual(ShareKit.caught { _ = try w.session.requests.answer(r.id, grant: "grant-aaaaaaaaaaaaa") }.map(caseName), "unknownGrant")

        // Registered from the request, granted, answered.
        let c = try w.session.sharing.addCounsel(fromRequest: r.id, details: .init(name: "J. Adams"))
        XCTAssertEqual(c.fingerprint, sender.publicIdentity.fingerprint)
        XCTAssertEqual(c.publicIdentity, sender.publicIdentity.line)
        XCTAssertEqual(try w.session.requests.request(r.id).counsel?.counselID, c.id)
        _ = try w.session.sharing.vetCounsel(c.id, until: ShareKit.clock(days: 30).now(), note: nil)
        let g = try w.session.sharing.grant(GrantRequest(documents: [doc.id], counsel: [c.id], window: .duration(seconds: 86400)))
        let answered = try bob.requests.answer(r.id, grant: g.id)
        XCTAssertEqual(answered.state, .answered)
        XCTAssertEqual(answered.grant, g.id)
        let entry = try XCTUnwrap(try w.entries("request-answer").last)
        XCTAssertEqual(entry.subjects, ["request:" + r.id, "grant:" + g.id])
        XCTAssertEqual(entry.actor, bob.actor)
        // Closed: nothing more.
        XCTAssertEqual(ShareKit.caught { _ = try w.session.requests.decline(r.id, reason: "late") }.map(caseName), "requestClosed")
        XCTAssertEqual(ShareKit.caught { _ = try w.session.requests.assign(r.id, to: bob.actor) }.map(caseName), "requestClosed")

        // Declining: the reason is sealed, not logged.
        let other = try w.session.requests.importRequest(path: try writeRequest(w, from: sender, label: "two"))
        XCTAssertEqual(ShareKit.caught { _ = try w.session.requests.decline(other.id, reason: "  ") }.map(caseName), "invalidArgument")
        let declined = try w.session.requests.decline(other.id, reason: "Outside-our-mandate-XYZZY")
        XCTAssertEqual(declined.state, .declined)
        XCTAssertEqual(declined.declineReason, "Outside-our-mandate-XYZZY")
        XCTAssertEqual(try w.entries("request-decline").last?.subjects, ["request:" + other.id])
        XCTAssertEqual(try w.entries("request-decline").last?.details, [])
        XCTAssertFalse(ShareKit.allBytes(under: w.vaultPath).contains { contains($0.data, Data("Outside-our-mandate-XYZZY".utf8)) })
        XCTAssertEqual(try w.session.requests.list().map(\.state), [.answered, .declined])
        XCTAssertEqual(try w.vault.alteredRows(), [])
    }

    func testARequestRowEditedOutsideDossierIsRefusedAndTheRefusalLogged() throws {
        let w = try world()
        let r = try w.session.requests.importRequest(path: try writeRequest(w, from: ShareKit.identity("counsel/edited")))
        // Someone with the storage marks it answered, to hide it from the queue.
        try raw(w).write { db in try db.execute(sql: "UPDATE requests SET state = 'declined' WHERE id = ?", arguments: [r.id]) }
        XCTAssertEqual(ShareKit.caught { _ = try w.session.requests.list() }.map(caseName), "altered")
        XCTAssertEqual(ShareKit.caught { _ = try w.session.requests.show(r.id) }.map(caseName), "altered")
        XCTAssertEqual(ShareKit.caught { _ = try w.session.requests.assign(r.id, to: w.session.actor) }.map(caseName), "altered")
        let deny = try XCTUnwrap(try w.entries("deny").last)
        XCTAssertEqual(deny.subjects, ["request:" + r.id])
        XCTAssertEqual(deny.detail("rule"), "stored.altered")
        XCTAssertEqual(deny.detail("request"), "request-assign")
        XCTAssertTrue(try w.vault.alteredRows().contains { $0.contains(r.id) })
        XCTAssertFalse(try w.vault.doctor().isHealthy)
        // A row with no signed entry behind it.
        try raw(w).write { db in
            try db.execute(sql: "UPDATE requests SET state = 'new' WHERE id = ?", arguments: [r.id])
            try db.execute(sql: "UPDATE requests SET id = 'req-aaaaaaaaaaaaa' WHERE id = ?", arguments: [r.id])
        }
        XCTAssertEqual(ShareKit.caught { _ = try w.session.requests.list() }.map(caseName), "altered")
    }

    // MARK: Rotation and what the folder holds

    func testRotationKeepsTheIntakeSecretUsableAndLeavesNoOldSealedCopy() throws {
        let w = try world()
        let c = ShareKit.identity("counsel/rotation")
        let first = try w.session.requests.importRequest(path: try writeRequest(w, from: c, label: "before"))
        _ = try w.session.requests.decline(first.id, reason: "a sealed reason")
        let old: [Data] = try raw(w).read { db in
            var out = [try XCTUnwrap(try Data.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'intake_secret_sealed'"))]
            for row in try Row.fetchAll(db, sql: "SELECT summary_sealed, reason_sealed FROM requests") {
                out.append(row[0])
                out.append(row[1])
            }
            return out
        }
        XCTAssertEqual(old.count, 3)
        let bob = try w.addStaff("bob")
        try w.session.staff.remove(bob.actor)
        // Still readable by current staff under the new key; new requests still open.
        XCTAssertEqual(try w.session.requests.show(first.id).message, messageText)
        XCTAssertEqual(try w.session.requests.request(first.id).declineReason, "a sealed reason")
        let second = try w.session.requests.importRequest(path: try writeRequest(w, from: c, label: "after"))
        XCTAssertEqual(try w.session.requests.show(second.id).message, messageText)
        // No copy of the old sealed values anywhere in the folder, WAL included.
        for file in ShareKit.allBytes(under: w.vaultPath) {
            for (i, value) in old.enumerated() {
                XCTAssertFalse(contains(file.data, value), "old sealed value \(i) still in \(file.path)")
            }
        }
        // The removed member cannot open the intake secret.
        XCTAssertThrowsError(try w.vault.unlock(ShareKit.identity("bob")))
    }

    func testTheVaultFolderHoldsNoRequestContentInTheClear() throws {
        let w = try world()
        let counsel = ShareKit.identity("counsel/byte-search")
        let r = try w.session.requests.importRequest(path: try writeRequest(w, from: counsel))
        _ = try w.session.sharing.addCounsel(fromRequest: r.id, details: .init(name: "Zebulon Quillfeather"))
        let needles = [court, caseReference, jurisdiction, "Zebulon Quillfeather", "2027-03-15", "order.pdf",
                       String(messageText.prefix(40)), String(decoding: attachmentBytes.prefix(40), as: UTF8.self)]
        let files = ShareKit.allBytes(under: w.vaultPath)
        XCTAssertFalse(files.isEmpty)
        // Positive control: the search finds what is in the clear (the request id).
        XCTAssertTrue(files.contains { contains($0.data, Data(r.id.utf8)) })
        for needle in needles {
            for file in files where contains(file.data, Data(needle.utf8)) {
                XCTFail("'\(needle)' is in the clear in \(file.path)")
            }
        }
    }

    func testRotationReSealsTheIntakeSecretAndLeavesNoOldCopy() throws {
        let w = try world()
        let read = { () throws -> Data in
            try XCTUnwrap(try self.raw(w).read { db in try Data.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'intake_secret_sealed'") })
        }
        let old = try read()
        let (key, secret) = try w.session.intakeSecret()
        let bob = try w.addStaff("bob")
        try w.session.staff.remove(bob.actor)
        XCTAssertNotEqual(try read(), old)
        let (after, reopened) = try w.session.intakeSecret()
        XCTAssertEqual(after, key)
        XCTAssertEqual(reopened.unsafeCopyToData(), secret.unsafeCopyToData())
        for file in ShareKit.allBytes(under: w.vaultPath) {
            XCTAssertFalse(contains(file.data, old), "the old sealed intake secret is still in \(file.path)")
        }
    }
}
