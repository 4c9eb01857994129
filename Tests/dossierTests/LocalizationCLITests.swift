import DossierCore
import Foundation
import XCTest

/// Counsel's commands speak the locale's language (issue 19, docs/translations.md): each one,
/// its success and its main refusals and its `--help`, run under the six locales, says what it
/// says in that language and no English sentence of the tables, with `--json` byte for byte and
/// the exit codes the same in every language.
final class LocalizationCLITests: XCTestCase {
    static let locales = ["ar": "ar_EG.UTF-8", "zh-Hans": "zh_CN.UTF-8", "en": "en_US.UTF-8", "fr": "fr_FR.UTF-8",
                          "ru": "ru_RU.UTF-8", "es": "es_ES.UTF-8"]

    private var folder: CLIFolder!

    override func setUpWithError() throws {
        folder = try cliFolder()
    }

    private func env(_ locale: String, _ extra: [String: String] = [:]) -> [String: String] {
        extra.merging(["LANG": locale]) { a, _ in a }
    }

    @discardableResult
    private func succeed(_ arguments: [String], env: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try expectSuccess(arguments, env: env, file: file, line: line).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A vault, two counsel (one with a passphrase), a package sealed to both, one that expires
    /// in a few seconds, a third identity it is not sealed to, and a counsel machine that trusts
    /// the organisation.
    private struct Setup {
        var package = "", expiring = "", counselKey = "", protectedKey = "", strangerKey = "", wrongPass = ""
        var counselEnv: [String: String] = [:], untrustedEnv: [String: String] = [:], orgLine = ""
    }

    private func setUpPackages() throws -> Setup {
        var s = Setup()
        let staffKey = folder.file("staff.key"), vault = folder.file("vault"), document = folder.file("statement.txt")
        let pass = folder.file("pass.txt")
        s.counselKey = folder.file("counsel.key"); s.protectedKey = folder.file("protected.key"); s.strangerKey = folder.file("stranger.key")
        s.wrongPass = folder.file("wrong.txt"); s.package = folder.file("bundle.dpkg"); s.expiring = folder.file("expiring.dpkg")
        try Data("a statement\n".utf8).write(to: URL(fileURLWithPath: document))
        try Data("correct horse battery staple\n".utf8).write(to: URL(fileURLWithPath: pass))
        try Data("not the passphrase at all\n".utf8).write(to: URL(fileURLWithPath: s.wrongPass))
        try succeed(["identity", "new", "-o", staffKey, "--no-passphrase"])
        try succeed(["init", "--vault", vault, "--root-out", vault + ".root", "--no-passphrase", "--org", "example.org/dossier", "--identity", staffKey])
        let staff = ["DOSSIER_VAULT": vault, "DOSSIER_IDENTITY": staffKey]
        let doc = try succeed(["deposit", document, "--kind", "supporting-material", "--title", "Statement"], env: staff)
        var counsel: [String] = []
        for (key, extra) in [(s.counselKey, ["--no-passphrase"]), (s.protectedKey, ["--passphrase-file", pass])] {
            let line = try succeed(["identity", "new", "-o", key] + extra)
            let id = try succeed(["counsel", "add", line, "--name", "C. Counsel"], env: staff)
            try succeed(["counsel", "vet", id, "--until", "2099-12-31"], env: staff)
            counsel.append(id)
        }
        try succeed(["identity", "new", "-o", s.strangerKey, "--no-passphrase"])
        try succeed(["grant", doc, "--to"] + counsel + ["--for", "7d", "-o", s.package], env: staff)
        let soon = ISO8601DateFormatter.string(from: Date().addingTimeInterval(6), timeZone: TimeZone(identifier: "UTC")!,
                                               formatOptions: [.withInternetDateTime, .withFractionalSeconds])
        try succeed(["grant", doc, "--to", counsel[0], "--until", soon, "-o", s.expiring], env: staff)
        s.orgLine = try succeed(["org", "show", "--vault", vault]).split(separator: "\n")
            .first { $0.hasPrefix("public key:") }.map { String($0.split(separator: " ").last ?? "") } ?? ""
        for (name, trusted) in [("home", true), ("untrusting", false)] {
            let home = folder.file(name)
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: false)
            let e = ["HOME": home, "XDG_CONFIG_HOME": home]
            if trusted { try succeed(["trust", "add", s.orgLine, "--name", "Example"], env: e); s.counselEnv = e } else { s.untrustedEnv = e }
        }
        return s
    }

    /// One run of a case, and the key of the message it must show in the reader's language.
    private struct Case {
        let name: String
        let arguments: [String]
        var env: [String: String] = [:]
        let expect: [String]
        var json = false
        var before: () throws -> Void = {}
        /// `--json` fields that differ from one run to the next whatever the language (a new
        /// request's id and time); every other byte is compared.
        var volatile: [String] = []
    }

    func testCounselCommandsSpeakEachLanguageWithTheSameJSONAndExitCodes() throws {
        let s = try setUpPackages()
        let truncated = folder.file("truncated.dpkg"), tampered = folder.file("tampered.dpkg"), out = folder.file("opened")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: s.package))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncated))
        var flipped = bytes
        flipped[flipped.count - 80] ^= 0x01
        try flipped.write(to: URL(fileURLWithPath: tampered))
        let trusted = s.counselEnv
        let fresh = { () throws in
            try? FileManager.default.removeItem(atPath: out)
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        }
        Thread.sleep(forTimeInterval: 6)   // the expiring package's window is over
        let cases: [Case] = [
            Case(name: "identity new", arguments: ["identity", "new", "-o", folder.file("made.key"), "--no-passphrase"],
                 expect: ["identity.new.unencrypted", "identity.new.wrote"], before: { try? FileManager.default.removeItem(atPath: self.folder.file("made.key")) }),
            Case(name: "identity new over a file", arguments: ["identity", "new", "-o", s.counselKey, "--no-passphrase"], expect: ["error.fileExists", "hint.fileExists"]),
            Case(name: "identity new, weak passphrase", arguments: ["identity", "new", "-o", folder.file("weak.key"), "--passphrase-file", folder.file("short.txt")],
                 expect: ["error.weakPassphrase", "hint.weakPassphrase"], before: { try Data("short\n".utf8).write(to: URL(fileURLWithPath: self.folder.file("short.txt"))) }),
            Case(name: "identity show", arguments: ["identity", "show", s.counselKey], expect: ["identity.show.fingerprint"]),
            Case(name: "identity show --json", arguments: ["identity", "show", s.counselKey, "--json"], expect: [], json: true),
            Case(name: "identity show, mistyped", arguments: ["identity", "show", "dossier1abc"], expect: ["error.malformedPublicIdentity", "reason.lastCharacter"]),
            Case(name: "identity show, missing", arguments: ["identity", "show", folder.file("nothing.key")], expect: ["error.fileNotFound"]),
            Case(name: "trust add", arguments: ["trust", "add", s.orgLine, "--name", "Example"], env: trusted, expect: ["trust.add.trusted", "trust.add.compare"]),
            Case(name: "trust add, renamed", arguments: ["trust", "add", s.orgLine, "--name", "Other"], env: trusted, expect: ["error.alreadyTrusted", "hint.alreadyTrusted"]),
            Case(name: "trust add, mistyped", arguments: ["trust", "add", "dossierorg1abc", "--name", "X"], env: trusted, expect: ["error.malformedOrganisationKey", "reason.keyLineCharacters"]),
            Case(name: "trust list --json", arguments: ["trust", "list", "--json"], env: trusted, expect: [], json: true),
            Case(name: "inspect", arguments: ["inspect", s.package], env: trusted, expect: ["inspect.label.recipients", "inspect.signature.validTrusted", "inspect.window"]),
            Case(name: "inspect --json", arguments: ["inspect", s.package, "--json"], env: trusted, expect: [], json: true),
            Case(name: "inspect, untrusted", arguments: ["inspect", s.package], env: s.untrustedEnv, expect: ["inspect.signature.validUntrusted"]),
            Case(name: "inspect, truncated", arguments: ["inspect", truncated], env: trusted, expect: ["error.malformedPackage", "reason.truncatedAt"]),
            Case(name: "open", arguments: ["open", s.package, "-i", s.counselKey, "-o", out], env: trusted, expect: ["open.opened"], before: fresh),
            Case(name: "open --json", arguments: ["open", s.package, "-i", s.counselKey, "-o", out, "--json"], env: trusted, expect: [], json: true, before: fresh),
            Case(name: "open, untrusted", arguments: ["open", s.package, "-i", s.counselKey, "-o", out], env: s.untrustedEnv,
                 expect: ["error.untrustedSigner", "hint.untrustedSigner"], before: fresh),
            Case(name: "open, not a recipient", arguments: ["open", s.package, "-i", s.strangerKey, "-o", out], env: trusted,
                 expect: ["error.notARecipient", "hint.notARecipient"], before: fresh),
            Case(name: "open, expired", arguments: ["open", s.expiring, "-i", s.counselKey, "-o", out], env: trusted,
                 expect: ["error.packageExpired", "hint.packageExpired"], before: fresh),
            Case(name: "open, wrong passphrase", arguments: ["open", s.package, "-i", s.protectedKey, "--passphrase-file", s.wrongPass, "-o", out], env: trusted,
                 expect: ["error.wrongPassphrase"], before: fresh),
            Case(name: "open, tampered", arguments: ["open", tampered, "-i", s.counselKey, "-o", out], env: trusted,
                 expect: ["error.packageTampered", "reason.signatureDoesNotVerify"], before: fresh),
            Case(name: "open, truncated", arguments: ["open", truncated, "-i", s.counselKey, "-o", out], env: trusted,
                 expect: ["error.malformedPackage", "reason.truncatedAt"], before: fresh),
            Case(name: "open, no folder", arguments: ["open", s.package, "-i", s.counselKey, "-o", folder.file("missing")], env: trusted,
                 expect: ["reason.notAFolder", "reason.notAFolder.hint"]),
            Case(name: "open, no identity", arguments: ["open", s.package, "-o", out], env: trusted, expect: ["reason.noIdentity", "reason.noIdentity.hint"], before: fresh),
        ]
        try check(cases)
    }

    /// An organisation that publishes its intake line and certificate, and three counsel machines:
    /// one that trusts it and keeps its certificate, one that trusts it without the certificate,
    /// one that trusts nobody.
    private struct RequestSetup {
        var counselKey = "", letter = "", certificate = "", intakeLine = "", orgLine = "", request = ""
        var keeping: [String: String] = [:], trustingOnly: [String: String] = [:], trustingNobody: [String: String] = [:]
    }

    private func setUpRequests() throws -> RequestSetup {
        var s = RequestSetup()
        let staffKey = folder.file("staff.key"), vault = folder.file("vault")
        s.counselKey = folder.file("counsel.key"); s.letter = folder.file("letter.txt"); s.certificate = folder.file("intake.cert")
        s.request = folder.file("sent.drq")
        try Data("Please send the reports on detention conditions.\n".utf8).write(to: URL(fileURLWithPath: s.letter))
        try succeed(["identity", "new", "-o", staffKey, "--no-passphrase"])
        try succeed(["identity", "new", "-o", s.counselKey, "--no-passphrase"])
        try succeed(["init", "--vault", vault, "--root-out", vault + ".root", "--no-passphrase", "--org", "example.org/requests", "--identity", staffKey])
        try Data(try succeed(["org", "show", "--vault", vault, "--intake-certificate"]).utf8 + [0x0a]).write(to: URL(fileURLWithPath: s.certificate))
        let org = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try succeed(["org", "show", "--vault", vault, "--json"]).utf8)) as? [String: Any])
        s.intakeLine = try XCTUnwrap(org["intakeKey"] as? String)
        s.orgLine = try XCTUnwrap(org["publicKey"] as? String)
        for name in ["keeping", "trusting-only", "trusting-nobody"] {
            let home = folder.file(name)
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: false)
            let e = ["HOME": home, "XDG_CONFIG_HOME": home, "no_proxy": "127.0.0.1", "NO_PROXY": "127.0.0.1"]
            switch name {
            case "keeping":
                try succeed(["trust", "add", s.orgLine, "--name", "Example"], env: e)
                try succeed(["trust", "intake", s.certificate], env: e)
                s.keeping = e
            case "trusting-only":
                try succeed(["trust", "add", s.orgLine, "--name", "Example"], env: e)
                s.trustingOnly = e
            default:
                s.trustingNobody = e
            }
        }
        try succeed(["request", "new", "--org", s.intakeLine, "-i", s.counselKey, "--need", "reports", "--lang", "en",
                     "--message-file", s.letter, "-o", s.request])
        return s
    }

    func testRequestCommandsSpeakEachLanguageWithTheSameJSONAndExitCodes() throws {
        let s = try setUpRequests()
        let out = folder.file("request.drq")
        let fresh: () throws -> Void = { try? FileManager.default.removeItem(atPath: out) }
        let request = ["request", "new", "-i", s.counselKey, "--need", "expert-witness", "--lang", "fr", "--lang", "ar",
                       "--hearing", "2027-03-15", "--message-file", s.letter]
        let byLine = request + ["--org", s.intakeLine]
        let cases: [Case] = [
            Case(name: "request new, intake line", arguments: byLine + ["-o", out], env: s.trustingNobody,
                 expect: ["request.new.wrote", "request.new.checkByPhone"], before: fresh),
            Case(name: "request new, intake line --json", arguments: byLine + ["-o", out, "--json"], env: s.trustingNobody,
                 expect: [], json: true, before: fresh, volatile: ["requestID", "created"]),
            Case(name: "trust intake", arguments: ["trust", "intake", s.certificate], env: s.keeping,
                 expect: ["trust.intake.kept", "trust.intake.seals"]),
            Case(name: "request new, trusted name", arguments: request + ["--org", "Example", "-o", out], env: s.keeping,
                 expect: ["request.new.wrote", "request.new.certified"], before: fresh),
            Case(name: "request new, unknown need", arguments: byLine + ["-o", out, "--need", "witness"], env: s.trustingNobody,
                 expect: ["reason.unknownNeed", "reason.useOneOf"], before: fresh),
            Case(name: "request new, bad language tag", arguments: byLine + ["-o", out, "--lang", "en_GB"], env: s.trustingNobody,
                 expect: ["error.invalidLanguageTag", "hint.invalidLanguageTag"], before: fresh),
            Case(name: "request new, no date", arguments: byLine + ["-o", out, "--hearing", "2027-02-30"], env: s.trustingNobody,
                 expect: ["reason.hearingDate", "reason.hearingDate.hint"], before: fresh),
            Case(name: "request new, no output", arguments: byLine, env: s.trustingNobody, expect: ["usage.request.new.output"]),
            Case(name: "request new, file exists", arguments: byLine + ["-o", s.request], env: s.trustingNobody,
                 expect: ["error.fileExists", "hint.fileExists"]),
            Case(name: "request new, untrusted organisation", arguments: request + ["--org", s.orgLine, "-o", out], env: s.trustingNobody,
                 expect: ["error.untrustedOrganisation", "reason.organisationKeyForOrg", "hint.untrustedOrganisation"], before: fresh),
            Case(name: "trust intake, untrusted organisation", arguments: ["trust", "intake", s.certificate], env: s.trustingNobody,
                 expect: ["error.untrustedOrganisation", "reason.intakeCertificateSource", "hint.untrustedOrganisation"]),
            Case(name: "request new, no intake certificate", arguments: request + ["--org", "Example", "-o", out], env: s.trustingOnly,
                 expect: ["error.noIntakeCertificate", "hint.noIntakeCertificate"], before: fresh),
            Case(name: "request status, unreachable", arguments: ["request", "status", "-i", s.counselKey, "--request", s.request,
                                                                  "--send", "http://127.0.0.1:1"], env: s.trustingNobody,
                 expect: ["error.requestServiceUnavailable", "hint.requestServiceUnavailable"]),
            Case(name: "request status, not an id", arguments: ["request", "status", "-i", s.counselKey, "--request", "req-0",
                                                                "--send", "http://127.0.0.1:1"], env: s.trustingNobody,
                 expect: ["reason.notRequestID", "reason.notRequestID.hint"]),
        ]
        try check(cases)
        // The exit codes are the documented ones, in every language alike (checked above).
        let english = try runDossier(["request", "status", "-i", s.counselKey, "--request", s.request, "--send", "http://127.0.0.1:1"],
                                     env: s.trustingNobody)
        XCTAssertEqual(english.exitCode, 69, "\(english)")
        // In Arabic, ids, fingerprints and paths are isolated; the request id on stdout is bare, for copying.
        try fresh()
        let arabic = try runDossier(byLine + ["-o", out], env: env("ar_EG.UTF-8", s.trustingNobody))
        XCTAssertEqual(arabic.exitCode, 0, "\(arabic)")
        let id = arabic.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(id.hasPrefix("req-") && !id.contains("\u{2068}"), "\(arabic)")
        XCTAssertTrue(arabic.stderr.contains("\u{2068}\(out)\u{2069}") && arabic.stderr.contains("\u{2068}\(id)\u{2069}"), arabic.stderr)
        // A usage error names its values isolated too, not escaped.
        let usage = try runDossier(byLine + ["-o", out, "--need", "witness"], env: env("ar_EG.UTF-8", s.trustingNobody))
        XCTAssertEqual(usage.exitCode, 64, "\(usage)")
        XCTAssertTrue(usage.stderr.contains("\u{2068}witness\u{2069}") && !usage.stderr.contains("\\u{2068}"), usage.stderr)
    }

    func testRequestsSentToTheServiceSpeakEachLanguage() throws {
        var s = try setUpRequests()
        // The organisation's service, certified by its root.
        let vault = folder.file("vault"), serviceKey = folder.file("service.key"), staff = ["DOSSIER_VAULT": vault, "DOSSIER_IDENTITY": folder.file("staff.key")]
        let serviceLine = try succeed(["identity", "new", "-o", serviceKey, "--no-passphrase"]).split(separator: "\n").first { $0.hasPrefix("dossier1") }.map(String.init) ?? ""
        try succeed(["staff", "add", serviceLine, "--name", "Service", "--service"], env: staff)
        try succeed(["org", "certify", "--root", vault + ".root", "--role", "service", try SecretIdentity.publicHalf(path: serviceKey).fingerprint], env: staff)
        let service = try ServeProcess.start(["--vault", vault, "--identity", serviceKey, "--request-quota-unknown", "100/64MiB"], in: folder)
        addTeardownBlock { service.stop() }
        let out = folder.file("request.drq")
        let fresh: () throws -> Void = {
            try? FileManager.default.removeItem(atPath: out)
            try? FileManager.default.removeItem(atPath: out + ".receipt")
        }
        let send = ["request", "new", "-i", s.counselKey, "--need", "reports", "--lang", "ru", "--message-file", s.letter, "-o", out, "--send", service.url]
        try succeed(["request", "new", "--org", s.intakeLine, "-i", s.counselKey, "--need", "reports", "--lang", "en", "--message-file", s.letter,
                     "-o", folder.file("sent-once.drq"), "--send", service.url], env: s.keeping)
        s.request = folder.file("sent-once.drq")
        let status = ["request", "status", "-i", s.counselKey, "--request", s.request, "--send", service.url]
        let nosy = folder.file("nosy.key")
        try succeed(["identity", "new", "-o", nosy, "--no-passphrase"])
        let elsewhere = try IntakeKey(encryptionKey: Data(repeating: 9, count: 32)).line
        let cases: [Case] = [
            Case(name: "request new --send", arguments: send + ["--org", "Example"], env: s.keeping,
                 expect: ["request.new.sending", "request.new.received"], before: fresh),
            Case(name: "request new --send, receipt untrusted", arguments: send + ["--org", s.intakeLine], env: s.trustingNobody,
                 expect: ["error.receiptInvalidFrom", "reason.receipt.untrusted", "hint.receiptInvalid"], before: fresh),
            Case(name: "request new --send, refused", arguments: send + ["--org", elsewhere], env: s.keeping,
                 expect: ["error.requestRefused", "reason.refusal.notForThisIntake"], before: fresh),
            Case(name: "request status", arguments: status, env: s.keeping, expect: ["request.status.new"]),
            Case(name: "request status --json", arguments: status + ["--json"], env: s.keeping, expect: [], json: true),
            Case(name: "request status, not the sender", arguments: ["request", "status", "-i", nosy, "--request", s.request, "--send", service.url],
                 env: s.keeping, expect: ["error.unknownRequestAtService", "request.status.service", "reason.refusal.unknownRequest"]),
        ]
        try check(cases)
        XCTAssertEqual(try runDossier(status + ["--json"], env: s.keeping).exitCode, 0)
    }

    /// Runs every case under each locale, English first: the same exit code and `--json` as in
    /// English, no English sentence of the tables, and the phrase of each expected key.
    private func check(_ cases: [Case]) throws {
        let english = try LocalizationTables.load("en")
        var reference: [String: CLIResult] = [:]
        for language in ["en", "ar", "zh-Hans", "fr", "ru", "es"] {
            let table = try LocalizationTables.load(language)
            for c in cases {
                try c.before()
                let r = try runDossier(c.arguments, env: env(Self.locales[language]!, c.env))
                let context = "\(language), \(c.name): \(r)"
                if language == "en" { reference[c.name] = r } else if let en = reference[c.name] {
                    XCTAssertEqual(r.exitCode, en.exitCode, "the exit code changed with the language: \(context)")
                    if c.json { XCTAssertEqual(Self.without(c.volatile, r.stdout), Self.without(c.volatile, en.stdout), "--json differs from English: \(context)") }
                    if !c.json { LocalizationTables.assertNoEnglish(r.stdout + r.stderr, english: english, context) }
                }
                if c.json { XCTAssertFalse(r.stdout.isEmpty, context); XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)), context) }
                for key in c.expect {
                    let phrase = try XCTUnwrap(LocalizationTables.longestFixedPiece(table[key] ?? ""), "\(key) in \(language)")
                    XCTAssertTrue(r.stdout.contains(phrase) || r.stderr.contains(phrase), "'\(phrase)' (\(key)) missing: \(context)")
                }
            }
        }
    }

    /// `json` with the string values of `fields` blanked, the rest byte for byte.
    private static func without(_ fields: [String], _ json: String) -> String {
        fields.reduce(json) { text, field in
            text.replacingOccurrences(of: "\"\(field)\"\\s*:\\s*\"[^\"]*\"", with: "\"\(field)\":\"\"", options: .regularExpression)
        }
    }

    func testHelpOfEachCounselCommandIsInTheLocaleLanguage() throws {
        let commands: [([String], [String])] = [
            (["identity"], ["help.identity.abstract"]),
            (["identity", "new"], ["help.identity.new.abstract", "help.identity.new.output", "help.option.passphraseFile"]),
            (["identity", "show"], ["help.identity.show.abstract", "help.identity.show.json"]),
            (["trust"], ["help.trust.abstract"]),
            (["trust", "add"], ["help.trust.add.abstract", "help.trust.add.rename"]),
            (["trust", "list"], ["help.trust.list.abstract"]),
            (["inspect"], ["help.inspect.abstract", "help.inspect.discussion", "help.package"]),
            (["open"], ["help.open.abstract", "help.open.discussion", "help.option.identity", "help.option.sync", "help.option.quiet"]),
            (["trust", "intake"], ["help.trust.intake.abstract", "help.trust.intake.discussion", "help.trust.intake.file"]),
            (["request"], ["help.request.abstract"]),
            (["request", "new"], ["help.request.new.abstract", "help.request.new.discussion", "help.request.new.org", "help.request.new.need",
                                  "help.request.new.lang", "help.request.new.hearing", "help.request.new.attach", "help.request.new.send",
                                  "help.option.messageFile", "help.option.identity"]),
            (["request", "status"], ["help.request.status.abstract", "help.request.status.discussion", "help.request.status.request",
                                     "help.request.status.org", "help.request.status.send", "help.request.status.json"]),
        ]
        let english = try LocalizationTables.load("en")
        for (language, locale) in Self.locales {
            let table = try LocalizationTables.load(language)
            for (command, keys) in commands {
                let r = try runDossier(command + ["--help"], env: env(locale))
                XCTAssertEqual(r.exitCode, 0, "\(r)")
                // Help is wrapped to the terminal's width: compare with runs of white space as one.
                let help = LocalizationTables.squeezed(r.stdout)
                // The parser's own frame (headings, the --help line) is in the language too.
                for key in ["help.heading.usage", "help.heading.options", "help.flag.help"] {
                    XCTAssertTrue(help.contains(LocalizationTables.squeezed(table[key] ?? "?")), "\(language): \(key) missing from \(command) --help:\n\(r.stdout)")
                    if language != "en" {
                        XCTAssertFalse(r.stdout.contains("\n" + (english[key] ?? "?")) || r.stdout.hasPrefix(english[key] ?? "?"),
                                       "\(language): the parser's English \(key) in \(command) --help")
                    }
                }
                XCTAssertFalse(language != "en" && (r.stdout.contains("(default: ") || r.stdout.contains("for detailed help.")),
                               "\(language): the parser's English in \(command) --help:\n\(r.stdout)")
                for key in keys {
                    XCTAssertTrue(help.contains(LocalizationTables.squeezed(table[key] ?? "?")), "\(language): \(key) missing from \(command) --help:\n\(r.stdout)")
                    if language != "en" {
                        XCTAssertFalse(help.contains(LocalizationTables.squeezed(english[key] ?? "?")), "\(language): English \(key) in \(command) --help")
                    }
                }
            }
        }
        // Staff's commands stay in English whatever the locale.
        let staff = try runDossier(["grant", "--help"], env: env("fr_FR.UTF-8"))
        XCTAssertTrue(staff.stdout.contains("Your secret identity file"), staff.stdout)
        XCTAssertTrue(staff.stdout.contains("\nOPTIONS:\n") && staff.stdout.hasPrefix("OVERVIEW:"), staff.stdout)
    }

    func testTheLocaleIsChosenFromLC_ALLThenLC_MESSAGESThenLANG() throws {
        let key = folder.file("counsel.key")
        try succeed(["identity", "new", "-o", key, "--no-passphrase"])
        func fingerprintLine(_ env: [String: String]) throws -> String {
            String(try expectSuccess(["identity", "show", key], env: env).stdout.split(separator: "\n").last ?? "")
        }
        XCTAssertTrue(try fingerprintLine(["LANG": "ru_RU.UTF-8", "LC_ALL": "fr_FR.UTF-8"]).hasPrefix("empreinte"))
        XCTAssertTrue(try fingerprintLine(["LANG": "ru_RU.UTF-8", "LC_MESSAGES": "es_ES.UTF-8"]).hasPrefix("huella"))
        XCTAssertTrue(try fingerprintLine(["LANG": "ru_RU.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""]).hasPrefix("отпечаток"))
        XCTAssertTrue(try fingerprintLine(["LANG": "zh_SG.UTF-8"]).hasPrefix("指纹"))
        for other in ["de_DE.UTF-8", "zh_TW.UTF-8", "C", "POSIX", "pt_BR"] {
            XCTAssertTrue(try fingerprintLine(["LANG": other]).hasPrefix("fingerprint: "), other)
            let refused = try runDossier(["identity", "show", "dossier1abc"], env: ["LANG": other])
            let english = try runDossier(["identity", "show", "dossier1abc"], env: ["LANG": "C.UTF-8"])
            XCTAssertEqual(refused.stderr, english.stderr, other)
        }
    }

    func testArabicIsolatesTheFingerprintAndPaths() throws {
        let key = folder.file("counsel.key")
        let line = try succeed(["identity", "new", "-o", key, "--no-passphrase"])
        let fingerprint = try XCTUnwrap(try runDossier(["identity", "show", key, "--json"]).stdout
            .split(separator: "\"").drop { $0 != "fingerprint" }.dropFirst(2).first.map(String.init))
        let shown = try expectSuccess(["identity", "show", key], env: ["LANG": "ar_EG.UTF-8"])
        XCTAssertTrue(shown.stdout.contains("البصمة: \u{2068}\(fingerprint)\u{2069}"), shown.stdout)
        XCTAssertTrue(shown.stdout.hasPrefix(line + "\n"), "the public line is printed as it is, for copying: \(shown.stdout)")
        let exists = try runDossier(["identity", "new", "-o", key, "--no-passphrase"], env: ["LANG": "ar_EG.UTF-8"])
        XCTAssertTrue(exists.stderr.contains("dossier: error: \u{2068}\(key)\u{2069} موجود بالفعل"), exists.stderr)
        // A bidirectional control inside a path is escaped (`VisibleText`), never passed through.
        let hostile = folder.file("a\u{202E}b.key")
        let escaped = try runDossier(["identity", "show", hostile], env: ["LANG": "ar_EG.UTF-8"])
        XCTAssertFalse(escaped.stderr.contains("\u{202E}"), escaped.stderr)
        XCTAssertTrue(escaped.stderr.contains("a\\u{202e}b.key"), escaped.stderr)
    }
}
