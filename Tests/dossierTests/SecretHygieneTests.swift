import DossierCore
import Foundation
import XCTest

/// Secret hygiene, end to end through the built `dossier` (issue 6, item 6):
///
/// - a marker passphrase and marker content never appear in stdout or stderr, whatever the
///   command and however it fails (titles are shown to staff by the listing commands, by design:
///   those are exempt from the title check, never from the passphrase or plaintext checks);
/// - nothing secret is stored in the clear: not in the vault, a package, an export, a
///   checkpoint, a report or an identity file;
/// - identity files and decrypted outputs are 0600 even under umask 000, and decrypting leaves
///   no temporary file, also when it fails;
/// - a passphrase is never taken from the command line or the environment;
/// - core dumps are disabled before any secret is handled.
final class SecretHygieneTests: XCTestCase {
    static let passphraseMarker = "MARKER-PASSPHRASE-93c1"
    /// In deposited files and in titles.
    static let contentMarker = "MARKER-CONTENT-5d7e"
    /// In deposited files only, never in metadata: no command may ever print it.
    static let plaintextMarker = "MARKER-PLAINTEXT-7a4f"

    // MARK: - Every command, succeeding and failing

    func testNoCommandPrintsThePassphraseOrContent() throws {
        let s = try HygieneSession()
        defer { s.remove() }
        // A careless umask must not make any secret file readable by others.
        let savedMask = umask(0)
        defer { umask(savedMask) }

        // Identities, each protected by the marker passphrase.
        let pass = try s.folder.write("pass.txt", Data((Self.passphraseMarker + "\n").utf8))
        var publicLines: [String: String] = [:]
        for who in ["staff1", "staff2", "counsel"] {
            let r = s.run("identity new \(who)", ["identity", "new", "-o", s.path("\(who).key"), "--passphrase-file", pass])
            publicLines[who] = r.stdoutText.split(separator: "\n").first.map(String.init) ?? ""
            s.expectMode(s.path("\(who).key"), 0o600)
            _ = try s.folder.write("\(who).pub", Data((publicLines[who]! + "\n").utf8), mode: 0o644)
        }
        s.run("identity show", ["identity", "show", s.path("staff1.key")])
        s.run("identity show --json", ["identity", "show", s.path("counsel.key"), "--json"])

        let vault = s.path("vault")
        let staff1 = ["--vault", vault, "--identity", s.path("staff1.key"), "--passphrase-file", pass]
        let staff2 = ["--vault", vault, "--identity", s.path("staff2.key"), "--passphrase-file", pass]
        s.run("init", ["init", "--org", "hygiene.example/dossier", "--name", "A. Staff", "--root-out", s.path("org-root.key"),
                          "--root-passphrase-file", pass] + staff1)
        s.expectMode(s.path("org-root.key"), 0o600)
        let org = s.run("org show --json", ["org", "show", "--vault", vault, "--json"])
        let orgInfo = (try? JSONSerialization.jsonObject(with: org.stdout)) as? [String: String] ?? [:]
        s.run("org show", ["org", "show", "--vault", vault])

        let policy = try s.folder.write("policy.toml", Data(HygieneSession.policy.utf8), mode: 0o644)
        s.run("policy check", ["policy", "check", policy])
        let staff2FP = s.run("staff add", ["staff", "add", s.path("staff2.pub"), "--name", "B. Staff"] + staff1)
            .stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        // The default policy asks for two sign-offs somewhere, so a change needs a second one.
        let proposed = s.run("policy set", ["policy", "set", policy] + staff1).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        s.run("policy show --proposed", ["policy", "show", "--proposed"] + staff2)
        s.run("policy approve", ["policy", "approve", proposed] + staff2)
        s.run("policy show", ["policy", "show", "--vault", vault])

        s.run("staff list", ["staff", "list"] + staff1)
        // The root certifies staff 2; its passphrase (the marker) never shows either.
        s.run("org certify", ["org", "certify", "--root", s.path("org-root.key"), "--root-passphrase-file", pass, staff2FP] + staff1)
        s.run("org certificates", ["org", "certificates", "--vault", vault])
        let certificates = s.run("org certificates --json", ["org", "certificates", "--vault", vault, "--json"])
        let serial = ((try? JSONSerialization.jsonObject(with: certificates.stdout)) as? [[String: Any]])?.first?["serial"] as? String ?? ""
        let certificateFile = try s.folder.write("work/founder.cert", s.run("org certificates --show", ["org", "certificates", "--vault", vault, "--show", serial]).stdout)
        s.run("staff list --json", ["staff", "list", "--json"] + staff2)
        let counselID = s.run("counsel add", ["counsel", "add", s.path("counsel.pub"), "--name", "C. Counsel"] + staff1)
            .stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        s.run("counsel vet", ["counsel", "vet", counselID, "--until", "2099-12-31", "--note", "checked"] + staff1)
        s.run("counsel list", ["counsel", "list"] + staff1)
        s.run("counsel show", ["counsel", "show", counselID] + staff1)

        // Documents: the content marker in every file and every title, the plaintext marker in
        // the files only.
        let body = "\(Self.contentMarker) \(Self.plaintextMarker): the witness saw the transfer on 3 March.\n"
        let statement = try s.folder.write("work/statement.txt", Data(body.utf8))
        let witness = try s.folder.write("work/witness.txt", Data(("W " + body).utf8))
        let spare = try s.folder.write("work/spare.txt", Data(("S " + body).utf8))
        let title = "\(Self.contentMarker) statement"
        func deposit(_ file: String, _ kind: String) -> String {
            s.run("deposit \(kind)", ["deposit", file, "--kind", kind, "--title", title, "--lang", "en", "--tag", "hygiene"] + staff1)
                .stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let doc1 = deposit(statement, "supporting-material")
        let doc2 = deposit(witness, "witness-testimony")
        let doc3 = deposit(spare, "expert-report")
        s.run("list", ["list"] + staff1, showsTitles: true)
        s.run("list --json", ["list", "--json"] + staff1, showsTitles: true)
        s.run("show", ["show", doc1] + staff1, showsTitles: true)
        s.run("show --json", ["show", doc1, "--json"] + staff1, showsTitles: true)
        s.run("search", ["search", "statement"] + staff1, showsTitles: true)

        // Retrieval: 0600 under umask 000, and nothing else in the folder.
        let retrieved = try s.folder.folder("retrieved", mode: 0o777)
        s.run("retrieve", ["retrieve", doc1, "-o", retrieved + "/statement.txt"] + staff1)
        s.expectMode(retrieved + "/statement.txt", 0o600)
        s.expectListing(retrieved, ["statement.txt"], "after retrieve")
        XCTAssertEqual(FileManager.default.contents(atPath: retrieved + "/statement.txt"), Data(body.utf8), "retrieve: content differs")

        // Sharing.
        let packageFile = s.path("work/bundle.dpkg")
        s.run("grant -o", ["grant", doc1, "--to", counselID, "--for", "2d", "-o", packageFile] + staff1)
        let pending = s.run("grant pending", ["grant", doc2, "--to", counselID, "--for", "2d"] + staff1)
            .stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        s.run("approve own grant", ["approve", pending] + staff1, expect: 77)
        s.run("approve", ["approve", pending] + staff2)
        s.run("package", ["package", pending, "-o", s.path("work/bundle2.dpkg")] + staff2)
        s.run("grants", ["grants"] + staff1)
        s.run("grants --json", ["grants", "--json", "--active"] + staff1)
        s.run("grant denied by policy", ["grant", doc2, "--to", counselID, "--for", "30d"] + staff1, expect: 77)

        // The counsel's side.
        s.run("trust add", ["trust", "add", orgInfo["publicKey"] ?? "missing", "--name", "Hygiene"])
        s.run("trust list", ["trust", "list"])
        s.run("inspect", ["inspect", packageFile])
        s.run("inspect --json", ["inspect", packageFile, "--json"])
        let opened = try s.folder.folder("opened", mode: 0o777)
        let counsel = ["--identity", s.path("counsel.key"), "--passphrase-file", pass]
        s.run("open", ["open", packageFile, "-o", opened] + counsel)
        s.expectMode(opened + "/statement.txt", 0o600)
        s.expectListing(opened, ["statement.txt"], "after open")
        s.run("open --json", ["open", s.path("work/bundle2.dpkg"), "-o", try s.folder.folder("opened2"), "--json"] + counsel)

        // Audit.
        s.run("audit checkpoint", ["audit", "checkpoint"] + staff1)
        let note = s.path("work/checkpoint.note")
        s.run("audit checkpoint -o", ["audit", "checkpoint", "-o", note] + staff1)
        s.run("audit verify", ["audit", "verify", "--vault", vault, "--checkpoint", note])
        s.run("audit verify --json", ["audit", "verify", "--vault", vault, "--json"])
        s.run("audit log", ["audit", "log", "--vault", vault])
        s.run("audit log --csv", ["audit", "log", "--vault", vault, "--csv"])
        s.run("audit log --json", ["audit", "log", "--vault", vault, "--json", "--document", doc1])
        s.run("audit log --resolve", ["audit", "log", "--resolve"] + staff1, showsTitles: true)
        s.run("audit exposure", ["audit", "exposure", counselID, "--vault", vault])
        let report = s.path("work/report.html")
        s.run("audit report", ["audit", "report", "--vault", vault, "-o", report])
        let export = s.path("work/log.dlog")
        s.run("audit export", ["audit", "export", "--vault", vault, "-o", export])
        s.run("audit verify --export", ["audit", "verify", "--export", export, "--org-fingerprint", orgInfo["fingerprint"] ?? ""])
        let proof = s.run("audit prove", ["audit", "prove", "2", "--vault", vault])
        let proofFile = try s.folder.write("work/entry.proof", proof.stdout)
        s.run("audit verify-proof", ["audit", "verify-proof", proofFile, "--checkpoint", note, "--note-key", orgInfo["noteKey"] ?? "",
                                     "--certificate", certificateFile])
        s.run("doctor", ["doctor", "--vault", vault])
        s.run("doctor --deep", ["doctor", "--deep"] + staff1)

        // Failures of every kind.
        let wrong = try s.folder.write("wrong.txt", Data((Self.passphraseMarker + "-but-wrong\n").utf8))
        let empty = try s.folder.write("empty.txt", Data("\n".utf8))
        let loose = try s.folder.write("loose.key", Data(contentsOf: URL(fileURLWithPath: s.path("staff1.key"))), mode: 0o644)
        let cut = try s.folder.write("cut.key", Data(contentsOf: URL(fileURLWithPath: s.path("staff1.key"))).prefix(120))
        let withKey: (String, String) -> [String] = { key, passFile in ["--vault", vault, "--identity", key, "--passphrase-file", passFile] }
        s.run("wrong passphrase", ["staff", "list"] + withKey(s.path("staff1.key"), wrong), expect: 77)
        s.run("wrong passphrase, retrieve", ["retrieve", doc1, "-o", s.path("work/never.txt")] + withKey(s.path("staff1.key"), wrong),
              expect: 77)
        s.run("wrong passphrase, open", ["open", packageFile, "-o", opened, "--identity", s.path("counsel.key"), "--passphrase-file", wrong],
              expect: 77)
        s.run("empty passphrase", ["staff", "list"] + withKey(s.path("staff1.key"), empty), expect: 65)
        s.run("missing passphrase file", ["staff", "list"] + withKey(s.path("staff1.key"), s.path("absent.txt")), expect: 66)
        s.run("passphrase file is a folder", ["staff", "list"] + withKey(s.path("staff1.key"), s.path("work")), expect: 65)
        s.run("identity readable by others", ["staff", "list"] + withKey(loose, pass), expect: 77)
        s.run("identity cut short", ["staff", "list"] + withKey(cut, pass), expect: 65)
        s.run("identity not staff", ["list"] + withKey(s.path("counsel.key"), pass), expect: 77)
        s.run("no such vault", ["list", "--vault", s.path("nowhere"), "--identity", s.path("staff1.key"), "--passphrase-file", pass],
              expect: 66)
        s.run("retrieve over a file", ["retrieve", doc1, "-o", retrieved + "/statement.txt"] + staff1, expect: 73)
        s.run("retrieve unknown", ["retrieve", "doc-aaaaaaaaaaaaa", "-o", s.path("work/never.txt")] + staff1, expect: 66)
        s.run("retrieve into a file's path", ["retrieve", doc1, "-o", statement + "/x.txt"] + staff1, expect: 74)
        s.run("show unknown", ["show", "doc-aaaaaaaaaaaaa"] + staff1, expect: 66)
        s.run("deposit missing file", ["deposit", s.path("work/absent.txt"), "--kind", "expert-report", "--title", title] + staff1,
              expect: 66)
        s.run("deposit a folder", ["deposit", s.path("work"), "--kind", "expert-report", "--title", title] + staff1, expect: 65)
        s.run("identity new over a file", ["identity", "new", "-o", s.path("staff1.key"), "--passphrase-file", pass], expect: 73)
        s.run("counsel add bad line", ["counsel", "add", "dossier1notavalidline", "--name", "X"] + staff1, expect: 65)
        s.run("policy check bad", ["policy", "check", statement], expect: 65)
        s.run("trust add bad key", ["trust", "add", "dossierorg1abc", "--name", "X"], expect: 65)
        s.run("audit verify wrong org", ["audit", "verify", "--export", export, "--org-fingerprint", "AAAA-AAAA-AAAA-AAAA"], expect: 3)

        // One bit of the content flipped: the signature still verifies (it does not cover the
        // content), the document decrypts up to its tag, then nothing may be left.
        var tampered = try Data(contentsOf: URL(fileURLWithPath: packageFile))
        let manifestLength = tampered[4..<8].reduce(0) { $0 << 8 | Int($1) }
        tampered[8 + manifestLength + 80 + 5] ^= 0x01
        let badPackage = try s.folder.write("work/tampered.dpkg", tampered)
        let refused = try s.folder.folder("refused", mode: 0o777)
        s.run("open tampered package", ["open", badPackage, "-o", refused] + counsel, expect: 3)
        s.expectListing(refused, [], "after a refused open")
        s.run("inspect truncated package", ["inspect", try s.folder.write("work/cut.dpkg", tampered.prefix(300))], expect: 65)
        s.run("open not a recipient", ["open", packageFile, "-o", refused, "--identity", s.path("staff1.key"), "--passphrase-file", pass],
              expect: 77)
        s.expectListing(refused, [], "after open by a non-recipient")

        // Housekeeping commands, then a tampered vault.
        s.run("revoke", ["revoke", pending, "--reason", "hearing over"] + staff1)
        s.run("counsel suspend", ["counsel", "suspend", counselID, "--reason", "hygiene test"] + staff1)
        s.run("remove", ["remove", doc3, "--reason", "withdrawn"] + staff1)
        s.run("retrieve removed", ["retrieve", doc3, "-o", s.path("work/never.txt")] + staff1, expect: 66)
        s.run("rotate", ["rotate"] + staff1)
        let staff2ID = s.run("identity show staff2 --json", ["identity", "show", s.path("staff2.pub"), "--json"])
        let staff2Listed = ((try? JSONSerialization.jsonObject(with: staff2ID.stdout)) as? [String: String])?["fingerprint"] ?? ""
        s.run("staff remove", ["staff", "remove", staff2Listed] + staff1)
        XCTAssertEqual(staff2Listed, staff2FP)
        s.run("removed staff", ["list"] + staff2, expect: 77)

        for blob in hostileListing(vault + "/blobs").map({ vault + "/blobs/" + $0 }) {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: blob, isDirectory: &isDir), !isDir.boolValue,
                  var bytes = FileManager.default.contents(atPath: blob), bytes.count > 40 else { continue }
            bytes[bytes.count - 20] ^= 0x01
            chmod(blob, 0o600)
            try bytes.write(to: URL(fileURLWithPath: blob))
        }
        let afterTamper = try s.folder.folder("after-tamper", mode: 0o777)
        s.run("retrieve tampered blob", ["retrieve", doc1, "-o", afterTamper + "/statement.txt"] + staff1, expect: 3)
        s.expectListing(afterTamper, [], "after a refused retrieve")
        // doctor's report is its result: DAMAGE lines on stdout, exit 3, no error line.
        s.run("doctor --deep, tampered", ["doctor", "--deep"] + staff1, expect: 3, reportsOnStdout: true)
        s.run("doctor, tampered", ["doctor", "--vault", vault], expect: nil, reportsOnStdout: true)

        // Nothing secret at rest, in the clear.
        let atRest = hostileListing(vault).map { vault + "/" + $0 }
            + [packageFile, s.path("work/bundle2.dpkg"), export, note, report, proofFile]
            + ["staff1", "staff2", "counsel"].map { s.path("\($0).key") }
        for path in atRest {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            for marker in [Self.passphraseMarker, Self.contentMarker, Self.plaintextMarker] where data.range(of: Data(marker.utf8)) != nil {
                XCTFail("\(path) holds \(marker) in the clear")
            }
            if path.hasPrefix(vault), let mode = hostileMode(path), mode & 0o077 != 0 {
                XCTFail("\(path) has mode \(String(mode, radix: 8)): group or others may read it")
            }
        }
        s.expectListing(s.path("tmp"), [], "TMPDIR after every command")
        s.expectListing(s.path("home"), [], "HOME after every command")
        print("secret hygiene: \(s.runs) runs of dossier, none printed a marker it must not")
    }

    // MARK: - Temporary files

    /// Retrieving into a folder leaves exactly the output there, whether it succeeds or not.
    func testRetrieveLeavesNoTemporaryFile() throws {
        let s = try HygieneSession()
        defer { s.remove() }
        let pass = try s.folder.write("pass.txt", Data((Self.passphraseMarker + "\n").utf8))
        s.run("identity new", ["identity", "new", "-o", s.path("staff.key"), "--passphrase-file", pass])
        let staff = ["--vault", s.path("vault"), "--identity", s.path("staff.key"), "--passphrase-file", pass]
        s.run("init", ["init", "--org", "hygiene.example/dossier", "--root-out", s.path("org-root.key"), "--no-passphrase"] + staff)
        // Several chunks, so that a failure can come after plaintext was written.
        var big = Data(count: 300_000)
        for i in big.indices { big[i] = UInt8(truncatingIfNeeded: i &* 31) }
        big.replaceSubrange(0..<Self.plaintextMarker.utf8.count, with: Data(Self.plaintextMarker.utf8))
        let file = try s.folder.write("work/big.bin", big)
        let doc = s.run("deposit", ["deposit", file, "--kind", "expert-report", "--title", "big"] + staff)
            .stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let out = try s.folder.folder("out")
        s.run("retrieve", ["retrieve", doc, "-o", out + "/big.bin"] + staff)
        s.expectListing(out, ["big.bin"], "after retrieve")
        s.expectMode(out + "/big.bin", 0o600)
        s.run("retrieve --force", ["retrieve", doc, "-o", out + "/big.bin", "--force"] + staff)
        s.expectListing(out, ["big.bin"], "after retrieve --force")
        // Damage the last chunk: every earlier chunk decrypts before the failure.
        for blob in hostileListing(s.path("vault/blobs")) where blob.hasSuffix(doc) {
            let path = s.path("vault/blobs/" + blob)
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            bytes[bytes.count - 5] ^= 0x80
            try bytes.write(to: URL(fileURLWithPath: path))
        }
        let out2 = try s.folder.folder("out2")
        s.run("retrieve damaged", ["retrieve", doc, "-o", out2 + "/big.bin"] + staff, expect: 3)
        s.expectListing(out2, [], "after a failed retrieve")
        s.run("retrieve damaged --force", ["retrieve", doc, "-o", out + "/big.bin", "--force"] + staff, expect: 3)
        s.expectListing(out, ["big.bin"], "after a failed retrieve --force over a file")
        XCTAssertEqual(FileManager.default.contents(atPath: out + "/big.bin"), big, "a failed retrieve --force changed the existing file")
    }

    #if os(Linux)
    /// While `retrieve` decrypts, its temporary file is in the destination folder (so that the
    /// final rename cannot cross file systems) and private, even under umask 000. The file is
    /// seen through /proc/PID/fd, since an O_TMPFILE file has no name.
    func testTemporaryPlaintextIsPrivateAndInTheDestinationFolder() throws {
        let s = try HygieneSession()
        defer { s.remove() }
        s.run("identity new", ["identity", "new", "-o", s.path("staff.key"), "--no-passphrase"])
        let staff = ["--vault", s.path("vault"), "--identity", s.path("staff.key")]
        s.run("init", ["init", "--org", "hygiene.example/dossier", "--root-out", s.path("org-root.key"), "--no-passphrase"] + staff)
        var big = Data(count: 48 << 20)
        for i in stride(from: 0, to: big.count, by: 4096) { big[i] = UInt8(truncatingIfNeeded: i >> 12) }
        let file = try s.folder.write("work/big.bin", big)
        let doc = s.run("deposit", ["deposit", file, "--kind", "expert-report", "--title", "big"] + staff)
            .stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let out = try s.folder.folder("out", mode: 0o777)
        guard let binary = HostileBinary.path else { throw HostileError("no dossier executable") }
        let savedMask = umask(0)
        defer { umask(savedMask) }
        var seen: [String: mode_t] = [:]
        // A fast disk may finish before the poll sees the file: try again, a few times.
        for _ in 1...5 where seen.isEmpty {
            try? FileManager.default.removeItem(atPath: out + "/big.bin")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["retrieve", doc, "-o", out + "/big.bin"] + staff
            process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DOSSIER_") }
                .merging(["XDG_CONFIG_HOME": s.path("config"), "HOME": s.path("home")]) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            let done = DispatchSemaphore(value: 0)
            process.terminationHandler = { _ in done.signal() }
            try process.run()
            let fdFolder = "/proc/\(process.processIdentifier)/fd"
            while process.isRunning {
                for fd in (try? FileManager.default.contentsOfDirectory(atPath: fdFolder)) ?? [] {
                    guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: fdFolder + "/" + fd),
                          target.hasPrefix(out + "/") || target.hasPrefix(s.path("work")) || target.hasPrefix(s.path("tmp")) else { continue }
                    var st = stat()
                    if stat(fdFolder + "/" + fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG { seen[target] = st.st_mode & 0o7777 }
                }
                usleep(2_000)
            }
            done.wait()
            XCTAssertEqual(process.terminationStatus, 0)
        }
        XCTAssertFalse(seen.isEmpty, "retrieve's temporary file was never seen in five runs: nothing was checked")
        print("retrieve wrote through: \(seen.map { "\($0.key) mode \(String($0.value, radix: 8))" })")
        for (target, mode) in seen {
            XCTAssertTrue(target.hasPrefix(out + "/"), "retrieve wrote plaintext outside the destination folder: \(target)")
            XCTAssertEqual(mode, 0o600, "\(target) had mode \(String(mode, radix: 8)) while retrieve wrote it")
        }
        XCTAssertEqual(hostileListing(out), ["big.bin"])
        XCTAssertEqual(hostileMode(out + "/big.bin"), 0o600)
    }
    #endif

    // MARK: - The passphrase's ways in

    /// There is no option for a passphrase, and no environment variable either.
    func testPassphraseIsNotAcceptedOnTheCommandLine() throws {
        let s = try HygieneSession()
        defer { s.remove() }
        let key = s.path("new.key")
        for args in [["identity", "new", "-o", key, "--passphrase", Self.passphraseMarker],
                     ["identity", "new", "-o", key, "--passphrase=\(Self.passphraseMarker)"],
                     ["identity", "new", "-o", key, "-p", Self.passphraseMarker],
                     ["staff", "list", "--vault", s.path("vault"), "--identity", key, "--passphrase", Self.passphraseMarker]] {
            s.run(args.joined(separator: " "), args, expect: 64)
            XCTAssertFalse(FileManager.default.fileExists(atPath: key), "\(args): wrote \(key)")
        }
        // A variable named like the others is not read: without a terminal there is no passphrase.
        guard HygieneSession.setsid != nil else { return XCTFail("no setsid (util-linux) to run dossier without a terminal: nothing was checked") }
        let env = ["DOSSIER_PASSPHRASE": Self.passphraseMarker, "PASSPHRASE": Self.passphraseMarker]
        s.run("DOSSIER_PASSPHRASE", ["identity", "new", "-o", key], env: env, detached: true, expect: 77)
        XCTAssertFalse(FileManager.default.fileExists(atPath: key), "DOSSIER_PASSPHRASE was used as a passphrase")
    }

    // MARK: - Core dumps

    func testDisableCoreDumpsSetsTheLimitToZero() {
        ProcessHardening.disableCoreDumps()
        XCTAssertEqual(ProcessHardening.coreDumpLimit(), 0)
    }

    #if os(Linux)
    /// `dossier` has disabled core dumps by the time it reads a passphrase: it is stopped while
    /// it opens the passphrase file (a FIFO nobody writes to yet) and its limits are read.
    func testCoreDumpsAreDisabledBeforeThePassphraseIsRead() throws {
        guard let binary = HostileBinary.path else { throw HostileError("no dossier executable") }
        let resource = __rlimit_resource_t(RLIMIT_CORE.rawValue)
        var saved = rlimit()
        getrlimit(resource, &saved)
        defer { var back = saved; setrlimit(resource, &back) }
        // The child must inherit a non-zero limit, or the check proves nothing.
        var raised = rlimit(rlim_cur: saved.rlim_max, rlim_max: saved.rlim_max)
        if saved.rlim_max == 0 { raised = rlimit(rlim_cur: rlim_t.max, rlim_max: rlim_t.max) }
        guard setrlimit(resource, &raised) == 0, raised.rlim_cur != 0 else {
            return XCTFail("cannot raise the core-file limit here (hard limit 0, not root), so the check would prove nothing; run as root")
        }
        let folder = try HostileFolder(prefix: "dossier-hygiene-core")
        defer { folder.remove() }
        let fifo = folder.file("pass.fifo")
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let key = folder.file("new.key")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["identity", "new", "-o", key, "--passphrase-file", fifo]
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DOSSIER_") }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let done = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in done.signal() }
        try process.run()
        var limit: String?
        for _ in 0..<200 where process.isRunning {
            if let text = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/limits", encoding: .utf8),
               let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Max core file size") }) {
                let fields = line.dropFirst("Max core file size".count).split(separator: " ")
                if fields.count >= 2, fields[0] == "0", fields[1] == "0" { limit = "0 0"; break }
                limit = fields.prefix(2).joined(separator: " ")
            }
            usleep(50_000)
        }
        XCTAssertTrue(process.isRunning, "dossier did not wait for the passphrase file")
        XCTAssertEqual(limit, "0 0", "while waiting for its passphrase, dossier's core-file limit (soft hard) is \(limit ?? "unknown")")
        // Let it go: open the FIFO for writing and close it (it then refuses the FIFO, which is not a regular file).
        let writer = open(fifo, O_WRONLY)
        if writer >= 0 { close(writer) }
        if done.wait(timeout: .now() + 60) == .timedOut { kill(process.processIdentifier, SIGKILL); done.wait() }
        XCTAssertEqual(process.terminationReason, .exit)
        XCTAssertFalse(FileManager.default.fileExists(atPath: key))
    }
    #endif
}

/// A folder with a config, home and working folder, and the runs made in it, each checked for
/// the markers.
final class HygieneSession {
    let folder: HostileFolder
    private(set) var runs = 0

    static let policy = """
    version = 1

    [kinds.expert-report]
    max_window = "30d"
    default_window = "7d"
    approvals = 1
    max_recipients = 5
    require_vetted = false
    require_online = false
    max_opens = 0

    [kinds.witness-testimony]
    max_window = "7d"
    default_window = "3d"
    approvals = 2
    max_recipients = 2
    require_vetted = true
    require_online = false
    max_opens = 0

    [kinds.assurance-rebuttal]
    max_window = "30d"
    default_window = "7d"
    approvals = 1
    max_recipients = 5
    require_vetted = false
    require_online = false
    max_opens = 0

    [kinds.supporting-material]
    max_window = "30d"
    default_window = "7d"
    approvals = 1
    max_recipients = 5
    require_vetted = false
    require_online = false
    max_opens = 0

    """

    static let setsid = ["/usr/bin/setsid", "/bin/setsid"].first { FileManager.default.isExecutableFile(atPath: $0) }

    init() throws {
        folder = try HostileFolder(prefix: "dossier-hygiene")
        for name in ["config", "home", "work", "tmp"] { try folder.folder(name) }
    }

    func path(_ name: String) -> String { folder.file(name) }

    /// Runs `dossier`; checks that it ended by exit with `expect` (nil: any code), that a
    /// failure has an error line (unless the command's report is its result, as doctor's), and
    /// that it printed no marker it must not: never the passphrase or plaintext, and titles
    /// only where `showsTitles`.
    @discardableResult
    func run(_ label: String, _ arguments: [String], env: [String: String] = [:], detached: Bool = false,
             expect: Int32? = 0, showsTitles: Bool = false, reportsOnStdout: Bool = false,
             file: StaticString = #filePath, line: UInt = #line) -> HostileRun {
        var environment = ["XDG_CONFIG_HOME": path("config"), "HOME": path("home"), "TMPDIR": path("tmp")]
        for (k, v) in env { environment[k] = v }
        var argv = arguments
        var executable: String?
        // Without a controlling terminal nothing can prompt (as under cron).
        if detached, let setsid = Self.setsid, let binary = HostileBinary.path {
            argv = ["--wait", binary] + arguments
            executable = setsid
        }
        let result: HostileRun
        do {
            result = try runHostile(argv, environment: environment, in: path("work"), timeout: 120, executable: executable)
        } catch {
            XCTFail("\(label): \(error)", file: file, line: line)
            return HostileRun(arguments: arguments, status: -1, endedBySignal: false, timedOut: false, seconds: 0, stdout: Data(), stderr: Data())
        }
        runs += 1
        if result.timedOut || result.endedBySignal {
            XCTFail("\(label): did not end by exit\n\(result)", file: file, line: line)
        } else if let expect, result.status != expect {
            XCTFail("\(label): expected exit \(expect)\n\(result)", file: file, line: line)
        }
        if result.status != 0, !result.endedBySignal, !result.hasErrorLine, !reportsOnStdout {
            XCTFail("\(label): failed without a 'dossier: error:' line\n\(result)", file: file, line: line)
        }
        var forbidden = [SecretHygieneTests.passphraseMarker, SecretHygieneTests.plaintextMarker]
        if !showsTitles { forbidden.append(SecretHygieneTests.contentMarker) }
        for marker in forbidden {
            for (stream, data) in [("stdout", result.stdout), ("stderr", result.stderr)] where data.range(of: Data(marker.utf8)) != nil {
                XCTFail("\(label): \(marker) appears on \(stream)\n\(result)", file: file, line: line)
            }
        }
        return result
    }

    func expectMode(_ path: String, _ mode: mode_t, file: StaticString = #filePath, line: UInt = #line) {
        let actual = hostileMode(path)
        XCTAssertEqual(actual, mode, "\(path) has mode \(actual.map { String($0, radix: 8) } ?? "none"), not \(String(mode, radix: 8))",
                       file: file, line: line)
    }

    /// The folder holds exactly `names` (hidden files included: a temporary file would show).
    func expectListing(_ folder: String, _ names: Set<String>, _ when: String, file: StaticString = #filePath, line: UInt = #line) {
        let actual = hostileListing(folder)
        XCTAssertEqual(actual, names, "\(when): \(folder) holds \(actual.sorted())", file: file, line: line)
    }

    func remove() { folder.remove() }
}
