import Foundation
import XCTest

/// Titles, file names, tags and names come from people and from outside the organisation:
/// whatever they hold, what `dossier` prints can neither drive the terminal (escape sequences,
/// C1 controls, a bare carriage return, bidirectional overrides) nor add a row or a column
/// to what scripts read (docs/threat-model.md, promise 11).
final class TerminalOutputTests: XCTestCase {
    /// Sequences a hostile title or name might carry: a window title (OSC 0), a hyperlink
    /// (OSC 8), clear screen, cursor up and erase line (to hide the rows above), a bare carriage
    /// return, a bell, a right-to-left override, a C1 CSI, and a newline and a tab that would
    /// fake a row and a column.
    static let hostile = "\u{1b}]0;owned\u{07}\u{1b}]8;;https://evil.example/\u{1b}\\click\u{1b}]8;;\u{1b}\\"
        + "\u{1b}[2J\u{1b}[1A\u{1b}[2K\rHIDDEN\u{07}\u{202e}fdp.exe\u{9b}2J\nforged\trow"

    private func makeFolder() throws -> CLIFolder { try cliFolder() }

    @discardableResult
    private func succeed(_ arguments: [String], env: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) throws -> CLIResult {
        try expectSuccess(arguments, env: env, file: file, line: line)
    }

    /// What in `output` could drive a terminal or reorder what it shows; empty if nothing.
    private func terminalControls(in output: Data) -> [String] {
        let b = [UInt8](output)
        var found: [String] = []
        let separatorsAndBidi: Set<UInt8> = [0x8e, 0x8f, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae]   // after E2 80
        let isolates: Set<UInt8> = [0xa6, 0xa7, 0xa8, 0xa9]                                           // after E2 81
        for i in b.indices {
            let next: UInt8 = i + 1 < b.count ? b[i + 1] : 0, after: UInt8 = i + 2 < b.count ? b[i + 2] : 0
            switch b[i] {
            case 0x1b: found.append("ESC at \(i)")
            case 0x07: found.append("BEL at \(i)")
            case 0x0d where next != 0x0a: found.append("bare CR at \(i)")
            case 0xc2 where next >= 0x80 && next <= 0x9f: found.append("C1 \(next) at \(i)")
            case 0xe2 where (next == 0x80 && separatorsAndBidi.contains(after)) || (next == 0x81 && isolates.contains(after)):
                found.append("bidi control or separator E2 \(next) \(after) at \(i)")
            default: break
            }
        }
        return found
    }

    /// A vault holding a document, a counsel, a staff member and a grant whose every free-text
    /// field is `hostile`, and an organisation trusted under a hostile name.
    private func hostileVault(_ dir: CLIFolder) throws -> (env: [String: String], doc: String, grant: String) {
        let key = dir.file("staff.key"), vault = dir.file("vault")
        try succeed(["identity", "new", "-o", key, "--no-passphrase"])
        try succeed(["init", "--vault", vault, "--root-out", vault + ".root", "--no-passphrase", "--org", "example.org/dossier", "--identity", key])
        let env = ["DOSSIER_VAULT": vault, "DOSSIER_IDENTITY": key, "XDG_CONFIG_HOME": dir.file("config")]
        let h = Self.hostile
        // The file name as it came from outside: everything a file name can hold but '/'.
        let file = dir.file("scan" + h.replacingOccurrences(of: "/", with: "_") + ".pdf")
        try Data("content".utf8).write(to: URL(fileURLWithPath: file))
        let doc = try succeed(["deposit", file, "--kind", "expert-report", "--title", "Report " + h, "--tag", h, "--tag", "plain",
                               "--case", h, "--jurisdiction", h], env: env).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try succeed(["deposit", file, "--kind", "supporting-material", "--title", "Second\n" + h], env: env)

        let counselLine = try succeed(["identity", "new", "-o", dir.file("counsel.key"), "--no-passphrase"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let counsel = try succeed(["counsel", "add", counselLine, "--name", "Counsel " + h, "--email", h, "--jurisdiction", h,
                                   "--bar-id", h], env: env).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try succeed(["counsel", "vet", counsel, "--until", "2099-12-31", "--note", h], env: env)
        let grant = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try succeed(
            ["grant", doc, "--to", counsel, "--for", "5d", "--purpose", h, "--case", h, "--json"], env: env).stdout.utf8))
            as? [String: Any])["id"] as? String
        let staffLine = try succeed(["identity", "new", "-o", dir.file("bob.key"), "--no-passphrase"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try succeed(["staff", "add", staffLine, "--name", "Staff " + h], env: env)

        let org = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try succeed(["org", "show", "--json"], env: env).stdout.utf8))
                                as? [String: Any])
        // A trusted name is one line (a newline or carriage return is refused); the rest is allowed.
        let oneLine = h.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
        try succeed(["trust", "add", try XCTUnwrap(org["publicKey"] as? String), "--name", "Org " + oneLine], env: env)
        return (env, doc, try XCTUnwrap(grant))
    }

    func testHostileFieldsCannotDriveTheTerminal() throws {
        let dir = try makeFolder()
        let (env, doc, grant) = try hostileVault(dir)
        let counselID = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(try succeed(["counsel", "list", "--json"], env: env)
            .stdout.utf8)) as? [[String: Any]])?.first?["id"] as? String)
        // Each with whether it shows a hostile field (the grants table holds only ids, states and times).
        let commands: [([String], Bool)] = [
            (["list"], true), (["show", doc], true), (["search", "report"], true), (["counsel", "list"], true),
            (["counsel", "show", counselID], true), (["trust", "list"], true), (["staff", "list"], true), (["grants"], false),
            (["grants", grant], true), (["audit", "log", "--resolve"], true),
        ]
        for (arguments, showsHostileField) in commands {
            let (code, output) = try runDossierOnATerminal(arguments, env: env)
            let text = String(decoding: output, as: UTF8.self)
            let what = "dossier \(arguments.joined(separator: " ")):\n\(text.debugDescription)"
            XCTAssertEqual(code, 0, what)
            XCTAssertEqual(terminalControls(in: output), [], what)
            // The hostile field did reach the screen, shown escaped: the run above checked something.
            if showsHostileField {
                XCTAssertTrue(text.contains("\\x1b]0;owned\\x07"), what)
                XCTAssertTrue(text.contains("HIDDEN\\x07\\u{202e}fdp.exe\\x9b2J"), what)
            }
        }
        // The terminal got tables, not the lines for pipes.
        let (_, listed) = try runDossierOnATerminal(["list"], env: env)
        XCTAssertTrue(String(decoding: listed, as: UTF8.self).hasPrefix("ID "), String(decoding: listed, as: UTF8.self).debugDescription)
    }

    /// Through a pipe, each record is one line with its fields, whatever the fields hold.
    func testHostileFieldsCannotAddRowsOrColumnsForScripts() throws {
        let dir = try makeFolder()
        let (env, doc, grant) = try hostileVault(dir)
        let entries = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try succeed(["audit", "log", "--json"], env: env)
            .stdout.utf8)) as? [Any]).count
        for (arguments, rows, columns) in [(["list"], 2, 6), (["search", "hidden"], 2, 6), (["counsel", "list"], 1, 4),
                                           (["staff", "list"], 2, 4), (["trust", "list"], 1, 3), (["grants"], 1, 6),
                                           (["audit", "log", "--resolve"], entries, 5)] {
            let out = try succeed(arguments, env: env)
            let lines = out.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            XCTAssertEqual(lines.count, rows, "\(out)")
            for line in lines { XCTAssertEqual(line.split(separator: "\t", omittingEmptySubsequences: false).count, columns, "\(out)") }
            XCTAssertEqual(terminalControls(in: Data(out.stdout.utf8)), [], "\(out)")
            XCTAssertFalse(out.stdout.contains("\r"), "\(out)")
        }
        // Records shown in full: every line is one of the labelled fields.
        for (arguments, labels) in [(["show", doc], ["id", "kind", "language", "size", "deposited", "title", "file name", "tags", "jurisdiction", "case"]),
                                    (["grants", grant], ["id", "state", "window", "documents", "counsel", "created by", "case", "purpose"])] {
            let out = try succeed(arguments, env: env)
            let lines = out.stdout.split(separator: "\n")
            XCTAssertEqual(lines.map { String($0.prefix { $0 != ":" }) }, labels, "\(out)")
        }
    }
}
