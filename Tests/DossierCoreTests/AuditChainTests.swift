import DossierCrypto
import Foundation
import GRDB
import XCTest
@testable import DossierCore

/// The vault's audit log (issue 3, point 6): one signed, chained entry per state change, in the
/// same transaction as the change; tampering in the database is detected and named; if the
/// entry cannot be written the change does not happen.
final class AuditChainTests: XCTestCase {
    // MARK: The entry format, built by hand from its description

    /// An entry's bytes as described in AuditEntry.swift (docs/formats): the header line, then
    /// `seq`, `time`, `actor`, `action`, one `subject` line each, one `detail k=v` line each,
    /// `prev` (lowercase hex), and `sig` (standard base64 of the Ed25519 signature of all the
    /// lines before it), every line ending in a newline.
    static func entryBody(seq: UInt64, time: String, actor: String, action: String, subjects: [String],
                          details: [(String, String)], previous: Data) -> Data {
        var lines = ["dossier-log-entry/1", "seq \(seq)", "time \(time)", "actor \(actor)", "action \(action)"]
        lines += subjects.map { "subject \($0)" }
        lines += details.map { "detail \($0.0)=\($0.1)" }
        lines.append("prev " + previous.map { String(format: "%02x", $0) }.joined())
        return Data(lines.map { $0 + "\n" }.joined().utf8)
    }

    static func signedEntry(body: Data, signer: SigningKeyPair) -> Data {
        body + Data("sig \(signer.sign(body).base64EncodedString())\n".utf8)
    }

    /// Re-creates `entry` with some fields changed, signed by `signer`.
    static func forge(_ entry: AuditEntry, seq: UInt64? = nil, actor: String? = nil, action: String? = nil,
                      subjects: [String]? = nil, details: [(String, String)]? = nil, previous: Data? = nil,
                      signer: SigningKeyPair) -> Data {
        let body = entryBody(seq: seq ?? entry.seq, time: entry.time, actor: actor ?? entry.actor, action: action ?? entry.action,
                             subjects: subjects ?? entry.subjects, details: details ?? entry.details.map { ($0.key, $0.value) },
                             previous: previous ?? entry.previousHash)
        return signedEntry(body: body, signer: signer)
    }

    // MARK: What each change logs

    func testEveryStateChangeAppendsExactlyOneSignedChainedEntry() throws {
        let v = try makeVault()
        let alice = v.founder
        let bob = TestIdentity.make("bob")
        let aliceFP = alice.publicIdentity.fingerprint
        let bobFP = bob.publicIdentity.fingerprint
        let org = try v.vault.organisation()
        var expected: [(actor: String, action: String, subjects: [String])] = [
            (aliceFP, "init", ["org:" + org.fingerprint, "staff:" + aliceFP]),
        ]
        func check(_ label: String, file: StaticString = #filePath, line: UInt = #line) throws {
            let entries = try v.vault.auditEntries()
            XCTAssertEqual(entries.count, expected.count, "after \(label)", file: file, line: line)
            for (entry, want) in zip(entries, expected) {
                XCTAssertEqual(entry.action, want.action, "after \(label), entry \(entry.seq)", file: file, line: line)
                XCTAssertEqual(entry.actor, want.actor, "after \(label), entry \(entry.seq)", file: file, line: line)
                XCTAssertEqual(entry.subjects, want.subjects, "after \(label), entry \(entry.seq)", file: file, line: line)
            }
            XCTAssertEqual(try v.vault.verifyLogChain(), expected.count, "after \(label)", file: file, line: line)
        }
        try check("init")
        let first = try XCTUnwrap(try v.vault.auditEntries().first)
        XCTAssertEqual(first.seq, 1)
        XCTAssertEqual(first.previousHash, Data(count: 32))
        XCTAssertEqual(first.time, "2027-01-15T08:00:00.000Z")
        XCTAssertEqual(first.detail("identity"), alice.publicIdentity.line)
        XCTAssertEqual(first.detail("organisation-key"), org.publicKey)

        let f1 = v.folder.file("Secret Title File One.txt"), f2 = v.folder.file("second-file.txt")
        try writeFile(f1, "one")
        try writeFile(f2, "two two")
        let docs = try v.session.documents.deposit(depositRequest([f1, f2], kind: .witnessTestimony, title: "Confidential Title Xylophone",
                                                         tags: ["TagMarker"], jurisdiction: "JurisMarker", caseReference: "CaseMarker-9"))
        expected += docs.map { (aliceFP, "deposit", ["doc:" + $0.id]) }
        try check("deposit of two files")
        let deposits = try v.vault.auditEntries().suffix(2)
        XCTAssertEqual(deposits.map { $0.detail("kind") }, ["witness-testimony", "witness-testimony"])
        XCTAssertEqual(deposits.map { $0.detail("size") }, ["3", "7"])

        // Reads that reveal nothing are not logged.
        _ = try v.session.documents.list()
        _ = try v.session.documents.search(["xylophone"])
        _ = try v.session.documents.document(docs[0].id)
        _ = try v.session.staff.list()
        _ = try v.vault.organisation()
        _ = try v.vault.doctor()
        try check("reads")

        _ = try v.session.documents.retrieve(docs[0].id, to: v.folder.file("out.txt"))
        expected.append((aliceFP, "retrieve", ["doc:" + docs[0].id]))
        try check("retrieve")

        try v.session.documents.remove(docs[1].id, reason: "Reason Marker Withdrawn")
        expected.append((aliceFP, "remove", ["doc:" + docs[1].id]))
        try check("remove")

        _ = try v.session.staff.add(bob.publicIdentity, name: "Staffname Bobby Marker")
        expected.append((aliceFP, "staff-add", ["staff:" + bobFP]))
        try check("staff add")
        XCTAssertEqual(try v.vault.auditEntries().last?.detail("identity"), bob.publicIdentity.line)

        let bobSession = try v.vault.unlock(bob)
        try writeFile(f1, "bob's")
        let bobDoc = try XCTUnwrap(try bobSession.documents.deposit(depositRequest([f1])).first)
        expected.append((bobFP, "deposit", ["doc:" + bobDoc.id]))
        try check("deposit by bob")

        try v.session.staff.remove(bobFP)
        expected.append((aliceFP, "staff-remove", ["staff:" + bobFP]))
        try check("staff remove")
        XCTAssertEqual(try v.vault.auditEntries().last?.detail("rewrapped-keys"), "2")
        XCTAssertEqual(try v.vault.auditEntries().last?.detail("reason"), "staff-removed")

        try v.vault.unlock(alice).staff.rotate()
        expected.append((aliceFP, "rotate", []))
        try check("rotate")
        XCTAssertEqual(try v.vault.auditEntries().last?.detail("rewrapped-keys"), "2")
        let alice2 = try v.vault.unlock(alice)

        // Refusals change nothing and log nothing.
        assertDossierError("documentRemoved") { try alice2.documents.retrieve(docs[1].id, to: v.folder.file("x")) }
        assertDossierError("invalidArgument") { try alice2.documents.remove(docs[0].id, reason: "") }
        assertDossierError("notStaff") { try v.vault.unlock(bob) }
        try check("refusals")

        // Every entry: chained to the one before, signed by its actor, and in canonical form.
        let raw = try rawLog(v)
        var previous = Data(count: 32)
        let keys = [aliceFP: alice.signing.publicKey, bobFP: bob.signing.publicKey]
        for (i, r) in raw.enumerated() {
            XCTAssertEqual(r.seq, Int64(i + 1))
            let entry = try AuditEntry.parse(r.bytes)
            XCTAssertEqual(entry.seq, UInt64(i + 1))
            XCTAssertEqual(entry.previousHash, previous, "entry \(i + 1) does not chain")
            XCTAssertEqual(entry.time, Timestamp.format(testDate))
            XCTAssertTrue(entry.isSigned(by: try XCTUnwrap(keys[entry.actor])), "entry \(i + 1) is not signed by its actor")
            XCTAssertFalse(entry.isSigned(by: entry.actor == aliceFP ? bob.signing.publicKey : alice.signing.publicKey))
            // The bytes are exactly what the format description says.
            let rebuilt = Self.entryBody(seq: entry.seq, time: entry.time, actor: entry.actor, action: entry.action,
                                         subjects: entry.subjects, details: entry.details.map { ($0.key, $0.value) },
                                         previous: entry.previousHash)
            XCTAssertEqual(rebuilt + Data("sig \(entry.signature.base64EncodedString())\n".utf8), r.bytes,
                           "entry \(i + 1) differs from the documented format")
            XCTAssertTrue(Signature.verify(entry.signature, of: rebuilt, publicKey: try XCTUnwrap(keys[entry.actor])))
            previous = Hash.sha256(r.bytes)
        }

        // Entries hold ids and hashes, never titles, names, file names, tags or reasons.
        let all = raw.map(\.bytes).reduce(Data(), +)
        for marker in ["Xylophone", "Secret Title", "second-file", "TagMarker", "JurisMarker", "CaseMarker", "Reason Marker",
                       "Staffname", "Alice Founder", "Bobby"] {
            XCTAssertFalse(contains(all, Data(marker.utf8)), "the log contains '\(marker)'")
            XCTAssertFalse(contains(all, Data(marker.lowercased().utf8)), "the log contains '\(marker.lowercased())'")
        }
    }

    func testLogVerifiesAtEveryMillisecond() throws {
        // Real vaults log with the system clock: every millisecond value must survive the
        // format → parse round trip, or the log of a real vault would not verify.
        let v = try makeVault()
        let base = Date(timeIntervalSince1970: 1_800_000_000)
        let count = try v.vault.write { tx in
            for ms in 0..<1000 {
                try AuditLog.append(tx, signer: v.founder, action: .rotate, at: base.addingTimeInterval((Double(ms) + 0.5) / 1000),
                                    subjects: [], details: [.init("rewrapped-keys", "0")])
            }
            return try tx.logSize()
        }
        XCTAssertEqual(count, 1001)
        let times = Set(try rawLog(v).dropFirst().map { try AuditEntry.parse($0.bytes).time })
        XCTAssertEqual(times.count, 1000, "each millisecond should be written distinctly")
        XCTAssertEqual(try v.vault.verifyLogChain(), 1001)
    }

    func testConcurrentWritersKeepTheChainIntact() throws {
        // Two processes' worth of connections depositing at once: the chain stays one chain.
        let v = try makeVault()
        let bob = TestIdentity.make("bob")
        _ = try v.session.staff.add(bob.publicIdentity, name: "Bob")
        let sessions = [try reopen(v).unlock(v.founder), try reopen(v).unlock(bob)]
        for i in 0..<2 { try writeFile(v.folder.file("c\(i).txt"), "concurrent \(i)") }
        let failures = FailureList()
        let paths = (0..<2).map { v.folder.file("c\($0).txt") }
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            for _ in 0..<6 {
                do { _ = try sessions[worker].documents.deposit(depositRequest([paths[worker]])) } catch { failures.add("\(error)") }
            }
        }
        XCTAssertEqual(failures.all, [])
        XCTAssertEqual(try documentRowCount(v), 12)
        XCTAssertEqual(try v.vault.verifyLogChain(), 2 + 12)
        XCTAssertEqual(try rawLog(v).map(\.seq), (1...14).map(Int64.init))
    }

    // MARK: Tampering in the database is detected and named

    /// A vault with six entries: init, deposit ×2, staff-add (bob), deposit by bob, retrieve.
    private func loggedVault() throws -> (v: VaultFixture, bob: SecretIdentity, docs: [Document]) {
        let v = try makeVault()
        let bob = TestIdentity.make("bob")
        let f1 = v.folder.file("a.txt"), f2 = v.folder.file("b.txt")
        try writeFile(f1, "a")
        try writeFile(f2, "b")
        var docs = try v.session.documents.deposit(depositRequest([f1, f2]))
        _ = try v.session.staff.add(bob.publicIdentity, name: "Bob")
        docs += try v.vault.unlock(bob).documents.deposit(depositRequest([f1]))
        _ = try v.session.documents.retrieve(docs[0].id, to: v.folder.file("out"))
        XCTAssertEqual(try v.vault.verifyLogChain(), 6)
        XCTAssertEqual(try v.vault.auditEntries().map(\.action), ["init", "deposit", "deposit", "staff-add", "deposit", "retrieve"])
        return (v, bob, docs)
    }

    private func execute(_ v: VaultFixture, _ sql: String, _ arguments: StatementArguments = []) throws {
        try rawDatabase(v).write { db in try db.execute(sql: sql, arguments: arguments) }
    }

    private func replaceEntry(_ v: VaultFixture, seq: Int, with bytes: Data) throws {
        try execute(v, "UPDATE audit_log SET entry = ? WHERE seq = ?", [bytes, seq])
    }

    private func entry(_ v: VaultFixture, _ seq: Int) throws -> (bytes: Data, parsed: AuditEntry) {
        let bytes = try XCTUnwrap(try rawLog(v).first { $0.seq == Int64(seq) }?.bytes)
        return (bytes, try AuditEntry.parse(bytes))
    }

    /// Asserts that verification fails with an integrity error naming `entry N` and saying `why`.
    private func assertLogRejected(_ v: VaultFixture, entry n: Int, _ why: String, file: StaticString = #filePath, line: UInt = #line) {
        let error = assertDossierError("integrity", "log tampered at entry \(n)", file: file, line: line) { try v.vault.verifyLogChain() }
        let text = error?.description ?? ""
        XCTAssertTrue(text.contains("entry \(n):"), "the error should name entry \(n): \(text)", file: file, line: line)
        XCTAssertTrue(text.contains(why), "the error should say '\(why)': \(text)", file: file, line: line)
        // Doctor reports the same damage.
        let report = try? v.vault.doctor()
        XCTAssertEqual(report?.isHealthy, false, "doctor should report the broken log", file: file, line: line)
        XCTAssertTrue(report?.findings.contains { $0.severity == .damage && $0.subject == "audit log" && $0.message.contains("entry \(n):") } ?? false,
                      "doctor's findings: \(String(describing: report?.findings))", file: file, line: line)
    }

    func testAnEditedTimeIsDetected() throws {
        let (v, _, _) = try loggedVault()
        let (bytes, parsed) = try entry(v, 3)
        let text = try XCTUnwrap(String(data: bytes, encoding: .utf8))
        let edited = text.replacingOccurrences(of: "time \(parsed.time)", with: "time 2027-01-15T07:59:59.000Z")
        XCTAssertNotEqual(edited, text)
        try replaceEntry(v, seq: 3, with: Data(edited.utf8))
        assertLogRejected(v, entry: 3, "signature does not verify")
    }

    func testAnEditedSubjectOrDetailIsDetected() throws {
        let (v, _, docs) = try loggedVault()
        let text = try XCTUnwrap(String(data: try entry(v, 2).bytes, encoding: .utf8))
        try replaceEntry(v, seq: 2, with: Data(text.replacingOccurrences(of: "subject doc:\(docs[0].id)", with: "subject doc:\(docs[1].id)").utf8))
        assertLogRejected(v, entry: 2, "signature does not verify")

        let (w, _, _) = try loggedVault()
        let text5 = try XCTUnwrap(String(data: try entry(w, 5).bytes, encoding: .utf8))
        try replaceEntry(w, seq: 5, with: Data(text5.replacingOccurrences(of: "detail size=1", with: "detail size=2").utf8))
        assertLogRejected(w, entry: 5, "signature does not verify")
    }

    func testAnEditedEarlierEntryBreaksTheChainEvenIfReSigned() throws {
        // Bob re-signs his own entry with a different subject: the signature is valid, but the
        // next entry no longer chains to it.
        let (v, bob, docs) = try loggedVault()
        let parsed = try entry(v, 5).parsed
        try replaceEntry(v, seq: 5, with: Self.forge(parsed, subjects: ["doc:" + docs[0].id], signer: bob.signing))
        XCTAssertNoThrow(try AuditEntry.parse(try entry(v, 5).bytes))
        assertLogRejected(v, entry: 6, "does not chain to entry 5")
    }

    func testNonCanonicalBytesAreDetected() throws {
        for (label, change) in [("trailing space", { (d: Data) in d.dropLast() + Data(" \n".utf8) }),
                                ("extra line", { (d: Data) in d + Data("\n".utf8) }),
                                ("CRLF", { (d: Data) in Data(String(decoding: d, as: UTF8.self).replacingOccurrences(of: "\n", with: "\r\n").utf8) }),
                                ("cut", { (d: Data) in d.prefix(d.count - 10) })] {
            let (v, _, _) = try loggedVault()
            try replaceEntry(v, seq: 4, with: change(try entry(v, 4).bytes))
            assertLogRejected(v, entry: 4, "edited")
            _ = label
        }
    }

    func testADeletedMiddleEntryIsDetected() throws {
        let (v, _, _) = try loggedVault()
        try execute(v, "DELETE FROM audit_log WHERE seq = 3")
        assertLogRejected(v, entry: 3, "missing")
    }

    func testADeletedFirstEntryIsDetected() throws {
        let (v, _, _) = try loggedVault()
        try execute(v, "DELETE FROM audit_log WHERE seq = 1")
        assertLogRejected(v, entry: 1, "missing")
    }

    func testSwappedEntriesAreDetected() throws {
        let (v, _, _) = try loggedVault()
        let three = try entry(v, 3).bytes, four = try entry(v, 4).bytes
        try replaceEntry(v, seq: 3, with: four)
        try replaceEntry(v, seq: 4, with: three)
        assertLogRejected(v, entry: 3, "reordered")
    }

    func testRenumberedEntriesAreDetected() throws {
        // Move entry 6 to position 7 (a gap), as if one had been deleted and the rest kept.
        let (v, _, _) = try loggedVault()
        try execute(v, "UPDATE audit_log SET seq = 7 WHERE seq = 6")
        assertLogRejected(v, entry: 6, "disagrees")
    }

    func testAnEntryReSignedByANonStaffKeyIsDetected() throws {
        let (v, _, _) = try loggedVault()
        let mallory = TestIdentity.make("mallory")
        let parsed = try entry(v, 3).parsed
        try replaceEntry(v, seq: 3, with: Self.forge(parsed, actor: mallory.publicIdentity.fingerprint, signer: mallory.signing))
        XCTAssertNoThrow(try AuditEntry.parse(try entry(v, 3).bytes), "the forgery is well formed; only the signer is wrong")
        assertLogRejected(v, entry: 3, "not staff")
    }

    func testAnEntryClaimingAStaffActorButSignedByAnotherKeyIsDetected() throws {
        let (v, _, _) = try loggedVault()
        let mallory = TestIdentity.make("mallory")
        let parsed = try entry(v, 3).parsed
        try replaceEntry(v, seq: 3, with: Self.forge(parsed, signer: mallory.signing))
        assertLogRejected(v, entry: 3, "signature does not verify")
    }

    func testAnEntryAppendedByANonStaffKeyIsDetected() throws {
        let (v, _, docs) = try loggedVault()
        let mallory = TestIdentity.make("mallory")
        let last = try entry(v, 6)
        let forged = Self.signedEntry(body: Self.entryBody(seq: 7, time: last.parsed.time, actor: mallory.publicIdentity.fingerprint,
                                                          action: "retrieve", subjects: ["doc:" + docs[0].id], details: [],
                                                          previous: Hash.sha256(last.bytes)),
                                      signer: mallory.signing)
        try execute(v, "INSERT INTO audit_log(seq, entry) VALUES (7, ?)", [forged])
        assertLogRejected(v, entry: 7, "not staff")
    }

    func testANonStaffKeyCannotMakeItselfStaff() throws {
        let (v, _, _) = try loggedVault()
        let mallory = TestIdentity.make("mallory")
        let last = try entry(v, 6)
        let forged = Self.signedEntry(body: Self.entryBody(seq: 7, time: last.parsed.time, actor: mallory.publicIdentity.fingerprint,
                                                          action: "staff-add", subjects: ["staff:" + mallory.publicIdentity.fingerprint],
                                                          details: [("identity", mallory.publicIdentity.line)],
                                                          previous: Hash.sha256(last.bytes)),
                                      signer: mallory.signing)
        try execute(v, "INSERT INTO audit_log(seq, entry) VALUES (7, ?)", [forged])
        assertLogRejected(v, entry: 7, "not staff")
    }

    func testAnEntrySignedByRemovedStaffIsDetected() throws {
        let (v, bob, docs) = try loggedVault()
        try v.session.staff.remove(bob.publicIdentity.fingerprint)
        XCTAssertEqual(try v.vault.verifyLogChain(), 7)
        let last = try entry(v, 7)
        XCTAssertEqual(last.parsed.action, "staff-remove")
        let forged = Self.signedEntry(body: Self.entryBody(seq: 8, time: last.parsed.time, actor: bob.publicIdentity.fingerprint,
                                                          action: "retrieve", subjects: ["doc:" + docs[0].id], details: [],
                                                          previous: Hash.sha256(last.bytes)),
                                      signer: bob.signing)
        try execute(v, "INSERT INTO audit_log(seq, entry) VALUES (8, ?)", [forged])
        assertLogRejected(v, entry: 8, "not staff")
    }

    func testAForgedFirstEntryIsDetected() throws {
        // Someone replaces the whole log with one founded by their own key.
        let (v, _, _) = try loggedVault()
        let mallory = TestIdentity.make("mallory")
        let first = try entry(v, 1).parsed
        let forged = Self.forge(first, actor: mallory.publicIdentity.fingerprint,
                                details: [("organisation-key", try v.vault.organisation().publicKey), ("identity", mallory.publicIdentity.line)],
                                signer: mallory.signing)
        try replaceEntry(v, seq: 1, with: forged)
        // Entry 1 itself is self-consistent; the chain breaks at entry 2.
        assertLogRejected(v, entry: 2, "does not chain")
    }

    func testAStaffAddWhoseSubjectAndIdentityDisagreeIsDetected() throws {
        // Even a genuine staff signature cannot smuggle in a signer the entry does not name.
        let (v, _, _) = try loggedVault()
        let mallory = TestIdentity.make("mallory")
        let last = try entry(v, 6)
        let forged = Self.signedEntry(body: Self.entryBody(seq: 7, time: last.parsed.time, actor: v.founder.publicIdentity.fingerprint,
                                                          action: "staff-add", subjects: ["staff:" + TestIdentity.make("carol").publicIdentity.fingerprint],
                                                          details: [("identity", mallory.publicIdentity.line)],
                                                          previous: Hash.sha256(last.bytes)),
                                      signer: v.founder.signing)
        try execute(v, "INSERT INTO audit_log(seq, entry) VALUES (7, ?)", [forged])
        assertLogRejected(v, entry: 7, "staff-add")
    }

    func testAReplacedOrganisationKeyIsDetected() throws {
        // The log's first entry records the organisation key the vault was created with.
        let (v, _, _) = try loggedVault()
        let other = try OrganisationKey(signingKey: SigningKeyPair.generate(using: DeterministicRandom(seed: "other-org")).publicKey)
        try execute(v, "UPDATE settings SET value = ? WHERE key = 'organisation_key'", [other.line])
        XCTAssertEqual(try v.vault.organisation().publicKey, other.line)
        assertLogRejected(v, entry: 1, "organisation key")
    }

    // MARK: Fail closed

    /// Makes every insert into the log fail, as a full disk or a broken database would.
    private func breakTheLog(_ v: VaultFixture) throws {
        try execute(v, "CREATE TRIGGER no_log BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'log unavailable'); END")
    }

    private func repairTheLog(_ v: VaultFixture) throws {
        try execute(v, "DROP TRIGGER no_log")
    }

    func testADepositThatCannotBeLoggedDoesNotHappen() throws {
        let v = try makeVault()
        let f1 = v.folder.file("a.bin"), f2 = v.folder.file("b.bin")
        try generateFile(f1, size: 100_000, seed: "a")
        try generateFile(f2, size: 10, seed: "b")
        let logBefore = try rawLog(v).count
        try breakTheLog(v)
        assertDossierError("database") { try v.session.documents.deposit(depositRequest([f1, f2])) }
        XCTAssertEqual(try documentRowCount(v), 0, "a document row was committed without its log entry")
        XCTAssertEqual(blobFiles(v), [], "a blob was left behind")
        XCTAssertEqual(temporaryBlobFiles(v), [])
        XCTAssertEqual(try rawLog(v).count, logBefore)
        XCTAssertEqual(try v.session.documents.list().count, 0)

        try repairTheLog(v)
        XCTAssertEqual(try v.session.documents.deposit(depositRequest([f1, f2])).count, 2, "the vault works again once the log does")
        XCTAssertEqual(try v.vault.verifyLogChain(), logBefore + 2)
    }

    func testARetrieveThatCannotBeLoggedRevealsNothing() throws {
        let v = try makeVault()
        let input = v.folder.file("a.txt")
        try writeFile(input, "secret content")
        let doc = try XCTUnwrap(try v.session.documents.deposit(depositRequest([input])).first)
        try breakTheLog(v)
        let outFolder = v.folder.file("out")
        try FileManager.default.createDirectory(atPath: outFolder, withIntermediateDirectories: false)
        assertDossierError("database") { try v.session.documents.retrieve(doc.id, to: outFolder + "/a.txt") }
        XCTAssertEqual(folderContents(outFolder), [], "content was revealed without a log entry")
    }

    func testARemovalThatCannotBeLoggedDoesNotHappen() throws {
        let v = try makeVault()
        let input = v.folder.file("a.txt")
        try writeFile(input, "still here")
        let doc = try XCTUnwrap(try v.session.documents.deposit(depositRequest([input])).first)
        try breakTheLog(v)
        assertDossierError("database") { try v.session.documents.remove(doc.id, reason: "gone") }
        XCTAssertFalse(try v.session.documents.document(doc.id).isRemoved)
        XCTAssertNotNil(blobPath(v, doc.id), "the blob was deleted although the removal failed")
        try repairTheLog(v)
        let out = v.folder.file("a.out")
        _ = try v.session.documents.retrieve(doc.id, to: out)
        XCTAssertEqual(try readFile(out), Data("still here".utf8))
    }

    func testStaffChangesThatCannotBeLoggedDoNotHappen() throws {
        let v = try makeVault()
        let bob = TestIdentity.make("bob"), carol = TestIdentity.make("carol")
        _ = try v.session.staff.add(bob.publicIdentity, name: "Bob")
        let input = v.folder.file("a.txt")
        try writeFile(input, "kept")
        let doc = try XCTUnwrap(try v.session.documents.deposit(depositRequest([input])).first)
        try breakTheLog(v)

        assertDossierError("database") { try v.session.staff.add(carol.publicIdentity, name: "Carol") }
        assertDossierError("notStaff") { try v.vault.unlock(carol) }
        assertDossierError("database") { try v.session.staff.remove(bob.publicIdentity.fingerprint) }
        assertDossierError("database") { try v.session.staff.rotate() }
        try repairTheLog(v)

        // Nothing changed: Bob is still staff, the vault key is the old one, content reads back.
        let bobSession = try v.vault.unlock(bob)
        XCTAssertEqual(try bobSession.staff.list().filter { $0.removedAt == nil }.count, 2)
        let out = v.folder.file("a.out")
        _ = try v.vault.unlock(v.founder).documents.retrieve(doc.id, to: out)
        XCTAssertEqual(try readFile(out), Data("kept".utf8))
        XCTAssertEqual(try v.vault.verifyLogChain(), try rawLog(v).count)
    }
}

/// Errors collected from several threads.
final class FailureList: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ item: String) { lock.lock(); items.append(item); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
}
