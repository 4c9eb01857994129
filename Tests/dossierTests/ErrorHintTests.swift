import Foundation
import GRDB
import XCTest

/// Failures print what went wrong on a `dossier: error:` line and what to do on a separate
/// `dossier: hint:` line (STYLE.md, docs/exit-codes.md), and never a stack trace.
final class ErrorHintTests: XCTestCase {
    private func makeFolder() throws -> CLIFolder { try cliFolder() }

    @discardableResult
    private func succeed(_ arguments: [String], env: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) throws -> CLIResult {
        try expectSuccess(arguments, env: env, file: file, line: line)
    }

    /// The lines of stderr that are not empty.
    private func lines(_ result: CLIResult) -> [String] {
        result.stderr.split(separator: "\n").map(String.init)
    }

    /// stderr is exactly an error line then a hint line containing `hintMentions`, and nothing that
    /// looks like a crash report.
    private func assertErrorThenHint(_ result: CLIResult, code: Int32, hintMentions: String,
                                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(result.exitCode, code, "\(result)", file: file, line: line)
        XCTAssertEqual(result.stdout, "", "\(result)", file: file, line: line)
        let stderr = lines(result)
        XCTAssertEqual(stderr.count, 2, "an error line and a hint line: \(result)", file: file, line: line)
        XCTAssertTrue(stderr.first?.hasPrefix("dossier: error: ") ?? false, "\(result)", file: file, line: line)
        XCTAssertTrue(stderr.last?.hasPrefix("dossier: hint: ") ?? false, "\(result)", file: file, line: line)
        XCTAssertTrue(stderr.last?.contains(hintMentions) ?? false, "the hint should mention '\(hintMentions)': \(result)", file: file, line: line)
        XCTAssertFalse(stderr.first?.contains(hintMentions) ?? true, "the error line repeats the hint: \(result)", file: file, line: line)
        assertNoStackTrace(result, file: file, line: line)
    }

    private func assertNoStackTrace(_ result: CLIResult, file: StaticString = #filePath, line: UInt = #line) {
        for text in lines(result) {
            for marker in ["Fatal error", "Stack dump", "stack trace", "Current stack trace", "Backtrace", "0x0000"] {
                XCTAssertFalse(text.contains(marker), "'\(marker)' in: \(result)", file: file, line: line)
            }
            XCTAssertNil(text.range(of: #"^\s*#?\d+\s+0x[0-9a-f]+"#, options: .regularExpression), "a stack frame in: \(result)", file: file, line: line)
        }
    }

    func testAFolderThatIsNotAVaultGetsAHintNamingInit() throws {
        let dir = try makeFolder()
        let empty = dir.file("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: false)
        let key = dir.file("staff.key")
        try succeed(["identity", "new", "-o", key, "--no-passphrase"])

        let show = try runDossier(["org", "show", "--vault", empty])
        assertErrorThenHint(show, code: 66, hintMentions: "dossier init")
        XCTAssertEqual(lines(show).first, "dossier: error: \(empty) is not a Dossier vault", "\(show)")
        XCTAssertEqual(lines(show).last, "dossier: hint: create one with `dossier init --vault \(empty)`, or set DOSSIER_VAULT", "\(show)")

        // The same through DOSSIER_VAULT, for a command that needs an identity too.
        assertErrorThenHint(try runDossier(["list", "-i", key], env: ["DOSSIER_VAULT": empty]), code: 66, hintMentions: "dossier init")
        assertErrorThenHint(try runDossier(["audit", "verify", "--vault", dir.file("nowhere")]), code: 66, hintMentions: "dossier init")
    }

    func testAMissingVaultOptionGetsAHint() throws {
        let result = try runDossier(["org", "show"])
        assertErrorThenHint(result, code: 64, hintMentions: "DOSSIER_VAULT")
        XCTAssertEqual(lines(result).first, "dossier: error: no vault given", "\(result)")
    }

    func testAnUntrustedPackageGetsAHintToCompareTheFingerprint() throws {
        let dir = try makeFolder()
        let staffKey = dir.file("staff.key"), counselKey = dir.file("counsel.key"), vault = dir.file("vault")
        let document = dir.file("statement.txt"), package = dir.file("bundle.dpkg")
        try Data("a statement".utf8).write(to: URL(fileURLWithPath: document))
        try succeed(["identity", "new", "-o", staffKey, "--no-passphrase"])
        try succeed(["init", "--vault", vault, "--root-out", vault + ".root", "--no-passphrase", "--org", "example.org/dossier", "--identity", staffKey])
        let staff = ["DOSSIER_VAULT": vault, "DOSSIER_IDENTITY": staffKey]
        let doc = try succeed(["deposit", document, "--kind", "supporting-material", "--title", "Statement"], env: staff)
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let counselLine = try succeed(["identity", "new", "-o", counselKey, "--no-passphrase"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let counsel = try succeed(["counsel", "add", counselLine, "--name", "C. Counsel"], env: staff).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try succeed(["counsel", "vet", counsel, "--until", "2099-12-31"], env: staff)
        try succeed(["grant", doc, "--to", counsel, "--for", "2d", "-o", package], env: staff)

        // Counsel's machine trusts no organisation yet.
        let home = dir.file("home")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: false)
        let counselMachine = ["HOME": home, "XDG_CONFIG_HOME": home]
        let out = dir.file("opened")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        let open = try runDossier(["open", package, "--identity", counselKey, "-o", out], env: counselMachine)
        assertErrorThenHint(open, code: 77, hintMentions: "dossier trust add")
        XCTAssertTrue(lines(open).first?.contains("which you do not trust") ?? false, "\(open)")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out), [], "a refused open wrote nothing")

        // inspect shows the package and says it is not trusted, without failing.
        let inspect = try succeed(["inspect", package], env: counselMachine)
        XCTAssertTrue(inspect.stdout.contains("NOT from a trusted organisation"), "\(inspect)")
        assertNoStackTrace(inspect)
    }

    func testAPolicyDenialSaysWhatIsRefusedThenWhatToDo() throws {
        let dir = try makeFolder()
        let staffKey = dir.file("staff.key"), counselKey = dir.file("counsel.key"), vault = dir.file("vault"), document = dir.file("w.txt")
        try Data("testimony\n".utf8).write(to: URL(fileURLWithPath: document))
        try succeed(["identity", "new", "-o", staffKey, "--no-passphrase"])
        try succeed(["init", "--vault", vault, "--root-out", vault + ".root", "--no-passphrase", "--org", "example.org/dossier", "--identity", staffKey])
        let staff = ["DOSSIER_VAULT": vault, "DOSSIER_IDENTITY": staffKey]
        let doc = try succeed(["deposit", document, "--kind", "witness-testimony", "--title", "W"], env: staff).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let line = try succeed(["identity", "new", "-o", counselKey, "--no-passphrase"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let counsel = try succeed(["counsel", "add", line, "--name", "C. Counsel"], env: staff).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try succeed(["counsel", "vet", counsel, "--until", "2099-12-31"], env: staff)

        let denied = try runDossier(["grant", doc, "--to", counsel, "--for", "30d"], env: staff)
        assertErrorThenHint(denied, code: 77, hintMentions: "--for or --until")
        XCTAssertTrue(lines(denied).first?.contains("rule kinds.witness-testimony.max_window") ?? false, "\(denied)")
    }

    func testAnErrorWithoutAHintIsOneLine() throws {
        let dir = try makeFolder()
        let result = try runDossier(["policy", "check", dir.file("missing.toml")])
        XCTAssertEqual(result.exitCode, 66, "\(result)")
        XCTAssertEqual(lines(result), ["dossier: error: \(dir.file("missing.toml")): no such file"], "\(result)")
        assertNoStackTrace(result)
    }

    /// While another process holds a snapshot of the vault (here an open read transaction, as
    /// an auditor's sqlite3 shell would), `rotate`, `staff remove` and `remove` commit but cannot
    /// purge the old keys: each exits 75 and says so, doctor reports it, and once the reader is
    /// closed `doctor --fix` finishes it.
    func testACleanUpBlockedByAnotherReaderExits75WithAHintToRunDoctorFix() throws {
        let dir = try makeFolder()
        let key = dir.file("staff.key"), bobKey = dir.file("bob.key"), vault = dir.file("vault"), file = dir.file("doc.txt")
        try succeed(["identity", "new", "-o", key, "--no-passphrase"])
        let bobLine = try succeed(["identity", "new", "-o", bobKey, "--no-passphrase"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try succeed(["init", "--vault", vault, "--root-out", vault + ".root", "--no-passphrase", "--org", "example.org/dossier", "--identity", key])
        try Data("a document".utf8).write(to: URL(fileURLWithPath: file))
        let env = ["DOSSIER_VAULT": vault, "DOSSIER_IDENTITY": key, "DOSSIER_PURGE_WAIT": "0.2"]
        let doc = try succeed(["deposit", file, "--kind", "expert-report", "--title", "T"], env: env).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let bob = try succeed(["staff", "add", bobLine, "--name", "Bob"], env: env).stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        var config = Configuration()
        config.allowsUnsafeTransactions = true
        let reader = try DatabaseQueue(path: vault + "/vault.sqlite", configuration: config)
        try reader.inDatabase { db in
            try db.execute(sql: "BEGIN")
            _ = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM documents")
        }
        for arguments in [["rotate"], ["staff", "remove", bob], ["remove", doc, "--reason", "withdrawn"]] {
            let blocked = try runDossier(arguments, env: env)
            assertErrorThenHint(blocked, code: 75, hintMentions: "dossier doctor --fix")
            XCTAssertEqual(lines(blocked).first, "dossier: error: the change is committed, but the old keys are still in the write-ahead log of \(vault) because another process holds the database open", "\(blocked)")
            XCTAssertEqual(lines(blocked).last, "dossier: hint: close the other reader (a sqlite3 shell, a backup, `dossier serve`), then run `dossier doctor --fix --vault \(vault)`", "\(blocked)")
        }
        // Each change is committed.
        XCTAssertTrue(try succeed(["staff", "list"], env: env).stdout.contains("removed"), "bob should be listed as removed")
        XCTAssertTrue(try succeed(["show", doc], env: env).stdout.contains("removed"), "the document should be removed")

        let damaged = try runDossier(["doctor"], env: env)
        XCTAssertEqual(damaged.exitCode, 3, "\(damaged)")
        XCTAssertTrue(damaged.stdout.contains("DAMAGE: write-ahead log: the clean-up after a key rotation or a document removal is unfinished"), "\(damaged)")
        XCTAssertEqual(try runDossier(["doctor", "--fix"], env: env).exitCode, 3, "the reader still blocks the clean-up")

        try reader.inDatabase { db in try db.execute(sql: "ROLLBACK") }
        try reader.close()
        let fixed = try succeed(["doctor", "--fix"], env: env)
        XCTAssertTrue(fixed.stdout.contains("(repaired)"), "\(fixed)")
        XCTAssertTrue(fixed.stdout.hasSuffix("vault OK\n"), "\(fixed)")
        let clean = try succeed(["doctor"], env: env)
        XCTAssertFalse(clean.stdout.contains("DAMAGE"), "\(clean)")
    }

    func testAnUnreadablePurgeWaitIsRefused() throws {
        let result = try runDossier(["doctor", "--vault", "/nonexistent"], env: ["DOSSIER_PURGE_WAIT": "soon"])
        assertErrorThenHint(result, code: 65, hintMentions: "unset it")
    }
}
