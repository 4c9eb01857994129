import Foundation
import XCTest

/// The organisation root through the built binary: `init --root-out`, `org certify`,
/// `org certificates`, a removed member's package from an old copy of the vault shown by
/// `inspect` and refused by `open` once the certificate has expired.
final class RootCLITests: XCTestCase {
    @discardableResult
    private func succeed(_ arguments: [String], env: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try expectSuccess(arguments, env: env, file: file, line: line).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func publicLine(_ output: String) -> String {
        output.split(separator: "\n").first { $0.hasPrefix("dossier1") }.map(String.init) ?? ""
    }

    func testARemovedMembersPackageIsRefusedOnceTheirCertificateExpires() throws {
        let folder = try cliFolder()
        let alice = folder.file("alice.key"), bob = folder.file("bob.key"), counselKey = folder.file("counsel.key")
        let vault = folder.file("vault"), root = folder.file("org-root.key"), copy = folder.file("bob-copy")
        let bobLine = publicLine(try succeed(["identity", "new", "-o", bob, "--no-passphrase"]))
        try succeed(["identity", "new", "-o", alice, "--no-passphrase"])
        let created = try succeed(["init", "--vault", vault, "--org", "example.org/dossier", "--identity", alice, "--root-out", root, "--no-passphrase"])
        // The root is its own private file, and not in the vault.
        var st = stat()
        XCTAssertEqual(stat(root, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o600)
        XCTAssertTrue(try String(contentsOfFile: root, encoding: .utf8).hasPrefix("DOSSIER-ORGANISATION-ROOT-1\n"))
        let orgLine = created.split(separator: "\n").first { $0.hasPrefix("public key:") }.map { String($0.split(separator: " ").last ?? "") } ?? ""
        XCTAssertTrue(orgLine.hasPrefix("dossierorg1"), created)
        // Refused over an existing file, before anything is made.
        let again = try runDossier(["init", "--vault", folder.file("v2"), "--org", "example.org/x", "--identity", alice, "--root-out", root, "--no-passphrase"])
        XCTAssertEqual(again.exitCode, 73, "\(again)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.file("v2")))

        let staff = ["DOSSIER_VAULT": vault, "DOSSIER_IDENTITY": alice]
        let bobFP = try succeed(["staff", "add", bobLine, "--name", "Bob"], env: staff)
        XCTAssertEqual(bobFP.count, 19, bobFP)
        // Another root is refused; the vault's certifies Bob for a few seconds.
        let otherRoot = folder.file("other-root.key")
        try succeed(["init", "--vault", folder.file("other"), "--org", "example.org/other", "--identity", alice, "--root-out", otherRoot, "--no-passphrase"])
        let wrong = try runDossier(["org", "certify", "--root", otherRoot, bobFP], env: staff)
        XCTAssertEqual(wrong.exitCode, 77, "\(wrong)")
        XCTAssertTrue(wrong.stderr.contains("dossier: hint:"), "\(wrong)")
        try succeed(["org", "certify", "--root", root, "--for", "8s", bobFP], env: staff)
        let listed = try succeed(["org", "certificates", "--vault", vault])
        XCTAssertEqual(listed.split(separator: "\n").filter { $0.hasSuffix("valid") }.count, 2, listed)

        let document = folder.file("statement.txt")
        try Data("a statement\n".utf8).write(to: URL(fileURLWithPath: document))
        let doc = try succeed(["deposit", document, "--kind", "supporting-material", "--title", "Statement"], env: staff)
        let counselLine = publicLine(try succeed(["identity", "new", "-o", counselKey, "--no-passphrase"]))
        let counsel = try succeed(["counsel", "add", counselLine, "--name", "C. Counsel"], env: staff)
        try succeed(["counsel", "vet", counsel, "--until", "2099-12-31"], env: staff)

        // Bob keeps a copy of the vault; then he is removed and his certificate revoked.
        try FileManager.default.copyItem(atPath: vault, toPath: copy)
        try succeed(["staff", "remove", bobFP], env: staff)
        XCTAssertTrue(try succeed(["org", "certificates", "--vault", vault]).contains("revoked"))
        XCTAssertTrue(try succeed(["audit", "log", "--vault", vault, "--identity", alice]).contains("certificate-revoke"))
        XCTAssertNotEqual(try runDossier(["list"], env: ["DOSSIER_VAULT": vault, "DOSSIER_IDENTITY": bob]).exitCode, 0)

        // With his old copy he can still make a package.
        let package = folder.file("from-bob.dpkg")
        let until = ISO8601DateFormatter.string(from: Date().addingTimeInterval(86400), timeZone: TimeZone(identifier: "UTC")!,
                                                formatOptions: [.withInternetDateTime, .withFractionalSeconds])
        try succeed(["grant", doc, "--to", counsel, "--until", until, "-o", package], env: ["DOSSIER_VAULT": copy, "DOSSIER_IDENTITY": bob])

        let home = folder.file("home")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: false)
        let counselEnv = ["HOME": home, "XDG_CONFIG_HOME": home]
        try succeed(["trust", "add", orgLine, "--name", "Example"], env: counselEnv)
        let inspected = try succeed(["inspect", package], env: counselEnv)
        XCTAssertTrue(inspected.contains("signed by:    staff \(bobFP)"), inspected)
        XCTAssertTrue(inspected.contains("(valid now)"), inspected)
        // Once the certificate has expired, counsel refuses it.
        Thread.sleep(forTimeInterval: 9)
        let late = try succeed(["inspect", "--json", package], env: counselEnv)
        XCTAssertTrue(late.contains("\"certificateState\" : \"EXPIRED\"") || late.contains("\"certificateState\":\"EXPIRED\""), late)
        let out = folder.file("opened")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        let open = try runDossier(["open", package, "--identity", counselKey, "-o", out], env: counselEnv)
        XCTAssertEqual(open.exitCode, 77, "\(open)")
        XCTAssertTrue(open.stderr.contains("expired") && open.stderr.contains(bobFP), "\(open)")
        XCTAssertTrue(open.stderr.contains("dossier: hint:"), "\(open)")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out), [])
        // The vault's own log still verifies against the root's fingerprint, checkpoint included.
        try succeed(["audit", "checkpoint", "--vault", vault, "--identity", alice])
        let fp = created.split(separator: "\n").first { $0.hasPrefix("fingerprint:") }.map { String($0.split(separator: " ").last ?? "") } ?? ""
        try succeed(["audit", "verify", "--vault", vault, "--org-fingerprint", fp])
    }
}
