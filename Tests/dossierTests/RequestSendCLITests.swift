import DossierCore
import DossierCrypto
import Foundation
import XCTest

/// A request's life "through the service", with the built binary: an unregistered counsel sends a
/// request with an attachment to a running `dossier serve` with `request new --send`, keeps the
/// organisation's receipt, and later asks `request status`; staff find it in their inbox,
/// register the sender from it and answer it with a grant. Then what goes wrong: a service that
/// cannot be reached (69), a refusal (77, the service's message shown), a receipt that does not
/// verify (3).
final class RequestSendCLITests: XCTestCase {
    private var folder: CLIFolder!

    override func setUpWithError() throws {
        folder = try CLIFolder()
        addTeardownBlock { [folder] in folder?.remove() }
    }

    @discardableResult
    private func succeed(_ arguments: [String], env: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try expectSuccess(arguments, env: env, file: file, line: line).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func publicLine(_ output: String) -> String {
        output.split(separator: "\n").first { $0.hasPrefix("dossier1") }.map(String.init) ?? ""
    }

    func testAnUnregisteredCounselSendsARequestThroughTheServiceAndSeesItAnswered() throws {
        // The organisation: a vault with its root kept apart, and the service certified by it.
        let staffKey = folder.file("staff.key"), serviceKey = folder.file("service.key"), counselKey = folder.file("counsel.key")
        let vault = folder.file("vault")
        try succeed(["identity", "new", "-o", staffKey, "--no-passphrase"])
        try succeed(["init", "--vault", vault, "--root-out", vault + ".root", "--no-passphrase", "--org", "example.org/dossier", "--identity", staffKey])
        let staff = ["DOSSIER_VAULT": vault, "DOSSIER_IDENTITY": staffKey]
        let serviceLine = publicLine(try succeed(["identity", "new", "-o", serviceKey, "--no-passphrase"]))
        try succeed(["staff", "add", serviceLine, "--name", "Key-release service", "--service"], env: staff)
        let serviceFP = try SecretIdentity.publicHalf(path: serviceKey).fingerprint
        try succeed(["org", "certify", "--root", vault + ".root", "--role", "service", serviceFP], env: staff)
        let org = try JSONSerialization.jsonObject(with: Data(try succeed(["org", "show", "--vault", vault, "--json"]).utf8)) as? [String: Any]
        let intake = try XCTUnwrap(org?["intakeKey"] as? String)
        let orgKey = try XCTUnwrap(org?["publicKey"] as? String)
        let service = try ServeProcess.start(["--vault", vault, "--identity", serviceKey], in: folder)
        addTeardownBlock { service.stop() }

        // Counsel, not registered, who trust the organisation's key.
        let home = folder.file("counsel-home")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: false)
        let counselMachine = ["HOME": home, "XDG_CONFIG_HOME": home, "no_proxy": "127.0.0.1", "NO_PROXY": "127.0.0.1"]
        try succeed(["identity", "new", "-o", counselKey, "--no-passphrase"])
        try succeed(["trust", "add", orgKey, "--name", "Example"], env: counselMachine)
        let attachment = Data("ORDER: extradition hearing fixed for 15 March.\n".utf8)
        try attachment.write(to: URL(fileURLWithPath: folder.file("order.pdf")))
        try Data("We need an expert on prison conditions.\n".utf8).write(to: URL(fileURLWithPath: folder.file("letter.txt")))
        let drq = folder.file("request.drq")
        let args = ["request", "new", "--org", intake, "--identity", counselKey, "--need", "expert-witness", "--lang", "en",
                    "--message-file", folder.file("letter.txt"), "--attach", folder.file("order.pdf")]
        let sent = try expectSuccess(args + ["-o", drq, "--send", service.url], env: counselMachine)
        let requestID = sent.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(requestID.hasPrefix("req-"), "\(sent)")
        XCTAssertTrue(sent.stderr.contains("Example") && sent.stderr.contains("received request \(requestID)"), sent.stderr)

        // The receipt beside the request verifies against the organisation key counsel trust.
        let receiptBytes = try Data(contentsOf: URL(fileURLWithPath: drq + ".receipt"))
        let receipt = try RequestReceipt.parse(receiptBytes, context: "test")
        XCTAssertNoThrow(try receipt.verify(root: try OrganisationKey(line: orgKey), requestID: requestID,
                                            sha256: Hash.sha256(try Data(contentsOf: URL(fileURLWithPath: drq))).hex, context: "test"))
        XCTAssertEqual(receipt.certificate.fingerprint, serviceFP)

        // Staff see it, register the sender from it, and answer it with a grant.
        let listed = try succeed(["requests", "list"], env: staff)
        XCTAssertTrue(listed.contains(requestID) && listed.contains("not registered"), listed)
        XCTAssertEqual(try succeed(["requests", "save", requestID, "order.pdf", "-o", folder.file("saved.pdf")], env: staff), "")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: folder.file("saved.pdf"))), attachment)
        let status = ["request", "status", "-i", counselKey, "--request", drq, "--send", service.url]
        XCTAssertTrue(try succeed(status, env: counselMachine).hasPrefix(requestID + "\tnew"))
        let counselID = try succeed(["counsel", "add", "--from-request", requestID, "--name", "C. Counsel"], env: staff)
        try succeed(["counsel", "vet", counselID, "--until", "2099-12-31"], env: staff)
        try Data("a report\n".utf8).write(to: URL(fileURLWithPath: folder.file("report.txt")))
        let doc = try succeed(["deposit", folder.file("report.txt"), "--kind", "expert-report", "--title", "Prison conditions"], env: staff)
        let grant = try succeed(["grant", doc, "--to", counselID, "--for", "7d"], env: staff)
        try succeed(["requests", "answer", requestID, "--grant", grant], env: staff)

        // Counsel ask where it stands: answered, with the grant's id (text, and JSON by id).
        XCTAssertEqual(try succeed(status, env: counselMachine), "\(requestID)\tanswered\t\(grant)")
        let json = try succeed(["request", "status", "-i", counselKey, "--request", requestID, "--org", intake, "--send", service.url, "--json"],
                               env: counselMachine)
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        XCTAssertEqual(object?["state"] as? String, "answered")
        XCTAssertEqual(object?["grant"] as? String, grant)
        // Someone else asking about it learns nothing: the same answer as for no request at all.
        let otherKey = folder.file("other.key")
        try succeed(["identity", "new", "-o", otherKey, "--no-passphrase"])
        let nosy = try runDossier(["request", "status", "-i", otherKey, "--request", drq, "--send", service.url], env: counselMachine)
        XCTAssertEqual(nosy.exitCode, 66, "\(nosy)")
        XCTAssertTrue(nosy.stderr.contains("no request \(requestID) from you at \(service.url)"), nosy.stderr)
        XCTAssertFalse(nosy.stderr.contains("dossier requests"), "counsel are pointed to a staff command: \(nosy.stderr)")

        // Counsel open the package of the answering grant: it names the request.
        let package = folder.file("answer.dpkg")
        try succeed(["package", grant, "-o", package], env: staff)
        try FileManager.default.createDirectory(atPath: folder.file("opened"), withIntermediateDirectories: false)
        let opened = try expectSuccess(["open", package, "--identity", counselKey, "-o", folder.file("opened")], env: counselMachine)
        XCTAssertTrue(opened.stderr.contains("this package answers your request \(requestID) (request file SHA-256 \(receipt.sha256))"), opened.stderr)

        // The log: received by the service, then staff's steps, in order; and it verifies.
        let log = try succeed(["audit", "log", "--vault", vault])
        XCTAssertTrue(log.contains("request-receive") && log.contains(serviceFP), log)
        let steps = log.split(separator: "\n").compactMap { $0.split(separator: "\t").dropFirst(3).first.map(String.init) }
            .filter { $0.hasPrefix("request-") || $0 == "counsel-add" || $0 == "grant" || $0 == "package" }
        XCTAssertEqual(steps, ["request-receive", "request-read", "counsel-add", "grant", "request-answer", "package"], log)
        try succeed(["audit", "verify", "--vault", vault])
        // And the auditors' report counts it, without its content.
        try succeed(["audit", "report", "--vault", vault, "-o", folder.file("report.html")])
        let report = try String(contentsOfFile: folder.file("report.html"), encoding: .utf8)
        XCTAssertTrue(report.contains("<h2>Requests</h2>") && report.contains("<tr><td><code>expert-witness</code></td><td>1</td><td>1</td></tr>"),
                      "the report's request figures are missing")
        XCTAssertFalse(report.contains("prison conditions") || report.contains("ORDER:"), "the report shows the request's content")

        // What goes wrong. A service that is not there: 69, the request file kept, no receipt.
        let down = folder.file("down.drq")
        let refusedConnection = try runDossier(args + ["-o", down, "--send", "http://127.0.0.1:1"], env: counselMachine)
        XCTAssertEqual(refusedConnection.exitCode, 69, "\(refusedConnection)")
        XCTAssertTrue(refusedConnection.stderr.contains("cannot reach the organisation's service at http://127.0.0.1:1"), refusedConnection.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: down))
        XCTAssertFalse(FileManager.default.fileExists(atPath: down + ".receipt"))
        // A refusal: a request sealed to another organisation's intake key; the message is the service's.
        let elsewhere = try IntakeKey(encryptionKey: BoxKeyPair.generate(using: DeterministicRandom(seed: "send-cli/other")).publicKey).line
        var otherArgs = args
        otherArgs[3] = elsewhere
        let refused = try runDossier(otherArgs + ["-o", folder.file("elsewhere.drq"), "--send", service.url], env: counselMachine)
        XCTAssertEqual(refused.exitCode, 77, "\(refused)")
        XCTAssertTrue(refused.stderr.contains("refused it (not-for-this-intake): the request is sealed to another intake key"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.file("elsewhere.drq.receipt")))
        // A receipt that does not verify: counsel who do not trust the organisation's key.
        let stranger = folder.file("stranger-home")
        try FileManager.default.createDirectory(atPath: stranger, withIntermediateDirectories: false)
        let untrusted = try runDossier(args + ["-o", folder.file("untrusted.drq"), "--send", service.url],
                                       env: ["HOME": stranger, "XDG_CONFIG_HOME": stranger, "no_proxy": "127.0.0.1", "NO_PROXY": "127.0.0.1"])
        XCTAssertEqual(untrusted.exitCode, 3, "\(untrusted)")
        XCTAssertTrue(untrusted.stderr.contains("does not verify") && untrusted.stderr.contains("which you do not trust"), untrusted.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.file("untrusted.drq.receipt")))
        XCTAssertTrue(service.stderr.contains("refused request not-for-this-intake"), service.stderr)
    }
}
