import DossierCore
import DossierCrypto
import Foundation
import GRDB
import XCTest

/// `dossier org migrate-root` on a vault made before the root was kept apart (one is made
/// here through the library, as the old `init` made it), through the built binary.
final class MigrateRootCLITests: XCTestCase {
    @discardableResult
    private func succeed(_ arguments: [String], env: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try expectSuccess(arguments, env: env, file: file, line: line).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func value(_ label: String, in output: String) -> String {
        output.split(separator: "\n").first { $0.hasPrefix(label) }.map { String($0.split(separator: " ").last ?? "") } ?? ""
    }

    func testMigrationMovesTheKeyOutAndCounselRePins() throws {
        let folder = try cliFolder()
        let staffKey = folder.file("staff.key"), counselKey = folder.file("counsel.key"), vault = folder.file("vault")
        let founder = SecretIdentity.generate()
        try founder.write(to: staffKey, protection: .none)
        _ = try Vault.create(at: vault, organisation: "example.org/dossier", founder: founder, founderName: "Founder")
        let staff = ["DOSSIER_VAULT": vault, "DOSSIER_IDENTITY": staffKey]
        let before = try succeed(["org", "show", "--vault", vault])
        let oldKey = value("public key:", in: before), oldFP = value("fingerprint:", in: before)

        let document = folder.file("statement.txt")
        try Data("a statement\n".utf8).write(to: URL(fileURLWithPath: document))
        let doc = try succeed(["deposit", document, "--kind", "supporting-material", "--title", "Statement"], env: staff)
        let counselLine = try succeed(["identity", "new", "-o", counselKey, "--no-passphrase"]).split(separator: "\n").first.map(String.init) ?? ""
        let counsel = try succeed(["counsel", "add", counselLine, "--name", "C. Counsel"], env: staff)
        try succeed(["counsel", "vet", counsel, "--until", "2099-12-31"], env: staff)
        let oldPackage = folder.file("old.dpkg"), oldNote = folder.file("old.note")
        try succeed(["grant", doc, "--to", counsel, "--for", "2d", "-o", oldPackage], env: staff)
        try succeed(["audit", "checkpoint", "-o", oldNote], env: staff)
        let sealed = try DatabaseQueue(path: vault + "/vault.sqlite").read { db in
            try Data.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'organisation_secret_sealed'")
        }
        XCTAssertNotNil(sealed)

        // The migration.
        let root = folder.file("org-root.key")
        let migrated = try succeed(["org", "migrate-root", "--root-out", root, "--no-passphrase"], env: staff)
        let newKey = value("public key:", in: migrated), newFP = value("fingerprint:", in: migrated)
        XCTAssertNotEqual(newFP, oldFP)
        XCTAssertEqual(value("fingerprint:", in: try succeed(["org", "show", "--vault", vault])), newFP)
        var st = stat()
        XCTAssertEqual(stat(root, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o600)
        // The old key is gone from every file of the vault.
        for name in try FileManager.default.contentsOfDirectory(atPath: vault) {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: vault + "/" + name, isDirectory: &isDir), !isDir.boolValue else { continue }
            let bytes = try Data(contentsOf: URL(fileURLWithPath: vault + "/" + name))
            XCTAssertNil(bytes.range(of: try XCTUnwrap(sealed)), name)
        }
        let again = try runDossier(["org", "migrate-root", "--root-out", folder.file("second.key"), "--no-passphrase"], env: staff)
        XCTAssertEqual(again.exitCode, 73, "\(again)")
        XCTAssertTrue(again.stderr.contains("dossier: hint:"), "\(again)")
        XCTAssertTrue(try succeed(["org", "certificates", "--vault", vault]).hasSuffix("valid"))

        // The auditor re-pins: the log, the old checkpoint included, verifies under the new root.
        try succeed(["audit", "checkpoint"], env: staff)
        try succeed(["audit", "verify", "--vault", vault, "--org-fingerprint", newFP, "--checkpoint", oldNote])
        XCTAssertEqual(try runDossier(["audit", "verify", "--vault", vault, "--org-fingerprint", oldFP]).exitCode, 3)

        // Counsel: the old package still opens under the old key; a new one needs the new root.
        let home = folder.file("home")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: false)
        let counselEnv = ["HOME": home, "XDG_CONFIG_HOME": home]
        try succeed(["trust", "add", oldKey, "--name", "Example (old key)"], env: counselEnv)
        let out1 = folder.file("out1"), out2 = folder.file("out2")
        try FileManager.default.createDirectory(atPath: out1, withIntermediateDirectories: false)
        try FileManager.default.createDirectory(atPath: out2, withIntermediateDirectories: false)
        try succeed(["open", oldPackage, "--identity", counselKey, "-o", out1], env: counselEnv)
        let newPackage = folder.file("new.dpkg")
        try succeed(["grant", doc, "--to", counsel, "--for", "2d", "-o", newPackage], env: staff)
        let untrusted = try runDossier(["open", newPackage, "--identity", counselKey, "-o", out2], env: counselEnv)
        XCTAssertEqual(untrusted.exitCode, 77, "\(untrusted)")
        try succeed(["trust", "add", newKey, "--name", "Example"], env: counselEnv)
        XCTAssertTrue(try succeed(["inspect", newPackage], env: counselEnv).contains("signed by:    staff \(founder.publicIdentity.fingerprint)"))
        try succeed(["open", newPackage, "--identity", counselKey, "-o", out2], env: counselEnv)
    }
}
