import Foundation
import XCTest

/// Progress of long work, through the built binary: on a terminal (a pseudo-terminal, through
/// `script`) deposit, retrieve, package, open, audit verify and vault copy redraw one line of amounts on
/// standard error and erase it before their result; in a pipe, or with --quiet, they print
/// exactly what they printed before progress existed. DOSSIER_PROGRESS_AFTER=0 makes progress
/// start at once instead of after a second, so that a small file is enough.
final class ProgressCLITests: XCTestCase {
    /// Back to the start of the line, erase it: how every progress line starts, and how it is erased.
    static let erase = "\r\u{1b}[2K"
    static let now = ["DOSSIER_PROGRESS_AFTER": "0"]
    /// A progress line, amounts only: `dossier: 4.0 MiB of 8.0 MiB (50%), 120.3 MiB/s, 1 s left`.
    static let progressLine = try! NSRegularExpression(pattern: #"""
        ^dossier: \d+(\.\d)?( (B|KiB|MiB|GiB))?( entries)?( of \d+(\.\d)?( (B|KiB|MiB|GiB))?( entries)? \(\d{1,3}%\))?\
        (, \d+(\.\d)? ((B|KiB|MiB|GiB)/s|entries/s)(, \d+ (s|min \d+ s|h \d+ min) left)?)?$
        """#.replacingOccurrences(of: "\\\n", with: ""))

    struct World {
        let dir: CLIFolder
        let staff: [String: String]
        let counselKey: String
        let counselLine: String
        let counselMachine: [String: String]
        let file: String
        let content: Data
    }

    /// A vault, a counsel who trusts it, and an 8 MiB file whose name and title must never show.
    private func world() throws -> World {
        let dir = try cliFolder()
        let staffKey = dir.file("staff.key"), counselKey = dir.file("counsel.key"), vault = dir.file("vault")
        try expectSuccess(["identity", "new", "-o", staffKey, "--no-passphrase"])
        try expectSuccess(["init", "--vault", vault, "--root-out", vault + ".root", "--no-passphrase", "--org", "example.org/dossier", "--identity", staffKey])
        let staff = ["DOSSIER_VAULT": vault, "DOSSIER_IDENTITY": staffKey, "XDG_CONFIG_HOME": dir.file("staff-config")]
        let home = dir.file("home")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: false)
        let counselMachine = ["HOME": home, "XDG_CONFIG_HOME": home, "DOSSIER_IDENTITY": counselKey]
        let counselLine = try expectSuccess(["identity", "new", "-o", counselKey, "--no-passphrase"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let org = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try expectSuccess(["org", "show", "--json"], env: staff).stdout.utf8))
                                as? [String: Any])
        try expectSuccess(["trust", "add", try XCTUnwrap(org["publicKey"] as? String), "--name", "Example"], env: counselMachine)
        var content = Data(count: 8 << 20)
        content.withUnsafeMutableBytes { b in for i in stride(from: 0, to: b.count, by: 4096) { b[i] = UInt8(truncatingIfNeeded: i >> 12) } }
        let file = dir.file("Secret-witness-name.pdf")
        try content.write(to: URL(fileURLWithPath: file))
        return World(dir: dir, staff: staff, counselKey: counselKey, counselLine: counselLine, counselMachine: counselMachine, file: file, content: content)
    }

    private func merged(_ a: [String: String], _ b: [String: String]) -> [String: String] { a.merging(b) { $1 } }

    /// What a terminal showed, split into the progress lines drawn and what remained once the
    /// last one was erased. Fails unless every progress line holds amounts only and the last
    /// one was erased before anything else was printed.
    private func onTerminal(_ arguments: [String], env: [String: String], file: StaticString = #filePath,
                            line: UInt = #line) throws -> (progress: [String], rest: String) {
        let (code, output) = try runDossierOnATerminal(arguments, env: env, file: file, line: line)
        let text = String(decoding: output, as: UTF8.self)
        XCTAssertEqual(code, 0, text.debugDescription, file: file, line: line)
        let pieces = text.components(separatedBy: Self.erase)
        guard pieces.count > 1 else { return ([], text) }
        XCTAssertEqual(pieces.first, "", "nothing comes before the first progress line: \(text.debugDescription)", file: file, line: line)
        let progress = Array(pieces.dropFirst().dropLast())
        for p in progress {
            XCTAssertEqual(Self.progressLine.numberOfMatches(in: p, range: NSRange(p.startIndex..., in: p)), 1,
                           "not a progress line of amounts: \(p.debugDescription)", file: file, line: line)
        }
        return (progress, pieces.last!)
    }

    /// Runs `arguments` in a pipe as before progress existed, with DOSSIER_PROGRESS_AFTER=0, and
    /// with --quiet; requires the three to print the same bytes (`normalise` hides what differs
    /// from run to run, a new id), and returns the first.
    private func samePipeOutput(_ arguments: [String], env: [String: String], normalise: (String) -> String = { $0 },
                                before: () throws -> Void = {}, file: StaticString = #filePath, line: UInt = #line) throws -> CLIResult {
        var results: [CLIResult] = []
        for (extra, environment) in [([], env), ([], merged(env, Self.now)), (["--quiet"], merged(env, Self.now))] {
            try before()
            results.append(try expectSuccess(arguments + extra, env: environment, file: file, line: line))
        }
        for r in results.dropFirst() {
            XCTAssertEqual(normalise(r.stdout), normalise(results[0].stdout), "\(r)", file: file, line: line)
            XCTAssertEqual(normalise(r.stderr), normalise(results[0].stderr), "\(r)", file: file, line: line)
            XCTAssertFalse((r.stdout + r.stderr).contains("\u{1b}"), "\(r)", file: file, line: line)
        }
        return results[0]
    }

    func testProgressOnATerminalNoneInAPipeOrWithQuiet() throws {
        let w = try world()
        let deposit = ["deposit", w.file, "--kind", "expert-report", "--title", "Hidden title"]

        // deposit: in a pipe, the id and nothing else, whatever DOSSIER_PROGRESS_AFTER says.
        let idPattern = try NSRegularExpression(pattern: "doc-[a-z2-7]{13}")
        let noID = { (s: String) in idPattern.stringByReplacingMatches(in: s, range: NSRange(s.startIndex..., in: s), withTemplate: "doc-ID") }
        let piped = try samePipeOutput(deposit, env: w.staff, normalise: noID)
        XCTAssertEqual(noID(piped.stdout), "doc-ID\n")
        XCTAssertEqual(piped.stderr, "")

        // On a terminal: progress of the 8 MiB, erased before the id.
        let (drawn, rest) = try onTerminal(deposit, env: merged(w.staff, Self.now))
        XCTAssertFalse(drawn.isEmpty, "no progress on the terminal")
        XCTAssertTrue(drawn.allSatisfy { $0.contains(" of 8.0 MiB (") }, "\(drawn)")
        XCTAssertEqual(noID(rest), "doc-ID\r\n")
        let doc = rest.trimmingCharacters(in: .whitespacesAndNewlines)

        // --quiet on a terminal: nothing but the result.
        let (quietDrawn, quietRest) = try onTerminal(deposit + ["--quiet"], env: merged(w.staff, Self.now))
        XCTAssertEqual(quietDrawn, [])
        XCTAssertEqual(noID(quietRest), "doc-ID\r\n")
        // Work shorter than a second (the default wait) shows none.
        let small = w.dir.file("small.txt")
        try Data("small".utf8).write(to: URL(fileURLWithPath: small))
        let (shortDrawn, shortRest) = try onTerminal(["deposit", small, "--kind", "expert-report", "--title", "Short"], env: w.staff)
        XCTAssertEqual(shortDrawn, [])
        XCTAssertEqual(noID(shortRest), "doc-ID\r\n")

        // retrieve: the same note as before, in a pipe and, after the progress, on a terminal.
        let out = w.dir.file("out.pdf")
        let retrieve = ["retrieve", doc, "-o", out, "--force"]
        let retrieved = try samePipeOutput(retrieve, env: w.staff)
        XCTAssertEqual(retrieved.stdout, "")
        XCTAssertEqual(retrieved.stderr, "dossier: wrote \(out) (8388608 bytes)\n")
        let (retrieveDrawn, retrieveRest) = try onTerminal(retrieve, env: merged(w.staff, Self.now))
        XCTAssertFalse(retrieveDrawn.isEmpty)
        XCTAssertEqual(retrieveRest, "dossier: wrote \(out) (8388608 bytes)\r\n")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out)), w.content)
        XCTAssertEqual(try onTerminal(retrieve + ["--quiet"], env: merged(w.staff, Self.now)).progress, [])

        // package, then open on counsel's machine.
        let counsel = try expectSuccess(["counsel", "add", w.counselLine, "--name", "C. Counsel"], env: w.staff).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try expectSuccess(["counsel", "vet", counsel, "--until", "2099-12-31"], env: w.staff)
        let grant = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try expectSuccess(
            ["grant", doc, "--to", counsel, "--for", "5d", "--json"], env: w.staff).stdout.utf8)) as? [String: Any])["id"] as? String
        let package = w.dir.file("bundle.dpkg")
        let packageCommand = ["package", try XCTUnwrap(grant), "-o", package, "--force"]
        let pkgPattern = try NSRegularExpression(pattern: "pkg-[a-z2-7]{13}")
        let noPackageID = { (s: String) in pkgPattern.stringByReplacingMatches(in: s, range: NSRange(s.startIndex..., in: s), withTemplate: "pkg-ID") }
        let packaged = try samePipeOutput(packageCommand, env: w.staff, normalise: noPackageID)
        XCTAssertEqual(noPackageID(packaged.stdout), "pkg-ID\n")
        XCTAssertTrue(packaged.stderr.hasPrefix("dossier: wrote \(package) for 1 counsel; valid until "), packaged.stderr)
        let (packageDrawn, packageRest) = try onTerminal(packageCommand, env: merged(w.staff, Self.now))
        XCTAssertFalse(packageDrawn.isEmpty)
        XCTAssertEqual(noPackageID(packageRest), noPackageID(packaged.stdout + packaged.stderr).replacingOccurrences(of: "\n", with: "\r\n"))

        let opened = w.dir.file("opened")
        try FileManager.default.createDirectory(atPath: opened, withIntermediateDirectories: false)
        let open = ["open", package, "-o", opened, "--force"]
        let openedPiped = try samePipeOutput(open, env: w.counselMachine)
        let (openDrawn, openRest) = try onTerminal(open, env: merged(w.counselMachine, Self.now))
        XCTAssertFalse(openDrawn.isEmpty)
        XCTAssertEqual(openRest, (openedPiped.stdout + openedPiped.stderr).replacingOccurrences(of: "\n", with: "\r\n"))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: opened + "/Secret-witness-name.pdf")), w.content)

        // audit verify counts entries.
        let verified = try samePipeOutput(["audit", "verify"], env: w.staff)
        XCTAssertTrue(verified.stdout.hasSuffix("log OK\n"), "\(verified)")
        let (verifyDrawn, verifyRest) = try onTerminal(["audit", "verify"], env: merged(w.staff, Self.now))
        XCTAssertFalse(verifyDrawn.isEmpty)
        XCTAssertTrue(verifyDrawn.allSatisfy { $0.contains(" entries") }, "\(verifyDrawn)")
        XCTAssertEqual(verifyRest, verified.stdout.replacingOccurrences(of: "\n", with: "\r\n"))

        // vault copy counts the encrypted bytes it copies; its report is the same in a pipe.
        let copyTo = w.dir.file("copy")
        let copy = ["vault", "copy", try XCTUnwrap(w.staff["DOSSIER_VAULT"]), copyTo]
        let removeCopy = { try? FileManager.default.removeItem(atPath: copyTo); return () }
        let copied = try samePipeOutput(copy, env: w.staff, before: removeCopy)
        XCTAssertTrue(copied.stdout.hasSuffix("copy verified\n"), "\(copied)")
        removeCopy()
        let (copyDrawn, copyRest) = try onTerminal(copy, env: merged(w.staff, Self.now))
        XCTAssertFalse(copyDrawn.isEmpty, "no progress for vault copy")
        XCTAssertTrue(copyDrawn.allSatisfy { $0.contains(" MiB (") }, "\(copyDrawn)")
        XCTAssertEqual(copyRest, copied.stdout.replacingOccurrences(of: "\n", with: "\r\n"))

        // Nothing drawn names a file or a title (amounts only: checked line by line above).
        for line in drawn + retrieveDrawn + packageDrawn + openDrawn + verifyDrawn + copyDrawn {
            XCTAssertFalse(line.contains("Secret") || line.contains("Hidden") || line.contains("witness") || line.contains(w.dir.path), line)
        }
    }

    /// DOSSIER_PROGRESS_AFTER must be a number of seconds; a wrong one is said before any work,
    /// and only where progress would show (in a pipe nothing reads it).
    func testAWrongProgressDelayIsRefusedOnATerminalOnly() throws {
        let w = try world()
        let deposit = ["deposit", w.file, "--kind", "expert-report", "--title", "T"]
        let (code, output) = try runDossierOnATerminal(deposit, env: merged(w.staff, ["DOSSIER_PROGRESS_AFTER": "soon"]))
        let text = String(decoding: output, as: UTF8.self)
        XCTAssertEqual(code, 65, text)
        XCTAssertTrue(text.contains("dossier: error: DOSSIER_PROGRESS_AFTER is 'soon'"), text)
        XCTAssertTrue(text.contains("dossier: hint: "), text)
        XCTAssertEqual(try expectSuccess(["list", "--json"], env: w.staff).stdout.filter { !$0.isWhitespace }, "[]", "nothing was deposited")
        try expectSuccess(deposit, env: merged(w.staff, ["DOSSIER_PROGRESS_AFTER": "soon"]))
    }

    func testTheHelpOffersQuiet() throws {
        for command in [["deposit"], ["retrieve"], ["package"], ["open"], ["audit", "verify"]] {
            let help = try expectSuccess(command + ["--help"]).stdout
            XCTAssertTrue(help.contains("--quiet"), "\(command) --help does not offer --quiet")
            XCTAssertTrue(help.contains("Show no progress"), help)
        }
    }
}
