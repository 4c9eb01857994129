import Foundation
import XCTest

/// `open` makes every check that needs no secret before it asks for a passphrase
/// (docs/formats/package.md, section 7): an expired package, one not sealed to the reader or a
/// missing output folder is refused as such, whatever passphrase was given.
final class OpenOrderTests: XCTestCase {
    private var folder: CLIFolder!

    override func setUpWithError() throws {
        folder = try CLIFolder()
        addTeardownBlock { [folder] in folder?.remove() }
    }

    @discardableResult
    private func succeed(_ arguments: [String], env: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try expectSuccess(arguments, env: env, file: file, line: line).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A package for a passphrase-protected counsel identity, valid until `until`, and the
    /// counsel machine's environment (which trusts the organisation).
    private func package(until: Date) throws -> (path: String, counselKey: String, env: [String: String]) {
        let staffKey = folder.file("staff.key"), counselKey = folder.file("counsel.key"), vault = folder.file("vault")
        let document = folder.file("statement.txt"), package = folder.file("bundle.dpkg"), pass = folder.file("pass.txt")
        try Data("a statement\n".utf8).write(to: URL(fileURLWithPath: document))
        try Data("correct horse battery staple\n".utf8).write(to: URL(fileURLWithPath: pass))
        try succeed(["identity", "new", "-o", staffKey, "--no-passphrase"])
        try succeed(["init", "--vault", vault, "--root-out", vault + ".root", "--no-passphrase", "--org", "example.org/dossier", "--identity", staffKey])
        let staff = ["DOSSIER_VAULT": vault, "DOSSIER_IDENTITY": staffKey]
        let doc = try succeed(["deposit", document, "--kind", "supporting-material", "--title", "Statement"], env: staff)
        let counselLine = try succeed(["identity", "new", "-o", counselKey, "--passphrase-file", pass]).split(separator: "\n")
            .first { $0.hasPrefix("dossier1") }.map(String.init) ?? ""
        XCTAssertFalse(counselLine.isEmpty, "no public line from identity show")
        let counsel = try succeed(["counsel", "add", counselLine, "--name", "C. Counsel"], env: staff)
        try succeed(["counsel", "vet", counsel, "--until", "2099-12-31"], env: staff)
        let stamp = ISO8601DateFormatter.string(from: until, timeZone: TimeZone(identifier: "UTC")!,
                                                formatOptions: [.withInternetDateTime, .withFractionalSeconds])
        try succeed(["grant", doc, "--to", counsel, "--until", stamp, "-o", package], env: staff)
        let orgLine = try succeed(["org", "show", "--vault", vault]).split(separator: "\n")
            .first { $0.hasPrefix("public key:") }.map { String($0.split(separator: " ").last ?? "") } ?? ""
        let home = folder.file("home")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: false)
        let env = ["HOME": home, "XDG_CONFIG_HOME": home]
        try succeed(["trust", "add", orgLine, "--name", "Example"], env: env)
        return (package, counselKey, env)
    }

    func testAnExpiredPackageIsRefusedAsExpiredBeforeAnyPassphrase() throws {
        let p = try package(until: Date().addingTimeInterval(4))
        let wrong = folder.file("wrong.txt")
        try Data("not the passphrase at all\n".utf8).write(to: URL(fileURLWithPath: wrong))
        let out = folder.file("opened")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        Thread.sleep(forTimeInterval: 5)
        let open = try runDossier(["open", p.path, "--identity", p.counselKey, "--passphrase-file", wrong, "-o", out], env: p.env)
        XCTAssertEqual(open.exitCode, 77, "\(open)")
        XCTAssertTrue(open.stderr.contains("expired"), "\(open)")
        XCTAssertFalse(open.stderr.contains("passphrase"), "the passphrase was tried before the window: \(open)")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out), [])
    }

    func testAMissingOutputFolderIsRefusedBeforeAnyPassphrase() throws {
        let p = try package(until: Date().addingTimeInterval(3600))
        let wrong = folder.file("wrong.txt")
        try Data("not the passphrase at all\n".utf8).write(to: URL(fileURLWithPath: wrong))
        let open = try runDossier(["open", p.path, "--identity", p.counselKey, "--passphrase-file", wrong, "-o", folder.file("missing")], env: p.env)
        XCTAssertEqual(open.exitCode, 65, "\(open)")
        XCTAssertTrue(open.stderr.contains("is not a folder"), "\(open)")
        XCTAssertFalse(open.stderr.contains("passphrase"), "the passphrase was tried before the folder: \(open)")
        // With the right passphrase and a folder, the same package opens.
        let out = folder.file("opened")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        try succeed(["open", p.path, "--identity", p.counselKey, "--passphrase-file", folder.file("pass.txt"), "-o", out], env: p.env)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out), ["statement.txt"])
    }
}
