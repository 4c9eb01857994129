import DossierCrypto
import Foundation
import XCTest
@testable import DossierCore

/// The least-privilege roles of docs/deployment.md, section 2, applied as written there (the
/// SQL is read from the document, with the role and database names made unique) on the test
/// server (DOSSIER_TEST_POSTGRES, a superuser of a throwaway cluster that trusts loopback):
/// the owner creates the vault, a staff member's role works, the service's role releases a
/// key, and neither can change what its grants do not cover.
final class PostgresLeastPrivilegeTests: XCTestCase {
    /// The two SQL blocks of section 2, names replaced: run by a superuser on the server, then
    /// by the owner in the vault's database after `init`.
    static func deploymentSQL(renaming names: [String: String]) throws -> (server: [String], database: [String]) {
        let text = try String(contentsOf: ShareKit.repositoryRoot.appendingPathComponent("docs/deployment.md"), encoding: .utf8)
        let section = try XCTUnwrap(text.components(separatedBy: "## 2. Roles with least privilege").dropFirst().first?
            .components(separatedBy: "\n## ").first, "docs/deployment.md has no section 2 on roles")
        let blocks = section.components(separatedBy: "```sql\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
        XCTAssertEqual(blocks.count, 2, "section 2 of docs/deployment.md should hold two SQL blocks")
        func statements(_ block: String) -> [String] {
            var sql = block.split(separator: "\n").map { line in String(line.components(separatedBy: "--")[0]) }.joined(separator: "\n")
            for (from, to) in names {
                sql = sql.replacingOccurrences(of: "\\b\(from)\\b", with: to, options: .regularExpression)
            }
            return sql.components(separatedBy: ";").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        }
        return (statements(blocks[0]), statements(blocks.count > 1 ? blocks[1] : ""))
    }

    /// The server's URI with another user and database.
    static func uri(_ server: String, user: String, database: String) -> String {
        let withDatabase = PostgresTestServer.uri(server, database: database)
        let scheme = withDatabase.range(of: "://")!
        let rest = withDatabase[scheme.upperBound...]
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        let hostStart = rest[..<authorityEnd].lastIndex(of: "@").map { rest.index(after: $0) } ?? rest.startIndex
        return withDatabase[..<scheme.upperBound] + user + "@" + rest[hostStart...]
    }

    private func refusedPermission(_ connection: PostgresConnection, _ sql: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            try connection.execute(sql)
            XCTFail("allowed: \(sql)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.sqlState, "42501", "\(sql): \(error)", file: file, line: line)
        }
    }

    func testTheDeploymentGrantsLetStaffWorkAndTheServiceReleaseAndNothingMore() throws {
        let server = try PostgresTestServer.uri()
        let suffix = DeterministicRandom(seed: UUID().uuidString).bytes(4).hex
        var names: [String: String] = [:]
        for role in ["dossier_owner", "dossier_staff", "dossier_service", "alice", "bob", "keyrelease"] { names[role] = role + "_" + suffix }
        let database = "dossier_lp_" + suffix
        names["dossier"] = database   // the database (role names with a suffix no longer match \bdossier\b)
        let sql = try Self.deploymentSQL(renaming: names)
        let admin = try PostgresConnection(conninfo: server)
        addTeardownBlock {
            try? admin.execute("DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
            for role in ["alice", "bob", "keyrelease", "dossier_staff", "dossier_service", "dossier_owner"] {
                try? admin.execute("DROP ROLE IF EXISTS \(names[role]!)")
            }
        }
        for statement in sql.server { try admin.execute(statement) }

        // The owner creates the vault (`dossier init`), then applies the grants.
        let ownerURI = Self.uri(server, user: names["dossier_owner"]!, database: database)
        let root = OrganisationRoot.generate(using: DeterministicRandom(seed: "least-privilege/root"))
        let w = try ShareWorld("least-privilege", organisationRoot: root, location: { _ in ownerURI })
        let owner = try PostgresConnection(conninfo: ownerURI)
        for statement in sql.database { try owner.execute(statement) }

        // Alice, through her own role: deposits, registers counsel, adds the service, grants,
        // packages online (format 2: certificate recorded), checkpoints.
        let aliceURI = Self.uri(server, user: names["alice"]!, database: database)
        let alice = try Vault.open(at: aliceURI, clock: ShareKit.clock(), purgeWait: 0.5).unlock(w.founder)
        let doc = try alice.documents.deposit(DepositRequest(files: [try file(w, "report.txt", "The assurances cannot be verified.\n")],
                                                             kind: .expertReport, title: "Report", language: "en"))[0]
        let adams = ShareKit.identity("counsel/adams")
        let counsel = try alice.sharing.addCounsel(adams.publicIdentity, details: .init(name: "Counsel Adams"))
        _ = try alice.sharing.vetCounsel(counsel.id, until: ShareKit.start.addingTimeInterval(60 * ShareKit.day), note: nil)
        let service = ShareKit.identity("least-privilege/service")
        _ = try alice.staff.add(service.publicIdentity, name: "Key release", service: true)
        let grant = try alice.sharing.grant(GrantRequest(documents: [doc.id], counsel: [counsel.id], window: .duration(seconds: 7 * 86400),
                                                         online: ShareKit.online))
        let package = w.packagePath("online")
        _ = try alice.sharing.makePackage(grant: grant.id, to: package)
        _ = try alice.audit.checkpoint()

        // The service, through its role: releases the key once; the opening is logged.
        let serviceURI = Self.uri(server, user: names["keyrelease"]!, database: database)
        let serviceSession = try Vault.open(at: serviceURI, clock: ShareKit.clock()).unlock(service, forService: true)
        let client = KeyReleaseClient(transport: DirectTransport(service: KeyReleaseService(session: serviceSession)), clock: ShareKit.clock())
        try w.trustOrganisation()
        let opened = try PackageReader(path: package, clock: ShareKit.clock()).open(identity: adams, trust: w.trust, into: try w.folder("inbox"),
                                                                                    keyRelease: client)
        XCTAssertEqual(opened.count, 1)
        XCTAssertEqual(try w.entries("open").count, 1)

        // Requests from counsel: the service's role receives one (row, file and entry); Alice's
        // role imports another, reads it, registers its sender and answers it with a grant.
        _ = try alice.staff.certify(service.publicIdentity.fingerprint, root: root, rootPath: "root", role: .service)
        let intake = try XCTUnwrap(try w.vault.intakeKey())
        func request(_ who: String) throws -> String {
            let path = try w.folder("requests") + "/\(who).drq"
            let draft = RequestDraft(to: intake, need: .reports, languages: ["en"], message: SecureBytes(copying: Data("Hello.\n".utf8)))
            _ = try RequestWriter(clock: ShareKit.clock()).write(draft, identity: ShareKit.identity("least-privilege/" + who), to: path)
            return path
        }
        let sent = open(try request("sender"), O_RDONLY)
        defer { close(sent) }
        let received = RequestIntakeService(session: serviceSession).receive(fd: sent)
        XCTAssertEqual(received.status, 200, String(decoding: received.body, as: UTF8.self))
        let imported = try alice.requests.importRequest(path: try request("by-mail"))
        XCTAssertEqual(try alice.requests.show(imported.id).message, "Hello.\n")
        let sender = try alice.sharing.addCounsel(fromRequest: imported.id, details: .init(name: "By mail"))
        _ = try alice.sharing.vetCounsel(sender.id, until: ShareKit.start.addingTimeInterval(60 * ShareKit.day), note: nil)
        _ = try alice.sharing.grant(GrantRequest(documents: [doc.id], counsel: [sender.id], window: .duration(seconds: 86400), answering: imported.id))
        XCTAssertEqual(try alice.requests.list().map(\.state), [.new, .answered])

        // What the grants do not allow.
        let serviceConnection = try PostgresConnection(conninfo: serviceURI)
        refusedPermission(serviceConnection, "UPDATE requests SET state = 'declined'")
        refusedPermission(serviceConnection, "DELETE FROM requests")
        refusedPermission(serviceConnection, "UPDATE grants SET state = 'active'")
        refusedPermission(serviceConnection, "UPDATE online_opens SET counsel_id = counsel_id")
        refusedPermission(serviceConnection, "DELETE FROM online_opens")
        refusedPermission(serviceConnection, "DELETE FROM audit_log")
        refusedPermission(serviceConnection, "INSERT INTO documents(id, kind, language, size, deposited_at, deposited_by) VALUES ('x', 'k', 'en', 0, 't', 'a')")
        let aliceConnection = try PostgresConnection(conninfo: aliceURI)
        refusedPermission(aliceConnection, "UPDATE audit_log SET entry = entry")
        refusedPermission(aliceConnection, "DELETE FROM audit_log")
        refusedPermission(aliceConnection, "DELETE FROM documents")
        refusedPermission(aliceConnection, "TRUNCATE grants CASCADE")
        refusedPermission(aliceConnection, "DELETE FROM online_opens")
        refusedPermission(aliceConnection, "DROP TABLE checkpoints")
        refusedPermission(aliceConnection, "CREATE TABLE public.extra (x int)")

        // Certifying a member and removing them (which revokes the certificate and rotates the
        // vault key); a removal of a document. Each commits, but only the owner may VACUUM: the
        // purge stays owed until the owner's `doctor --fix` (formats/vault.md 10.4).
        let bob = ShareKit.identity("least-privilege/bob")
        _ = try alice.staff.add(bob.publicIdentity, name: "Bob")
        _ = try alice.staff.certify(bob.publicIdentity.fingerprint, root: root, rootPath: "root")
        assertDossierError("purgeBlocked") { try alice.staff.remove(bob.publicIdentity.fingerprint) }
        XCTAssertNotNil(try w.vault.read { tx in try tx.certificates(of: bob.publicIdentity.fingerprint) }.first?.revokedAt)
        assertDossierError("purgeBlocked") { try alice.documents.remove(doc.id, reason: "withdrawn") }
        XCTAssertEqual(try w.entries("remove").count, 1)
        XCTAssertEqual(try w.entries("staff-remove").count, 1)
        XCTAssertFalse(w.vault.store.pendingPurges().isEmpty)
        let fixed = try Vault.open(at: ownerURI).doctor(fix: true)
        XCTAssertTrue(fixed.isHealthy, "\(fixed.findings)")
        XCTAssertEqual(w.vault.store.pendingPurges(), [])
        _ = try AuditVerifier.verify(try w.vault.logSnapshot())
    }

    private func file(_ w: ShareWorld, _ name: String, _ text: String) throws -> String {
        let path = try w.folder("in") + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }
}

/// Calls the service in process.
private struct DirectTransport: KeyReleaseTransport {
    let service: KeyReleaseService
    func post(_ url: String, body: Data, timeout: TimeInterval) throws(DossierError) -> (status: Int, body: Data) {
        let r = service.decide([body])[0]
        return (r.status, r.body)
    }
}
