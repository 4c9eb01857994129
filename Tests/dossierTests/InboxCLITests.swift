import DossierCore
import DossierCrypto
import Foundation
import XCTest

/// A request's life "by file", through the built binary: counsel write it with `request new -o`,
/// staff import it, register the sender from it, grant, and answer it with the grant; the log
/// shows each step, and the vault folder holds none of the request's content in the clear.
final class InboxCLITests: XCTestCase {
    let court = "Westminster Magistrates' Court"
    let caseReference = "EXT-2027-0042-CLI"
    let jurisdiction = "Republic of Clinoria"
    let counselName = "Zebulon Quillfeather-CLI"
    let message = "We act for Mr Petrov.\r\n\u{1B}[31m The hearing is in March.\n"
    let attachment = Data("ATTACHMENT-CLI: the extradition request, page 1 of 40.\n".utf8)

    func testARequestByFileIsImportedRegisteredAnsweredAndLoggedWithNothingInTheClear() throws {
        let folder = try cliFolder()
        let vault = folder.file("vault"), staffKey = folder.file("staff.key"), counselKey = folder.file("counsel.key")
        try expectSuccess(["identity", "new", "-o", staffKey, "--no-passphrase"])
        try expectSuccess(["identity", "new", "-o", counselKey, "--no-passphrase"])
        try expectSuccess(["init", "--vault", vault, "--root-out", vault + ".root", "--no-passphrase", "--org", "example.org/inbox",
                           "--identity", staffKey, "--name", "Alice"])
        let staff = ["--vault", vault, "--identity", staffKey]

        // The organisation publishes its intake key.
        let org = try JSONSerialization.jsonObject(with: Data(try expectSuccess(["org", "show", "--vault", vault, "--json"]).stdout.utf8)) as? [String: Any]
        let intake = try XCTUnwrap(org?["intakeKey"] as? String)
        XCTAssertEqual(org?["intakeFingerprint"] as? String, try IntakeKey(line: intake).fingerprint)

        // Counsel write a request to a file.
        try Data(message.utf8).write(to: URL(fileURLWithPath: folder.file("letter.txt")))
        try attachment.write(to: URL(fileURLWithPath: folder.file("order.pdf")))
        let drq = folder.file("request.drq")
        let requestID = try expectSuccess(["request", "new", "--org", intake, "--identity", counselKey, "--need", "expert-witness",
                                           "--lang", "en", "--lang", "fr", "--jurisdiction", jurisdiction, "--court", court,
                                           "--case", caseReference, "--hearing", "2027-03-15", "--message-file", folder.file("letter.txt"),
                                           "--attach", folder.file("order.pdf"), "-o", drq]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(requestID.hasPrefix("req-"), requestID)

        // Staff import it; the same file again is refused and stores nothing.
        XCTAssertEqual(try expectSuccess(["requests", "import", drq] + staff).stdout.trimmingCharacters(in: .whitespacesAndNewlines), requestID)
        let again = try runDossier(["requests", "import", drq] + staff)
        XCTAssertEqual(again.exitCode, 73, "\(again)")
        XCTAssertTrue(again.stderr.contains("already in the inbox"), again.stderr)

        let listed = try expectSuccess(["requests"] + staff).stdout
        XCTAssertTrue(listed.contains(requestID) && listed.contains("not registered") && listed.contains("new"), listed)
        let shown = try expectSuccess(["requests", "show", requestID] + staff).stdout
        XCTAssertTrue(shown.contains(court) && shown.contains("order.pdf"), shown)
        XCTAssertFalse(shown.contains("\u{1B}"), "an escape from the message reached the terminal: \(shown)")
        // A message written with CRLF line ends shows as lines, escapes made visible once.
        XCTAssertTrue(shown.contains("\n  We act for Mr Petrov.\n  \\x1b[31m The hearing is in March.\n"), shown)
        try expectSuccess(["requests", "save", requestID, "order.pdf", "-o", folder.file("saved.pdf")] + staff)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: folder.file("saved.pdf"))), attachment)

        // Register the sender from the request, vet, grant, answer.
        let counselID = try expectSuccess(["counsel", "add", "--from-request", requestID, "--name", counselName] + staff)
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let counselShown = try expectSuccess(["counsel", "show", counselID] + staff).stdout
        XCTAssertTrue(counselShown.contains(try SecretIdentity.publicHalf(path: counselKey).line), counselShown)
        try expectSuccess(["counsel", "vet", counselID, "--until", "2099-12-31"] + staff)
        try Data("a report\n".utf8).write(to: URL(fileURLWithPath: folder.file("report.txt")))
        let doc = try expectSuccess(["deposit", folder.file("report.txt"), "--kind", "expert-report", "--title", "Prison conditions"] + staff)
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let grant = try expectSuccess(["grant", doc, "--to", counselID, "--for", "7d"] + staff).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(grant.hasPrefix("grant-"), grant)
        try expectSuccess(["requests", "answer", requestID, "--grant", grant] + staff)
        let closed = try runDossier(["requests", "decline", requestID, "--reason", "too late"] + staff)
        XCTAssertEqual(closed.exitCode, 77, "\(closed)")

        // The package of the answering grant names the request; counsel's open says so.
        let package = folder.file("answer.dpkg")
        try expectSuccess(["package", grant, "-o", package] + staff)
        let home = folder.file("counsel-home")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: false)
        let counselEnv = ["HOME": home, "XDG_CONFIG_HOME": home]
        try expectSuccess(["trust", "add", try XCTUnwrap(org?["publicKey"] as? String), "--name", "Inbox"], env: counselEnv)
        let out = folder.file("opened")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        let opened = try expectSuccess(["open", package, "--identity", counselKey, "-o", out], env: counselEnv)
        let fileHash = Hash.sha256(try Data(contentsOf: URL(fileURLWithPath: drq))).hex
        XCTAssertTrue(opened.stderr.contains("this package answers your request \(requestID) (request file SHA-256 \(fileHash))"), opened.stderr)

        let json = try JSONSerialization.jsonObject(with: Data(try expectSuccess(["requests", "--json"] + staff).stdout.utf8)) as? [[String: Any]]
        XCTAssertEqual(json?.count, 1)
        XCTAssertEqual(json?.first?["state"] as? String, "answered")
        XCTAssertEqual(json?.first?["grant"] as? String, grant)
        XCTAssertEqual((json?.first?["counsel"] as? [String: Any])?["name"] as? String, counselName)

        // The log shows each step, in order.
        let log = try expectSuccess(["audit", "log", "--vault", vault]).stdout
        let actions = log.split(separator: "\n").compactMap { $0.split(separator: "\t").dropFirst(3).first.map(String.init) }
        let steps = actions.filter { ["request-receive", "request-read", "counsel-add", "grant", "request-answer"].contains($0) }
        XCTAssertEqual(steps, ["request-receive", "request-read", "request-read", "counsel-add", "grant", "request-answer"], log)
        XCTAssertTrue(log.contains("request:" + requestID + " grant:" + grant), log)

        // The auditors' report counts it, per language and kind, without its content.
        try expectSuccess(["audit", "report", "--vault", vault, "-o", folder.file("report.html")])
        let report = try String(contentsOf: URL(fileURLWithPath: folder.file("report.html")), encoding: .utf8)
        XCTAssertTrue(report.contains("<tr><td><code>fr</code></td><td>1</td><td>1</td></tr>"), "the per-language figures are missing")
        XCTAssertTrue(report.contains("<tr><td><code>expert-witness</code></td><td>1</td><td>1</td></tr>"), "the per-kind figures are missing")
        XCTAssertFalse(report.contains(court) || report.contains(caseReference) || report.contains(counselName), "the report shows a secret")

        // A stolen vault folder holds none of the request's content in the clear.
        var files: [(String, Data)] = []
        let walker = FileManager.default.enumerator(atPath: vault)
        while let relative = walker?.nextObject() as? String {
            var isDir: ObjCBool = false
            let path = vault + "/" + relative
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue {
                files.append((path, try Data(contentsOf: URL(fileURLWithPath: path))))
            }
        }
        XCTAssertTrue(files.contains { $0.1.range(of: Data(requestID.utf8)) != nil }, "positive control: the request id is in the clear")
        for needle in [court, caseReference, jurisdiction, counselName, "We act for Mr Petrov", "ATTACHMENT-CLI", "order.pdf", "2027-03-15"] {
            for (path, bytes) in files where bytes.range(of: Data(needle.utf8)) != nil {
                XCTFail("'\(needle)' is in the clear in \(path)")
            }
        }
    }
}
