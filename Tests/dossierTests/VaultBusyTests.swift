import Foundation
import GRDB
import XCTest

/// A change that finds another process's change in progress waits `DOSSIER_BUSY_WAIT` seconds
/// (default 15), then exits 75 with what happened and what to do (docs/exit-codes.md).
final class VaultBusyTests: XCTestCase {
    func testAChangeWaitsTheBusyWaitThenExits75WithAHint() throws {
        let folder = try cliFolder()
        let key = folder.file("staff.key"), vault = folder.file("vault"), file = folder.file("report.txt")
        try Data("a report\n".utf8).write(to: URL(fileURLWithPath: file))
        try expectSuccess(["identity", "new", "-o", key, "--no-passphrase"])
        try expectSuccess(["init", "--vault", vault, "--root-out", vault + ".root", "--no-passphrase", "--org", "example.org/dossier", "--identity", key])
        let env = ["DOSSIER_VAULT": vault, "DOSSIER_IDENTITY": key, "DOSSIER_BUSY_WAIT": "1"]
        let deposit = ["deposit", file, "--kind", "expert-report", "--title", "Report"]

        // Another process's change in progress: a write transaction held open.
        let other = try DatabaseQueue(path: vault + "/vault.sqlite")
        let (result, seconds) = try other.writeWithoutTransaction { db in
            try db.execute(sql: "BEGIN IMMEDIATE")
            defer { try? db.execute(sql: "ROLLBACK") }
            let start = Date()
            let result = try runDossier(deposit, env: env)
            return (result, Date().timeIntervalSince(start))
        }
        XCTAssertEqual(result.exitCode, 75, "\(result)")
        XCTAssertEqual(result.stdout, "", "\(result)")
        let lines = result.stderr.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines, ["dossier: error: the vault \(vault) is busy with another operation", "dossier: hint: retry in a moment"], "\(result)")
        XCTAssertGreaterThanOrEqual(seconds, 1, "it did not wait for the other change")
        XCTAssertLessThan(seconds, 14, "it waited the default 15 seconds, not DOSSIER_BUSY_WAIT")

        // Nothing was deposited; once the other change ends, the same command succeeds.
        XCTAssertEqual(try expectSuccess(["list"], env: env).stdout, "")
        try expectSuccess(deposit, env: env)
        XCTAssertEqual(try expectSuccess(["list"], env: env).stdout.split(separator: "\n").count, 1)
    }

    func testAnUnreadableBusyWaitIsRefused() throws {
        let folder = try cliFolder()
        let result = try runDossier(["list", "--vault", folder.path, "--identity", folder.file("k")], env: ["DOSSIER_BUSY_WAIT": "soon"])
        XCTAssertEqual(result.exitCode, 65, "\(result)")
        XCTAssertTrue(result.stderr.contains("DOSSIER_BUSY_WAIT is 'soon'"), "\(result)")
    }
}
