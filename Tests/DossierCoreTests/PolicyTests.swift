import DossierCrypto
import Foundation
import XCTest

@testable import DossierCore

/// The policy files and their parser (docs/policy-reference.md): the shipped policies, and a
/// line-precise error for every kind of mistake.
final class PolicyTests: XCTestCase {
    // MARK: The shipped policies

    private func shipped(_ name: String) throws -> String {
        let url = ShareKit.repositoryRoot.appendingPathComponent("policies/" + name)
        return try XCTUnwrap(String(data: try Data(contentsOf: url), encoding: .utf8), "\(name) is not UTF-8")
    }

    func testDefaultFileIsByteForByteTheBuiltInDefault() throws {
        let file = try shipped("default.toml")
        // `init` installs DefaultPolicy.text; `policy show` prints it; both must be the file.
        XCTAssertEqual(Data(file.utf8), Data(DefaultPolicy.text.utf8),
                       "policies/default.toml and DefaultPolicy.text differ (file \(file.utf8.count) bytes, built-in \(DefaultPolicy.text.utf8.count) bytes)")
        XCTAssertEqual(try Policy.parse(file, source: "default.toml").rules,
                       try Policy.parse(DefaultPolicy.text, source: "built-in").rules)
    }

    func testDefaultPolicyValues() throws {
        let p = try Policy.parse(try shipped("default.toml"), source: "default.toml")
        XCTAssertEqual(Set(p.rules.keys), Set(DocumentKind.allCases))
        let witness = p.rule(for: .witnessTestimony)
        XCTAssertEqual(witness.approvals, 2, "a witness testimony needs two people")
        XCTAssertEqual(witness.maxWindow, 7 * 86400, "a witness testimony is shared for at most 7 days")
        XCTAssertEqual(witness.defaultWindow, 3 * 86400)
        XCTAssertEqual(witness.maxRecipients, 2)
        XCTAssertTrue(witness.requireVetted)
        XCTAssertTrue(witness.requireOnline, "a witness testimony is shared only through the key-release service")
        XCTAssertEqual(witness.maxOpens, 3)
        let report = p.rule(for: .expertReport)
        XCTAssertEqual(report.approvals, 1)
        XCTAssertEqual(report.maxWindow, 30 * 86400)
        XCTAssertEqual(report.maxRecipients, 5)
        XCTAssertFalse(p.rule(for: .supportingMaterial).requireVetted)
        // Only witness testimony is online-only by default.
        XCTAssertEqual(DocumentKind.allCases.filter { p.rule(for: $0).requireOnline }, [.witnessTestimony])
    }

    func testStrictPolicyParsesAndIsStricter() throws {
        let strict = try Policy.parse(try shipped("strict.toml"), source: "strict.toml")
        let normal = try Policy.parse(DefaultPolicy.text, source: "default")
        XCTAssertEqual(Set(strict.rules.keys), Set(DocumentKind.allCases))
        for kind in DocumentKind.allCases {
            let s = strict.rule(for: kind), d = normal.rule(for: kind)
            XCTAssertLessThanOrEqual(s.maxWindow, d.maxWindow, kind.rawValue)
            XCTAssertGreaterThanOrEqual(s.approvals, d.approvals, kind.rawValue)
            XCTAssertLessThanOrEqual(s.maxRecipients, d.maxRecipients, kind.rawValue)
            XCTAssertTrue(s.requireVetted, kind.rawValue)
        }
        XCTAssertEqual(strict.rule(for: .witnessTestimony).maxRecipients, 1)
        XCTAssertEqual(strict.rule(for: .witnessTestimony).maxWindow, 3 * 86400)
    }

    func testNewVaultStartsWithTheDefaultPolicy() throws {
        let world = try ShareWorld("policy-new-vault")
        let p = try world.vault.policy()
        XCTAssertEqual(p.text, DefaultPolicy.text)
        XCTAssertEqual(p.rule(for: .witnessTestimony).approvals, 2)
    }

    // MARK: Line-precise errors

    /// A valid policy, one line per element, so that tests can name lines by number:
    /// line 1 `version = 1`; [kinds.expert-report] on line 3 with its keys on lines 4–10;
    /// [kinds.witness-testimony] on 12 (keys 13–19); [kinds.assurance-rebuttal] on 21 (22–28);
    /// [kinds.supporting-material] on 30 (31–37). Keys always come in the same order:
    /// max_window, default_window, approvals, max_recipients, require_vetted, require_online,
    /// max_opens.
    static let baseLines: [String] = [
        "version = 1",
        "",
        "[kinds.expert-report]",
        #"max_window = "30d""#,
        #"default_window = "14d""#,
        "approvals = 1",
        "max_recipients = 5",
        "require_vetted = true",
        "require_online = false",
        "max_opens = 0",
        "",
        "[kinds.witness-testimony]",
        #"max_window = "7d""#,
        #"default_window = "3d""#,
        "approvals = 2",
        "max_recipients = 2",
        "require_vetted = true",
        "require_online = false",
        "max_opens = 3",
        "",
        "[kinds.assurance-rebuttal]",
        #"max_window = "30d""#,
        #"default_window = "14d""#,
        "approvals = 1",
        "max_recipients = 5",
        "require_vetted = true",
        "require_online = false",
        "max_opens = 0",
        "",
        "[kinds.supporting-material]",
        #"max_window = "90d""#,
        #"default_window = "30d""#,
        "approvals = 1",
        "max_recipients = 10",
        "require_vetted = false",
        "require_online = false",
        "max_opens = 0",
    ]

    /// The base policy with line `n` (1-based) replaced.
    private func text(replacing n: Int, with line: String) -> String {
        var lines = Self.baseLines
        lines[n - 1] = line
        return lines.joined(separator: "\n") + "\n"
    }

    /// The error `Policy.parse` reports for `text`; fails the test if it parses.
    private func failure(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> (line: Int?, message: String)? {
        let e = ShareKit.caught(file: file, line: line) { _ = try Policy.parse(text, source: "test.toml") }
        guard case let .policyInvalid(source, at, message)? = e else {
            XCTFail("expected .policyInvalid, got \(String(describing: e))", file: file, line: line)
            return nil
        }
        XCTAssertEqual(source, "test.toml", file: file, line: line)
        return (at, message)
    }

    private func assertError(_ text: String, line expected: Int?, mentions words: [String],
                             file: StaticString = #filePath, line: UInt = #line) {
        guard let f = failure(text, file: file, line: line) else { return }
        XCTAssertEqual(f.line, expected, "wrong line for: \(f.message)", file: file, line: line)
        for w in words {
            XCTAssertTrue(f.message.contains(w), "'\(f.message)' does not mention '\(w)'", file: file, line: line)
        }
    }

    func testBaseFixtureIsValid() throws {
        let p = try Policy.parse(Self.baseLines.joined(separator: "\n") + "\n", source: "base")
        XCTAssertEqual(p.rules.count, 4)
        XCTAssertEqual(p.rule(for: .witnessTestimony).approvals, 2)
        XCTAssertEqual(p.rule(for: .supportingMaterial).maxWindow, 90 * 86400)
    }

    func testTOMLSyntaxErrorNamesItsLine() {
        assertError(text(replacing: 6, with: "approvals = = 1"), line: 6, mentions: ["TOML"])
        assertError(text(replacing: 13, with: #"max_window = "7d"#), line: 13, mentions: ["TOML"])
        assertError(text(replacing: 21, with: "[kinds.assurance-rebuttal"), line: 21, mentions: ["table header"])
    }

    func testDuplicateKeyIsASyntaxError() {
        assertError(text(replacing: 11, with: "approvals = 2"), line: 11, mentions: [])
    }

    func testUnknownTopLevelKeyNamesItsLine() {
        assertError(text(replacing: 2, with: #"owner = "legal team""#), line: 2, mentions: ["owner"])
    }

    func testMisspeltKindsTableNamesItsLine() {
        // `[kind.…]` instead of `[kinds.…]` is an unknown top-level key; the line of its header
        // is the only useful place to point at.
        var lines = Self.baseLines
        lines.append(contentsOf: ["", "[kind.expert-report]", #"max_window = "30d""#])
        assertError(lines.joined(separator: "\n") + "\n", line: 39, mentions: ["kind"])
    }

    func testUnknownKindNamesItsLine() {
        var lines = Self.baseLines
        lines.append(contentsOf: ["", "[kinds.rumour]", #"max_window = "1d""#, #"default_window = "1d""#, "approvals = 1",
                                  "max_recipients = 1", "require_vetted = true", "require_online = false", "max_opens = 0"])
        assertError(lines.joined(separator: "\n") + "\n", line: 39, mentions: ["rumour", "witness-testimony"])
    }

    func testUnknownKeyInAKindNamesItsLine() {
        assertError(text(replacing: 11, with: "max_days = 3"), line: 11, mentions: ["max_days", "kinds.expert-report"])
        assertError(text(replacing: 29, with: "require_vetting = true"), line: 29, mentions: ["require_vetting", "kinds.assurance-rebuttal"])
    }

    func testWrongTypeNamesItsLine() {
        assertError(text(replacing: 15, with: #"approvals = "2""#), line: 15, mentions: ["approvals"])
        assertError(text(replacing: 13, with: "max_window = 7"), line: 13, mentions: ["max_window"])
        assertError(text(replacing: 17, with: #"require_vetted = "yes""#), line: 17, mentions: ["require_vetted"])
        assertError(text(replacing: 34, with: "max_recipients = 2.5"), line: 34, mentions: ["max_recipients"])
    }

    func testBadDurationNamesItsLine() {
        assertError(text(replacing: 14, with: #"default_window = "7x""#), line: 14, mentions: ["7x", "default_window"])
        assertError(text(replacing: 4, with: #"max_window = "0d""#), line: 4, mentions: ["0d"])
        assertError(text(replacing: 32, with: #"default_window = "90""#), line: 32, mentions: ["90"])
    }

    func testDefaultWindowLongerThanMaxWindowNamesItsLine() {
        assertError(text(replacing: 23, with: #"default_window = "60d""#), line: 23, mentions: ["default_window", "max_window"])
    }

    func testApprovalsOutOfRangeNamesItsLine() {
        assertError(text(replacing: 6, with: "approvals = 0"), line: 6, mentions: ["approvals", "1...10"])
        assertError(text(replacing: 24, with: "approvals = 11"), line: 24, mentions: ["approvals"])
        assertError(text(replacing: 16, with: "max_recipients = 0"), line: 16, mentions: ["max_recipients"])
        assertError(text(replacing: 19, with: "max_opens = -1"), line: 19, mentions: ["max_opens"])
    }

    func testMissingKeyPointsAtItsTable() {
        // Nothing to point at but the table the key is missing from.
        assertError(text(replacing: 9, with: ""), line: 3, mentions: ["require_online", "kinds.expert-report"])
    }

    func testMissingKindTableIsNamed() {
        let lines = Self.baseLines.prefix(29)   // drops [kinds.supporting-material]
        // There is no line to name: the message names the missing kind instead.
        assertError(lines.joined(separator: "\n") + "\n", line: nil, mentions: ["supporting-material"])
    }

    func testVersionTwoNamesItsLine() {
        let t = "# a comment\n# another\n" + text(replacing: 1, with: "version = 2")
        assertError(t, line: 3, mentions: ["version 2"])
        assertError(text(replacing: 1, with: "# no version"), line: nil, mentions: ["version"])
    }

    func testErrorFormatIsFileColonLine() {
        let e = ShareKit.caught { _ = try Policy.parse(self.text(replacing: 6, with: "approvals = 0"), source: "policies/mine.toml") }
        XCTAssertTrue(e?.description.hasPrefix("policies/mine.toml:6: ") ?? false, String(describing: e?.description))
        let noLine = DossierError.policyInvalid(source: "p.toml", line: nil, message: "m")
        XCTAssertEqual(noLine.description, "p.toml: m")
    }

    func testErrorsDoNotEchoStringValues() throws {
        // A policy is not secret, but an error should point, not copy: the line number suffices.
        let f = try XCTUnwrap(failure(text(replacing: 2, with: #"secret_note = "do not print me""#)))
        XCTAssertFalse(f.message.contains("do not print me"), f.message)
    }

    // MARK: Durations

    func testDurations() {
        XCTAssertEqual(WindowDuration.parse("7d"), 7 * 86400)
        XCTAssertEqual(WindowDuration.parse("36h"), 36 * 3600)
        XCTAssertEqual(WindowDuration.parse("90m"), 90 * 60)
        XCTAssertEqual(WindowDuration.parse("3650d"), 3650 * 86400)
        for bad in ["", "d", "7", "7x", "0d", "-1d", "+7d", "07d", "7D", " 7d", "7d ", "1.5d", "3651d", "7dd"] {
            XCTAssertNil(WindowDuration.parse(bad), "'\(bad)' was accepted")
        }
        XCTAssertEqual(WindowDuration.format(7 * 86400), "7d")
        XCTAssertEqual(WindowDuration.format(36 * 3600), "36h")
        XCTAssertEqual(WindowDuration.format(90 * 60), "90m")
    }

    // MARK: Replacing the vault's policy

    func testSetPolicyReplacesAndLogsIt() throws {
        let world = try ShareWorld("policy-set")
        let strictText = try shipped("strict.toml")
        let p = try world.installPolicy(strictText, source: "strict.toml")
        XCTAssertEqual(p.rule(for: .witnessTestimony).maxRecipients, 1)
        XCTAssertEqual(try world.vault.policy().text, strictText)
        // The default policy asks for two sign-offs (witness testimony): the founder proposes,
        // a colleague approves, and both entries name the text's hash.
        let proposed = try world.entries("policy-propose")
        XCTAssertEqual(proposed.count, 1)
        XCTAssertEqual(proposed.first?.detail("sha256"), Hash.sha256(Data(strictText.utf8)).hex)
        XCTAssertEqual(proposed.first?.detail("approvals-needed"), "2")
        XCTAssertEqual(proposed.first?.actor, world.founder.publicIdentity.fingerprint)
        let approved = try world.entries("policy-approve")
        XCTAssertEqual(approved.count, 1)
        XCTAssertEqual(approved.first?.detail("sha256"), Hash.sha256(Data(strictText.utf8)).hex)
        XCTAssertNotEqual(approved.first?.actor, world.founder.publicIdentity.fingerprint)
    }

    func testSetPolicyRefusesAnInvalidFileAndKeepsTheOld() throws {
        let world = try ShareWorld("policy-set-bad")
        let before = try world.vault.auditEntries().count
        let e = ShareKit.caught { _ = try world.session.sharing.setPolicy(self.text(replacing: 6, with: "approvals = 0"), source: "bad.toml") }
        guard case let .policyInvalid(source, line, _)? = e else { return XCTFail("got \(String(describing: e))") }
        XCTAssertEqual(source, "bad.toml")
        XCTAssertEqual(line, 6)
        XCTAssertEqual(try world.vault.policy().text, DefaultPolicy.text)
        XCTAssertEqual(try world.vault.auditEntries().count, before, "a refused policy must not be logged as set")
    }
}
