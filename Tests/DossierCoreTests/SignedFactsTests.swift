import DossierCrypto
import Foundation
import XCTest
@_spi(Benchmark) @testable import DossierCore

/// Decisions rest on the signed log (docs/formats/vault.md, section 6.6; threat-model.md,
/// promises 19–21): rows changed without a signed entry are refused at use and reported; two
/// sign-offs are two staff keys; the key-release service's identity signs openings, refusals and received requests only.
/// The row edits here go through the storage layer, below every decision, as an edit of the
/// database would (scripts/attack-test.sh makes the same edits with the sqlite3 shell).
final class SignedFactsTests: XCTestCase {
    private func altered(_ e: DossierError?, naming word: String, file: StaticString = #filePath, line: UInt = #line) {
        guard case let .altered(message)? = e else { return XCTFail("expected .altered, got \(String(describing: e))", file: file, line: line) }
        XCTAssertTrue(message.contains(word), "'\(message)' does not name \(word)", file: file, line: line)
    }

    /// A pending witness-testimony grant (two sign-offs needed) to one vetted counsel.
    private func pendingWitnessGrant(_ world: ShareWorld) throws -> (grant: Grant, counsel: Counsel) {
        let witness = try world.document(.witnessTestimony)
        let c = try world.counsel("adams").counsel
        let g = try world.session.sharing.grant(GrantRequest(documents: [witness.id], counsel: [c.id], window: .duration(seconds: 86400),
                                                             online: ShareKit.online))
        XCTAssertEqual(g.state, .pending)
        return (g, c)
    }

    func testAGrantActivatedInTheDatabaseIsRefusedAtUseLoggedAndReported() throws {
        let world = try ShareWorld("facts-activate")
        let (g, _) = try pendingWitnessGrant(world)
        XCTAssertEqual(try world.vault.alteredRows(), [])
        try world.vault.write { tx in try tx.activateGrant(g.id) }
        XCTAssertEqual(try world.session.sharing.storedGrant(g.id).state, .active, "the edit did not take")
        // Shown, the grant is refused as well: `grants` never lists the edited state.
        altered(ShareKit.caught { _ = try world.session.sharing.grant(g.id) }, naming: g.id)
        altered(ShareKit.caught { _ = try world.session.sharing.listGrants() }, naming: g.id)
        altered(ShareKit.caught { _ = try world.session.sharing.makePackage(grant: g.id, to: world.packagePath()) }, naming: g.id)
        XCTAssertFalse(FileManager.default.fileExists(atPath: world.packagePath()))
        let denial = try XCTUnwrap(try world.entries("deny").last)
        XCTAssertEqual(denial.detail("rule"), "stored.altered")
        XCTAssertEqual(denial.subjects, ["grant:" + g.id])
        let report = try world.vault.alteredRows()
        XCTAssertEqual(report.count, 1)
        XCTAssertTrue(report[0].contains(g.id) && report[0].contains("pending in the signed log"), report[0])
        XCTAssertFalse(try world.vault.doctor().isHealthy)
    }

    /// A log longer than a part (`SignedFacts.Reader.batch` entries) is read and verified a part
    /// at a time, in bounded memory: a fact signed after the first part counts, and an entry
    /// edited or removed past the first part is still found.
    func testALogLongerThanOnePartIsReadInParts() throws {
        let world = try ShareWorld("facts-long-log")
        let early = try world.document(.expertReport)
        let c = try world.counsel("adams").counsel
        let part = SignedFacts.Reader.batch
        try world.session.documents.recordSyntheticRetrievals(of: early.id, count: part + 10)
        // Deposited after the first part: only the second part's facts know this document.
        let late = try world.document(.expertReport)
        let size = try world.vault.read { tx in try tx.logSize() }
        XCTAssertGreaterThan(size, part + 10)
        let g = try world.session.sharing.grant(GrantRequest(documents: [late.id], counsel: [c.id], window: .duration(seconds: 86400)))
        XCTAssertEqual(g.state, .active)
        XCTAssertEqual(try world.vault.alteredRows(), [])
        XCTAssertEqual(try world.vault.verifyLogChain(), size + 1, "doctor's walk reads every part")

        // One byte of a retrieval's signature, past the first part: the next decision fails.
        let seq = part + 5
        func stored(_ n: Int) throws -> Data {
            try world.vault.read { tx in try XCTUnwrap(try tx.logEntries(afterPosition: Int64(n - 1), limit: 1).first?.bytes) }
        }
        let original = try stored(seq)
        var edited = original
        let at = edited.index(edited.endIndex, offsetBy: -5)
        edited[at] = edited[at] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        func setEntry(_ bytes: Data) throws {
            _ = try world.vault.store.write { tx in
                try (tx as! SQLiteTransaction).db.execute(sql: "UPDATE audit_log SET entry = ? WHERE seq = ?", arguments: [bytes, seq])
            }
        }
        try setEntry(edited)
        // Each command is a session of its own, which reads the log afresh (a session reads
        // only what was appended since its last read).
        func session() throws -> StaffSession { try world.vault.unlock(world.founder) }
        let request = GrantRequest(documents: [early.id], counsel: [c.id], window: .duration(seconds: 86400))
        let e = ShareKit.caught { _ = try session().sharing.grant(request) }
        guard case let .integrity(message)? = e else { return XCTFail("an edited entry past the first part was not found: \(String(describing: e))") }
        XCTAssertTrue(message.contains("entry \(seq)"), message)
        XCTAssertThrowsError(try world.vault.verifyLogChain()) { e in
            XCTAssertTrue("\(e)".contains("entry \(seq)"), "doctor's walk: \(e)")
        }

        // Put back, the log reads again; then an entry past the first part removed is missing.
        try setEntry(original)
        XCTAssertEqual(try session().sharing.grant(request).state, .active)
        _ = try world.vault.store.write { tx in
            try (tx as! SQLiteTransaction).db.execute(sql: "DELETE FROM audit_log WHERE seq = ?", arguments: [part + 1])
        }
        let gone = ShareKit.caught { _ = try session().sharing.grant(request) }
        guard case let .integrity(why)? = gone else { return XCTFail("a removed entry after the boundary was not found: \(String(describing: gone))") }
        XCTAssertTrue(why.contains("entry \(part + 1)") && why.contains("missing"), why)
    }

    /// A session reads the log once, then only what was appended (SignedFacts.SessionReader);
    /// a log cut back under it (the newest entry gone) is noticed at its next decision, which
    /// reads afresh and meets the log-head memory's check.
    func testASessionNoticesALogCutBackAfterItsFirstRead() throws {
        let world = try ShareWorld("facts-session-cut")
        world.vault.logHead = LogHeadMemory(path: world.root + "/state/log-head")
        let doc = try world.document(.expertReport)
        let c = try world.counsel("adams").counsel
        let request = GrantRequest(documents: [doc.id], counsel: [c.id], window: .duration(seconds: 86400))
        XCTAssertEqual(try world.session.sharing.grant(request).state, .active)
        let size = try world.vault.read { tx in try tx.logSize() }
        _ = try world.vault.store.write { tx in
            try (tx as! SQLiteTransaction).db.execute(sql: "DELETE FROM audit_log WHERE seq = ?", arguments: [size])
        }
        let e = ShareKit.caught { _ = try world.session.sharing.grant(request) }
        guard case let .rolledBack(what, _)? = e else { return XCTFail("the same session decided on a log cut back: \(String(describing: e))") }
        XCTAssertTrue(what.contains("\(size - 1) entries") && what.contains("verified \(size)"), what)
    }

    func testARelabelledKindOrAnErasedSuspensionIsRefused() throws {
        let world = try ShareWorld("facts-relabel")
        let witness = try world.document(.witnessTestimony)
        let c = try world.counsel("adams").counsel
        try world.vault.write { tx in
            try tx.setVetting(counsel: c.id, until: "2099-01-01T00:00:00.000Z", noteSealed: nil)
        }
        let request = GrantRequest(documents: [witness.id], counsel: [c.id], window: .duration(seconds: 86400), online: ShareKit.online)
        altered(ShareKit.caught { _ = try world.session.sharing.grant(request) }, naming: c.id)
        let other = try ShareWorld("facts-relabel-2")
        let doc = try other.document(.witnessTestimony)
        let c2 = try other.counsel("adams").counsel
        _ = try other.vault.store.write { tx in
            try (tx as! SQLiteTransaction).db.execute(sql: "UPDATE documents SET kind = 'supporting-material' WHERE id = ?", arguments: [doc.id])
        }
        altered(ShareKit.caught { _ = try other.session.sharing.grant(GrantRequest(documents: [doc.id], counsel: [c2.id], window: .duration(seconds: 86400))) },
                naming: doc.id)
        XCTAssertTrue(try other.vault.alteredRows().contains { $0.contains(doc.id) && $0.contains("witness-testimony") })
    }

    func testAnApprovalCountsOnlyWhileItsSignerIsStaff() throws {
        let world = try ShareWorld("facts-removed-approver")
        let (g, _) = try pendingWitnessGrant(world)
        let bob = try world.addStaff("bob")
        _ = try bob.sharing.approve(g.id)
        _ = try world.session.sharing.makePackage(grant: g.id, to: world.packagePath("before"))
        let approval = try XCTUnwrap(try world.entries("approve").last)
        let grantEntry = try XCTUnwrap(try world.entries("grant").last)
        XCTAssertEqual(approval.detail("grant-sha256"), grantEntry.hash.hex, "the approval does not sign the grant's terms")
        try world.session.staff.remove(bob.actor)
        let e = ShareKit.caught { _ = try world.session.sharing.makePackage(grant: g.id, to: world.packagePath("after")) }
        guard case let .grantNotActive(_, state)? = e else { return XCTFail("a removed member's sign-off still counted: \(String(describing: e))") }
        XCTAssertTrue(state.hasPrefix("pending approval (1 of 2"), state)
        XCTAssertEqual(try world.entries("deny").last?.detail("rule"), "grant.pending")
    }

    func testAnApprovalOfOtherTermsDoesNotCount() throws {
        let world = try ShareWorld("facts-terms")
        let (g, _) = try pendingWitnessGrant(world)
        let bob = ShareKit.identity("bob")
        _ = try world.session.staff.add(bob.publicIdentity, name: "Bob")
        // Bob signs an approval of terms that are not this grant's (as if the grant had changed).
        try world.vault.write { tx in
            try tx.insertApproval(grant: g.id, staff: bob.publicIdentity.fingerprint, at: "2027-01-01T00:00:00.000Z")
            try tx.activateGrant(g.id)
            try AuditLog.append(tx, signer: bob, action: .approve, at: Date(), subjects: ["grant:" + g.id],
                                details: [.init("approvals", "2/2"), .init("grant-sha256", String(repeating: "0", count: 64))])
        }
        altered(ShareKit.caught { _ = try world.session.sharing.makePackage(grant: g.id, to: world.packagePath()) }, naming: g.id)
    }

    func testAPolicyChangeNeedsAsManySignOffsAsItsStrictestRule() throws {
        let world = try ShareWorld("facts-policy")
        let permissive = DefaultPolicy.text.replacingOccurrences(of: "approvals = 2", with: "approvals = 1")
        XCTAssertNotEqual(permissive, DefaultPolicy.text)
        guard case let .proposed(_, sha, have, needed) = try world.session.sharing.setPolicy(permissive, source: "p.toml") else {
            return XCTFail("a change of a policy that asks for two sign-offs took effect with one")
        }
        XCTAssertEqual([have, needed], [1, 2])
        XCTAssertEqual(try world.vault.policy().text, DefaultPolicy.text)
        guard case .selfApproval? = ShareKit.caught({ _ = try world.session.sharing.approvePolicy(sha) }) else { return XCTFail("proposer approved") }
        let bob = try world.addStaff("bob")
        guard case .inForce = try bob.sharing.approvePolicy(String(sha.prefix(8))) else { return XCTFail("not in force after two sign-offs") }
        XCTAssertEqual(try world.vault.policy().text, permissive)
        // Now every rule needs one sign-off: the next change takes effect at once.
        guard case .inForce = try world.session.sharing.setPolicy(DefaultPolicy.text, source: "d.toml") else { return XCTFail("needed more than one") }
        XCTAssertEqual(try world.vault.alteredRows(), [])
    }

    func testOneStaffMemberCannotSignAPolicyInAlone() throws {
        let world = try ShareWorld("facts-policy-forged")
        let permissive = DefaultPolicy.text.replacingOccurrences(of: "approvals = 2", with: "approvals = 1")
        // A modified dossier: the row and a validly signed policy-set entry, by one member.
        try world.vault.write { tx in
            try tx.setSetting(.policy, text: permissive)
            try AuditLog.append(tx, signer: world.founder, action: .policySet, at: Date(), subjects: [],
                                details: [.init("sha256", Hash.sha256(Data(permissive.utf8)).hex), .init("approvals", "1")])
        }
        let witness = try world.document(.witnessTestimony)
        let c = try world.counsel("adams").counsel
        altered(ShareKit.caught { _ = try world.session.sharing.grant(GrantRequest(documents: [witness.id], counsel: [c.id],
                                                                                      window: .duration(seconds: 86400), online: ShareKit.online)) },
                naming: "policy")
        XCTAssertTrue(try world.vault.alteredRows().contains { $0.contains("policy") })
    }

    func testAGrantWhoseApproverLeftIsListedAsPendingAsDecisionsCountIt() throws {
        let world = try ShareWorld("facts-listing")
        let (g, _) = try pendingWitnessGrant(world)
        let bob = try world.addStaff("bob")
        XCTAssertEqual(try bob.sharing.approve(g.id).state, .active)
        XCTAssertEqual(try world.session.sharing.grant(g.id).approvedBy, [world.session.actor, bob.actor])
        // Bob leaves: his sign-off no longer counts, and the listing says so, as `package` does.
        _ = try world.session.staff.remove(bob.actor)
        let listed = try XCTUnwrap(try world.session.sharing.listGrants().first { $0.id == g.id })
        XCTAssertEqual(listed.state, .pending)
        XCTAssertEqual(listed.approvedBy, [world.session.actor])
        XCTAssertFalse(try world.session.sharing.listGrants(activeOnly: true).contains { $0.id == g.id })
        XCTAssertEqual(try world.session.sharing.grant(g.id).state, .pending)
        XCTAssertEqual(try world.vault.alteredRows(), [], "a sign-off that stopped counting is not an edit")
    }

    func testTheServiceIdentitySignsOpeningsAndNothingElse() throws {
        let world = try ShareWorld("facts-service")
        let service = ShareKit.identity("service")
        _ = try world.session.staff.add(service.publicIdentity, name: "Service", service: true)
        guard case .serviceIdentity? = ShareKit.caught({ _ = try world.vault.unlock(service) }) else { return XCTFail("the service unlocked as staff") }
        guard case .notServiceIdentity? = ShareKit.caught({ _ = try world.vault.unlock(world.founder, forService: true) }) else {
            return XCTFail("a staff identity unlocked as the service")
        }
        let serviceSession = try world.vault.unlock(service, forService: true)
        XCTAssertEqual(serviceSession.actor, service.publicIdentity.fingerprint)
        let (g, _) = try pendingWitnessGrant(world)
        // The service's key, used by a modified program, approves: the log itself is refused.
        try world.vault.write { tx in
            try tx.insertApproval(grant: g.id, staff: service.publicIdentity.fingerprint, at: "2027-01-01T00:00:00.000Z")
            try tx.activateGrant(g.id)
            try AuditLog.append(tx, signer: service, action: .approve, at: Date(), subjects: ["grant:" + g.id], details: [.init("approvals", "2/2")])
        }
        let e = ShareKit.caught { _ = try world.session.sharing.makePackage(grant: g.id, to: world.packagePath()) }
        guard case let .integrity(message)? = e else { return XCTFail("got \(String(describing: e))") }
        XCTAssertTrue(message.contains("key-release service") && message.contains("approve"), message)
        XCTAssertFalse(try world.vault.doctor().isHealthy)
    }

    func testTheServiceIdentityMaySignReceivedRequestsButNotWorkOnThem() throws {
        let world = try ShareWorld("facts-service-requests")
        let service = ShareKit.identity("service")
        _ = try world.session.staff.add(service.publicIdentity, name: "Service", service: true)
        let id = "req-aaaaaaaaaaaaa"
        // What the service signs when it receives a request: the log stays valid.
        try world.vault.write { tx in
            try AuditLog.append(tx, signer: service, action: .requestReceive, at: Date(), subjects: ["request:" + id],
                                details: [.init("sha256", String(repeating: "ab", count: 32)), .init("sender", service.publicIdentity.fingerprint)])
        }
        XCTAssertNoThrow(try world.vault.read { tx in try SignedFacts.load(tx) })
        // Working on a request is staff's: the service's key assigning it makes the log invalid.
        try world.vault.write { tx in
            try AuditLog.append(tx, signer: service, action: .requestAssign, at: Date(), subjects: ["request:" + id, "staff:" + world.founder.publicIdentity.fingerprint])
        }
        let e = ShareKit.caught { _ = try world.vault.read { tx in try SignedFacts.load(tx) } }
        guard case let .integrity(message)? = e else { return XCTFail("got \(String(describing: e))") }
        XCTAssertTrue(message.contains("key-release service") && message.contains("request-assign"), message)
    }

    func testAVaultPutBackToAnOlderCopyIsRefusedByTheMachineThatSawItNewer() throws {
        let world = try ShareWorld("facts-rollback")
        let memory = LogHeadMemory(path: world.root + "/state/log-head")
        world.vault.logHead = memory
        let doc = try world.document(.expertReport)
        let c = try world.counsel("adams").counsel
        let g = try world.session.sharing.grant(GrantRequest(documents: [doc.id], counsel: [c.id], window: .duration(seconds: 86400)))
        let older = world.root + "/older"
        try FileManager.default.copyItem(atPath: world.vaultPath, toPath: older)
        _ = try world.session.sharing.revoke(g.id, reason: "withdrawn")
        XCTAssertEqual(try world.vault.alteredRows(), [], "the memory moves on with the log")
        let seen = try XCTUnwrap(try memory.read())
        XCTAssertEqual(seen.size, try world.vault.auditEntries().count)
        // The older copy, put in place: consistent, signed, and older than what was seen.
        try FileManager.default.removeItem(atPath: world.vaultPath)
        try FileManager.default.moveItem(atPath: older, toPath: world.vaultPath)
        let restored = try Vault.open(at: world.vaultPath, clock: ShareKit.clock())
        let session = try restored.unlock(world.founder)
        XCTAssertNoThrow(try session.sharing.makePackage(grant: g.id, to: world.packagePath("without-memory")),
                         "without the memory the older copy is consistent: this is what the memory is for")
        restored.logHead = memory
        let e = ShareKit.caught { _ = try session.sharing.makePackage(grant: g.id, to: world.packagePath("with-memory")) }
        guard case let .rolledBack(what, path)? = e else { return XCTFail("got \(String(describing: e))") }
        XCTAssertTrue(what.contains("not the one this machine verified") && path == memory.path, what)
        XCTAssertFalse(FileManager.default.fileExists(atPath: world.packagePath("with-memory")))
    }
}
