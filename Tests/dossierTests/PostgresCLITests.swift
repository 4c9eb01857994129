import Foundation
import XCTest

/// The built `dossier` on a vault in PostgreSQL (DOSSIER_TEST_POSTGRES, set by `make test`; the
/// tests FAIL without it, saying so). scripts/postgres-test.sh runs the longer story, the
/// replicated key-release service and the psql attack.
final class PostgresCLITests: XCTestCase {
    private func server(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        guard let uri = ProcessInfo.processInfo.environment["DOSSIER_TEST_POSTGRES"], !uri.isEmpty else {
            XCTFail("DOSSIER_TEST_POSTGRES is not set, so the PostgreSQL backend was not tested. Run `make test`, which starts a throwaway cluster and sets it (or: scripts/pg-cluster.sh run swift test …)",
                    file: file, line: line)
            throw XCTSkip("no PostgreSQL server (reported as a failure above)")
        }
        return uri
    }

    /// A new database on the test server (scripts/pg-cluster.sh createdb), dropped at the end.
    private func database() throws -> String {
        let uri = try server()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../scripts/pg-cluster.sh").standardized.path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script, "createdb", uri]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let made = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        process.waitUntilExit()
        guard process.terminationStatus == 0, !made.isEmpty else { throw XCTSkip("cannot create a test database") }
        addTeardownBlock {
            let name = String(made.split(separator: "/").last!.split(separator: "?").first!)
            let drop = Process()
            drop.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
            drop.arguments = ["-X", "-q", uri, "-c", "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"]
            try? drop.run()
            drop.waitUntilExit()
        }
        return made
    }

    func testEveryCommandOfTheStoryWorksOnAPostgresVault() throws {
        let uri = try database()
        let dir = try cliFolder()
        let cwd = FileManager.default.currentDirectoryPath
        for who in ["alice", "bob", "adams"] {
            try expectSuccess(["identity", "new", "-o", dir.file(who + ".key"), "--no-passphrase"])
        }
        let env = ["DOSSIER_VAULT": uri, "DOSSIER_IDENTITY": dir.file("alice.key"), "XDG_CONFIG_HOME": dir.file("config")]
        let created = try expectSuccess(["init", "--org", "cli.example/dossier", "--name", "Alice", "--root-out", dir.file("org-root.key"), "--no-passphrase"], env: env)
        XCTAssertTrue(created.stderr.contains("created the vault " + uri), created.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: cwd + "/postgresql:"), "a folder named after the URI was made")
        XCTAssertEqual(try runDossier(["init", "--org", "cli.example/dossier", "--root-out", dir.file("org-root-2.key"), "--no-passphrase"], env: env).exitCode, 73, "init over a vault")

        try expectSuccess(["staff", "add", dir.file("bob.key"), "--name", "Bob"], env: env)
        let content = Data((0..<2_200_000).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 7) })
        FileManager.default.createFile(atPath: dir.file("report.bin"), contents: content)
        let id = try expectSuccess(["deposit", dir.file("report.bin"), "--kind", "expert-report", "--title", "Annual report", "--lang", "en"],
                                   env: env).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(try expectSuccess(["list"], env: env).stdout.hasPrefix(id + "\t"))
        XCTAssertTrue(try expectSuccess(["search", "annual"], env: env).stdout.contains(id))
        try expectSuccess(["retrieve", id, "-o", dir.file("back.bin")], env: env)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir.file("back.bin"))), content)

        let counsel = try expectSuccess(["counsel", "add", dir.file("adams.key"), "--name", "Adams"], env: env).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try expectSuccess(["counsel", "vet", counsel, "--until", "2099-12-31"], env: env)
        try expectSuccess(["grant", id, "--to", counsel, "--for", "2d", "-o", dir.file("p.dpkg")], env: env)
        let org = try expectSuccess(["org", "show", "--json"], env: env).stdout
        let key = try XCTUnwrap(org.range(of: #"dossierorg1[a-z0-9]+"#, options: .regularExpression).map { String(org[$0]) })
        try expectSuccess(["trust", "add", key, "--name", "CLI"], env: env)
        try FileManager.default.createDirectory(atPath: dir.file("opened"), withIntermediateDirectories: true)
        try expectSuccess(["open", dir.file("p.dpkg"), "--identity", dir.file("adams.key"), "-o", dir.file("opened")], env: env)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir.file("opened/report.bin"))), content)

        try expectSuccess(["remove", id, "--reason", "test"], env: env)
        try expectSuccess(["rotate"], env: env)
        let doctor = try expectSuccess(["doctor"], env: env)
        XCTAssertTrue(doctor.stdout.contains("vault OK"), doctor.stdout)
        let verified = try expectSuccess(["audit", "verify"], env: env)
        XCTAssertTrue(verified.stdout.contains("log OK"), verified.stdout)
        XCTAssertEqual(try runDossier(["retrieve", id, "-o", dir.file("gone.bin")], env: env).exitCode, 66)
    }

    func testAURIIsCheckedAndNeverEchoesAPassword() throws {
        let uri = try server()
        let dir = try cliFolder()
        try expectSuccess(["identity", "new", "-o", dir.file("a.key"), "--no-passphrase"])
        let withPassword = uri.replacingOccurrences(of: "://", with: "://someone:hunter2secret@")
        let refused = try runDossier(["list", "--vault", withPassword, "--identity", dir.file("a.key")])
        XCTAssertEqual(refused.exitCode, 65, "\(refused)")
        XCTAssertFalse(refused.stderr.contains("hunter2secret"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("pgpass"), refused.stderr)
        let malformed = try runDossier(["list", "--vault", "postgres:relative", "--identity", dir.file("a.key")])
        XCTAssertEqual(malformed.exitCode, 65, "\(malformed)")
        // Nothing listens on port 1 of loopback: unreachable after retrying for the busy wait
        // (a failover's promotion may take that long), exit 69.
        let start = Date()
        let unreachable = try runDossier(["org", "show", "--vault", "postgresql://nobody@127.0.0.1:1/none"], env: ["DOSSIER_BUSY_WAIT": "2"])
        XCTAssertEqual(unreachable.exitCode, 69, "\(unreachable)")
        XCTAssertTrue(unreachable.stderr.contains("hint:"), unreachable.stderr)
        XCTAssertGreaterThan(Date().timeIntervalSince(start), 1.5, "a refused connection is retried for the busy wait")
        let empty = try runDossier(["org", "show", "--vault", try database()])
        XCTAssertEqual(empty.exitCode, 66, "a database without a vault: \(empty)")
    }

    /// `vault copy`: a folder vault into PostgreSQL and back through the built binary, the same
    /// log root throughout, the content byte for byte; a used destination and a source that is
    /// not a vault refused.
    func testVaultCopyMovesAFolderIntoPostgresAndBack() throws {
        let uri = try database()
        let dir = try cliFolder()
        try expectSuccess(["identity", "new", "-o", dir.file("alice.key"), "--no-passphrase"])
        let folder = dir.file("vault")
        let env = ["DOSSIER_IDENTITY": dir.file("alice.key"), "XDG_STATE_HOME": dir.file("state")]
        try expectSuccess(["init", "--vault", folder, "--org", "copy.example/dossier", "--name", "Alice",
                           "--root-out", dir.file("org-root.key"), "--no-passphrase"], env: env)
        let content = Data((0..<1_500_000).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 9) })
        FileManager.default.createFile(atPath: dir.file("report.bin"), contents: content)
        let id = try expectSuccess(["deposit", "--vault", folder, dir.file("report.bin"), "--kind", "expert-report", "--title", "Annual report",
                                    "--lang", "en"], env: env).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let root = try XCTUnwrap(rootLine(try expectSuccess(["audit", "verify", "--vault", folder], env: env).stdout))

        let into = try expectSuccess(["vault", "copy", folder, uri], env: env)
        XCTAssertTrue(into.stdout.contains("copy verified"), into.stdout)
        XCTAssertTrue(into.stdout.contains("log root:      " + root), into.stdout)
        XCTAssertTrue(into.stdout.contains("documents:     1 "), into.stdout)
        XCTAssertEqual(try rootLine(try expectSuccess(["audit", "verify", "--vault", uri], env: env).stdout), root)
        XCTAssertTrue(try expectSuccess(["list", "--vault", uri], env: env).stdout.hasPrefix(id + "\t"))

        let refusedAgain = try runDossier(["vault", "copy", folder, uri], env: env)
        XCTAssertEqual(refusedAgain.exitCode, 73, "\(refusedAgain)")
        XCTAssertTrue(refusedAgain.stderr.contains("dossier: hint: "), refusedAgain.stderr)
        let notAVault = try runDossier(["vault", "copy", dir.file("nowhere"), dir.file("copy-of-nothing")], env: env)
        XCTAssertEqual(notAVault.exitCode, 66, "\(notAVault)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("copy-of-nothing")))

        // Back into a folder, decrypting every document of the copy; the copy works.
        let back = try expectSuccess(["vault", "copy", uri, dir.file("back"), "--identity", dir.file("alice.key"), "--json"], env: env)
        XCTAssertTrue(back.stdout.contains("\"authenticated\" : 1"), back.stdout)
        XCTAssertTrue(back.stdout.contains("\"root\" : \"\(root)\""), back.stdout)
        try expectSuccess(["retrieve", "--vault", dir.file("back"), id, "-o", dir.file("back.bin")], env: env)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir.file("back.bin"))), content)
        XCTAssertEqual(try runDossier(["vault", "copy", uri, dir.file("back")], env: env).exitCode, 73)
    }

    private func rootLine(_ text: String) -> String? {
        text.split(separator: "\n").first { $0.hasPrefix("root:") }.map { $0.dropFirst(5).trimmingCharacters(in: .whitespaces) }
    }
}
