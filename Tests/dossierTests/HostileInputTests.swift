import DossierCrypto
import Foundation
import XCTest

/// The hostile-input corpus (`Corpus/`, made by `Corpus/generate.py`) run through the built
/// `dossier`: malformed packages, secret identity files, public identity lines, policies,
/// checkpoints, log exports and requests from counsel. Each case names the commands to run and
/// the outcome each must have; on top of that, every run must
///
/// - end by exit, never by a signal (no trap, no crash), within `hostileTimeoutSeconds`;
/// - when it fails, exit non-zero (with the documented code, where the case gives one) and
///   print a `dossier: error:` line holding the case's words for that command (so that it fails
///   for the reason it was made for), with nothing on stdout (`inspect` may show what a package
///   claims, but only under `signature: INVALID`);
/// - print no terminal control characters (nothing read from a file may drive the terminal);
/// - create no file: the output folder, the working folder, TMPDIR and HOME stay empty, the
///   input's folder holds only the input, and the trust store and vault are unchanged;
/// - for secret identity files, never echo the file's secret line;
/// - for requests, leave the inbox of the case's own vault empty when refused, and hold the one
///   request when imported.
final class HostileInputTests: XCTestCase {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Corpus").path

    func testPackageCorpus() throws { try runCorpus("package") }
    func testIdentityCorpus() throws { try runCorpus("identity") }
    func testPublicIdentityCorpus() throws { try runCorpus("public-identity") }
    func testPolicyCorpus() throws { try runCorpus("policy") }
    func testCheckpointCorpus() throws { try runCorpus("checkpoint") }
    func testExportCorpus() throws { try runCorpus("export") }
    func testRequestCorpus() throws { try runCorpus("request") }

    /// The corpus is complete and well formed: every kind has its controls and every kind of
    /// damage the issue lists, every header names commands of its kind, every input has a header.
    func testCorpusCoversEveryKindOfDamage() throws {
        for kind in HostileCorpus.kinds {
            let cases = try HostileCorpus.cases(kind)
            let names = cases.map(\.name)
            XCTAssertGreaterThanOrEqual(cases.count, 30, "\(kind): a corpus this small misses damage")
            for prefix in ["valid", "truncated-", "flip-", "type-empty", "type-png", "type-folder"] {
                XCTAssertTrue(names.contains { $0.hasPrefix(prefix) }, "\(kind): no case named \(prefix)…")
            }
            // Public lines and C2SP checkpoints carry no version.
            if kind != "public-identity" && kind != "checkpoint" {
                XCTAssertTrue(names.contains { $0.contains("version") || $0.hasPrefix("marker-") }, "\(kind): no wrong-version case")
            }
            if kind != "public-identity" {
                XCTAssertTrue(names.contains { $0.contains("trailing") }, "\(kind): no trailing-garbage case")
            }
            XCTAssertTrue(cases.contains { $0.expectations.contains { $0.outcome == .success } }, "\(kind): no control that must succeed")
            for c in cases {
                XCTAssertFalse(c.expectations.isEmpty, "\(kind)/\(c.name): no command")
                for e in c.expectations {
                    XCTAssertTrue(HostileCorpus.commands[kind]!.contains(e.command), "\(kind)/\(c.name): unknown command \(e.command)")
                    if e.outcome != .success {
                        XCTAssertFalse((e.words ?? "").isEmpty, "\(kind)/\(c.name): \(e.command) fails but the header gives no words its message must contain")
                    }
                    if kind == "package", e.command == "open", e.outcome == .success {
                        XCTAssertFalse(c.files.isEmpty, "\(kind)/\(c.name): open succeeds but no files: line says what it writes")
                    }
                }
                if !c.isFolder { XCTAssertNotNil(c.input, "\(kind)/\(c.name): no input file beside the header") }
            }
            let headers = Set(cases.map(\.name))
            for file in try FileManager.default.contentsOfDirectory(atPath: Self.corpus + "/" + kind) where !file.hasSuffix(".txt") {
                XCTAssertTrue(headers.contains((file as NSString).deletingPathExtension), "\(kind)/\(file) has no header NAME.txt")
            }
        }
    }

    /// Inputs too large to check in, made here: over each reader's size limit, or sparse files
    /// of gigabytes that must be refused without being read.
    func testOversizedInputs() throws {
        let world = try HostileWorld(withVault: true)
        defer { world.remove() }
        let scratch = try HostileFolder(prefix: "dossier-hostile-big")
        defer { scratch.remove() }
        let fixtures = Self.corpus + "/fixtures/"
        func file(_ name: String, _ data: Data, sparseTo size: UInt64? = nil) throws -> String {
            let path = try scratch.write(name, data)
            if let size {
                let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
                try h.truncate(atOffset: size)
                try h.close()
            }
            return path
        }
        let policy = try Data(contentsOf: URL(fileURLWithPath: Self.corpus + "/policy/valid-default.toml"))
        let staff = try Data(contentsOf: URL(fileURLWithPath: fixtures + "staff.key"))
        let line = try Data(contentsOf: URL(fileURLWithPath: Self.corpus + "/public-identity/valid.pub"))
        let package = try Data(contentsOf: URL(fileURLWithPath: Self.corpus + "/package/valid.dpkg"))
        let export = try Data(contentsOf: URL(fileURLWithPath: fixtures + "log.dlog"))
        let request = try Data(contentsOf: URL(fileURLWithPath: Self.corpus + "/request/valid-python.drq"))
        let tooLarge = "too large for this kind of file"
        let cases: [HostileCase] = [
            .init(kind: "policy", name: "over-1mib", input: try file("big.toml", policy + Data(repeating: 0x23, count: 1 << 20)),
                  expectations: [.init("check", .failure(74), words: tooLarge)]),
            .init(kind: "identity", name: "over-64kib", input: try file("big.key", staff + Data(repeating: 0x0a, count: 1 << 16)),
                  expectations: [.init("show", .failure(74), words: tooLarge), .init("load", .failure(74), words: tooLarge)]),
            .init(kind: "public-identity", name: "over-64kib", input: try file("big.pub", line + Data(repeating: 0x20, count: 1 << 16)),
                  expectations: [.init("show", .failure(74), words: tooLarge)]),
            .init(kind: "checkpoint", name: "over-1mib", input: try file("big.note", Data(repeating: 0x61, count: (1 << 20) + 1)),
                  expectations: [.init("verify", .failure(74), words: tooLarge), .init("proof", .failure(74), words: tooLarge)]),
            // The zeros after the signature are refused as such, without reading 8 GiB.
            .init(kind: "package", name: "sparse-8gib", input: try file("big.dpkg", package, sparseTo: 8 << 30),
                  expectations: [.init("inspect", .failure(65), words: "unexpected bytes after the signature"),
                                 .init("open", .failure(65), words: "unexpected bytes after the signature")]),
            .init(kind: "export", name: "sparse-64mib", input: try file("big.dlog", export, sparseTo: 64 << 20),
                  expectations: [.init("verify", .failure(65), words: "not UTF-8 text ending in a newline")]),
            // Refused on its size alone, before anything is read or copied into the vault.
            .init(kind: "request", name: "sparse-over-64mib", input: try file("big.drq", request, sparseTo: (64 << 20) + 1),
                  expectations: [.init("import", .failure(65), words: "is not a valid Dossier request: it is larger than 64 MiB")]),
            // Within the limit, so kept while it is checked: the 64 MiB copy must go with the refusal.
            .init(kind: "request", name: "sparse-64mib", input: try file("limit.drq", request, sparseTo: 64 << 20),
                  expectations: [.init("import", .failure(65), words: "unexpected bytes after the signature")]),
        ]
        for var c in cases {
            c.linkInput = true
            report(c, try HostileCorpus.check(c, in: world))
        }
    }

    /// An identity file asking for the highest Argon2id costs dossier accepts is refused (or
    /// its wrong passphrase reported) in bounded time: the limits exist so that a planted file
    /// cannot make dossier allocate gigabytes and spin for minutes.
    func testIdentityAtTheHighestAcceptedCost() throws {
        let world = try HostileWorld(withVault: true)
        defer { world.remove() }
        let text = try String(contentsOfFile: HostileInputTests.corpus + "/fixtures/staff.key", encoding: .utf8)
        let lines = text.split(separator: "\n")
        guard lines.count == 2, var body = Data(base64Encoded: String(lines[1])), body.count == 197 else {
            throw HostileError("fixtures/staff.key is not a passphrase-protected identity file")
        }
        let ops = Argon2idParameters.maximumOps, memory = Argon2idParameters.maximumMemoryKiB
        body.replaceSubrange(69..<77, with: [24, 16, 8, 0, 24, 16, 8, 0].enumerated().map { i, shift in
            UInt8(truncatingIfNeeded: (i < 4 ? ops : memory) >> shift)
        })
        let scratch = try HostileFolder(prefix: "dossier-hostile-cost")
        defer { scratch.remove() }
        let file = try scratch.write("costly.key", Data("\(lines[0])\n\(body.base64EncodedString())\n".utf8))
        let c = HostileCase(kind: "identity", name: "cost-highest-accepted",
                            comment: "Argon2id at \(ops) passes over \(memory) KiB, the highest accepted", input: file,
                            expectations: [.init("show", .success), .init("load", .failure(nil))])
        report(c, try HostileCorpus.check(c, in: world))
    }

    /// A request imported once is refused the second time (exit 73), and so is another request
    /// under the same id: the inbox keeps the first, and nothing of the replay is stored. The
    /// corpus runs each case against a fresh vault, so the replay is here.
    func testReplayedRequestIsRefused() throws {
        let world = try HostileWorld(withVault: false)
        defer { world.remove() }
        let sandbox = try HostileFolder(prefix: "dossier-hostile-replay")
        defer { sandbox.remove() }
        for name in ["work", "tmp", "home"] { try sandbox.folder(name) }
        let vault = try world.makeRequestVault(in: sandbox)
        let env = ["XDG_CONFIG_HOME": world.config, "HOME": sandbox.file("home"), "TMPDIR": sandbox.file("tmp")]
        func importing(_ name: String) throws -> HostileRun {
            try runHostile(["requests", "import", Self.corpus + "/request/\(name).drq"] + world.staffArguments(vault: vault),
                           environment: env, in: sandbox.file("work"))
        }
        let first = try importing("valid-python")
        XCTAssertEqual(first.status, 0, "the first import:\n\(first)")
        let id = first.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(id.hasPrefix("req-"), "the first import prints the request id:\n\(first)")
        let kept = hostileListing(vault, ignoring: isDatabaseJournal)
        for replay in ["valid-python", "replay-same-id"] {
            let run = try importing(replay)
            XCTAssertFalse(run.endedBySignal || run.timedOut, "\(replay) crashed:\n\(run)")
            XCTAssertEqual(run.status, 73, "\(replay) imported again:\n\(run)")
            XCTAssertTrue(run.errorLines.contains { $0.contains("request \(id) is already in the inbox") }, "\(replay):\n\(run)")
            XCTAssertTrue(run.stdout.isEmpty, "\(replay): output on stdout although it failed:\n\(run)")
            XCTAssertEqual(HostileText.terminalControls(in: run.stderr), [], "\(replay):\n\(run)")
            XCTAssertEqual(hostileListing(vault, ignoring: isDatabaseJournal), kept, "\(replay) changed the vault's files")
        }
        XCTAssertEqual(try world.inbox(vault: vault, environment: env, in: sandbox.file("work")), [id])
        XCTAssertEqual(hostileListing(sandbox.file("work")).union(hostileListing(sandbox.file("tmp"))).union(hostileListing(sandbox.file("home"))), [])
    }

    /// Hostile values on the command line get a usage error, not a trap: durations whose
    /// seconds overflow 64 bits are checked by the same parser as policy files.
    func testHostileDurationsOnTheCommandLine() throws {
        let folder = try HostileFolder(prefix: "dossier-hostile-args")
        defer { folder.remove() }
        for duration in ["200000000000000d", "106751991167301d", "9223372036854775807h", "9223372036854775807m"] {
            let run = try runHostile(["grant", "doc-aaaaaaaaaaaaa", "--to", "counsel-aaaaaaaaaaaaa", "--for", duration],
                                     environment: ["HOME": folder.path, "XDG_CONFIG_HOME": folder.path], in: folder.path)
            XCTAssertFalse(run.endedBySignal || run.timedOut, "grant --for \(duration) crashed:\n\(run)")
            if !run.endedBySignal { XCTAssertEqual(run.status, 64, "grant --for \(duration):\n\(run)") }
            XCTAssertEqual(hostileListing(folder.path), [], "grant --for \(duration) left files")
        }
    }

    // MARK: - Running

    func runCorpus(_ kind: String) throws {
        let cases = try HostileCorpus.cases(kind)
        XCTAssertFalse(cases.isEmpty, "no cases in Corpus/\(kind); run Corpus/generate.py")
        let world = try HostileWorld(withVault: kind == "identity")
        defer { world.remove() }
        // Two or more at a time: most of the time goes into starting processes and Argon2id.
        let results = HostileResults(count: cases.count)
        DispatchQueue.concurrentPerform(iterations: cases.count) { i in
            results.set(i, Result { try HostileCorpus.check(cases[i], in: world) })
        }
        var runs = 0, failed = 0
        for (c, result) in zip(cases, results.all) {
            let problems = try result.get()
            runs += c.expectations.count
            if !problems.isEmpty { failed += 1 }
            report(c, problems)
        }
        print("hostile corpus \(kind): \(cases.count) cases, \(runs) runs, \(failed) cases with problems")
    }

    func report(_ c: HostileCase, _ problems: [String], file: StaticString = #filePath, line: UInt = #line) {
        guard !problems.isEmpty else { return }
        XCTFail("\(c.kind)/\(c.name) (\(c.comment)):\n" + problems.joined(separator: "\n"), file: file, line: line)
    }
}

/// Results filled in by concurrent workers.
final class HostileResults: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<[String], any Error>]

    init(count: Int) { results = Array(repeating: .success([]), count: count) }

    func set(_ i: Int, _ r: Result<[String], any Error>) { lock.lock(); results[i] = r; lock.unlock() }

    var all: [Result<[String], any Error>] { lock.lock(); defer { lock.unlock() }; return results }
}

/// One corpus case: an input and what each command must do with it.
struct HostileCase: Sendable {
    enum Outcome: Equatable, Sendable, CustomStringConvertible {
        case success
        /// A non-zero exit; with a code, exactly that one.
        case failure(Int32?)

        var description: String {
            switch self {
            case .success: return "success"
            case .failure(let code): return code.map { "failure \($0)" } ?? "failure"
            }
        }
    }

    struct Expectation: Sendable {
        let command: String
        let outcome: Outcome
        /// For a failure: words its `dossier: error:` line must contain.
        let words: String?
        init(_ command: String, _ outcome: Outcome, words: String? = nil) {
            self.command = command
            self.outcome = outcome
            self.words = words
        }
    }

    let kind: String
    let name: String
    var comment = ""
    /// The input file; nil for a folder case.
    var input: String?
    var isFolder = false
    var mode: mode_t = 0o600
    /// Hard-link the input into the sandbox instead of copying it (sparse files of gigabytes).
    var linkInput = false
    /// What `open` must write, for a case where it succeeds.
    var files: [String] = []
    var expectations: [Expectation] = []

    init(kind: String, name: String, comment: String = "", input: String? = nil, expectations: [Expectation] = []) {
        self.kind = kind
        self.name = name
        self.comment = comment
        self.input = input
        self.expectations = expectations
    }
}

enum HostileCorpus {
    static let kinds = ["package", "identity", "public-identity", "policy", "checkpoint", "export", "request"]
    static let commands: [String: Set<String>] = [
        "package": ["inspect", "open"], "identity": ["show", "load"], "public-identity": ["show"], "policy": ["check"],
        "checkpoint": ["verify", "proof", "proof-test-key"], "export": ["verify"], "request": ["import", "show"],
    ]

    /// The cases of one kind, from their headers (see Corpus/generate.py for the format).
    static func cases(_ kind: String) throws -> [HostileCase] {
        let folder = HostileInputTests.corpus + "/" + kind
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        var out: [HostileCase] = []
        for header in files where header.hasSuffix(".txt") {
            let name = String(header.dropLast(4))
            var c = HostileCase(kind: kind, name: name)
            c.input = files.first { $0 != header && ($0 as NSString).deletingPathExtension == name }.map { folder + "/" + $0 }
            let text = try String(contentsOfFile: folder + "/" + header, encoding: .utf8)
            for line in text.split(separator: "\n") {
                guard let colon = line.firstIndex(of: ":") else { throw HostileError("\(kind)/\(header): bad line '\(line)'") }
                let key = String(line[..<colon]), value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                switch key {
                case "comment": c.comment = value
                case "input": c.isFolder = value == "folder"
                case "mode": c.mode = mode_t(value, radix: 8) ?? 0o600
                case "files": c.files = value.split(separator: " ").map(String.init)
                default:
                    // `failure [EXIT] ["WORDS"]`: the words are what lies between the first and the
                    // last double quote (they may hold quotes themselves).
                    var outcome = value, words: String?
                    if let open = value.firstIndex(of: "\""), let close = value.lastIndex(of: "\""), open < close {
                        words = String(value[value.index(after: open)..<close])
                        outcome = value[..<open].trimmingCharacters(in: .whitespaces)
                    }
                    let parts = outcome.split(separator: " ")
                    switch (parts.first, parts.count) {
                    case ("success", 1) where words == nil: c.expectations.append(.init(key, .success))
                    case ("failure", 1): c.expectations.append(.init(key, .failure(nil), words: words))
                    case ("failure", 2) where Int32(parts[1]) != nil:
                        c.expectations.append(.init(key, .failure(Int32(parts[1])), words: words))
                    default: throw HostileError("\(kind)/\(header): bad outcome '\(value)'")
                    }
                }
            }
            out.append(c)
        }
        return out
    }

    /// Runs every command of `c` and returns what went wrong (empty when all is well).
    static func check(_ c: HostileCase, in world: HostileWorld) throws -> [String] {
        var problems: [String] = []
        for e in c.expectations {
            let sandbox = try HostileFolder(prefix: "dossier-hostile-case")
            defer { sandbox.remove() }
            for name in ["in", "out", "work", "tmp", "home"] { try sandbox.folder(name) }
            let inputName = c.input.map { ($0 as NSString).lastPathComponent } ?? "\(c.name).input"
            let input = sandbox.file("in/" + inputName)
            if c.isFolder {
                try sandbox.folder("in/" + inputName)
            } else if let source = c.input {
                if c.linkInput {
                    guard link(source, input) == 0 else { throw HostileError("cannot link \(source): errno \(errno)") }
                } else {
                    try FileManager.default.copyItem(atPath: source, toPath: input)
                }
                chmod(input, c.mode)
            }
            let environment = ["XDG_CONFIG_HOME": world.config, "HOME": sandbox.file("home"), "TMPDIR": sandbox.file("tmp")]
            // A request case has a vault of its own for each run, so that no import changes what
            // another run finds; `show` reads the request its own import kept.
            let vault = c.kind == "request" ? try world.makeRequestVault(in: sandbox) : world.vault
            var subject = input
            if c.kind == "request", e.command == "show" {
                let imported = try runHostile(world.arguments(kind: c.kind, command: "import", input: input, output: "", vault: vault)!,
                                              environment: environment, in: sandbox.file("work"))
                guard imported.status == 0, !imported.endedBySignal else {
                    problems.append("[show] the import before it failed:\n\(imported)")
                    continue
                }
                subject = imported.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            guard let arguments = world.arguments(kind: c.kind, command: e.command, input: subject, output: sandbox.file("out"), vault: vault) else {
                problems.append("[\(e.command)] unknown command for \(c.kind)")
                continue
            }
            let shared = world.sharedListing()
            let kept = c.kind == "request" ? hostileListing(vault, ignoring: isDatabaseJournal) : []
            let run = try runHostile(arguments, environment: environment, in: sandbox.file("work"))
            var found: [String] = []
            if run.timedOut {
                found.append("did not finish within \(Int(hostileTimeoutSeconds)) s (a hang)")
            } else if run.endedBySignal {
                found.append("crashed: killed by signal \(run.status)")
            } else {
                switch e.outcome {
                case .success:
                    if run.status != 0 { found.append("expected success, got exit \(run.status)") }
                case .failure(let code):
                    if run.status == 0 { found.append("expected a failure\(code.map { " (exit \($0))" } ?? ""), got exit 0") }
                    else if let code, run.status != code { found.append("expected exit \(code), got \(run.status)") }
                    if !run.hasErrorLine {
                        found.append("no 'dossier: error:' line on stderr")
                    } else if let words = e.words, !run.errorLines.contains(where: { $0.contains(words) }) {
                        found.append("the error does not say \"\(words)\"")
                    }
                    // A refused input prints nothing a script could take for a result. `inspect` is
                    // the exception: it shows what a package claims, with `signature: INVALID`,
                    // so that counsel can report it (counsel-guide.md), and exits non-zero; then
                    // that line must be there.
                    if !run.stdout.isEmpty, e.command != "inspect" || !run.stdoutSaysInvalidSignature {
                        found.append("output on stdout although it failed: \(run.stdoutText.prefix(200))")
                    }
                }
            }
            for (stream, data) in [("stdout", run.stdout), ("stderr", run.stderr)] {
                let controls = HostileText.terminalControls(in: data)
                if !controls.isEmpty { found.append("terminal control characters on \(stream): \(controls.prefix(5).joined(separator: ", "))") }
            }
            // Files: only the input, and what a successful open writes.
            var expected: Set<String> = ["in", "in/" + inputName, "out", "work", "tmp", "home"]
            if c.kind == "request" {
                // The vault is checked on its own below.
                expected.formUnion(hostileListing(vault, ignoring: isDatabaseJournal).map { "vault/" + $0 })
                expected.insert("vault")
                if e.outcome == .success || e.command == "show" {
                    let held = run.endedBySignal || run.timedOut ? nil : try? world.inbox(vault: vault, environment: environment, in: sandbox.file("work"))
                    if held?.count != 1 { found.append("the inbox holds \(held.map { "\($0)" } ?? "what cannot be listed"), not the one request imported") }
                } else {
                    found.append(contentsOf: HostileCorpus.storedRequests(world: world, vault: vault, kept: kept, environment: environment,
                                                                          in: sandbox.file("work")))
                }
            }
            if c.kind == "package", e.command == "open", e.outcome == .success, !run.timedOut {
                for f in c.files {
                    expected.insert("out/" + f)
                    if let mode = hostileMode(sandbox.file("out/" + f)), mode != 0o600 {
                        found.append("out/\(f) has mode \(String(mode, radix: 8)), not 600")
                    }
                }
            }
            let listing = hostileListing(sandbox.path).filter { !($0.hasPrefix("vault/") && isDatabaseJournal(($0 as NSString).lastPathComponent)) }
            if listing != expected {
                let extra = listing.subtracting(expected).sorted(), missing = expected.subtracting(listing).sorted()
                found.append("files: \(extra.isEmpty ? "" : "unexpected \(extra) ")\(missing.isEmpty ? "" : "missing \(missing)")")
            }
            if world.sharedListing() != shared { found.append("the trust store or the vault folder changed") }
            if c.kind == "identity", !c.isFolder, let source = c.input {
                for leak in HostileCorpus.secretLeaks(of: source, in: run) { found.append(leak) }
            }
            if !found.isEmpty {
                problems.append("[\(e.command): expected \(e.outcome)] " + found.joined(separator: "; ") + "\n" + run.description)
            }
        }
        return problems
    }

    /// What a refused import left in its vault: any new file (an empty folder in blobs/ aside,
    /// see below), and any request in the inbox, which must be empty.
    static func storedRequests(world: HostileWorld, vault: String, kept: Set<String>, environment: [String: String],
                               in directory: String) -> [String] {
        var found: [String] = []
        // An import copies the request into blobs/XY/ before it checks it, and removes the copy
        // when it is refused, but not the folder XY it made for it. An empty folder holds no
        // request; any file does.
        let now = hostileListing(vault, ignoring: isDatabaseJournal)
        let gained = now.subtracting(kept).filter { path in
            var isFolder: ObjCBool = false
            let full = vault + "/" + path
            let empty = FileManager.default.fileExists(atPath: full, isDirectory: &isFolder) && isFolder.boolValue
                && ((try? FileManager.default.contentsOfDirectory(atPath: full)) ?? ["?"]).isEmpty
            return !(empty && path.hasPrefix("blobs/") && !path.dropFirst(6).contains("/"))
        }
        if !gained.isEmpty || !kept.subtracting(now).isEmpty {
            found.append("the vault's files changed: gained \(gained.sorted()), lost \(kept.subtracting(now).sorted())")
        }
        do {
            let held = try world.inbox(vault: vault, environment: environment, in: directory)
            if !held.isEmpty { found.append("the refused request is in the inbox: \(held)") }
        } catch {
            found.append("the inbox cannot be listed after the refusal: \(error)")
        }
        return found
    }

    /// Pieces of a secret identity file's second line (its keys, in base64) found in the output.
    static func secretLeaks(of path: String, in run: HostileRun) -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        guard lines.count >= 2, lines[1].count >= 16 else { return [] }
        let secret = Array(lines[1])
        let output = run.stdoutText + run.stderrText
        var leaks: [String] = []
        for start in stride(from: 0, through: secret.count - 16, by: 8) where output.contains(String(secret[start..<start + 16])) {
            leaks.append("the output echoes the secret line (characters \(start)–\(start + 15))")
            break
        }
        return leaks
    }
}

/// What the corpus commands need: a trust store trusting the corpus organisation and the
/// generator's test organisation, private copies of the fixture identities, (for identity
/// cases) a vault whose staff member is fixtures/staff.key, and (for requests) copies of the
/// vault of fixtures/request-vault.sqlite, to whose intake key the request cases are sealed, and
/// its staff member fixtures/request-staff.key.
final class HostileWorld: Sendable {
    let folder: HostileFolder
    let fixtures = HostileInputTests.corpus + "/fixtures"
    let config: String
    let keys: [String: String]
    let counselKey: String
    let passFile: String
    let requestStaffKey: String
    let vault: String

    init(withVault: Bool) throws {
        folder = try HostileFolder(prefix: "dossier-hostile-world")
        config = try folder.folder("config")
        var keys: [String: String] = [:]
        for line in try String(contentsOfFile: fixtures + "/keys.txt", encoding: .utf8).split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { keys[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        self.keys = keys
        counselKey = try folder.write("counsel.key", Data(contentsOf: URL(fileURLWithPath: fixtures + "/counsel.key")))
        let staffKey = try folder.write("staff.key", Data(contentsOf: URL(fileURLWithPath: fixtures + "/staff.key")))
        requestStaffKey = try folder.write("request-staff.key", Data(contentsOf: URL(fileURLWithPath: fixtures + "/request-staff.key")))
        passFile = fixtures + "/staff.pass"
        vault = folder.file("vault")
        let work = try folder.folder("work")
        let env = ["XDG_CONFIG_HOME": config, "HOME": work]
        for (key, name) in [("org-key", "Corpus organisation"), ("test-org-key", "Corpus test organisation")] {
            guard let line = keys[key] else { throw HostileError("Corpus/fixtures/keys.txt has no \(key)") }
            let r = try runHostile(["trust", "add", line, "--name", name], environment: env, in: work)
            guard r.status == 0, !r.endedBySignal else { throw HostileError("setup failed: \(r)") }
        }
        if withVault {
            let r = try runHostile(["init", "--vault", vault, "--root-out", vault + ".root", "--no-passphrase", "--org", "corpus.example/dossier", "--identity", staffKey,
                                    "--passphrase-file", passFile], environment: env, in: work, timeout: 120)
            guard r.status == 0, !r.endedBySignal else { throw HostileError("setup failed: \(r)") }
        }
    }

    /// A fresh vault folder `vault` in `sandbox` from fixtures/request-vault.sqlite: the vault in
    /// which the generator made the intake key the request cases are sealed to. A vault is its
    /// database and a blobs/ folder; git keeps no empty folder, so the folder is made here.
    func makeRequestVault(in sandbox: HostileFolder) throws -> String {
        let vault = try sandbox.folder("vault")
        try sandbox.folder("vault/blobs")
        _ = try sandbox.write("vault/vault.sqlite", Data(contentsOf: URL(fileURLWithPath: fixtures + "/request-vault.sqlite")))
        return vault
    }

    /// The options that open a request vault as its staff member, fixtures/request-staff.key.
    func staffArguments(vault: String) -> [String] { ["--vault", vault, "--identity", requestStaffKey] }

    /// The ids of the requests in the inbox of `vault` (`requests --json`).
    func inbox(vault: String, environment: [String: String], in directory: String) throws -> [String] {
        let r = try runHostile(["requests", "--json"] + staffArguments(vault: vault), environment: environment, in: directory)
        guard r.status == 0, !r.endedBySignal,
              let list = try JSONSerialization.jsonObject(with: r.stdout) as? [[String: Any]] else {
            throw HostileError("cannot list the inbox: \(r)")
        }
        return list.map { $0["id"] as? String ?? "?" }
    }

    /// The argv for one command of the corpus on `input` (for a request's `show`, the id its
    /// import printed); `vault` is the vault of the run.
    func arguments(kind: String, command: String, input: String, output: String, vault: String) -> [String]? {
        let fp = keys["org-fingerprint"] ?? "", noteKey = keys["note-key"] ?? "", testNoteKey = keys["test-note-key"] ?? ""
        switch (kind, command) {
        case ("package", "inspect"): return ["inspect", input]
        case ("package", "open"): return ["open", input, "--identity", counselKey, "-o", output]
        case ("identity", "show"), ("public-identity", "show"): return ["identity", "show", input]
        case ("identity", "load"): return ["staff", "list", "--vault", vault, "--identity", input, "--passphrase-file", passFile]
        case ("request", "import"): return ["requests", "import", input] + staffArguments(vault: vault)
        case ("request", "show"): return ["requests", "show", input] + staffArguments(vault: vault)
        case ("policy", "check"): return ["policy", "check", input]
        case ("checkpoint", "verify"):
            return ["audit", "verify", "--export", fixtures + "/log.dlog", "--org-fingerprint", fp, "--checkpoint", input]
        case ("checkpoint", "proof"): return ["audit", "verify-proof", fixtures + "/entry.proof", "--checkpoint", input, "--note-key", noteKey]
        case ("checkpoint", "proof-test-key"):
            return ["audit", "verify-proof", fixtures + "/entry.proof", "--checkpoint", input, "--note-key", testNoteKey]
        case ("export", "verify"): return ["audit", "verify", "--export", input, "--org-fingerprint", fp]
        default: return nil
        }
    }

    /// The trust store and the vault, which no hostile input may change (SQLite journals aside).
    func sharedListing() -> Set<String> {
        hostileListing(config).union(hostileListing(vault, ignoring: isDatabaseJournal).map { "vault/" + $0 })
    }

    func remove() { folder.remove() }
}
