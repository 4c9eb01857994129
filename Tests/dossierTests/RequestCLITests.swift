import DossierCore
import DossierCrypto
import Foundation
import XCTest

/// `dossier request new` through the built binary: the file it writes is opened with the library
/// (as the organisation's inbox will) and compared byte for byte; bad options are refused with
/// their documented exit codes and nothing written.
final class RequestCLITests: XCTestCase {
    var folder: CLIFolder!
    var key = ""
    var sender: PublicIdentity!
    let intake = BoxKeyPair.generate(using: DeterministicRandom(seed: "request-cli-tests/intake"))
    var intakeLine: String { try! IntakeKey(encryptionKey: intake.publicKey).line }
    let message = Data("We act for Mr Petrov, whose extradition is sought; the hearing is on 15 March.\n".utf8)

    override func setUpWithError() throws {
        folder = try cliFolder()
        key = folder.file("counsel.key")
        try expectSuccess(["identity", "new", "-o", key, "--no-passphrase"])
        sender = try SecretIdentity.publicHalf(path: key)
        try message.write(to: URL(fileURLWithPath: folder.file("letter.txt")))
    }

    /// The arguments of a valid request to `out`, with the given attachments.
    func arguments(_ out: String, attach: [String] = [], message: [String]? = nil) -> [String] {
        ["request", "new", "--org", intakeLine, "--identity", key, "--need", "expert-witness", "--lang", "en", "--lang", "RU",
         "--jurisdiction", "Russian Federation", "--court", "Westminster Magistrates' Court", "--case", "EXT-2027-0042",
         "--hearing", "2027-03-15"] + (message ?? ["--message-file", folder.file("letter.txt")]) + attach.flatMap { ["--attach", $0] } + ["-o", out]
    }

    func testARequestWrittenByTheBinaryOpensWithTheLibraryByteForByte() throws {
        let order = folder.file("Petrov extradition order.pdf")
        let scan = folder.file("scan.tiff")
        let orderBytes = Data("Order: Mr Petrov to be extradited to the Russian Federation.\n".utf8)
        let scanBytes = DeterministicRandom(seed: "request-cli-tests/scan").bytes((1 << 20) + 17)
        try orderBytes.write(to: URL(fileURLWithPath: order))
        try scanBytes.write(to: URL(fileURLWithPath: scan))
        let out = folder.file("request.drq")
        let r = try expectSuccess(arguments(out, attach: [order, scan]))
        let opened = try RequestReader.open(path: out, intakeSecret: intake.secretKey)
        XCTAssertEqual(r.stdout, opened.header.requestID + "\n")
        XCTAssertTrue(r.stderr.contains(try IntakeKey(encryptionKey: intake.publicKey).fingerprint), r.stderr)
        XCTAssertEqual(opened.details.from, sender)
        XCTAssertEqual(opened.details.need, .expertWitness)
        XCTAssertEqual(opened.details.languages, ["en", "ru"])
        XCTAssertEqual(opened.details.jurisdiction, "Russian Federation")
        XCTAssertEqual(opened.details.court, "Westminster Magistrates' Court")
        XCTAssertEqual(opened.details.caseReference, "EXT-2027-0042")
        XCTAssertEqual(opened.details.hearing, "2027-03-15")
        XCTAssertEqual(opened.details.attachments.map(\.name), ["Petrov extradition order.pdf", "scan.tiff"])
        XCTAssertEqual(try opened.message().unsafeCopyToData(), message)
        try opened.saveAttachment(0, to: folder.file("a0"))
        try opened.saveAttachment(1, to: folder.file("a1"))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: folder.file("a0"))), orderBytes)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: folder.file("a1"))), scanBytes)
        // The file holds none of it in the clear.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: out))
        for (what, needle) in [("court", "Westminster"), ("case", "EXT-2027-0042"), ("jurisdiction", "Russian Federation"),
                               ("sender line", sender.line), ("sender fingerprint", sender.fingerprint), ("name", "Petrov"),
                               ("message", "extradition is sought"), ("hearing", "2027-03-15"), ("need", "expert-witness")] {
            XCTAssertNil(bytes.range(of: Data((what == "sender line" ? String(needle.dropFirst(8).prefix(40)) : needle).utf8)),
                         "the request holds the \(what) in the clear")
        }
        XCTAssertNil(bytes.range(of: scanBytes.prefix(64)), "the attachment is in the clear")
        // Nothing but the request was left in the folder.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted(),
                       ["Petrov extradition order.pdf", "a0", "a1", "counsel.key", "letter.txt", "request.drq", "scan.tiff"])
    }

    func testTheMessageCanComeFromStandardInputAndTheIntakeLineFromAFile() throws {
        let lineFile = folder.file("intake.txt")
        try "# the organisation's intake key, checked by phone\n\(intakeLine)\n".write(toFile: lineFile, atomically: true, encoding: .utf8)
        let out = folder.file("stdin.drq")
        var args = arguments(out, message: ["--message-file", "-"])
        args[3] = lineFile
        let r = try runDossier(args + ["--json"], stdin: Data("Typed elsewhere, piped in.\n".utf8))
        XCTAssertEqual(r.exitCode, 0, "\(r)")
        let opened = try RequestReader.open(path: out, intakeSecret: intake.secretKey)
        XCTAssertEqual(try opened.message().unsafeCopyToData(), Data("Typed elsewhere, piped in.\n".utf8))
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(json?["requestID"] as? String, opened.header.requestID)
        XCTAssertEqual(json?["senderFingerprint"] as? String, sender.fingerprint)
    }

    func testBadOptionsAreRefusedWithTheirExitCodesAndNothingIsWritten() throws {
        let out = folder.file("refused.drq")
        try Data(repeating: 0x61, count: (1 << 20) + 1).write(to: URL(fileURLWithPath: folder.file("long.txt")))
        try Data("x".utf8).write(to: URL(fileURLWithPath: folder.file("back\\slash.txt")))
        try Data().write(to: URL(fileURLWithPath: folder.file("empty.txt")))
        func replacing(_ option: String, _ value: String) -> [String] {
            var a = arguments(out)
            a[a.firstIndex(of: option)! + 1] = value
            return a
        }
        var chars = Array(intakeLine)
        chars[30] = chars[30] == "a" ? "b" : "a"
        let typo = String(chars)
        var noLanguage = arguments(out)
        noLanguage.removeSubrange(noLanguage.firstIndex(of: "--lang")!...noLanguage.firstIndex(of: "--lang")! + 3)
        let cases: [(String, [String], Int32, String, Bool)] = [
            ("unknown need", replacing("--need", "everything"), 64, "unknown need", false),
            ("no language", noLanguage, 64, "--lang", false),
            ("an organisation key with a broken checksum", replacing("--org", "dossierorg1" + intakeLine.dropFirst(14)), 65, "organisation key", false),
            ("an organisation nobody trusts", replacing("--org", Self.strangerOrganisation), 77, "do not trust", false),
            ("a name nobody trusts", replacing("--org", "Unknown Project"), 65, "no organisation is trusted under the name", false),
            ("intake line with a typo", replacing("--org", typo), 65, "checksum", false),
            ("malformed language tag", replacing("--lang", "en_GB"), 65, "BCP 47", false),
            ("a language tag with an escape, shown once escaped", replacing("--lang", "e\u{1b}n"), 65, "'e\\x1bn' is not", false),
            ("impossible hearing date", replacing("--hearing", "2027-02-30"), 65, "YYYY-MM-DD", false),
            ("newline in the court", replacing("--court", "Court\nsignature: valid"), 65, "--court", false),
            ("missing attachment", arguments(out, attach: [folder.file("missing.pdf")]), 66, "no such file", false),
            ("attachment name with a backslash", arguments(out, attach: [folder.file("back\\slash.txt")]), 65, "path separator", false),
            ("message over 1 MiB", arguments(out, message: ["--message-file", folder.file("long.txt")]), 65, "1 MiB", false),
            ("empty message", arguments(out, message: ["--message-file", folder.file("empty.txt")]), 65, "empty", false),
            ("no message and no terminal", arguments(out, message: []), 64, "--message-file", true),
            ("no identity", arguments(out).filter { $0 != "--identity" && $0 != key }, 64, "no identity", false),
        ]
        for (what, args, code, mention, detached) in cases {
            let r = try runDossier(args, detached: detached)
            XCTAssertEqual(r.exitCode, code, "\(what): \(r)")
            XCTAssertTrue(r.stderr.contains(mention), "\(what): the error should mention '\(mention)': \(r)")
            XCTAssertTrue(r.stderr.hasPrefix("dossier: error: "), "\(what): \(r)")
            XCTAssertEqual(r.stdout, "", what)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), "\(what): something was written")
            XCTAssertFalse(r.stderr.contains(String(decoding: message, as: UTF8.self).prefix(20)), "\(what): the message was printed")
        }
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: folder.path).contains { $0.hasPrefix(".") },
                       "a temporary file was left behind")
    }

    /// A well-formed organisation key that no test trusts.
    static var strangerOrganisation: String {
        OrganisationRoot.generate(using: DeterministicRandom(seed: "request-cli/stranger-root")).key.line
    }

    func testAnExistingOutputIsKeptUnlessForced() throws {
        let out = folder.file("exists.drq")
        try Data("mine".utf8).write(to: URL(fileURLWithPath: out))
        let r = try runDossier(arguments(out))
        XCTAssertEqual(r.exitCode, 73, "\(r)")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out)), Data("mine".utf8))
        try expectSuccess(arguments(out) + ["--force"])
        XCTAssertNoThrow(try RequestReader.open(path: out, intakeSecret: intake.secretKey))
    }

    func testTheHelpOffersTheSixUNLanguagesAndSaysWhatIsSealed() throws {
        let help = try expectSuccess(["request", "new", "--help"]).stdout
        // The help is wrapped to the terminal's width: compare with the lines joined.
        let r = (stdout: help.split(whereSeparator: \.isWhitespace).joined(separator: " "), ())
        for tag in ["ar", "zh-Hans", "en", "fr", "ru", "es"] {
            XCTAssertTrue(r.stdout.contains(" \(tag) ("), "the help does not offer \(tag)")
        }
        for word in ["--org", "dossierintake1", "sealed", "--message-file", "--attach", "64 MiB", "trust store"] {
            XCTAssertTrue(r.stdout.contains(word), "the help does not mention \(word)")
        }
        for word in ["--send", "FILE.receipt", "dossier request status"] {
            XCTAssertTrue(r.stdout.contains(word), "the help does not say how to send through the service: \(word)")
        }
    }
}
