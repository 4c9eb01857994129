import DossierCore
import DossierCrypto
import Foundation
import GRDB
import XCTest

/// Promise 5 for sharing: a grant, an approval, a revocation, a package, a counsel change or a
/// policy change whose log entry cannot be written does not happen.
final class FailClosedSharingTests: XCTestCase {
    private func breakTheLog(_ world: ShareWorld) throws {
        try DatabaseQueue(path: world.vaultPath + "/vault.sqlite").write { db in
            try db.execute(sql: "CREATE TRIGGER no_log BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'log unavailable'); END")
        }
    }

    private func count(_ world: ShareWorld, _ table: String) throws -> Int {
        try DatabaseQueue(path: world.vaultPath + "/vault.sqlite").read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? -1
        }
    }

    private func logLength(_ world: ShareWorld) throws -> Int { try count(world, "audit_log") }

    func testAGrantThatCannotBeLoggedIsNotMade() throws {
        let world = try ShareWorld("failclosed-grant")
        let doc = try world.document()
        let counsel = try world.counsel("a").counsel
        let before = try logLength(world)
        try breakTheLog(world)
        XCTAssertNotNil(ShareKit.caught {
            _ = try world.session.sharing.grant(GrantRequest(documents: [doc.id], counsel: [counsel.id], window: .duration(seconds: 86400)))
        })
        XCTAssertEqual(try count(world, "grants"), 0, "a grant was recorded without its log entry")
        XCTAssertEqual(try count(world, "grant_documents"), 0)
        XCTAssertEqual(try logLength(world), before)
    }

    func testAPackageThatCannotBeLoggedIsNotWritten() throws {
        let world = try ShareWorld("failclosed-package")
        let doc = try world.document()
        let counsel = try world.counsel("a").counsel
        let grant = try world.session.sharing.grant(GrantRequest(documents: [doc.id], counsel: [counsel.id], window: .duration(seconds: 86400)))
        let folder = try world.folder("out")
        try breakTheLog(world)
        XCTAssertNotNil(ShareKit.caught { _ = try world.session.sharing.makePackage(grant: grant.id, to: folder + "/p.dpkg") })
        XCTAssertEqual(ShareKit.names(in: folder), [], "a package (or a temporary file) exists without its log entry")
        XCTAssertEqual(try count(world, "packages"), 0)
    }

    func testApprovalAndRevocationThatCannotBeLoggedDoNotHappen() throws {
        let world = try ShareWorld("failclosed-approve")
        let doc = try world.document(.witnessTestimony)
        let counsel = try world.counsel("a").counsel
        let second = try world.addStaff("second")
        let grant = try world.session.sharing.grant(GrantRequest(documents: [doc.id], counsel: [counsel.id], window: .duration(seconds: 86400),
                                                         online: ShareKit.online))
        XCTAssertEqual(grant.state, .pending)
        try breakTheLog(world)
        XCTAssertNotNil(ShareKit.caught { _ = try second.sharing.approve(grant.id) })
        XCTAssertEqual(try count(world, "grant_approvals"), 0)
        XCTAssertNotNil(ShareKit.caught { _ = try world.session.sharing.revoke(grant.id, reason: "test") })
        XCTAssertEqual(try world.session.sharing.grant(grant.id).state, .pending, "the grant changed state without a log entry")
    }

    func testCounselAndPolicyChangesThatCannotBeLoggedDoNotHappen() throws {
        let world = try ShareWorld("failclosed-counsel")
        let existing = try world.counsel("a", vettedForDays: nil).counsel
        let newcomer = ShareKit.identity("counsel/newcomer")
        let policyBefore = try world.vault.policy().text
        try breakTheLog(world)
        XCTAssertNotNil(ShareKit.caught { _ = try world.session.sharing.addCounsel(newcomer.publicIdentity, details: .init(name: "Newcomer")) })
        XCTAssertEqual(try count(world, "counsel"), 1, "counsel were registered without a log entry")
        XCTAssertNotNil(ShareKit.caught { _ = try world.session.sharing.vetCounsel(existing.id, until: Date().addingTimeInterval(86400 * 30), note: nil) })
        XCTAssertNil(try world.session.sharing.counsel(existing.id).vettedUntil, "vetting was recorded without a log entry")
        XCTAssertNotNil(ShareKit.caught { _ = try world.session.sharing.suspendCounsel(existing.id, reason: "test") })
        XCTAssertNil(try world.session.sharing.counsel(existing.id).suspendedAt)
        let stricter = try String(contentsOfFile: ShareKit.repositoryRoot.appendingPathComponent("policies/strict.toml").path, encoding: .utf8)
        XCTAssertNotNil(ShareKit.caught { _ = try world.installPolicy(stricter, source: "strict.toml") })
        XCTAssertEqual(try world.vault.policy().text, policyBefore, "the policy changed without a log entry")
    }
}

