import DossierCore
import Foundation
import XCTest

/// The intake certificate through the built binary: the organisation publishes it
/// (`org show --intake-certificate`), counsel keep it for the organisation they trust
/// (`trust intake`) and name the organisation in `request new --org NAME`; staff import the
/// request. An untrusted root and an edited certificate are refused.
final class IntakeTrustCLITests: XCTestCase {
    func testCounselNameTheTrustedOrganisationAndTheRequestReachesItsInbox() throws {
        let folder = try cliFolder()
        let vault = folder.file("vault"), staffKey = folder.file("staff.key"), counselKey = folder.file("counsel.key")
        try expectSuccess(["identity", "new", "-o", staffKey, "--no-passphrase"])
        try expectSuccess(["identity", "new", "-o", counselKey, "--no-passphrase"])
        try expectSuccess(["init", "--vault", vault, "--root-out", vault + ".root", "--no-passphrase", "--org", "example.org/intake",
                           "--identity", staffKey, "--name", "Alice"])
        let staff = ["--vault", vault, "--identity", staffKey]

        let shown = try expectSuccess(["org", "show", "--vault", vault]).stdout
        XCTAssertTrue(shown.contains("intake cert:  by the organisation root") && shown.contains("(valid now)"), shown)
        let certificate = try expectSuccess(["org", "show", "--vault", vault, "--intake-certificate"]).stdout
        XCTAssertTrue(certificate.hasPrefix("dossier-intake-certificate/1\n"), certificate)
        let certFile = folder.file("intake.cert")
        try Data(certificate.utf8).write(to: URL(fileURLWithPath: certFile))
        let org = try JSONSerialization.jsonObject(with: Data(try expectSuccess(["org", "show", "--vault", vault, "--json"]).stdout.utf8)) as? [String: Any]
        XCTAssertEqual(org?["intakeCertificate"] as? String, Data(certificate.utf8).base64EncodedString())
        let root = try XCTUnwrap(org?["publicKey"] as? String)

        let home = folder.file("counsel-home")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: false)
        let counsel = ["HOME": home, "XDG_CONFIG_HOME": home]
        // Before the organisation is trusted, its certificate is refused and nothing is kept.
        let early = try runDossier(["trust", "intake", certFile], env: counsel)
        XCTAssertEqual(early.exitCode, 77, "\(early)")
        XCTAssertTrue(early.stderr.contains("which you do not trust") && early.stderr.contains("dossier: hint:"), early.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: home + "/dossier/intake"))

        try expectSuccess(["trust", "add", root, "--name", "Intake Project"], env: counsel)
        // Trusted, but no certificate kept yet: named, it says what to do.
        let request = ["--identity", counselKey, "--need", "reports", "--lang", "ar", "--message-file", "-"]
        let missing = try runDossier(["request", "new", "--org", "Intake Project"] + request + ["-o", folder.file("none.drq")],
                                     env: counsel, stdin: Data("x\n".utf8))
        XCTAssertEqual(missing.exitCode, 66, "\(missing)")
        XCTAssertTrue(missing.stderr.contains("trust intake"), missing.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.file("none.drq")))

        let kept = try expectSuccess(["trust", "intake", certFile], env: counsel).stdout
        XCTAssertTrue(kept.contains("intake key of Intake Project"), kept)
        let drq = folder.file("request.drq")
        let made = try runDossier(["request", "new", "--org", "Intake Project"] + request + ["-o", drq], env: counsel, stdin: Data("Please.\n".utf8))
        XCTAssertEqual(made.exitCode, 0, "\(made)")
        XCTAssertTrue(made.stderr.contains("certified by Intake Project, which you trust"), made.stderr)
        let id = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(try expectSuccess(["requests", "import", drq] + staff).stdout.trimmingCharacters(in: .whitespacesAndNewlines), id)

        // The kept certificate edited on disk (another intake key put in): refused, nothing written.
        let keptPath = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: home + "/dossier/intake").first)
        let intakeLine = try XCTUnwrap(org?["intakeKey"] as? String)
        var text = try String(contentsOfFile: home + "/dossier/intake/" + keptPath, encoding: .utf8)
        let flipped = intakeLine.dropLast(2) + (intakeLine.hasSuffix("aa") ? "ba" : "aa")
        text = text.replacingOccurrences(of: intakeLine, with: String(flipped))
        try Data(text.utf8).write(to: URL(fileURLWithPath: home + "/dossier/intake/" + keptPath))
        let edited = try runDossier(["request", "new", "--org", "Intake Project"] + request + ["-o", folder.file("edited.drq")],
                                    env: counsel, stdin: Data("x\n".utf8))
        XCTAssertNotEqual(edited.exitCode, 0, "\(edited)")
        XCTAssertTrue(edited.stderr.hasPrefix("dossier: error: "), "\(edited)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.file("edited.drq")))
    }
}
