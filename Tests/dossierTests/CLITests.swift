import Foundation
import XCTest

/// The built `dossier` binary end to end (issue 3): the story a new user runs, and every
/// refusal with its documented exit code, a `dossier: error:` line and nothing on stdout.
final class CLITests: XCTestCase {
    static let passphrase = "MARKER-PASS-7f3a"
    static let wrongPassphrase = "MARKER-WRONG-PASS-91bd"
    static let contentMarker = "MARKER-CONTENT-5e9d"

    /// Every run of this test, checked at the end for secrets.
    private var transcript: [CLIResult] = []

    private func makeFolder() throws -> CLIFolder { try cliFolder() }

    @discardableResult
    private func dossier(_ arguments: [String], env: [String: String] = [:], detached: Bool = false,
                         file: StaticString = #filePath, line: UInt = #line) throws -> CLIResult {
        let result = try runDossier(arguments, env: env, detached: detached, file: file, line: line)
        transcript.append(result)
        return result
    }

    /// Runs and asserts exit 0.
    @discardableResult
    private func succeed(_ arguments: [String], env: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) throws -> CLIResult {
        let result = try dossier(arguments, env: env, file: file, line: line)
        XCTAssertEqual(result.exitCode, 0, "\(result)", file: file, line: line)
        XCTAssertFalse(result.stderr.contains("error:"), "\(result)", file: file, line: line)
        return result
    }

    /// Runs and asserts a refusal: exit `code`, a `dossier: error:` line on stderr mentioning
    /// each of `mentioning`, and nothing on stdout.
    @discardableResult
    private func refuse(_ arguments: [String], env: [String: String] = [:], code: Int32, mentioning: [String] = [],
                        detached: Bool = false, file: StaticString = #filePath, line: UInt = #line) throws -> CLIResult {
        let result = try dossier(arguments, env: env, detached: detached, file: file, line: line)
        XCTAssertEqual(result.exitCode, code, "\(result)", file: file, line: line)
        XCTAssertEqual(result.stdout, "", "a refusal must print nothing on stdout: \(result)", file: file, line: line)
        let errorLine = result.stderr.split(separator: "\n").first { $0.hasPrefix("dossier: error: ") }
        XCTAssertNotNil(errorLine, "no `dossier: error:` line: \(result)", file: file, line: line)
        for word in mentioning {
            XCTAssertTrue(result.stderr.contains(word), "the error should mention '\(word)': \(result)", file: file, line: line)
        }
        return result
    }

    /// No passphrase and no document content in anything printed.
    private func assertTranscriptHasNoSecrets(file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(transcript.isEmpty, file: file, line: line)
        for result in transcript {
            for secret in [Self.passphrase, Self.wrongPassphrase, Self.contentMarker] {
                XCTAssertFalse(result.stdout.contains(secret) || result.stderr.contains(secret),
                               "'\(secret)' was printed by: \(result)", file: file, line: line)
            }
        }
    }

    private func write(_ path: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    private func read(_ path: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: path))
    }

    private func json(_ result: CLIResult, file: StaticString = #filePath, line: UInt = #line) throws -> Any {
        do {
            return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
        } catch {
            XCTFail("stdout is not JSON: \(result)", file: file, line: line)
            throw error
        }
    }

    private func jsonArray(_ result: CLIResult, file: StaticString = #filePath, line: UInt = #line) throws -> [[String: Any]] {
        let value = try json(result, file: file, line: line)
        return try XCTUnwrap(value as? [[String: Any]], "not an array of objects: \(result)", file: file, line: line)
    }

    private func ids(_ objects: [[String: Any]], file: StaticString = #filePath, line: UInt = #line) -> [String] {
        objects.map { object in
            let id = object["id"] as? String
            XCTAssertNotNil(id, "an object without an id: \(object)", file: file, line: line)
            return id ?? ""
        }
    }

    private func mode(_ path: String) -> mode_t {
        var st = stat()
        XCTAssertEqual(stat(path, &st), 0, "cannot stat \(path)")
        return st.st_mode & 0o777
    }

    private func regularFiles(under root: String) -> [String] {
        let fm = FileManager.default
        var out: [String] = []
        let walker = fm.enumerator(atPath: root)
        while let relative = walker?.nextObject() as? String {
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: root + "/" + relative, isDirectory: &isDir), !isDir.boolValue { out.append(root + "/" + relative) }
        }
        return out.sorted()
    }

    // MARK: The story

    func testIdentityNewRefusesAPassphraseShorterThanTwelveCharactersAndWritesNothing() throws {
        let dir = try makeFolder()
        let short = dir.file("short.txt"), key = dir.file("new.key")
        try write(short, "eleven char\n")
        let r = try refuse(["identity", "new", "-o", key, "--passphrase-file", short], code: 65, mentioning: ["at least 12 characters"])
        XCTAssertTrue(r.stderr.contains("dossier: hint: ") && r.stderr.contains("--no-passphrase"), "\(r)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: key))
        // Through the environment as well.
        try refuse(["identity", "new", "-o", key], env: ["DOSSIER_PASSPHRASE_FILE": short], code: 65, mentioning: ["12 characters"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: key))
        // Twelve is enough; --no-passphrase stays the deliberate way out.
        try write(short, "twelve chars\n")
        try succeed(["identity", "new", "-o", key, "--passphrase-file", short])
        try succeed(["identity", "new", "-o", dir.file("throwaway.key"), "--no-passphrase"])
    }

    func testIdentityShowRefusesASecretFileOthersCanReadLikeEveryCommand() throws {
        let dir = try makeFolder()
        let key = dir.file("readable.key"), pub = dir.file("readable.pub")
        let line = try succeed(["identity", "new", "-o", key, "--no-passphrase"]).stdout
        try write(pub, line)
        chmod(key, 0o644)
        chmod(pub, 0o644)
        let shown = try refuse(["identity", "show", key], code: 77, mentioning: ["readable by other users", "chmod 600 " + key])
        let loaded = try refuse(["init", "--vault", dir.file("vault"), "--root-out", dir.file("vault") + ".root", "--no-passphrase", "--org", "example.org/x", "--identity", key], code: 77)
        XCTAssertEqual(shown.stderr, loaded.stderr, "identity show must give the same error as the other commands")
        // Only the public line: fine.
        XCTAssertEqual(try succeed(["identity", "show", pub]).stdout.split(separator: "\n").first.map(String.init),
                       line.trimmingCharacters(in: .whitespacesAndNewlines))
        chmod(key, 0o600)
        try succeed(["identity", "show", key])
    }

    func testTrustAddRenamesAnAlreadyTrustedKeyOnlyWithRename() throws {
        let dir = try makeFolder()
        let env = ["XDG_CONFIG_HOME": dir.file("config"), "HOME": dir.path]
        let keys = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Corpus/fixtures/keys.txt"), encoding: .utf8)
        let line = try XCTUnwrap(keys.split(separator: "\n").first { $0.hasPrefix("org-key: ") }).dropFirst("org-key: ".count)
        let key = String(line)
        try succeed(["trust", "add", key, "--name", "Example Defence Project"], env: env)
        try succeed(["trust", "add", key, "--name", "Example Defence Project"], env: env)
        let r = try refuse(["trust", "add", key, "--name", "Impostor"], env: env, code: 73,
                           mentioning: ["already trusted as 'Example Defence Project'", "dossier: hint: ", "--rename"])
        XCTAssertTrue(r.stderr.contains("nothing was changed"), "\(r)")
        XCTAssertTrue(try succeed(["trust", "list"], env: env).stdout.contains("Example Defence Project"))
        try succeed(["trust", "add", key, "--name", "Example Project", "--rename"], env: env)
        let list = try succeed(["trust", "list"], env: env).stdout
        XCTAssertTrue(list.contains("Example Project") && !list.contains("Example Defence Project"), list)
    }

    func testTimeOptionsTakeAnyRFC3339Time() throws {
        let dir = try makeFolder()
        let key = dir.file("staff.key"), vault = dir.file("vault")
        try succeed(["identity", "new", "-o", key, "--no-passphrase"])
        try succeed(["init", "--vault", vault, "--root-out", vault + ".root", "--no-passphrase", "--org", "example.org/times", "--identity", key])
        let env = ["DOSSIER_VAULT": vault]
        func entries(_ arguments: [String]) throws -> Int {
            try XCTUnwrap(try json(try succeed(["audit", "log", "--json"] + arguments, env: env)) as? [Any]).count
        }
        let all = try entries([])
        XCTAssertGreaterThan(all, 0)
        XCTAssertEqual(try entries(["--since", "2000-01-01T00:00:00Z", "--until", "2999-12-31T23:00:49.5+01:00"]), all)
        XCTAssertEqual(try entries(["--since", "2999-12-04T23:00:49.5+01:00"]), 0)
        XCTAssertEqual(try entries(["--until", "2000-01-01T01:00:00.000+01:00"]), 0)
        try succeed(["audit", "exposure", "UC3X-L675-L3OW-4V67", "--since", "2000-01-01T00:00:00-05:00"], env: env)
        let r = try refuse(["audit", "log", "--since", "2026-12-04T23:00:49"], env: env, code: 65, mentioning: ["2026-12-04T23:00:49"])
        XCTAssertTrue(r.stderr.contains("dossier: hint: ") && r.stderr.contains("+01:00"), "\(r)")
        let help = try dossier(["grant", "--help"])
        XCTAssertTrue(help.stdout.contains("2026-12-04T23:00:49.5+01:00"), help.stdout)
    }

    func testTheStoryFromIdentityToDoctor() throws {
        let dir = try makeFolder()
        let pass = dir.file("pass.txt")
        try write(pass, Self.passphrase + "\n")
        let key = dir.file("staff.key")
        let vault = dir.file("vault")

        // A passphrase-protected staff identity.
        let made = try succeed(["identity", "new", "-o", key, "--passphrase-file", pass])
        let publicLine = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(publicLine.hasPrefix("dossier1"), "\(made)")
        XCTAssertEqual(mode(key), 0o600)
        XCTAssertFalse(String(decoding: try read(key), as: UTF8.self).contains(Self.passphrase))

        // init, with flags.
        let created = try succeed(["init", "--vault", vault, "--root-out", vault + ".root", "--no-passphrase", "--org", "example.org/dossier", "--identity", key,
                                   "--passphrase-file", pass, "--name", "Amal Staffname"])
        XCTAssertTrue(created.stdout.contains("fingerprint:"), "\(created)")

        // Everything else through the environment.
        let env = ["DOSSIER_VAULT": vault, "DOSSIER_IDENTITY": key, "DOSSIER_PASSPHRASE_FILE": pass]

        // org show: no identity needed; --vault wins over DOSSIER_VAULT.
        let org = try succeed(["org", "show", "--json"], env: ["DOSSIER_VAULT": vault])
        let orgObject = try XCTUnwrap(try json(org) as? [String: Any], "\(org)")
        let publicKey = try XCTUnwrap(orgObject["publicKey"] as? String, "\(org)")
        let fingerprint = try XCTUnwrap(orgObject["fingerprint"] as? String, "\(org)")
        XCTAssertTrue(publicKey.hasPrefix("dossierorg1"), publicKey)
        XCTAssertNotNil(fingerprint.range(of: "^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$", options: .regularExpression), fingerprint)
        XCTAssertTrue(created.stdout.contains(publicKey) && created.stdout.contains(fingerprint), "init and org show disagree")
        let orgByFlag = try succeed(["org", "show", "--vault", vault], env: ["DOSSIER_VAULT": dir.file("elsewhere")])
        XCTAssertTrue(orgByFlag.stdout.contains(fingerprint))

        // Deposit two files with shared metadata, then one more as JSON.
        let testimony = dir.file("testimony-k.txt"), annex = dir.file("annex.bin"), report = dir.file("report.txt")
        try write(testimony, String(repeating: Self.contentMarker + " the witness statement\n", count: 5000))
        try Data((0..<150_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }).write(to: URL(fileURLWithPath: annex))
        try write(report, "Expert report. " + Self.contentMarker)
        let deposited = try succeed(["deposit", testimony, annex, "--kind", "witness-testimony", "--title", "Testimony of witness Quillon",
                                     "--lang", "fr", "--case", "EXT-2026-014", "--jurisdiction", "Uzbekistan",
                                     "--tag", "urgent", "--tag", "sealed"], env: env)
        let pair = deposited.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(pair.count, 2, "\(deposited)")
        XCTAssertTrue(pair.allSatisfy { $0.hasPrefix("doc-") }, "\(deposited)")
        let (testimonyID, annexID) = (pair.first ?? "", pair.last ?? "")
        let third = try jsonArray(try succeed(["deposit", report, "--kind", "expert-report", "--title", "Prison conditions report",
                                               "--lang", "en", "--json"], env: env))
        XCTAssertEqual(third.count, 1)
        let reportID = try XCTUnwrap(third.first?["id"] as? String)
        XCTAssertEqual(third.first?["title"] as? String, "Prison conditions report")
        XCTAssertEqual(third.first?["kind"] as? String, "expert-report")
        XCTAssertEqual(third.first?["languageName"] as? String, "English (en)")

        // list: JSON objects with ids; plain lines on a pipe; filters.
        let listed = try jsonArray(try succeed(["list", "--json"], env: env))
        XCTAssertEqual(Set(ids(listed)), [testimonyID, annexID, reportID])
        XCTAssertEqual(Set(listed.compactMap { $0["title"] as? String }), ["Testimony of witness Quillon", "Prison conditions report"])
        let plain = try succeed(["list"], env: env)
        let rows = plain.stdout.split(separator: "\n")
        XCTAssertEqual(rows.count, 3, "\(plain)")
        XCTAssertEqual(Set(rows.compactMap { $0.split(separator: "\t").first.map(String.init) }), [testimonyID, annexID, reportID])
        XCTAssertEqual(Set(ids(try jsonArray(try succeed(["list", "--kind", "witness-testimony", "--json"], env: env)))), [testimonyID, annexID])
        XCTAssertEqual(ids(try jsonArray(try succeed(["list", "--lang", "en", "--json"], env: env))), [reportID])
        XCTAssertEqual(Set(ids(try jsonArray(try succeed(["list", "--case", "EXT-2026-014", "--json"], env: env)))), [testimonyID, annexID])

        // show.
        let shown = try succeed(["show", testimonyID], env: env)
        XCTAssertTrue(shown.stdout.contains("Testimony of witness Quillon"), "\(shown)")
        XCTAssertTrue(shown.stdout.contains("testimony-k.txt"), "\(shown)")
        XCTAssertTrue(shown.stdout.contains("EXT-2026-014"), "\(shown)")
        let shownJSON = try XCTUnwrap(try json(try succeed(["show", annexID, "--json"], env: env)) as? [String: Any])
        XCTAssertEqual(shownJSON["id"] as? String, annexID)
        XCTAssertEqual(shownJSON["fileName"] as? String, "annex.bin")
        XCTAssertEqual(shownJSON["tags"] as? [String], ["urgent", "sealed"])
        XCTAssertEqual(shownJSON["size"] as? Int, 150_000)

        // search.
        XCTAssertEqual(Set(ids(try jsonArray(try succeed(["search", "QUILLON", "testimony", "--json"], env: env)))), [testimonyID, annexID])
        XCTAssertEqual(ids(try jsonArray(try succeed(["search", "prison", "--json"], env: env))), [reportID])
        XCTAssertEqual(ids(try jsonArray(try succeed(["search", "prison", "quillon", "--json"], env: env))), [])
        XCTAssertTrue(try succeed(["search", "quillon"], env: env).stdout.contains(testimonyID))

        // retrieve: byte-exact; refuses to overwrite without --force.
        let out = dir.file("retrieved.txt")
        let retrieved = try succeed(["retrieve", testimonyID, "-o", out], env: env)
        XCTAssertEqual(retrieved.stdout, "", "plaintext or notes must not go to stdout")
        XCTAssertEqual(try read(out), try read(testimony))
        try refuse(["retrieve", annexID, "-o", out], env: env, code: 73, mentioning: [out])
        XCTAssertEqual(try read(out), try read(testimony), "a refused retrieve changed the existing file")
        try succeed(["retrieve", annexID, "-o", out, "--force"], env: env)
        XCTAssertEqual(try read(out), try read(annex))
        XCTAssertEqual(mode(out) & 0o077, 0, "plaintext should be written private")
        // --sync: the same file, flushed before success.
        let synced = dir.file("synced.txt")
        try succeed(["retrieve", annexID, "-o", synced, "--sync"], env: env)
        XCTAssertEqual(try read(synced), try read(annex))
        for command in ["retrieve", "package", "open", "grant"] {
            XCTAssertTrue(try succeed([command, "--help"]).stdout.contains("--sync"), "\(command) --help does not offer --sync")
        }

        // remove: a tombstone remains.
        try succeed(["remove", testimonyID, "--reason", "withdrawn by the witness"], env: env)
        let tomb = try XCTUnwrap(try json(try succeed(["show", testimonyID, "--json"], env: env)) as? [String: Any])
        XCTAssertNotNil(tomb["removedAt"] as? String, "\(tomb)")
        XCTAssertNil(tomb["title"] as? String)
        XCTAssertEqual(Set(ids(try jsonArray(try succeed(["list", "--json"], env: env)))), [annexID, reportID])
        XCTAssertEqual(Set(ids(try jsonArray(try succeed(["list", "--include-removed", "--json"], env: env)))), [testimonyID, annexID, reportID])
        try refuse(["retrieve", testimonyID, "-o", dir.file("gone.txt")], env: env, code: 66, mentioning: [testimonyID, "removed"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("gone.txt")))
        try refuse(["remove", testimonyID, "--reason", "again"], env: env, code: 66, mentioning: [testimonyID])

        // staff add / list / remove; --identity wins over DOSSIER_IDENTITY.
        let bobKey = dir.file("bob.key")
        let bobLine = try succeed(["identity", "new", "-o", bobKey, "--no-passphrase"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let bobFP = try succeed(["staff", "add", bobLine, "--name", "Bob Staffname"], env: env).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertNotNil(bobFP.range(of: "^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$", options: .regularExpression), bobFP)
        XCTAssertEqual(Set(ids(try jsonArray(try succeed(["list", "--json", "-i", bobKey], env: env)))), [annexID, reportID])
        let staff = try jsonArray(try succeed(["staff", "list", "--json"], env: env))
        XCTAssertEqual(staff.count, 2)
        XCTAssertTrue(ids(staff).contains(bobFP))
        XCTAssertEqual(Set(staff.compactMap { $0["name"] as? String }), ["Amal Staffname", "Bob Staffname"])
        try succeed(["staff", "remove", bobFP], env: env)
        try refuse(["list", "-i", bobKey], env: env, code: 77, mentioning: [bobFP])
        let afterRemoval = try jsonArray(try succeed(["staff", "list", "--json"], env: env))
        XCTAssertNotNil(afterRemoval.first { $0["id"] as? String == bobFP }?["removedAt"] as? String, "\(afterRemoval)")

        // rotate keeps everything readable.
        try succeed(["rotate"], env: env)
        let out2 = dir.file("after-rotation.txt")
        try succeed(["retrieve", reportID, "-o", out2], env: env)
        XCTAssertEqual(try read(out2), try read(report))

        // doctor.
        let doctor = try succeed(["doctor"], env: ["DOSSIER_VAULT": vault])
        XCTAssertTrue(doctor.stdout.contains("vault OK"), "\(doctor)")
        let deep = try XCTUnwrap(try json(try succeed(["doctor", "--deep", "--json"], env: env)) as? [String: Any])
        XCTAssertEqual(deep["blobsAuthenticated"] as? Int, 2, "\(deep)")
        XCTAssertEqual((deep["findings"] as? [Any])?.count, 0, "\(deep)")

        // At rest: no title, file name, tag, case, name, passphrase or content in the vault's bytes;
        // every file private. (Positive control: the organisation's name, stored in the clear, is found.)
        XCTAssertTrue(regularFiles(under: vault).contains { ((try? read($0)) ?? Data()).range(of: Data("example.org/dossier".utf8)) != nil })
        for path in regularFiles(under: vault) {
            let bytes = try read(path)
            for secret in [Self.passphrase, Self.contentMarker, "Quillon", "testimony-k", "Prison conditions", "EXT-2026-014",
                           "Uzbekistan", "urgent", "Staffname", "withdrawn by the witness"] {
                XCTAssertNil(bytes.range(of: Data(secret.utf8)), "'\(secret)' is in the clear in \(path)")
            }
            XCTAssertEqual(mode(path) & 0o077, 0, "\(path) has mode \(String(mode(path), radix: 8))")
        }

        // Damage is reported with exit 3.
        let blob = try XCTUnwrap(regularFiles(under: vault + "/blobs").first { $0.hasSuffix("/" + reportID) })
        try FileManager.default.removeItem(atPath: blob)
        let damaged = try dossier(["doctor"], env: ["DOSSIER_VAULT": vault])
        XCTAssertEqual(damaged.exitCode, 3, "\(damaged)")
        XCTAssertTrue(damaged.stdout.contains("DAMAGE") && damaged.stdout.contains(reportID), "\(damaged)")

        assertTranscriptHasNoSecrets()
    }

    // MARK: Refusals

    /// A vault with one document, founded by an identity without a passphrase.
    private func smallVault(_ dir: CLIFolder) throws -> (vault: String, key: String, doc: String, env: [String: String]) {
        let key = dir.file("staff.key"), vault = dir.file("vault"), file = dir.file("doc.txt")
        try succeed(["identity", "new", "-o", key, "--no-passphrase"])
        try succeed(["init", "--vault", vault, "--root-out", vault + ".root", "--no-passphrase", "--org", "example.org/dossier", "--identity", key])
        try write(file, Self.contentMarker)
        let env = ["DOSSIER_VAULT": vault, "DOSSIER_IDENTITY": key]
        let doc = try succeed(["deposit", file, "--kind", "expert-report", "--title", "Only document"], env: env)
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return (vault, key, doc, env)
    }

    /// The vault still holds exactly `documents` and nothing else was stored.
    private func assertUnchanged(_ vault: String, _ env: [String: String], documents: [String], blobs: Int,
                                 file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(ids(try jsonArray(try succeed(["list", "--include-removed", "--json"], env: env, file: file, line: line))), documents,
                       file: file, line: line)
        XCTAssertEqual(regularFiles(under: vault + "/blobs").count, blobs, "blob files: \(regularFiles(under: vault + "/blobs"))", file: file, line: line)
        XCTAssertTrue(try succeed(["doctor"], env: env, file: file, line: line).stdout.contains("vault OK"), file: file, line: line)
    }

    func testRefusalsExitWithTheDocumentedCodes() throws {
        let dir = try makeFolder()
        let (vault, key, doc, env) = try smallVault(dir)
        let good = dir.file("good.txt")
        try write(good, "good")
        let folder = dir.file("a-folder")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let empty = dir.file("empty-folder")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: false)

        // init over an existing vault or a non-empty folder: 73, and the vault is untouched.
        try refuse(["init", "--vault", vault, "--root-out", vault + ".root", "--no-passphrase", "--org", "example.org/other", "--identity", key], code: 73, mentioning: [vault])
        try refuse(["init", "--vault", folder + "/..", "--root-out", folder + "/.." + ".root", "--no-passphrase", "--org", "example.org/other", "--identity", key], code: 73)
        // identity new never overwrites.
        try refuse(["identity", "new", "-o", key, "--no-passphrase"], code: 73, mentioning: [key])

        // deposit: missing file 66, folder 65, malformed language 65; nothing stored.
        try refuse(["deposit", dir.file("missing.txt"), "--kind", "expert-report", "--title", "T"], env: env, code: 66, mentioning: ["missing.txt"])
        try refuse(["deposit", good, dir.file("missing.txt"), "--kind", "expert-report", "--title", "T"], env: env, code: 66)
        try refuse(["deposit", folder, "--kind", "expert-report", "--title", "T"], env: env, code: 65, mentioning: [folder])
        try refuse(["deposit", good, "--kind", "expert-report", "--title", "T", "--lang", "en_GB"], env: env, code: 65, mentioning: ["en_GB"])
        // Usage errors: 64 (the error-line format is checked in testUsageErrorsUseTheErrorPrefix).
        for args in [["deposit", good, "--kind", "memo", "--title", "T"],
                     ["deposit", good, "--kind", "expert-report", "--title", ""],
                     ["deposit", good, "--kind", "expert-report", "--title", "   "],
                     ["deposit", good, "--kind", "expert-report"],
                     ["remove", doc]] {
            let result = try dossier(args, env: env)
            XCTAssertEqual(result.exitCode, 64, "\(result)")
            XCTAssertEqual(result.stdout, "", "\(result)")
            XCTAssertFalse(result.stderr.isEmpty, "\(result)")
        }
        try assertUnchanged(vault, env, documents: [doc], blobs: 1)

        // Identities: wrong passphrase 77, readable by others 77, not staff 77, none given 64.
        let protectedKey = dir.file("protected.key"), right = dir.file("right.txt"), wrong = dir.file("wrong.txt")
        try write(right, Self.passphrase + "\n")
        try write(wrong, Self.wrongPassphrase + "\n")
        try succeed(["identity", "new", "-o", protectedKey, "--passphrase-file", right])
        try refuse(["list", "-i", protectedKey, "--passphrase-file", wrong], env: env, code: 77, mentioning: ["passphrase", protectedKey])
        try refuse(["list", "-i", protectedKey], env: env.merging(["DOSSIER_PASSPHRASE_FILE": wrong]) { $1 }, code: 77, mentioning: ["passphrase"])
        try refuse(["list", "-i", protectedKey], env: env, code: 77, mentioning: ["--passphrase-file"], detached: true)
        let readable = dir.file("readable.key")
        try FileManager.default.copyItem(atPath: key, toPath: readable)
        XCTAssertEqual(chmod(readable, 0o640), 0)
        try refuse(["list", "-i", readable], env: env, code: 77, mentioning: ["chmod 600", readable])
        XCTAssertEqual(chmod(readable, 0o604), 0)
        try refuse(["list", "-i", readable], env: env, code: 77, mentioning: ["chmod 600"])
        let strangerKey = dir.file("stranger.key")
        try succeed(["identity", "new", "-o", strangerKey, "--no-passphrase"])
        try refuse(["list", "-i", strangerKey], env: env, code: 77, mentioning: ["not staff"])
        try refuse(["retrieve", doc, "-o", dir.file("stolen.txt"), "-i", strangerKey], env: env, code: 77)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("stolen.txt")))
        try refuse(["list"], env: ["DOSSIER_VAULT": vault], code: 64, mentioning: ["--identity", "DOSSIER_IDENTITY"])
        try refuse(["list", "-i", key], code: 64, mentioning: ["--vault", "DOSSIER_VAULT"])

        // Unknown document ids: 66, nothing written.
        let unknown = "doc-aaaaaaaaaaaaa"
        try refuse(["show", unknown], env: env, code: 66, mentioning: [unknown])
        try refuse(["retrieve", unknown, "-o", dir.file("unknown.txt")], env: env, code: 66, mentioning: [unknown])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("unknown.txt")))
        try refuse(["remove", unknown, "--reason", "x"], env: env, code: 66, mentioning: [unknown])

        // Not a vault: 66.
        try refuse(["list", "--vault", empty], env: env, code: 66, mentioning: [empty])
        try refuse(["org", "show", "--vault", empty], code: 66, mentioning: [empty])
        try refuse(["doctor", "--vault", dir.file("nowhere")], code: 66)

        // The last staff member cannot be removed.
        let founderFP = try XCTUnwrap(try jsonArray(try succeed(["staff", "list", "--json"], env: env)).first?["id"] as? String)
        try refuse(["staff", "remove", founderFP], env: env, code: 1, mentioning: ["last staff member"])
        try refuse(["staff", "remove", "AAAA-BBBB-CCCC-DDDD"], env: env, code: 66)

        try assertUnchanged(vault, env, documents: [doc], blobs: 1)
        assertTranscriptHasNoSecrets()
    }

    /// A write to standard output that fails (a full disk) ends the command with exit 74 and a
    /// message, not a crash with a stack trace, and not a silent success: for the row-formatted
    /// listing, JSON, and lines written by `print`.
    func testAFailedWriteToStandardOutputIsReported() throws {
        let dir = try makeFolder()
        let (_, _, _, env) = try smallVault(dir)
        let binary = try XCTUnwrap(DossierBinary.path)
        for arguments in [["list"], ["list", "--json"], ["search", "Only"], ["org", "show"]] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", #"exec "$0" "$@" > /dev/full"#, binary] + arguments
            process.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
            let stderr = Pipe()
            process.standardError = stderr
            try process.run()
            process.waitUntilExit()
            let text = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertEqual(process.terminationStatus, 74, "\(arguments): \(text)")
            XCTAssertTrue(text.hasPrefix("dossier: error: cannot write standard output: "), "\(arguments): \(text)")
            XCTAssertFalse(text.contains("Fatal error") || text.contains("stack trace"), "\(arguments): \(text)")
        }
    }

    /// `list` to a pipe is formatted from rows, not Documents: its lines say what `list --json`
    /// says, in the same order, across several growths of the output buffer (hundreds of KiB),
    /// with a removed document shown as such.
    func testListToAPipeSaysWhatJSONSays() throws {
        let dir = try makeFolder()
        let (_, _, doc, env) = try smallVault(dir)
        var files: [String] = []
        for i in 0..<1000 {
            files.append(dir.file("m\(i).txt"))
            try write(files[i], "n\(i)")
        }
        let title = String(repeating: "Expert report on prison conditions ", count: 8)
        try succeed(["deposit"] + files + ["--kind", "supporting-material", "--title", title, "--lang", "fr"], env: env)
        try succeed(["remove", doc, "--reason", "test"], env: env)
        let objects = try jsonArray(try succeed(["list", "--include-removed", "--json"], env: env))
        let out = try succeed(["list", "--include-removed"], env: env).stdout
        XCTAssertGreaterThan(out.utf8.count, 256 * 1024)
        let lines = out.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertEqual(objects.count, 1001)
        XCTAssertEqual(lines.count, objects.count)
        for (cells, o) in zip(lines, objects) {
            XCTAssertEqual(cells.count, 6)
            XCTAssertEqual(cells[0], o["id"] as? String)
            XCTAssertEqual(cells[1], o["kind"] as? String)
            XCTAssertEqual(cells[2], o["languageName"] as? String)
            XCTAssertEqual(cells[3], (o["size"] as? Int).map { "\($0) B" })   // every file is under 1 KiB
            XCTAssertEqual(cells[4], (o["depositedAt"] as? String).map { String($0.prefix(10)) })
            XCTAssertEqual(cells[5], (o["title"] as? String) ?? "(removed)")
        }
        XCTAssertEqual(lines.first?[5], "(removed)")
        XCTAssertEqual(lines.last?[5], title.trimmingCharacters(in: .whitespaces))
    }

    /// Usage errors follow the same UI rule as every other failure: a `dossier: error:` line
    /// (STYLE.md; the rule written at the top of Dossier.swift), exit 64, nothing on stdout.
    func testUsageErrorsUseTheErrorPrefix() throws {
        let dir = try makeFolder()
        let (_, _, doc, env) = try smallVault(dir)
        let good = dir.file("good.txt")
        try write(good, "good")
        try refuse(["deposit", good, "--kind", "memo", "--title", "T"], env: env, code: 64, mentioning: ["memo", "expert-report"])
        try refuse(["deposit", good, "--kind", "expert-report", "--title", ""], env: env, code: 64, mentioning: ["title"])
        try refuse(["remove", doc], env: env, code: 64, mentioning: ["--reason"])
    }
}
