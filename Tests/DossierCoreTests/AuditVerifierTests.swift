import DossierCrypto
import Foundation
import GRDB
import XCTest
@testable import DossierCore

/// Verifying a log with no secret (issue 5, points 2, 3, 4, 6 and 8): an intact vault passes;
/// each kind of tampering made directly in the SQLite file is detected and named, with the
/// entry; exports round-trip and refuse any change; proofs verify against the right checkpoint
/// only; the review filters select what they say.
final class AuditVerifierTests: XCTestCase {
    /// A vault with a known history of seven entries and two checkpoints:
    /// 1 init (Alice), 2–3 deposits (Alice), 4 staff-add Bob, 5 deposit (Bob), checkpoint of 5,
    /// 6–7 deposits (Alice), checkpoint of 7.
    struct History {
        let v: AuditTestVault
        let bob: SecretIdentity
        let documents: [String]
        let checkpoint5: String
        let checkpoint7: String

        var snapshot: LogSnapshot { get throws { try v.vault.logSnapshot() } }
        func verify(older: [String] = [], fingerprint: String? = nil) throws -> VerificationReport {
            try AuditVerifier.verify(try snapshot, expectedOrganisationFingerprint: fingerprint, olderCheckpoints: older)
        }
    }

    func makeHistory() throws -> History {
        let v = try makeAuditVault()
        var docs = [try v.deposit("first"), try v.deposit("second")]
        let bob = auditIdentity("bob")
        v.clock.advance(60)
        _ = try v.session.staff.add(bob.publicIdentity, name: "Bob Second")
        docs.append(try v.deposit("third, by Bob", by: try v.vault.unlock(bob)))
        let cp5 = try v.checkpoint()
        docs.append(try v.deposit("fourth"))
        docs.append(try v.deposit("fifth"))
        let cp7 = try v.checkpoint()
        XCTAssertEqual(try v.entryCount(), 7, "the history is seven entries")
        XCTAssertEqual(try v.vault.auditEntries().map(\.action), ["init", "deposit", "deposit", "staff-add", "deposit", "deposit", "deposit"])
        return History(v: v, bob: bob, documents: docs, checkpoint5: cp5, checkpoint7: cp7)
    }

    static func checkpoint(_ note: String) throws -> Checkpoint {
        try Checkpoint.parse(try SignedNote.split(note).text)
    }

    // MARK: What a checkpoint signs

    /// The organisation key signs a checkpoint only over a log this machine verifies: after an
    /// entry was edited, or the log cut back below what this machine verified, `checkpoint`
    /// refuses and stores nothing. (Each command is a session of its own, as here.)
    func testACheckpointIsSignedOnlyOverALogThisMachineVerifies() throws {
        let h = try makeHistory()
        let v = h.v
        v.vault.logHead = LogHeadMemory(path: v.folder + "/state/log-head")
        func session() throws -> StaffSession { try v.vault.unlock(v.founder) }
        func stored() throws -> Int { try v.vault.logSnapshot().checkpoints.count }
        let note = try session().audit.checkpoint()
        XCTAssertEqual(try Self.checkpoint(note).size, 7)
        XCTAssertEqual(try Self.checkpoint(note).root, try Self.checkpoint(h.checkpoint7).root, "the same log, the same root")
        let kept = try stored()

        // One character of entry 4's signature changed.
        let original = try v.entryBytes(4)
        var edited = original
        let at = edited.index(edited.endIndex, offsetBy: -5)
        edited[at] = edited[at] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        try v.replaceEntry(4, with: edited)
        XCTAssertThrowsError(try session().audit.checkpoint()) { e in
            guard case .integrity(let why)? = e as? DossierError else { return XCTFail("an edited log was signed: \(e)") }
            XCTAssertTrue(why.contains("entry 4"), why)
        }
        XCTAssertEqual(try stored(), kept, "a checkpoint was kept over an edited log")
        try v.replaceEntry(4, with: original)

        try v.deleteEntry(7)
        XCTAssertThrowsError(try session().audit.checkpoint()) { e in
            guard case .rolledBack? = e as? DossierError else { return XCTFail("a log cut back was signed: \(e)") }
        }
        XCTAssertEqual(try stored(), kept, "a checkpoint was kept over a log cut back")
    }

    // MARK: Intact

    func testAnIntactVaultVerifies() throws {
        let h = try makeHistory()
        let report = try h.verify()
        let org = try h.v.vault.organisation()
        XCTAssertEqual(report.organisation, AuditTestVault.organisation)
        XCTAssertEqual(report.organisationFingerprint, org.fingerprint)
        XCTAssertEqual(report.entries, 7)
        XCTAssertEqual(report.checkpointSize, 7, "the newest checkpoint was checked")
        XCTAssertEqual(report.consistentCheckpoints, [])
        XCTAssertEqual(report.root, MerkleTree.root(leafHashes: try h.snapshot.entries.map(MerkleTree.leafHash)).base64EncodedString())
        XCTAssertEqual(try Self.checkpoint(h.checkpoint7).root.base64EncodedString(), report.root)

        // An auditor's own older checkpoint, and the fingerprint compared by phone.
        let withOlder = try h.verify(older: [h.checkpoint5], fingerprint: org.fingerprint.lowercased())
        XCTAssertEqual(withOlder.consistentCheckpoints, [5])
        // Opened again by another process, with no staff identity: the same result.
        let reopened = try Vault.open(at: h.v.path)
        XCTAssertEqual(try AuditVerifier.verify(try reopened.logSnapshot()).root, report.root)
        XCTAssertEqual(try h.v.vault.verifyLogChain(), 7)
    }

    func testAVaultWithoutCheckpointsVerifiesItsChain() throws {
        let v = try makeAuditVault()
        try v.deposit("one")
        let report = try AuditVerifier.verify(try v.vault.logSnapshot())
        XCTAssertEqual(report.entries, 2)
        XCTAssertNil(report.checkpointSize)
    }

    // MARK: Tampering in the SQLite file, each kind named

    /// Every field of an entry, the time included, is covered by its signature: changing only
    /// the time is detected and names the entry.
    func testChangingOnlyTheTimeIsDetected() throws {
        let h = try makeHistory()
        let before = String(decoding: try h.v.entryBytes(3), as: UTF8.self)
        let entry = try AuditEntry.parse(Data(before.utf8))
        let later = Timestamp.format(try XCTUnwrap(entry.date).addingTimeInterval(1))
        try h.v.editEntry(3) { $0.replacingOccurrences(of: "time \(entry.time)\n", with: "time \(later)\n") }
        // Only the time line changed, and the entry is still well formed.
        let after = try AuditEntry.parse(try h.v.entryBytes(3))
        XCTAssertEqual(after.time, later)
        XCTAssertEqual(after.body.count, entry.body.count)
        XCTAssertEqual(after.signature, entry.signature)
        let message = assertLogVerificationFails("time of entry 3 changed") { try h.verify() }
        XCTAssertTrue(message.hasPrefix("entry 3:"), message)
        assertMessage(message, contains: ["signature", "edited"], "time changed")
    }

    /// Each field of entry 2, changed alone in the database, is detected and named.
    func testEditingAnyFieldOfAnEntryIsDetected() throws {
        let h = try makeHistory()
        let original = try h.v.entryBytes(2)
        let e = try AuditEntry.parse(original)
        let bobFP = h.bob.publicIdentity.fingerprint
        let edits: [(String, (String) -> String, [String])] = [
            ("header", { $0.replacingOccurrences(of: "dossier-log-entry/1\n", with: "dossier-log-entry/2\n") }, ["edited"]),
            ("seq", { $0.replacingOccurrences(of: "\nseq 2\n", with: "\nseq 3\n") }, []),
            ("time", { $0.replacingOccurrences(of: e.time, with: e.time.replacingOccurrences(of: "T09:", with: "T08:")) }, ["signature"]),
            ("actor", { $0.replacingOccurrences(of: "actor \(e.actor)", with: "actor \(bobFP)") }, ["not staff"]),
            ("action", { $0.replacingOccurrences(of: "action deposit", with: "action retrieve") }, ["signature"]),
            ("subject", { $0.replacingOccurrences(of: "subject doc:", with: "subject doc:x") }, ["signature"]),
            ("detail kind", { $0.replacingOccurrences(of: "kind=expert-report", with: "kind=supporting-material") }, ["signature"]),
            ("detail size", { $0.replacingOccurrences(of: "size=5", with: "size=6") }, ["signature"]),
            ("detail removed", { $0.replacingOccurrences(of: "detail size=5\n", with: "") }, ["signature"]),
            ("prev", { $0.replacingOccurrences(of: "prev \(e.previousHash.hex)", with: "prev " + String(repeating: "0", count: 64)) }, ["chain"]),
            ("signature", { $0.replacingOccurrences(of: "sig \(e.signature.base64EncodedString())",
                                                      with: "sig \(Data(e.signature.reversed()).base64EncodedString())") }, ["signature"]),
        ]
        XCTAssertEqual(e.detail("size"), "5", "the deposit of 'first' is 5 bytes")
        for (field, edit, words) in edits {
            try h.v.editEntry(2, edit)
            let message = assertLogVerificationFails("\(field) of entry 2 changed") { try h.verify() }
            XCTAssertTrue(message.hasPrefix("entry 2:"), "\(field): \(message)")
            assertMessage(message, contains: words, field)
            try h.v.replaceEntry(2, with: original)
            XCTAssertNoThrow(try h.verify(), "restored after the \(field) edit")
        }
    }

    func testDeletingAMiddleEntryIsNamedRemoved() throws {
        let h = try makeHistory()
        try h.v.deleteEntry(3)
        let message = assertLogVerificationFails("entry 3 deleted") { try h.verify() }
        XCTAssertTrue(message.hasPrefix("entry 3:"), message)
        assertMessage(message, contains: ["removed"], "middle entry deleted")
    }

    /// The last entry and the vault's own checkpoints deleted: only the auditor's older
    /// checkpoint shows it, as a truncation.
    func testDeletingTheLastEntryIsNamedTruncatedAgainstAnOlderCheckpoint() throws {
        let h = try makeHistory()
        try h.v.deleteEntry(7)
        try h.v.deleteCheckpoints(above: 5)
        // Without the auditor's checkpoint, a cut log looks whole: that is why auditors keep them.
        XCTAssertEqual(try h.verify().entries, 6)
        let message = assertLogVerificationFails("entry 7 deleted") { try h.verify(older: [h.checkpoint7]) }
        assertMessage(message, contains: ["truncated", "7", "6"], "last entry deleted")
        XCTAssertTrue(message.contains("entries 7 to 7 were removed"), message)

        // With the vault's own checkpoint of 7 left in place, it is detected without help.
        let h2 = try makeHistory()
        try h2.v.deleteEntry(7)
        let own = assertLogVerificationFails("entry 7 deleted, checkpoint kept") { try h2.verify() }
        assertMessage(own, contains: ["truncated", "the vault's checkpoint"], "last entry deleted")
    }

    func testSwappedEntriesAreNamedReordered() throws {
        let h = try makeHistory()
        try h.v.swapEntries(5, 6)
        // The vault's own check, which sees the stored positions, names it.
        XCTAssertThrowsError(try h.v.vault.verifyLogChain()) {
            XCTAssertTrue("\($0)".contains("entry 5") && "\($0)".contains("reordered"), "\($0)")
        }
        // So must the auditor's, which has only the entries in order (as in an export).
        let message = assertLogVerificationFails("entries 5 and 6 swapped") { try h.verify() }
        XCTAssertTrue(message.hasPrefix("entry 5:"), message)
        assertMessage(message, contains: ["reordered"], "entries swapped")
    }

    func testAnEntryReSignedByAKeyThatIsNotStaffIsNamedForged() throws {
        let h = try makeHistory()
        let mallory = auditIdentity("mallory")
        let original6 = try h.v.entryBytes(6)
        let e = try AuditEntry.parse(original6)
        let details = e.details.map { ($0.key, $0.value) }
        // Mallory signs as herself.
        try h.v.replaceEntry(6, with: auditForgedEntry(seq: 6, time: e.time, actor: mallory.publicIdentity.fingerprint, action: e.action,
                                                       subjects: e.subjects, details: details, previous: e.previousHash, signer: mallory.signing))
        let asHerself = assertLogVerificationFails("entry 6 re-signed by Mallory") { try h.verify() }
        XCTAssertTrue(asHerself.hasPrefix("entry 6:"), asHerself)
        assertMessage(asHerself, contains: ["not staff", "forged", mallory.publicIdentity.fingerprint], "re-signed by a stranger")

        // Mallory signs in Alice's name.
        try h.v.replaceEntry(6, with: auditForgedEntry(seq: 6, time: e.time, actor: e.actor, action: e.action,
                                                       subjects: e.subjects, details: details, previous: e.previousHash, signer: mallory.signing))
        let asAlice = assertLogVerificationFails("entry 6 signed by Mallory as Alice") { try h.verify() }
        XCTAssertTrue(asAlice.hasPrefix("entry 6:"), asAlice)
        assertMessage(asAlice, contains: ["forged"], "signed in another's name")

        // Bob is staff from entry 4 on: a re-signed entry 3 in his name is still forged.
        try h.v.replaceEntry(6, with: original6)
        XCTAssertNoThrow(try h.verify(), "entry 6 restored")
        let e3 = try AuditEntry.parse(try h.v.entryBytes(3))
        try h.v.replaceEntry(3, with: auditForgedEntry(seq: 3, time: e3.time, actor: h.bob.publicIdentity.fingerprint, action: e3.action,
                                                       subjects: e3.subjects, details: e3.details.map { ($0.key, $0.value) },
                                                       previous: e3.previousHash, signer: h.bob.signing))
        let early = assertLogVerificationFails("entry 3 signed by Bob before he was staff") { try h.verify() }
        XCTAssertTrue(early.hasPrefix("entry 3:"), early)
        assertMessage(early, contains: ["not staff", "forged"], "signed before joining")
    }

    func testAnEntrySignedByRemovedStaffIsForged() throws {
        let v = try makeAuditVault()
        let bob = auditIdentity("bob")
        v.clock.advance(60)
        _ = try v.session.staff.add(bob.publicIdentity, name: "Bob Second")          // 2
        try v.deposit("by Bob", by: try v.vault.unlock(bob))                        // 3
        v.clock.advance(60)
        _ = try v.session.staff.remove(bob.publicIdentity.fingerprint)               // 4
        try v.deposit("by Alice")                                                   // 5
        XCTAssertEqual(try v.vault.auditEntries().map(\.action), ["init", "staff-add", "deposit", "staff-remove", "deposit"])
        XCTAssertNoThrow(try AuditVerifier.verify(try v.vault.logSnapshot()))
        let e = try AuditEntry.parse(try v.entryBytes(5))
        try v.replaceEntry(5, with: auditForgedEntry(seq: 5, time: e.time, actor: bob.publicIdentity.fingerprint, action: e.action,
                                                     subjects: e.subjects, details: e.details.map { ($0.key, $0.value) },
                                                     previous: e.previousHash, signer: bob.signing))
        let message = assertLogVerificationFails("entry 5 signed by Bob after his removal") { try AuditVerifier.verify(try v.vault.logSnapshot()) }
        XCTAssertTrue(message.hasPrefix("entry 5:"), message)
        assertMessage(message, contains: ["not staff", "forged"], "signed after removal")
    }

    func testAReplacedCheckpointNoteIsRefused() throws {
        let h = try makeHistory()
        let cp = try Self.checkpoint(h.checkpoint7)
        // Signed by another key under the organisation's name.
        let stranger = auditIdentity("mallory").signing
        try h.v.replaceCheckpoint(size: 7, with: SignedNote.sign(cp.text, name: AuditTestVault.organisation, key: stranger))
        let forged = assertLogVerificationFails("checkpoint re-signed by a stranger") { try h.verify() }
        assertMessage(forged, contains: ["the vault's checkpoint", "signature"], "checkpoint re-signed")

        // The real signature, over a text with another root.
        let otherRoot = Checkpoint(origin: cp.origin, size: cp.size, root: Hash.sha256(Data("another log".utf8)))
        try h.v.replaceCheckpoint(size: 7, with: h.checkpoint7.replacingOccurrences(of: cp.text, with: otherRoot.text))
        let altered = assertLogVerificationFails("checkpoint root altered") { try h.verify() }
        assertMessage(altered, contains: ["signature"], "checkpoint altered")

        // Restored, it verifies again.
        try h.v.replaceCheckpoint(size: 7, with: h.checkpoint7)
        XCTAssertEqual(try h.verify().checkpointSize, 7)
    }

    /// A checkpoint properly signed by the organisation but over another history (a split
    /// view, or a log rewritten by someone holding the key) is caught by the auditor's copy.
    func testACheckpointOfAnotherHistoryIsInconsistent() throws {
        let h = try makeHistory()
        let key = try h.v.session.organisationSigningKey()
        let fork = Checkpoint(origin: AuditTestVault.organisation, size: 5, root: Hash.sha256(Data("a different first five".utf8)))
        let forkNote = SignedNote.sign(fork.text, name: AuditTestVault.organisation, key: key)
        let message = assertLogVerificationFails("a forked checkpoint") { try h.verify(older: [forkNote]) }
        assertMessage(message, contains: ["checkpoint 1 given", "size 5", "does not match"], "forked checkpoint")

        // One from the future (more entries than the log has) is a truncation.
        let longer = SignedNote.sign(Checkpoint(origin: AuditTestVault.organisation, size: 9, root: fork.root).text,
                                     name: AuditTestVault.organisation, key: key)
        assertMessage(assertLogVerificationFails("a longer checkpoint") { try h.verify(older: [longer]) },
                      contains: ["truncated", "9"], "longer checkpoint")

        // A checkpoint of another vault under the same name does not verify at all.
        let other = try makeAuditVault(name + "-other")
        try other.deposit("x")
        let otherNote = try other.checkpoint()
        assertMessage(assertLogVerificationFails("another vault's checkpoint") { try h.verify(older: [otherNote]) },
                      contains: ["checkpoint 1 given", "signature"], "another vault's checkpoint")
    }

    // MARK: Export

    func testExportRoundTripsExactly() throws {
        let h = try makeHistory()
        let snapshot = try h.snapshot
        let bytes = LogExport.bytes(snapshot)
        let parsed = try LogExport.parse(bytes, path: "log.dlog")
        XCTAssertEqual(LogExport.bytes(parsed), bytes, "parse then write gives back the same bytes")
        XCTAssertEqual(parsed.organisation, snapshot.organisation)
        XCTAssertEqual(parsed.organisationKey, snapshot.organisationKey)
        XCTAssertEqual(parsed.entries, snapshot.entries)
        XCTAssertEqual(parsed.checkpoints, [h.checkpoint5, h.checkpoint7])
        let text = String(decoding: bytes, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.first, "dossier-log-export/1")
        XCTAssertEqual(lines[1], "organisation \(AuditTestVault.organisation)")
        XCTAssertEqual(lines[2], "organisation-key \(snapshot.organisationKey.line)")
        XCTAssertEqual(lines.filter { $0.hasPrefix("checkpoint ") }.count, 2)
        XCTAssertEqual(lines.filter { $0.hasPrefix("entry ") }.count, 7)
        XCTAssertEqual(lines.last, "", "ends with a newline")
        XCTAssertEqual(lines.count, 3 + 2 + 7 + 1)

        let org = try h.v.vault.organisation()
        XCTAssertEqual(try AuditVerifier.verify(parsed, expectedOrganisationFingerprint: org.fingerprint).entries, 7)
    }

    func testEveryFlippedByteOfAnExportIsRefused() throws {
        let v = try makeAuditVault()
        try v.deposit("one")
        _ = try v.checkpoint()
        let org = try v.vault.organisation()
        let bytes = LogExport.bytes(try v.vault.logSnapshot())
        XCTAssertNoThrow(try AuditVerifier.verify(try LogExport.parse(bytes, path: "x"), expectedOrganisationFingerprint: org.fingerprint))
        var accepted: [Int] = []
        for i in bytes.indices {
            var copy = bytes
            copy[i] ^= 0x01
            do {
                _ = try AuditVerifier.verify(try LogExport.parse(copy, path: "x"), expectedOrganisationFingerprint: org.fingerprint)
                accepted.append(i)
            } catch {
                // Refused, as it must be.
            }
        }
        XCTAssertEqual(accepted, [], "bytes whose change went unnoticed (of \(bytes.count))")
    }

    func testExtraOrMissingLinesInAnExportAreRefused() throws {
        let h = try makeHistory()
        let org = try h.v.vault.organisation()
        let text = String(decoding: LogExport.bytes(try h.snapshot), as: UTF8.self)
        let entryLines = text.split(separator: "\n").map(String.init).filter { $0.hasPrefix("entry ") }
        XCTAssertEqual(entryLines.count, 7)
        let mallory = auditIdentity("mallory")
        let last = try AuditEntry.parse(try h.snapshot.entries.last!)
        let forged = auditForgedEntry(seq: 8, time: last.time, actor: mallory.publicIdentity.fingerprint, action: "retrieve",
                                      subjects: ["doc:" + h.documents[0]], details: [], previous: last.hash, signer: mallory.signing)
        let variants: [(String, String)] = [
            ("an empty line at the end", text + "\n"),
            ("a comment line", text + "# note\n"),
            ("an unknown line", text.replacingOccurrences(of: "\ncheckpoint ", with: "\nremark x\ncheckpoint ")),
            ("an entry repeated", text + entryLines[3] + "\n"),
            ("an entry added by a stranger", text + "entry \(forged.base64EncodedString())\n"),
            ("an entry dropped from the middle", text.replacingOccurrences(of: entryLines[3] + "\n", with: "")),
            ("a checkpoint after the entries", text + "checkpoint \(Data(h.checkpoint5.utf8).base64EncodedString())\n"),
            ("carriage returns", text.replacingOccurrences(of: "\n", with: "\r\n")),
            ("the header changed", text.replacingOccurrences(of: "dossier-log-export/1", with: "dossier-log-export/2")),
            ("an entry not base64", text.replacingOccurrences(of: entryLines[2], with: entryLines[2] + "!")),
            ("base64 with a line break", text.replacingOccurrences(of: entryLines[2], with: String(entryLines[2].prefix(40)) + "\n" + String(entryLines[2].dropFirst(40)))),
        ]
        for (what, variant) in variants {
            XCTAssertNotEqual(variant, text, what)
            XCTAssertThrowsError(try AuditVerifier.verify(try LogExport.parse(Data(variant.utf8), path: "log.dlog"),
                                                          expectedOrganisationFingerprint: org.fingerprint), what) { error in
                XCTAssertTrue(error is DossierError, "\(what): \(error)")
            }
        }
        // The dropped last entry is not visible without a checkpoint that covers it: the
        // export's own newest checkpoint does.
        let cut = text.replacingOccurrences(of: entryLines[6] + "\n", with: "")
        let message = assertLogVerificationFails("the last entry dropped from an export") {
            try AuditVerifier.verify(try LogExport.parse(Data(cut.utf8), path: "log.dlog"), expectedOrganisationFingerprint: org.fingerprint)
        }
        assertMessage(message, contains: ["truncated"], "last entry dropped")
    }

    /// One export has one encoding: bytes that would parse to the same content, but are not
    /// what LogExport writes, are refused as not canonical.
    func testAnExportInAnyButItsCanonicalFormIsRefused() throws {
        let v = try makeAuditVault()
        try v.deposit("one")
        let text = String(decoding: LogExport.bytes(try v.vault.logSnapshot()), as: UTF8.self)
        let keyLine = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("organisation-key ") }).description
        let variants = [
            ("a space after the organisation key", text.replacingOccurrences(of: keyLine + "\n", with: keyLine + " \n")),
            ("two spaces before the organisation key", text.replacingOccurrences(of: "organisation-key ", with: "organisation-key  ")),
            ("a tab after the organisation key", text.replacingOccurrences(of: keyLine + "\n", with: keyLine + "\t\n")),
        ]
        for (what, variant) in variants {
            XCTAssertNotEqual(variant, text, what)
            XCTAssertThrowsError(try LogExport.parse(Data(variant.utf8), path: "log.dlog"), what) { error in
                guard case let DossierError.malformedExport(path, reason) = error else { return XCTFail("\(what): wrong error \(error)") }
                XCTAssertEqual(path, "log.dlog")
                XCTAssertTrue(reason.contains("canonical"), "\(what): \(reason)")
            }
        }
    }

    func testTheOrganisationFingerprintPinsTheExport() throws {
        let h = try makeHistory()
        let org = try h.v.vault.organisation()
        let snapshot = try LogExport.parse(LogExport.bytes(try h.snapshot), path: "log.dlog")
        XCTAssertEqual(try AuditVerifier.verify(snapshot, expectedOrganisationFingerprint: org.fingerprint).organisationFingerprint, org.fingerprint)
        // Typed as a person would: lower case, no dashes.
        XCTAssertNoThrow(try AuditVerifier.verify(snapshot, expectedOrganisationFingerprint: org.fingerprint.lowercased().replacingOccurrences(of: "-", with: "")))

        let other = try makeAuditVault(name + "-other")
        let otherFP = try other.vault.organisation().fingerprint
        XCTAssertNotEqual(otherFP, org.fingerprint)
        XCTAssertThrowsError(try AuditVerifier.verify(snapshot, expectedOrganisationFingerprint: otherFP)) { error in
            guard case let DossierError.wrongOrganisation(expected, found) = error else { return XCTFail("wrong error \(error)") }
            XCTAssertEqual(expected, otherFP)
            XCTAssertEqual(found, org.fingerprint)
        }
        XCTAssertThrowsError(try AuditVerifier.verify(snapshot, expectedOrganisationFingerprint: "not-a-fingerprint")) { error in
            guard case DossierError.invalidArgument = error else { return XCTFail("wrong error \(error)") }
        }

        // An export whose organisation key was swapped for another: entry 1 names the real
        // one, and the pinned fingerprint does not match the swapped one.
        let otherKey = try OrganisationKey(line: try other.vault.organisation().publicKey)
        let swapped = LogSnapshot(organisation: snapshot.organisation, organisationKey: otherKey, entries: snapshot.entries, checkpoints: snapshot.checkpoints)
        let reparsed = try LogExport.parse(LogExport.bytes(swapped), path: "log.dlog")
        assertMessage(assertLogVerificationFails("organisation key swapped") { try AuditVerifier.verify(reparsed) },
                      contains: ["entry 1", "different organisation key"], "organisation key swapped")
        XCTAssertThrowsError(try AuditVerifier.verify(reparsed, expectedOrganisationFingerprint: org.fingerprint)) { error in
            guard case DossierError.wrongOrganisation = error else { return XCTFail("wrong error \(error)") }
        }
    }

    // MARK: Proofs

    func testInclusionProofsVerifyAgainstTheirCheckpointOnly() throws {
        let h = try makeHistory()
        let snapshot = try h.snapshot
        let cp5 = try Self.checkpoint(h.checkpoint5), cp7 = try Self.checkpoint(h.checkpoint7)
        XCTAssertEqual([cp5.size, cp7.size], [5, 7])
        for (cp, other) in [(cp5, cp7), (cp7, cp5)] {
            for seq in 1...cp.size {
                let proof = try snapshot.inclusionProof(seq: seq, treeSize: cp.size)
                XCTAssertEqual(proof.leafIndex, seq - 1)
                XCTAssertEqual(Data(base64Encoded: proof.entry), snapshot.entries[Int(seq - 1)])
                // Through JSON, as `audit prove` writes it and `audit verify-proof` reads it.
                let decoded = try JSONDecoder().decode(InclusionProof.self, from: try JSONEncoder().encode(proof))
                XCTAssertNoThrow(try decoded.verify(against: cp), "entry \(seq) in \(cp.size)")
                XCTAssertThrowsError(try decoded.verify(against: other), "entry \(seq) of \(cp.size) against \(other.size)")
                let sameSizeOtherRoot = Checkpoint(origin: cp.origin, size: cp.size, root: other.root)
                XCTAssertThrowsError(try decoded.verify(against: sameSizeOtherRoot), "entry \(seq) against another root")
            }
        }
        // A proof whose entry was edited does not verify.
        let proof = try snapshot.inclusionProof(seq: 3, treeSize: 7)
        var json = try XCTUnwrap(try JSONSerialization.jsonObject(with: try JSONEncoder().encode(proof)) as? [String: Any])
        json["entry"] = snapshot.entries[3].base64EncodedString()
        let edited = try JSONDecoder().decode(InclusionProof.self, from: try JSONSerialization.data(withJSONObject: json))
        XCTAssertThrowsError(try edited.verify(against: cp7)) { error in
            guard case let DossierError.logVerificationFailed(m) = error else { return XCTFail("wrong error \(error)") }
            XCTAssertTrue(m.contains("entry 3"), m)
        }
        for (seq, size) in [(0, 7), (8, 7), (1, 8), (6, 5)] as [(UInt64, UInt64)] {
            XCTAssertThrowsError(try snapshot.inclusionProof(seq: seq, treeSize: size), "seq \(seq) in \(size)") {
                guard case DossierError.invalidArgument = $0 else { return XCTFail("wrong error \($0)") }
            }
        }
    }

    /// `audit verify-proof` reports "entry SEQ is in the log" from the proof's `seq`; a proof of
    /// entry 2 relabelled as entry 5 must not make that claim for entry 5.
    func testAProofThatMisnamesItsEntryIsRefused() throws {
        let h = try makeHistory()
        let cp7 = try Self.checkpoint(h.checkpoint7)
        let proof = try h.snapshot.inclusionProof(seq: 2, treeSize: 7)
        XCTAssertNoThrow(try proof.verify(against: cp7))
        var json = try XCTUnwrap(try JSONSerialization.jsonObject(with: try JSONEncoder().encode(proof)) as? [String: Any])
        json["seq"] = 5
        let misnamed = try JSONDecoder().decode(InclusionProof.self, from: try JSONSerialization.data(withJSONObject: json))
        XCTAssertEqual(misnamed.seq, 5)
        XCTAssertThrowsError(try misnamed.verify(against: cp7), "a proof of entry 2 that calls itself entry 5") { error in
            guard case DossierError.logVerificationFailed = error else { return XCTFail("wrong error \(error)") }
        }
    }

    func testConsistencyProofsShowTheLogOnlyGrew() throws {
        let h = try makeHistory()
        let snapshot = try h.snapshot
        let cp5 = try Self.checkpoint(h.checkpoint5), cp7 = try Self.checkpoint(h.checkpoint7)
        let proof = try JSONDecoder().decode(ConsistencyProof.self, from: try JSONEncoder().encode(try snapshot.consistencyProof(from: 5, to: 7)))
        XCTAssertEqual([proof.size1, proof.size2], [5, 7])
        XCTAssertFalse(proof.proof.isEmpty)
        XCTAssertNoThrow(try proof.verify(old: cp5, new: cp7))
        XCTAssertThrowsError(try proof.verify(old: cp7, new: cp5), "sizes the wrong way round")
        let forkedOld = Checkpoint(origin: cp5.origin, size: 5, root: Hash.sha256(Data("another history".utf8)))
        XCTAssertThrowsError(try proof.verify(old: forkedOld, new: cp7), "an old checkpoint of another history")
        let forkedNew = Checkpoint(origin: cp7.origin, size: 7, root: Hash.sha256(Data("another history".utf8)))
        XCTAssertThrowsError(try proof.verify(old: cp5, new: forkedNew), "a new checkpoint of another history")
        // The same size proves itself with an empty proof; a size of 0 is refused.
        let same = try snapshot.consistencyProof(from: 7, to: 7)
        XCTAssertEqual(same.proof, [])
        XCTAssertNoThrow(try same.verify(old: cp7, new: cp7))
        for (a, b) in [(0, 7), (6, 5), (5, 8)] as [(UInt64, UInt64)] {
            XCTAssertThrowsError(try snapshot.consistencyProof(from: a, to: b), "\(a) → \(b)") {
                guard case DossierError.invalidArgument = $0 else { return XCTFail("wrong error \($0)") }
            }
        }
        // Every pair of sizes of this log.
        let leaves = snapshot.entries.map(MerkleTree.leafHash)
        for a in 1...7 {
            for b in a...7 {
                let p = try snapshot.consistencyProof(from: UInt64(a), to: UInt64(b))
                let old = Checkpoint(origin: cp7.origin, size: UInt64(a), root: MerkleTree.root(leafHashes: leaves[0..<a]))
                let new = Checkpoint(origin: cp7.origin, size: UInt64(b), root: MerkleTree.root(leafHashes: leaves[0..<b]))
                XCTAssertNoThrow(try p.verify(old: old, new: new), "\(a) → \(b)")
            }
        }
    }

    // MARK: Review filters

    /// A log with different actors, actions, documents, counsel and grants, an hour apart.
    func makeReviewLog() throws -> (v: AuditTestVault, ids: [String: String], bob: SecretIdentity) {
        let v = try makeAuditVault()
        let bob = auditIdentity("bob")
        var ids: [String: String] = [:]
        v.clock.set(auditStartDate.addingTimeInterval(3600))
        ids["docA"] = try v.session.documents.deposit(DepositRequest(files: [try scratchFile(v, "a")], kind: .supportingMaterial, title: "A")).first!.id  // 2
        v.clock.set(auditStartDate.addingTimeInterval(2 * 3600))
        _ = try v.session.staff.add(bob.publicIdentity, name: "Bob Second")                                                                  // 3
        v.clock.set(auditStartDate.addingTimeInterval(3 * 3600))
        let bobSession = try v.vault.unlock(bob)
        ids["docB"] = try bobSession.documents.deposit(DepositRequest(files: [try scratchFile(v, "b")], kind: .supportingMaterial, title: "B")).first!.id // 4
        v.clock.set(auditStartDate.addingTimeInterval(4 * 3600))
        let carol = auditIdentity("counsel-carol").publicIdentity
        ids["carol"] = try v.session.sharing.addCounsel(carol, details: Counsel.Details(name: "Carol Counsel")).id                                // 5
        ids["carolFP"] = carol.fingerprint
        v.clock.set(auditStartDate.addingTimeInterval(5 * 3600))
        ids["grant"] = try v.session.sharing.grant(GrantRequest(documents: [ids["docA"]!], counsel: [ids["carol"]!])).id                         // 6
        v.clock.set(auditStartDate.addingTimeInterval(6 * 3600))
        _ = try bobSession.sharing.revoke(ids["grant"]!, reason: "no longer needed")                                                               // 7
        v.clock.set(auditStartDate.addingTimeInterval(7 * 3600))
        let out = v.folder + "/retrieved"
        _ = try bobSession.documents.retrieve(ids["docB"]!, to: out)                                                                                 // 8
        XCTAssertEqual(try v.vault.auditEntries().map(\.action),
                       ["init", "deposit", "staff-add", "deposit", "counsel-add", "grant", "revoke", "retrieve"])
        return (v, ids, bob)
    }

    func scratchFile(_ v: AuditTestVault, _ content: String) throws -> String {
        let path = v.folder + "/scratch-\(UUID().uuidString)"
        try Data(content.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func seqs(_ v: AuditTestVault, _ filter: AuditFilter) throws -> [UInt64] {
        try v.vault.logSnapshot().records(matching: filter).map(\.seq)
    }

    func testFiltersSelectByActionDocumentCounselGrantActorAndTime() throws {
        let (v, ids, bob) = try makeReviewLog()
        let alice = v.founder.publicIdentity.fingerprint, bobFP = bob.publicIdentity.fingerprint
        XCTAssertEqual(try seqs(v, AuditFilter()), [1, 2, 3, 4, 5, 6, 7, 8])
        XCTAssertEqual(try seqs(v, AuditFilter(action: "deposit")), [2, 4])
        XCTAssertEqual(try seqs(v, AuditFilter(action: "grant")), [6])
        XCTAssertEqual(try seqs(v, AuditFilter(action: "nothing-of-the-kind")), [])
        XCTAssertEqual(try seqs(v, AuditFilter(document: ids["docA"])), [2, 6])
        XCTAssertEqual(try seqs(v, AuditFilter(document: ids["docB"])), [4, 8])
        XCTAssertEqual(try seqs(v, AuditFilter(counsel: ids["carol"])), [5, 6])
        XCTAssertEqual(try seqs(v, AuditFilter(grant: ids["grant"])), [6, 7])
        XCTAssertEqual(try seqs(v, AuditFilter(actor: bobFP)), [4, 7, 8])
        XCTAssertEqual(try seqs(v, AuditFilter(actor: bobFP.lowercased().replacingOccurrences(of: "-", with: ""))), [4, 7, 8],
                       "a fingerprint typed in lower case without dashes")
        XCTAssertEqual(try seqs(v, AuditFilter(actor: alice)), [1, 2, 3, 5, 6])
        // Times: entry n (n ≥ 2) is at start + (n − 1) hours; both ends are inclusive.
        let at = { (hours: Double) in auditStartDate.addingTimeInterval(hours * 3600) }
        XCTAssertEqual(try seqs(v, AuditFilter(since: at(3))), [4, 5, 6, 7, 8])
        XCTAssertEqual(try seqs(v, AuditFilter(until: at(3))), [1, 2, 3, 4])
        XCTAssertEqual(try seqs(v, AuditFilter(since: at(2.5), until: at(5.5))), [4, 5, 6])
        XCTAssertEqual(try seqs(v, AuditFilter(since: at(8))), [])
        // Conditions combine.
        XCTAssertEqual(try seqs(v, AuditFilter(actor: bobFP, action: "deposit")), [4])
        XCTAssertEqual(try seqs(v, AuditFilter(since: at(4), action: "deposit")), [])
        XCTAssertEqual(try seqs(v, AuditFilter(document: ids["docA"], grant: ids["grant"])), [6])

        // What an auditor sees: ids and fingerprints, never titles.
        let records = try v.vault.logSnapshot().records(matching: AuditFilter(grant: ids["grant"]))
        XCTAssertEqual(records.map(\.id), ["6", "7"])
        XCTAssertEqual(records[0].subjects, ["grant:" + ids["grant"]!, "doc:" + ids["docA"]!, "counsel:" + ids["carol"]!])
        XCTAssertEqual(records[0].details["approvals-needed"], ["1"])
        XCTAssertNil(records[0].resolved)
        XCTAssertEqual(records[0].entryHash, try AuditEntry.parse(try v.entryBytes(6)).hash.hex)
    }

    /// `--counsel` takes an id or a fingerprint (its help says so); given the fingerprint, it
    /// must find the same entries as the id, including the grants that name the counsel by id.
    func testCounselFilterByFingerprintFindsWhatTheIdFinds() throws {
        let (v, ids, _) = try makeReviewLog()
        XCTAssertEqual(try seqs(v, AuditFilter(counsel: ids["carolFP"])), try seqs(v, AuditFilter(counsel: ids["carol"])),
                       "counsel by fingerprint \(ids["carolFP"]!) versus by id \(ids["carol"]!)")
    }
}
