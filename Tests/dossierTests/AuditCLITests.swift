import DossierCore
import Foundation
import GRDB
import XCTest

/// `dossier audit` end to end through the built binary (issue 5, "Must show"): checkpoints,
/// verify on an intact and a tampered vault, an export verified on a "second machine" (a
/// fresh HOME, no DOSSIER_* variables) with only the fingerprint, review as JSON and CSV, and
/// proofs checked against the organisation's note key.
final class AuditCLITests: XCTestCase {
    // MARK: Running the binary

    struct AuditCLIRun: CustomStringConvertible {
        let arguments: [String]
        let exitCode: Int32
        let stdout: String
        let stderr: String

        var description: String {
            "dossier \(arguments.joined(separator: " ")) → exit \(exitCode)\n--- stdout:\n\(stdout)--- stderr:\n\(stderr)"
        }
    }

    /// The `dossier` built with these tests: beside the test bundle (the same products folder),
    /// else `.build/debug` of the package holding this file.
    static func auditCLIBinary(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        var candidates = [Bundle(for: AuditCLITests.self).bundleURL.deletingLastPathComponent()]
        if let exe = Bundle.main.executableURL { candidates.append(exe.deletingLastPathComponent()) }
        var dir = URL(fileURLWithPath: "\(#filePath)").deletingLastPathComponent()
        while dir.path != "/" {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
                candidates.append(dir.appendingPathComponent(".build/debug"))
                break
            }
            dir = dir.deletingLastPathComponent()
        }
        for folder in candidates {
            let path = folder.appendingPathComponent("dossier").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        XCTFail("the dossier executable is not beside the test bundle nor in .build/debug (looked in \(candidates.map(\.path))); build with `swift build --build-tests`", file: file, line: line)
        throw NSError(domain: "AuditCLITests", code: 1)
    }

    /// Runs `dossier`. The environment is this process's without DOSSIER_* variables, or
    /// exactly `environment` when given; stdin is empty; output goes through files (no pipe
    /// can fill up and stall the child).
    func runAuditCLI(_ arguments: [String], environment: [String: String]? = nil, in directory: String? = nil,
                     file: StaticString = #filePath, line: UInt = #line) throws -> AuditCLIRun {
        let binary = try Self.auditCLIBinary(file: file, line: line)
        let scratch = try auditCLIFolder("run")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let outPath = scratch + "/stdout", errPath = scratch + "/stderr"
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = environment ?? ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DOSSIER_") }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // A guard against a hang (a prompt nobody answers), not a timing assertion.
        let deadline = Date().addingTimeInterval(300)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            XCTFail("dossier \(arguments.joined(separator: " ")) did not finish", file: file, line: line)
        }
        process.waitUntilExit()
        try out.close()
        try err.close()
        return AuditCLIRun(arguments: arguments, exitCode: process.terminationStatus,
                           stdout: String(decoding: try Data(contentsOf: URL(fileURLWithPath: outPath)), as: UTF8.self),
                           stderr: String(decoding: try Data(contentsOf: URL(fileURLWithPath: errPath)), as: UTF8.self))
    }

    /// Runs `dossier` and asserts its exit code.
    @discardableResult
    func expectAuditCLI(_ code: Int32, _ arguments: [String], environment: [String: String]? = nil, in directory: String? = nil,
                        file: StaticString = #filePath, line: UInt = #line) throws -> AuditCLIRun {
        let run = try runAuditCLI(arguments, environment: environment, in: directory, file: file, line: line)
        XCTAssertEqual(run.exitCode, code, "\(run)", file: file, line: line)
        return run
    }

    func auditCLIFolder(_ label: String) throws -> String {
        let base = (NSTemporaryDirectory() as NSString).appendingPathComponent("dossier-auditcli-\(label).XXXXXX")
        var template = Array(base.utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw NSError(domain: "AuditCLITests", code: 2, userInfo: [NSLocalizedDescriptionKey: "mkdtemp failed"])
        }
        return String(cString: made)
    }

    /// A temporary folder removed when the test ends.
    func scratchFolder(_ label: String) throws -> String {
        let path = try auditCLIFolder(label)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    // MARK: A vault made through the CLI

    /// A vault with six entries (init, the founder's certificate, four deposits) and checkpoints
    /// of 4 and 6 entries (the files keep their old names).
    struct CLIVault {
        let root: String
        let vault: String
        let identity: String
        let checkpoint3: String
        let checkpoint5: String
        let fingerprint: String
        let noteKey: String
        let organisation: String
        /// The founder's certificate, which member-signed checkpoints need for `verify-proof`.
        let certificate: String
    }

    func makeCLIVault(organisation: String = "audit-cli.example/dossier") throws -> CLIVault {
        let root = try scratchFolder("vault")
        let vault = root + "/vault", identity = root + "/alice.key"
        try expectAuditCLI(0, ["identity", "new", "-o", identity, "--no-passphrase"])
        try expectAuditCLI(0, ["init", "--vault", vault, "--root-out", vault + ".root", "--no-passphrase", "--org", organisation, "--identity", identity, "--name", "Alice"])
        var files: [String] = []
        for (i, text) in ["first report", "second report", "third report", "fourth report"].enumerated() {
            let f = root + "/file\(i).txt"
            try Data(text.utf8).write(to: URL(fileURLWithPath: f))
            files.append(f)
        }
        let staff = ["--vault", vault, "--identity", identity]
        try expectAuditCLI(0, ["deposit"] + staff + ["--kind", "expert-report", "--title", "Two reports", files[0], files[1]])
        let cp3 = root + "/checkpoint-3.note"
        let made = try expectAuditCLI(0, ["audit", "checkpoint"] + staff + ["-o", cp3])
        XCTAssertTrue(made.stderr.contains(cp3), "\(made)")
        try expectAuditCLI(0, ["deposit"] + staff + ["--kind", "supporting-material", "--title", "More", files[2], files[3]])
        let cp5 = root + "/checkpoint-5.note"
        try expectAuditCLI(0, ["audit", "checkpoint"] + staff + ["-o", cp5])
        let show = try expectAuditCLI(0, ["org", "show", "--vault", vault, "--json"])
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any], show.stdout)
        let listed = try expectAuditCLI(0, ["org", "certificates", "--vault", vault, "--json"])
        let serial = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])?.first?["serial"] as? String)
        let certificate = root + "/alice.cert"
        try Data(try expectAuditCLI(0, ["org", "certificates", "--vault", vault, "--show", serial]).stdout.utf8).write(to: URL(fileURLWithPath: certificate))
        return CLIVault(root: root, vault: vault, identity: identity, checkpoint3: cp3, checkpoint5: cp5,
                        fingerprint: try XCTUnwrap(json["fingerprint"] as? String),
                        noteKey: try XCTUnwrap(json["noteKey"] as? String, "org show --json has noteKey"),
                        organisation: organisation, certificate: certificate)
    }

    /// An environment as on another machine: a fresh, empty HOME and XDG_CONFIG_HOME, no
    /// DOSSIER_* variable, nothing else but PATH.
    func secondMachine() throws -> (env: [String: String], home: String) {
        let home = try scratchFolder("home")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: home), [])
        var env = ["HOME": home, "XDG_CONFIG_HOME": home]
        if let path = ProcessInfo.processInfo.environment["PATH"] { env["PATH"] = path }
        return (env, home)
    }

    // MARK: Tests

    func testOrgShowJSONHasTheNoteKey() throws {
        let v = try makeCLIVault()
        let show = try expectAuditCLI(0, ["org", "show", "--vault", v.vault, "--json"])
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: String])
        XCTAssertEqual(Set(json.keys), ["name", "publicKey", "fingerprint", "noteKey", "intakeKey", "intakeFingerprint", "intakeCertificate"])
        let certificate = try IntakeCertificate.parse(try XCTUnwrap(Data(base64Encoded: try XCTUnwrap(json["intakeCertificate"]))))
        XCTAssertEqual(certificate.intake.line, json["intakeKey"])
        XCTAssertEqual(certificate.root.line, json["publicKey"])
        XCTAssertEqual(try IntakeKey(line: try XCTUnwrap(json["intakeKey"])).fingerprint, json["intakeFingerprint"])
        XCTAssertEqual(json["name"], v.organisation)
        let parts = v.noteKey.split(separator: "+", maxSplits: 2).map(String.init)
        XCTAssertEqual(parts.count, 3)
        XCTAssertEqual(parts[0], v.organisation, "name+keyid+base64")
        XCTAssertEqual(parts[1].count, 8)
        XCTAssertEqual(Data(base64Encoded: parts[2])?.count, 33, "0x01 and the 32-byte key")
        // The checkpoint file is a signed note by that name.
        let note = try String(contentsOfFile: v.checkpoint5, encoding: .utf8)
        XCTAssertTrue(note.hasPrefix("\(v.organisation)\n6\n"), note)
        XCTAssertTrue(note.contains("\n\n\u{2014} \(v.organisation) "), note)
    }

    func testVerifyAnIntactVault() throws {
        let v = try makeCLIVault()
        let run = try expectAuditCLI(0, ["audit", "verify", "--vault", v.vault])
        XCTAssertTrue(run.stdout.hasSuffix("log OK\n"), "\(run)")
        XCTAssertTrue(run.stdout.contains("entries:      6,"), "\(run)")
        XCTAssertTrue(run.stdout.contains("newest checkpoint (6 entries) matches"), "\(run)")
        XCTAssertTrue(run.stdout.contains(v.fingerprint), "\(run)")

        // With the auditor's older checkpoint passed back.
        let older = try expectAuditCLI(0, ["audit", "verify", "--vault", v.vault, "--checkpoint", v.checkpoint3, "--org-fingerprint", v.fingerprint])
        XCTAssertTrue(older.stdout.contains("consistent:   your checkpoint of 4 entries"), "\(older)")
        XCTAssertTrue(older.stdout.hasSuffix("log OK\n"), "\(older)")

        let json = try expectAuditCLI(0, ["audit", "verify", "--vault", v.vault, "--json", "--checkpoint", v.checkpoint3])
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], json.stdout)
        XCTAssertEqual(report["entries"] as? Int, 6)
        XCTAssertEqual(report["checkpointSize"] as? Int, 6)
        XCTAssertEqual(report["consistentCheckpoints"] as? [Int], [4])

        // A checkpoint file is never overwritten.
        try expectAuditCLI(73, ["audit", "checkpoint", "--vault", v.vault, "--identity", v.identity, "-o", v.checkpoint3])
    }

    func testExportVerifiedOnASecondMachineWithOnlyTheFingerprint() throws {
        let v = try makeCLIVault()
        let export = v.root + "/log.dlog"
        let wrote = try expectAuditCLI(0, ["audit", "export", "--vault", v.vault, "-o", export])
        XCTAssertTrue(wrote.stderr.contains("6 entries, 2 checkpoints"), "\(wrote)")

        // The auditor's machine: only the export, their kept checkpoint, and the fingerprint.
        let (env, home) = try secondMachine()
        try FileManager.default.copyItem(atPath: export, toPath: home + "/log.dlog")
        try FileManager.default.copyItem(atPath: v.checkpoint3, toPath: home + "/kept.note")
        let ok = try expectAuditCLI(0, ["audit", "verify", "--export", "log.dlog", "--org-fingerprint", v.fingerprint, "--checkpoint", "kept.note"],
                                    environment: env, in: home)
        XCTAssertTrue(ok.stdout.hasSuffix("log OK\n"), "\(ok)")
        XCTAssertTrue(ok.stdout.contains("your checkpoint of 4 entries"), "\(ok)")
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: home)), ["log.dlog", "kept.note"], "verify wrote nothing")

        // A wrong fingerprint: exit 3, saying so.
        let other = try makeCLIVault(organisation: "other.example/dossier")
        let wrong = try expectAuditCLI(3, ["audit", "verify", "--export", "log.dlog", "--org-fingerprint", other.fingerprint], environment: env, in: home)
        XCTAssertTrue(wrong.stderr.contains("not \(other.fingerprint) as you expected"), "\(wrong)")
        // No fingerprint at all is a usage error: an export must be pinned.
        try expectAuditCLI(64, ["audit", "verify", "--export", "log.dlog"], environment: env, in: home)

        // A byte changed in the export is refused.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: export))
        let at = try XCTUnwrap(bytes.range(of: Data("\nentry ".utf8))).upperBound + 30
        bytes[at] = bytes[at] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        try bytes.write(to: URL(fileURLWithPath: home + "/changed.dlog"))
        let changed = try runAuditCLI(["audit", "verify", "--export", "changed.dlog", "--org-fingerprint", v.fingerprint], environment: env, in: home)
        XCTAssertTrue([3, 65].contains(changed.exitCode), "\(changed)")
        XCTAssertFalse(changed.stdout.contains("log OK"), "\(changed)")
    }

    func testATamperedVaultCopyFailsNamingTheEntry() throws {
        let v = try makeCLIVault()
        let copy = v.root + "/tampered-vault"
        try FileManager.default.copyItem(atPath: v.vault, toPath: copy)
        // Only the time of entry 3 changes, directly in the SQLite file.
        let db = try DatabaseQueue(path: copy + "/vault.sqlite")
        try db.write { db in
            let entry = try XCTUnwrap(try Data.fetchOne(db, sql: "SELECT entry FROM audit_log WHERE seq = 3"))
            var text = String(decoding: entry, as: UTF8.self)
            let timeLine = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("time ") })
            text = text.replacingOccurrences(of: String(timeLine), with: timeLine.replacingOccurrences(of: "time 20", with: "time 19"))
            try db.execute(sql: "UPDATE audit_log SET entry = ? WHERE seq = 3", arguments: [Data(text.utf8)])
        }
        try db.close()
        let run = try expectAuditCLI(3, ["audit", "verify", "--vault", copy])
        XCTAssertTrue(run.stderr.contains("log verification FAILED: entry 3:"), "\(run)")
        XCTAssertFalse(run.stdout.contains("log OK"), "\(run)")
        // The original is untouched and still verifies.
        try expectAuditCLI(0, ["audit", "verify", "--vault", v.vault])

        // An export of the tampered copy fails the same way on the auditor's machine.
        let (env, home) = try secondMachine()
        try expectAuditCLI(0, ["audit", "export", "--vault", copy, "-o", home + "/tampered.dlog"])
        let far = try expectAuditCLI(3, ["audit", "verify", "--export", "tampered.dlog", "--org-fingerprint", v.fingerprint], environment: env, in: home)
        XCTAssertTrue(far.stderr.contains("entry 3"), "\(far)")
    }

    func testAuditLogAsJSONAndCSV() throws {
        let v = try makeCLIVault()
        let run = try expectAuditCLI(0, ["audit", "log", "--vault", v.vault, "--json"])
        let records = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]], run.stdout)
        XCTAssertEqual(records.count, 6)
        XCTAssertEqual(records.compactMap { $0["id"] as? String }, ["1", "2", "3", "4", "5", "6"], "each object has its id")
        XCTAssertEqual(records.compactMap { $0["action"] as? String }, ["init", "certify", "deposit", "deposit", "deposit", "deposit"])
        for r in records {
            XCTAssertNil(r["resolved"], "no titles without --resolve")
            XCTAssertEqual((r["entryHash"] as? String)?.count, 64)
        }
        XCTAssertFalse(run.stdout.contains("Two reports"), "titles are never in the log")

        let deposits = try expectAuditCLI(0, ["audit", "log", "--vault", v.vault, "--json", "--action", "deposit"])
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(deposits.stdout.utf8)) as? [Any])?.count, 4)

        let csv = try expectAuditCLI(0, ["audit", "log", "--vault", v.vault, "--csv"])
        let lines = csv.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.first, "seq,time,actor,action,subjects,details", "\(csv)")
        XCTAssertEqual(lines.count, 1 + 6 + 1, "header, six rows, final newline")
        XCTAssertTrue(lines[1].hasPrefix("1,"), "\(csv)")

        // The same review from an export, on the auditor's machine.
        let (env, home) = try secondMachine()
        try expectAuditCLI(0, ["audit", "export", "--vault", v.vault, "-o", home + "/log.dlog"])
        let far = try expectAuditCLI(0, ["audit", "log", "--export", "log.dlog", "--json"], environment: env, in: home)
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(far.stdout.utf8)) as? [[String: Any]])?.compactMap { $0["id"] as? String },
                       ["1", "2", "3", "4", "5", "6"])
        try expectAuditCLI(64, ["audit", "log", "--vault", v.vault, "--json", "--csv"])
    }

    func testAProofThatNamesAMemberTwiceIsRefused() throws {
        let v = try makeCLIVault()
        let prove = try expectAuditCLI(0, ["audit", "prove", "2", "--vault", v.vault])
        let (env, home) = try secondMachine()
        // The proof as printed verifies; with `seq` named a second time (escaped), it is refused,
        // whichever of the two values a reader would keep.
        var text = prove.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(text.removeLast(), "}")
        for extra in [#","seq":2}"#, #","\u0073eq":3}"#] {
            let path = v.root + "/repeated.proof"
            try Data((text + extra).utf8).write(to: URL(fileURLWithPath: path))
            let r = try expectAuditCLI(65, ["audit", "verify-proof", path, "--checkpoint", v.checkpoint5, "--note-key", v.noteKey, "--certificate", v.certificate], environment: env, in: home)
            XCTAssertTrue(r.stderr.contains("is not an inclusion proof"), "\(r)")
        }
    }

    func testProveAndVerifyProofWithTheNoteKey() throws {
        let v = try makeCLIVault()
        let inclusion = v.root + "/entry-2.proof"
        let prove = try expectAuditCLI(0, ["audit", "prove", "2", "--vault", v.vault])
        try Data(prove.stdout.utf8).write(to: URL(fileURLWithPath: inclusion))
        let proof = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(prove.stdout.utf8)) as? [String: Any], prove.stdout)
        XCTAssertEqual(proof["seq"] as? Int, 2)
        XCTAssertEqual(proof["leafIndex"] as? Int, 1)
        XCTAssertEqual(proof["treeSize"] as? Int, 6, "against the newest checkpoint")
        XCTAssertEqual((proof["proof"] as? [String])?.count, 3)
        XCTAssertNotNil(proof["entry"] as? String)

        // Checked on the auditor's machine against the signed checkpoint and the note key.
        let (env, home) = try secondMachine()
        let ok = try expectAuditCLI(0, ["audit", "verify-proof", inclusion, "--checkpoint", v.checkpoint5, "--note-key", v.noteKey, "--certificate", v.certificate], environment: env, in: home)
        XCTAssertEqual(ok.stdout, "included: entry 2 is in the checkpointed log of 6 entries\n")
        // Against another checkpoint it fails.
        try expectAuditCLI(3, ["audit", "verify-proof", inclusion, "--checkpoint", v.checkpoint3, "--note-key", v.noteKey, "--certificate", v.certificate], environment: env, in: home)
        // With another organisation's note key (even under the same name) the checkpoint does not verify.
        let other = try makeCLIVault()
        XCTAssertNotEqual(other.noteKey, v.noteKey)
        let forged = try expectAuditCLI(3, ["audit", "verify-proof", inclusion, "--checkpoint", v.checkpoint5, "--note-key", other.noteKey, "--certificate", other.certificate], environment: env, in: home)
        XCTAssertTrue(forged.stderr.contains("signature"), "\(forged)")

        // A consistency proof from the checkpoint of 3 to that of 5.
        let grew = v.root + "/grew.proof"
        let proveGrew = try expectAuditCLI(0, ["audit", "prove", "--from", "4", "--vault", v.vault])
        try Data(proveGrew.stdout.utf8).write(to: URL(fileURLWithPath: grew))
        let consistency = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(proveGrew.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(consistency["size1"] as? Int, 4)
        XCTAssertEqual(consistency["size2"] as? Int, 6)
        let consistent = try expectAuditCLI(0, ["audit", "verify-proof", grew, "--old", v.checkpoint3, "--checkpoint", v.checkpoint5, "--note-key", v.noteKey, "--certificate", v.certificate],
                                            environment: env, in: home)
        XCTAssertEqual(consistent.stdout, "consistent: the log of 6 entries extends the one of 4\n")
        try expectAuditCLI(3, ["audit", "verify-proof", grew, "--old", v.checkpoint5, "--checkpoint", v.checkpoint3, "--note-key", v.noteKey, "--certificate", v.certificate],
                           environment: env, in: home)

        // An explicit size, and an entry outside the tree.
        let small = try expectAuditCLI(0, ["audit", "prove", "1", "--size", "4", "--vault", v.vault])
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(small.stdout.utf8)) as? [String: Any])?["treeSize"] as? Int, 4)
        try expectAuditCLI(65, ["audit", "prove", "7", "--vault", v.vault])
    }
}
