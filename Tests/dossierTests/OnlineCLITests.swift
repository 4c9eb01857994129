import DossierCore
import DossierCrypto
import Foundation
import GRDB
import XCTest

/// Online packages through the built binary: `dossier serve` runs as a child process on a
/// loopback port, and counsel's `dossier open` asks it for the vault's share
/// (docs/key-release.md, docs/formats/key-release.md). A refused opening exits 77, an
/// unusable service 69, and neither writes anything into the output folder.
final class OnlineCLITests: XCTestCase {
    private var folder: CLIFolder!

    override func setUpWithError() throws {
        folder = try CLIFolder()
        // Teardown blocks run last in, first out: this one after the services are stopped.
        addTeardownBlock { [folder] in folder?.remove() }
    }

    // MARK: - The organisation and counsel, set up through the CLI

    /// A vault with a staff member, a service identity added as staff, vetted counsel whose
    /// machine (HOME) trusts the organisation, and two documents of `kind`.
    private struct World {
        let vault: String
        let staff: [String: String]
        let serviceKey: String
        let counselKey: String
        let counsel: String
        let counselLine: String
        /// Counsel's machine: its own HOME (trust store), and no proxy for loopback.
        let counselMachine: [String: String]
        /// The documents deposited, as id, file name and content.
        let documents: [(id: String, name: String, content: Data)]
    }

    @discardableResult
    private func succeed(_ arguments: [String], env: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try expectSuccess(arguments, env: env, file: file, line: line).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func publicLine(_ output: String) -> String {
        output.split(separator: "\n").first { $0.hasPrefix("dossier1") }.map(String.init) ?? ""
    }

    private func makeWorld(kind: String = "supporting-material") throws -> World {
        let staffKey = folder.file("staff.key"), counselKey = folder.file("counsel.key"), serviceKey = folder.file("service.key")
        let vault = folder.file("vault")
        try succeed(["identity", "new", "-o", staffKey, "--no-passphrase"])
        try succeed(["init", "--vault", vault, "--root-out", vault + ".root", "--no-passphrase", "--org", "example.org/dossier", "--identity", staffKey])
        let staff = ["DOSSIER_VAULT": vault, "DOSSIER_IDENTITY": staffKey]

        // Text with non-ASCII characters, and bytes that are not text at all.
        var binary = Data((0...255).map { UInt8($0) })
        binary.append(Data((0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }))
        var documents: [(id: String, name: String, content: Data)] = []
        for (name, content) in [("statement-w17.txt", Data("Témoin n° 17 — déclaration\r\nligne 2\n".utf8)), ("annex.bin", binary)] {
            let path = folder.file(name)
            try content.write(to: URL(fileURLWithPath: path))
            let id = try succeed(["deposit", path, "--kind", kind, "--title", name], env: staff)
            documents.append((id, name, content))
        }

        let counselLine = publicLine(try succeed(["identity", "new", "-o", counselKey, "--no-passphrase"]))
        XCTAssertFalse(counselLine.isEmpty, "no public line from identity new")
        let counsel = try succeed(["counsel", "add", counselLine, "--name", "C. Counsel"], env: staff)
        try succeed(["counsel", "vet", counsel, "--until", "2099-12-31"], env: staff)

        // The service has a staff identity of its own (docs/key-release.md, section 2).
        let serviceLine = publicLine(try succeed(["identity", "new", "-o", serviceKey, "--no-passphrase"]))
        try succeed(["staff", "add", serviceLine, "--name", "Key-release service", "--service"], env: staff)

        let orgLine = try succeed(["org", "show", "--vault", vault]).split(separator: "\n")
            .first { $0.hasPrefix("public key:") }.map { String($0.split(separator: " ").last ?? "") } ?? ""
        let home = folder.file("counsel-home")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: false)
        let counselMachine = ["HOME": home, "XDG_CONFIG_HOME": home, "no_proxy": "127.0.0.1", "NO_PROXY": "127.0.0.1"]
        try succeed(["trust", "add", orgLine, "--name", "Example"], env: counselMachine)
        return World(vault: vault, staff: staff, serviceKey: serviceKey, counselKey: counselKey, counsel: counsel,
                     counselLine: counselLine, counselMachine: counselMachine, documents: documents)
    }

    /// Starts `dossier serve` on the world's vault; it is stopped (SIGTERM, then waited for) at teardown.
    private func startService(_ world: World, file: StaticString = #filePath, line: UInt = #line) throws -> ServeProcess {
        let service = try ServeProcess.start(["--vault", world.vault, "--identity", world.serviceKey], in: folder, file: file, line: line)
        addTeardownBlock { service.stop() }
        return service
    }

    /// An active grant of every document to counsel, for a day, and its online package at `url`.
    private func onlinePackage(_ world: World, url: String, name: String, extra: [String] = [],
                               file: StaticString = #filePath, line: UInt = #line) throws -> (grant: String, package: String, path: String) {
        let path = folder.file(name + ".dpkg")
        let grant = try succeed(["grant"] + world.documents.map(\.id) + ["--to", world.counsel, "--for", "1d", "--online", url] + extra,
                                env: world.staff, file: file, line: line)
        let package = try succeed(["package", grant, "-o", path], env: world.staff, file: file, line: line)
        XCTAssertTrue(package.hasPrefix("pkg-"), "package printed \(package)", file: file, line: line)
        return (grant, package, path)
    }

    private func emptyFolder(_ name: String) throws -> String {
        let path = folder.file(name)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return path
    }

    private func open(_ world: World, _ package: String, into out: String, file: StaticString = #filePath, line: UInt = #line) throws -> CLIResult {
        try runDossier(["open", package, "--identity", world.counselKey, "-o", out], env: world.counselMachine, file: file, line: line)
    }

    private func stderrLines(_ result: CLIResult) -> [String] {
        result.stderr.split(separator: "\n").map(String.init)
    }

    /// A refusal or failure: `code`, one `dossier: error:` line containing `error`, a hint line
    /// containing `hint` (or none), nothing on stdout, and nothing in `out`.
    private func assertNothingWritten(_ result: CLIResult, code: Int32, error: String, hint: String?, out: String,
                                      file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(result.exitCode, code, "\(result)", file: file, line: line)
        XCTAssertEqual(result.stdout, "", "\(result)", file: file, line: line)
        let lines = stderrLines(result)
        let errors = lines.filter { $0.hasPrefix("dossier: error: ") }
        XCTAssertEqual(errors.count, 1, "one error line: \(result)", file: file, line: line)
        XCTAssertTrue(errors.first?.contains(error) ?? false, "the error should say '\(error)': \(result)", file: file, line: line)
        let hints = lines.filter { $0.hasPrefix("dossier: hint: ") }
        if let hint {
            XCTAssertEqual(hints.count, 1, "\(result)", file: file, line: line)
            XCTAssertTrue(hints.first?.contains(hint) ?? false, "the hint should say '\(hint)': \(result)", file: file, line: line)
        } else {
            XCTAssertEqual(hints, [], "\(result)", file: file, line: line)
        }
        XCTAssertFalse(result.stderr.contains("released the key"), "\(result)", file: file, line: line)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out), [], "a failed open wrote into \(out)", file: file, line: line)
    }

    /// The vault's `open` entries, as CSV lines without the header.
    private func openEntries(_ world: World) throws -> [String] {
        try succeed(["audit", "log", "--vault", world.vault, "--action", "open", "--csv"]).split(separator: "\n").dropFirst().map(String.init)
    }

    /// Runs SQL on the vault's database from outside, as a damaged disk or another process would.
    private func execute(_ world: World, _ sql: String, arguments: StatementArguments = []) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let db = try DatabaseQueue(path: world.vault + "/vault.sqlite", configuration: configuration)
        try db.write { try $0.execute(sql: sql, arguments: arguments) }
        try db.close()
    }

    // MARK: - 1. Released

    func testAnOnlinePackageOpensThroughTheRunningServiceAndTheOpeningIsLogged() throws {
        let world = try makeWorld()
        let service = try startService(world)
        let p = try onlinePackage(world, url: service.url, name: "bundle", extra: ["--max-opens", "3"])
        let inspect = try succeed(["inspect", p.path], env: world.counselMachine)
        XCTAssertTrue(inspect.contains("opens only through the key-release service at \(service.url)"), inspect)
        XCTAssertEqual(try openEntries(world), [], "no opening before counsel opens")

        let out = try emptyFolder("opened")
        let open = try open(world, p.path, into: out)
        XCTAssertEqual(open.exitCode, 0, "\(open)")
        XCTAssertTrue(open.stderr.contains("dossier: the key-release service released the key: opening 1 of 3, logged as entry "), "\(open)")
        XCTAssertTrue(open.stderr.contains("dossier: opened 2 document(s) from example.org/dossier"), "\(open)")
        XCTAssertFalse(open.stderr.contains("error"), "\(open)")
        XCTAssertEqual(Set(open.stdout.split(separator: "\n").map(String.init)), Set(world.documents.map { out + "/" + $0.name }), "\(open)")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).sorted(), world.documents.map(\.name).sorted())
        for d in world.documents {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/" + d.name)), d.content, "\(d.name) differs")
        }

        // The service said so (ids only), and the vault logged the opening with counsel's receipt.
        XCTAssertTrue(service.waitForNote("dossier: released package:\(p.package) grant:\(p.grant) counsel:\(world.counsel) opening 1/3 log "),
                      service.stderr)
        let entries = try openEntries(world)
        XCTAssertEqual(entries.count, 1, "\(entries)")
        let entry = entries.first ?? ""
        for part in [",open,", "package:\(p.package)", "grant:\(p.grant)", "counsel:\(world.counsel)", "opening=1/3", "receipt="] + world.documents.map({ "doc:\($0.id)" }) {
            XCTAssertTrue(entry.contains(part), "'\(part)' missing from the open entry: \(entry)")
        }
        let seq = entry.split(separator: ",").first.map(String.init) ?? "?"
        XCTAssertTrue(open.stderr.contains("logged as entry \(seq)\n"), "the note names entry \(seq): \(open)")
        try succeed(["audit", "verify", "--vault", world.vault])

        // SIGTERM stops it cleanly.
        XCTAssertEqual(service.stop(), 0, service.stderr)
        XCTAssertTrue(service.stderr.hasSuffix("dossier: stopped\n"), service.stderr)
    }

    // MARK: - 2. Refused by the service: 77

    func testAGrantRevokedAfterSendingIsRefusedByTheServiceAndNothingIsWritten() throws {
        let world = try makeWorld()
        let service = try startService(world)
        let p = try onlinePackage(world, url: service.url, name: "revoked")
        try succeed(["revoke", p.grant, "--reason", "the witness withdrew consent"], env: world.staff)

        let out = try emptyFolder("opened")
        let open = try open(world, p.path, into: out)
        try assertNothingWritten(open, code: 77, error: "the key-release service at \(service.url) refused to release the key (revoked): the organisation revoked this grant; nothing was written",
                                 hint: nil, out: out)
        XCTAssertFalse(open.stderr.contains("withdrew"), "the sealed reason reached counsel: \(open)")
        XCTAssertTrue(service.waitForNote("dossier: refused revoked package:\(p.package) grant:\(p.grant) counsel:\(world.counsel)"), service.stderr)
        XCTAssertEqual(try openEntries(world), [])
        let denies = try succeed(["audit", "log", "--vault", world.vault, "--action", "deny", "--csv"])
        XCTAssertTrue(denies.contains("rule=grant.revoked"), denies)
    }

    func testOnceTheOpenLimitIsReachedTheServiceRefusesTheNextOpening() throws {
        let world = try makeWorld()
        let service = try startService(world)
        let p = try onlinePackage(world, url: service.url, name: "once", extra: ["--max-opens", "1"])

        let first = try open(world, p.path, into: try emptyFolder("first"))
        XCTAssertEqual(first.exitCode, 0, "\(first)")
        XCTAssertTrue(first.stderr.contains("released the key: opening 1 of 1,"), "\(first)")

        let out = try emptyFolder("second")
        let second = try open(world, p.path, into: out)
        try assertNothingWritten(second, code: 77, error: "refused to release the key (open-limit-reached): ", hint: nil, out: out)
        XCTAssertTrue(service.waitForNote("dossier: refused open-limit-reached package:\(p.package)"), service.stderr)
        XCTAssertEqual(try openEntries(world).count, 1)
    }

    /// A witness-testimony grant needs two sign-offs (policies/default.toml) and cannot be
    /// packaged while pending, so through the CLI no package of a pending grant exists: the
    /// refusal the CLI can reach is `package` (77). The service's own check (`not-approved`)
    /// is shown by putting an approved, packaged grant back to pending in the database, the
    /// nearest a vault can come to holding a package of a pending grant.
    func testAGrantPendingApprovalIsNeitherPackagedNorReleased() throws {
        let world = try makeWorld(kind: "witness-testimony")
        let service = try startService(world)
        let path = folder.file("witness.dpkg")
        let granted = try runDossier(["grant"] + world.documents.map(\.id) + ["--to", world.counsel, "--for", "1d", "--online", service.url, "-o", path],
                                     env: world.staff)
        XCTAssertEqual(granted.exitCode, 0, "\(granted)")
        let grant = granted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(granted.stderr.contains("grant \(grant) is pending: it needs 2 sign-offs"), "\(granted)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "a pending grant wrote a package")

        let package = try runDossier(["package", grant, "-o", path], env: world.staff)
        XCTAssertEqual(package.exitCode, 77, "\(package)")
        XCTAssertTrue(package.stderr.contains("dossier: error: grant \(grant) is pending approval (1 of 2 sign-offs;"), "\(package)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "a refused package was written")

        // A second staff member approves; the package is made; then they leave, and their
        // sign-off no longer counts: the grant is pending again for the service.
        let bobKey = folder.file("bob.key")
        let bobFingerprint = try succeed(["staff", "add", publicLine(try succeed(["identity", "new", "-o", bobKey, "--no-passphrase"])), "--name", "Bob"], env: world.staff)
        try succeed(["approve", grant, "--identity", bobKey], env: world.staff)
        try succeed(["package", grant, "-o", path], env: world.staff)
        try succeed(["staff", "remove", bobFingerprint], env: world.staff)

        let out = try emptyFolder("opened")
        let open = try open(world, path, into: out)
        try assertNothingWritten(open, code: 77, error: "refused to release the key (not-approved): the grant is still waiting for staff approval; nothing was written",
                                 hint: nil, out: out)
        XCTAssertTrue(service.waitForNote("dossier: refused not-approved package:"), service.stderr)
        let denies = try succeed(["audit", "log", "--vault", world.vault, "--action", "deny", "--csv"])
        XCTAssertTrue(denies.contains("rule=grant.pending"), denies)
        XCTAssertEqual(try openEntries(world), [])
    }

    // MARK: - 3. Unusable answers: 69

    func testAnUnreachableServiceExits69AndWritesNothing() throws {
        let world = try makeWorld()
        let url = "http://127.0.0.1:\(try LoopbackHTTPServer.closedPort())"
        let p = try onlinePackage(world, url: url, name: "unreachable")
        let out = try emptyFolder("opened")
        let open = try open(world, p.path, into: out)
        try assertNothingWritten(open, code: 69, error: "cannot get the key from the key-release service at \(url): ",
                                 hint: "check the network and retry, nothing was written", out: out)
    }

    /// Answers 200 with `answer(packageID)`, the package id read from the signed request.
    private func fakeService(_ answer: @escaping @Sendable (String) -> Data) throws -> LoopbackHTTPServer {
        let server = try LoopbackHTTPServer { body in
            let request = (try? JSONSerialization.jsonObject(with: body) as? [String: Any])?["request"] as? String ?? ""
            let package = request.split(separator: "\n").first { $0.hasPrefix("package ") }.map { String($0.dropFirst(8)) } ?? ""
            return (200, answer(package))
        }
        addTeardownBlock { server.stop() }
        return server
    }

    private static func release(_ package: String, share: Data) -> Data {
        let object: [String: Any] = ["status": "released", "package": package, "grant": "grant-aaaaaaaaaaaaa", "share": share.base64EncodedString(),
                                     "opening": 1, "maxOpens": 0, "logSeq": 99]
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
    }

    /// Opens a package whose service is `server`: exit 69 with `reason`, one request, nothing written.
    private func assertUnusable(_ world: World, _ server: LoopbackHTTPServer, reason: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let p = try onlinePackage(world, url: server.url, name: "fake", file: file, line: line)
        let out = try emptyFolder("opened")
        let open = try open(world, p.path, into: out, file: file, line: line)
        try assertNothingWritten(open, code: 69, error: "cannot get the key from the key-release service at \(server.url): \(reason)",
                                 hint: "check the network and retry, nothing was written", out: out, file: file, line: line)
        XCTAssertEqual(server.requests.count, 1, "the fake service was not asked once", file: file, line: line)
        let request = (try? JSONSerialization.jsonObject(with: server.requests.first ?? Data()) as? [String: Any])?["request"] as? String ?? ""
        XCTAssertTrue(request.hasPrefix("dossier-release-request/1\npackage \(p.package)\n"), "not a release request: \(request)", file: file, line: line)
    }

    func testAMalformedAnswerExits69AndWritesNothing() throws {
        let world = try makeWorld()
        let server = try fakeService { package in Data(#"{"status":"released","package":"\#(package)","share":"#.utf8) }
        try assertUnusable(world, server, reason: "the service's answer is not a well-formed release")
    }

    func testAShareOfTheWrongLengthExits69AndWritesNothing() throws {
        let world = try makeWorld()
        // Sealed to counsel, so it opens, but to 31 bytes rather than 32.
        let counselKey = try PublicIdentity(line: world.counselLine).encryptionKey
        let server = try fakeService { package in
            Self.release(package, share: (try? SealedBox.seal(SecureBytes(randomCount: 31), to: counselKey)) ?? Data())
        }
        try assertUnusable(world, server, reason: "the released share has the wrong length")
    }

    func testAShareNotSealedToCounselExits69AndWritesNothing() throws {
        let world = try makeWorld()
        let stranger = BoxKeyPair.generate().publicKey
        let server = try fakeService { package in
            Self.release(package, share: (try? SealedBox.seal(SecureBytes(randomCount: 32), to: stranger)) ?? Data())
        }
        try assertUnusable(world, server, reason: "the released share is not sealed to your identity")
    }

    // MARK: - 4. The service cannot commit: 503, 69

    func testWhenTheServiceCannotLogTheOpeningItAnswers503AndCountsNothing() throws {
        let world = try makeWorld()
        let service = try startService(world)
        let p = try onlinePackage(world, url: service.url, name: "busy", extra: ["--max-opens", "1"])
        try execute(world, "CREATE TRIGGER no_log BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'log unavailable'); END")

        let out = try emptyFolder("opened")
        let open = try open(world, p.path, into: out)
        try assertNothingWritten(open, code: 69, error: "cannot get the key from the key-release service at \(service.url): the key-release service cannot decide now; retry later",
                                 hint: "check the network and retry, nothing was written", out: out)
        // The cause is for the operator, on the service's standard error; not for counsel.
        for secret in ["log unavailable", "SQLite", world.vault] {
            XCTAssertFalse(open.stderr.contains(secret), "'\(secret)' reached counsel: \(open)")
        }
        XCTAssertTrue(service.waitForNote("dossier: error: "), service.stderr)
        XCTAssertTrue(service.stderr.contains("log unavailable"), service.stderr)

        // Nothing was counted: with the log writable again, the limit of 1 still allows opening 1.
        try execute(world, "DROP TRIGGER no_log")
        XCTAssertEqual(try openEntries(world), [])
        let again = try self.open(world, p.path, into: out)
        XCTAssertEqual(again.exitCode, 0, "\(again)")
        XCTAssertTrue(again.stderr.contains("released the key: opening 1 of 1,"), "\(again)")
        XCTAssertEqual(try openEntries(world).count, 1)
        try succeed(["audit", "verify", "--vault", world.vault])
    }
}
