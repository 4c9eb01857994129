import Foundation
import XCTest

@testable import DossierCore

/// AccessPolicy on its own: no vault, no clock but the one in the request.
final class AccessPolicyTests: XCTestCase {
    // MARK: Fixtures

    /// 2027-01-01T00:00:00.000Z.
    private let now = Date(timeIntervalSince1970: 1_798_761_600)
    private let day: TimeInterval = 86400
    private let url = "https://release.example.org"

    private func policy() throws -> Policy { try Policy.parse(DefaultPolicy.text, source: "default") }
    private func t(_ offset: TimeInterval) -> String { Timestamp.format(now.addingTimeInterval(offset)) }

    private func doc(_ kind: DocumentKind?, _ id: String = "doc-a", removed: Bool = false) -> AccessRequest.DocumentFacts {
        .init(id: id, kind: kind, isRemoved: removed)
    }

    /// Counsel vetted for 60 days unless told otherwise.
    private func counsel(_ id: String = "counsel-a", vettedUntil: String?? = .none, suspendedAt: String? = nil) -> AccessRequest.CounselFacts {
        .init(id: id, vettedUntil: vettedUntil ?? t(60 * day), suspendedAt: suspendedAt)
    }

    /// An active grant, made now by staff-a, valid for 7 days, online with a limit of 3.
    private func grant(state: String = "active", notBefore: String? = nil, notAfter: String? = nil,
                       needed: Int = 1, approvedBy: [String]? = ["staff-a"], maxOpens: Int = 3) -> AccessRequest.GrantFacts {
        .init(id: "grant-a", state: state, createdBy: "staff-a", notBefore: notBefore ?? t(0), notAfter: notAfter ?? t(7 * day),
              approvalsNeeded: needed, approvedBy: approvedBy, onlineURL: url, maxOpens: maxOpens)
    }

    private func newGrant(_ docs: [AccessRequest.DocumentFacts], to recipients: [AccessRequest.CounselFacts]? = nil, days: Double = 1,
                          online: String? = "https://release.example.org", maxOpens: Int? = nil) throws -> AccessRequest {
        .grant(now: now, policy: try policy(), documents: docs, recipients: recipients ?? [counsel()],
               notAfter: now.addingTimeInterval(days * day), online: online, maxOpens: maxOpens)
    }

    private func package(_ g: AccessRequest.GrantFacts? = nil, docs: [AccessRequest.DocumentFacts]? = nil,
                         to recipients: [AccessRequest.CounselFacts]? = nil, online: String? = "https://release.example.org",
                         at time: Date? = nil) throws -> AccessRequest {
        .package(now: time ?? now, policy: try policy(), grant: g ?? grant(), documents: docs ?? [doc(.expertReport)],
                 recipients: recipients ?? [counsel()], online: online)
    }

    private func release(_ g: AccessRequest.GrantFacts? = nil, docs: [AccessRequest.DocumentFacts]? = nil,
                         counsel c: AccessRequest.CounselFacts? = nil, opened: Int = 0, at time: Date? = nil) throws -> AccessRequest {
        .release(now: time ?? now, policy: try policy(), grant: g ?? grant(), documents: docs ?? [doc(.expertReport)],
                 counsel: c ?? counsel(), opened: opened)
    }

    private func approve(_ g: AccessRequest.GrantFacts, by actor: String = "staff-b", at time: Date? = nil) -> AccessRequest {
        .approve(now: time ?? now, grant: g, actor: actor)
    }

    /// The rule that refuses `request`, or nil if it is allowed.
    private func rule(_ request: AccessRequest) -> String? { AccessPolicy.decide(request).denial?.rule.name }

    private func assertRule(_ request: AccessRequest, _ expected: String?, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(rule(request), expected, "\(request.operation)", file: file, line: line)
    }

    // MARK: Every rule refuses with its name

    func testEveryRuleRefusesWithItsName() throws {
        let suspended = counsel(suspendedAt: t(-day))
        let unvetted = counsel(vettedUntil: .some(nil))
        let cases: [(String, AccessRequest)] = [
            ("kinds.expert-report.max_window", try newGrant([doc(.expertReport)], days: 31)),
            ("kinds.witness-testimony.max_recipients", try newGrant([doc(.witnessTestimony)], to: [counsel("c1"), counsel("c2"), counsel("c3")])),
            ("kinds.witness-testimony.require_online", try newGrant([doc(.witnessTestimony)], online: nil)),
            ("kinds.witness-testimony.require_online", try package(docs: [doc(.witnessTestimony)], online: nil)),
            ("kinds.witness-testimony.max_opens", try newGrant([doc(.witnessTestimony)], maxOpens: 4)),
            ("kinds.expert-report.require_vetted", try newGrant([doc(.expertReport)], to: [unvetted])),
            ("kinds.expert-report.require_vetted", try package(to: [unvetted])),
            ("kinds.expert-report.require_vetted", try release(counsel: unvetted)),
            ("counsel.suspended", try newGrant([doc(.supportingMaterial)], to: [suspended])),
            ("counsel.suspended", try package(to: [suspended])),
            ("counsel.suspended", try release(counsel: suspended)),
            ("document.removed", try newGrant([doc(.expertReport, removed: true)])),
            ("document.removed", try package(docs: [doc(.expertReport, removed: true)])),
            ("grant.revoked", try package(grant(state: "revoked"))),
            ("grant.revoked", try release(grant(state: "revoked"))),
            ("grant.revoked", approve(grant(state: "revoked"))),
            ("grant.pending", try package(grant(state: "pending"))),
            ("grant.pending", try release(grant(state: "pending"))),
            ("grant.active", approve(grant(state: "active"))),
            ("grant.expired", try package(grant(state: "expired"))),
            ("grant.expired", try release(at: now.addingTimeInterval(8 * day))),
            ("grant.expired", approve(grant(state: "pending"), at: now.addingTimeInterval(8 * day))),
            ("grant.not_yet_valid", try release(grant(notBefore: t(day)))),
            ("grant.not_yet_valid", try package(grant(notBefore: t(day)))),
            ("grant.max_opens", try release(opened: 3)),
            ("approval.own_grant", approve(grant(state: "pending"), by: "staff-a")),
            ("approval.repeated", approve(grant(state: "pending", approvedBy: ["staff-a", "staff-b"]), by: "staff-b")),
            ("stored.unreadable_time", try release(grant(notAfter: "soon"))),
            ("stored.unknown_state", try package(grant(state: "frozen"))),
            ("stored.unknown_kind", try release(docs: [doc(nil)])),
        ]
        for (expected, request) in cases {
            assertRule(request, expected)
        }
        // And what passes every rule is allowed.
        assertRule(try newGrant([doc(.expertReport)]), nil)
        assertRule(try package(), nil)
        assertRule(try release(), nil)
        assertRule(approve(grant(state: "pending", needed: 2)), nil)
    }

    func testEveryRuleNameIsStableAndDistinct() {
        var rules: [AccessRule] = [.grantRevoked, .grantPending, .grantActive, .grantNotYetValid, .grantExpired, .grantMaxOpens,
                                   .approvalOwnGrant, .approvalRepeated, .documentRemoved, .counselSuspended, .unknownState, .unknownKind]
        for kind in DocumentKind.allCases {
            for key in AccessRule.KindKey.allCases { rules.append(.kind(kind, key)) }
        }
        let names = rules.map(\.name)
        XCTAssertEqual(Set(names).count, names.count)
        XCTAssertEqual(AccessRule.kind(.witnessTestimony, .requireVetted).name, "kinds.witness-testimony.require_vetted")
        for key in AccessRule.KindKey.allCases {
            XCTAssertTrue(Policy.keys.contains(key.rawValue), "\(key.rawValue) is a policy key")
        }
        for field in AccessRule.StoredTime.allCases {
            XCTAssertEqual(AccessRule.unreadableTime(field).name, "stored.unreadable_time")
        }
        // Names are what log details and error messages carry: lower case, digits, - _ and dots.
        for name in names + ["stored.unreadable_time"] {
            XCTAssertTrue(name.allSatisfy { $0.isLowercase || $0.isNumber || "-_.".contains($0) }, name)
        }
    }

    // MARK: The order

    func testTheFirstFailingRuleInTheDocumentedOrderWins() throws {
        let suspended = counsel(suspendedAt: t(-day))
        // 1. The grant's state before everything, its window included.
        assertRule(try release(grant(state: "revoked", notAfter: "garbage"), counsel: suspended, opened: 9), "grant.revoked")
        assertRule(try package(grant(state: "pending"), to: [suspended], at: now.addingTimeInterval(30 * day)), "grant.pending")
        // 2. Unreadable times before the window and the counsel.
        assertRule(try release(grant(notBefore: "x"), counsel: suspended, at: now.addingTimeInterval(30 * day)), "stored.unreadable_time")
        assertRule(try newGrant([doc(.expertReport, removed: true)], to: [counsel(vettedUntil: "2027-02-30")]), "stored.unreadable_time")
        // 3. The window before standing and limits.
        assertRule(try release(counsel: suspended, opened: 3, at: now.addingTimeInterval(8 * day)), "grant.expired")
        // 4. Approvals: the grantor before the repeat.
        assertRule(approve(grant(state: "pending", approvedBy: ["staff-a", "staff-a"]), by: "staff-a"), "approval.own_grant")
        // 5. Documents before counsel.
        assertRule(try package(docs: [doc(.expertReport, removed: true)], to: [suspended]), "document.removed")
        // 6. Suspension before every kind's rule, vetting included.
        assertRule(try newGrant([doc(.expertReport)], to: [counsel(vettedUntil: .some(nil), suspendedAt: t(0))], days: 40), "counsel.suspended")
        // 7. Document by document, each kind's rules in order.
        assertRule(try newGrant([doc(.witnessTestimony)], to: [counsel("c1"), counsel("c2"), counsel("c3")], days: 8, online: nil),
                   "kinds.witness-testimony.max_window")
        assertRule(try newGrant([doc(.witnessTestimony)], to: [counsel("c1"), counsel("c2"), counsel("c3")], online: nil),
                   "kinds.witness-testimony.max_recipients")
        assertRule(try newGrant([doc(.witnessTestimony)], to: [counsel(vettedUntil: .some(nil))], online: nil),
                   "kinds.witness-testimony.require_online")
        assertRule(try newGrant([doc(.witnessTestimony)], to: [counsel(vettedUntil: .some(nil))], maxOpens: 9),
                   "kinds.witness-testimony.max_opens")
        // The first document's rules all pass before the second's are asked.
        assertRule(try newGrant([doc(.expertReport, "doc-r"), doc(.witnessTestimony, "doc-w")], days: 8), "kinds.witness-testimony.max_window")
        assertRule(try newGrant([doc(.expertReport, "doc-r"), doc(.witnessTestimony, "doc-w")], to: [counsel(vettedUntil: .some(nil))], online: nil),
                   "kinds.expert-report.require_vetted")
        // 8. The open limit last.
        assertRule(try release(counsel: counsel(vettedUntil: .some(nil)), opened: 3), "kinds.expert-report.require_vetted")
    }

    // MARK: Stored times that do not parse

    func testUnparsableStoredTimesRefuseAndAreNeverSkipped() throws {
        for bad in ["", "tomorrow", "2027-13-01T00:00:00.000Z", "2027-01-01T00:00:00Z", "2027-01-01 00:00:00.000Z"] {
            let unreadable = "stored.unreadable_time"
            assertRule(try package(grant(notBefore: bad)), unreadable)
            assertRule(try package(grant(notAfter: bad)), unreadable)
            assertRule(try release(grant(notBefore: bad)), unreadable)
            assertRule(try release(grant(notAfter: bad)), unreadable)
            assertRule(approve(grant(state: "pending", notAfter: bad)), unreadable)
            // Vetting and suspension times, even where no kind asks for vetting.
            assertRule(try newGrant([doc(.supportingMaterial)], to: [counsel(vettedUntil: bad)]), unreadable)
            assertRule(try newGrant([doc(.supportingMaterial)], to: [counsel(suspendedAt: bad)]), unreadable)
            assertRule(try package(to: [counsel(vettedUntil: bad)]), unreadable)
            assertRule(try release(counsel: counsel(vettedUntil: bad)), unreadable)
            assertRule(try release(counsel: counsel(suspendedAt: bad)), unreadable)
        }
        let denial = try XCTUnwrap(AccessPolicy.decide(try release(counsel: counsel(vettedUntil: "x"))).denial)
        XCTAssertEqual(denial.rule, .unreadableTime(.counselVettedUntil))
        XCTAssertTrue(denial.message.contains("counsel.vetted_until") && denial.message.contains("counsel-a"), denial.message)
        XCTAssertEqual(denial.concerns, ["counsel:counsel-a"])
    }

    // MARK: Boundaries

    func testTheWindowIncludesBothEnds() throws {
        let end = now.addingTimeInterval(7 * day)
        assertRule(try release(at: end), nil)
        assertRule(try release(at: end.addingTimeInterval(0.001)), "grant.expired")
        assertRule(try package(at: end), nil)
        assertRule(try package(at: end.addingTimeInterval(0.001)), "grant.expired")
        assertRule(try release(at: now), nil)
        assertRule(try release(at: now.addingTimeInterval(-0.001)), "grant.not_yet_valid")
    }

    func testVettingUntilExactlyTheWindowEndIsEnough() throws {
        let end = now.addingTimeInterval(5 * day)
        let exactly = counsel(vettedUntil: Timestamp.format(end))
        let short = counsel(vettedUntil: Timestamp.format(end.addingTimeInterval(-0.001)))
        assertRule(try newGrant([doc(.expertReport)], to: [exactly], days: 5), nil)
        assertRule(try newGrant([doc(.expertReport)], to: [short], days: 5), "kinds.expert-report.require_vetted")
        let g = grant(notAfter: Timestamp.format(end))
        assertRule(try package(g, to: [exactly]), nil)
        assertRule(try package(g, to: [short]), "kinds.expert-report.require_vetted")
        // A release needs vetting at the moment of opening, up to and including it.
        assertRule(try release(g, counsel: short, at: end.addingTimeInterval(-0.001)), nil)
        assertRule(try release(g, counsel: short, at: end), "kinds.expert-report.require_vetted")
    }

    func testLimitsAtTheirExactValues() throws {
        assertRule(try newGrant([doc(.expertReport)], days: 30), nil)
        assertRule(try newGrant([doc(.expertReport)], days: 30 + 1 / 86400), "kinds.expert-report.max_window")
        assertRule(try newGrant([doc(.witnessTestimony)], to: [counsel("c1"), counsel("c2")]), nil)
        assertRule(try newGrant([doc(.witnessTestimony)], maxOpens: 3), nil)
        assertRule(try release(opened: 2), nil)
        assertRule(try release(opened: 3), "grant.max_opens")
        assertRule(try release(grant(maxOpens: 0), opened: 1_000_000), nil)
    }

    func testAnActiveGrantWithTooFewDistinctSignOffsIsPending() throws {
        assertRule(try package(grant(needed: 2, approvedBy: ["staff-a", "staff-a"])), "grant.pending")
        assertRule(try package(grant(needed: 2, approvedBy: ["staff-a", "staff-b"])), nil)
    }

    // MARK: One rule name for one fact

    /// An unvetted recipient of a witness testimony is refused under the same name whether staff
    /// grant, staff package, or the key-release service is asked to release.
    func testGrantPackageAndReleaseNameTheSameRuleForTheSameFact() throws {
        let witness = [doc(.witnessTestimony)]
        let facts: [(String, AccessRequest.CounselFacts)] = [
            ("kinds.witness-testimony.require_vetted", counsel(vettedUntil: .some(nil))),
            ("kinds.witness-testimony.require_vetted", counsel(vettedUntil: t(-day))),
            ("counsel.suspended", counsel(suspendedAt: t(-day))),
            ("stored.unreadable_time", counsel(vettedUntil: "last week")),
        ]
        for (expected, c) in facts {
            let requests = [try newGrant(witness, to: [c]), try package(docs: witness, to: [c]), try release(docs: witness, counsel: c)]
            XCTAssertEqual(requests.map(rule), [expected, expected, expected], "\(c)")
        }
    }

    // MARK: What a denial carries

    func testADenialSaysWhatIsRefusedAndWhatToDo() throws {
        let d = try XCTUnwrap(AccessPolicy.decide(try newGrant([doc(.expertReport, "doc-r")], to: [counsel("counsel-u", vettedUntil: .some(nil))])).denial)
        XCTAssertEqual(d.rule, .kind(.expertReport, .requireVetted))
        XCTAssertTrue(d.message.contains("counsel-u"), d.message)
        XCTAssertTrue(d.hint.contains("dossier counsel vet counsel-u"), d.hint)
        XCTAssertEqual(d.concerns, ["doc:doc-r", "counsel:counsel-u"])
        guard case let .policyDenied(rule, message, hint) = d.error else { return XCTFail("got \(d.error)") }
        XCTAssertEqual(rule, "kinds.expert-report.require_vetted")
        XCTAssertEqual(message, d.message)
        XCTAssertEqual(hint, d.hint)
        for (request, check) in [
            (try package(grant(state: "pending", needed: 2)), { (e: DossierError) in if case .grantNotActive("grant-a", let s) = e { return s.hasPrefix("pending") }; return false }),
            (try package(grant(state: "revoked")), { if case .grantNotActive("grant-a", "revoked") = $0 { return true }; return false }),
            (try package(grant(state: "expired")), { if case .grantNotActive("grant-a", let s) = $0 { return s.hasPrefix("expired") }; return false }),
            (approve(grant(state: "active")), { if case .grantNotActive("grant-a", "already active") = $0 { return true }; return false }),
            (approve(grant(state: "pending"), by: "staff-a"), { if case .selfApproval("grant-a") = $0 { return true }; return false }),
            (approve(grant(state: "pending", approvedBy: ["staff-a", "staff-b"])), { if case .alreadyApproved("grant-a") = $0 { return true }; return false }),
            (try newGrant([doc(.expertReport, "doc-x", removed: true)]), { if case .documentRemoved("doc-x") = $0 { return true }; return false }),
        ] as [(AccessRequest, (DossierError) -> Bool)] {
            let denial = try XCTUnwrap(AccessPolicy.decide(request).denial)
            XCTAssertTrue(check(denial.error), "\(denial.rule): \(denial.error)")
        }
    }

    /// The key-release service answers with the codes of docs/formats/key-release.md whatever the
    /// rule's name; every rule that can refuse a release has one.
    func testEveryReleaseRefusalKeepsItsWireCode() throws {
        let cases: [(AccessRequest, ReleaseRefusal)] = [
            (try release(grant(state: "revoked")), .revoked),
            (try release(grant(state: "pending")), .notApproved),
            (try release(grant(state: "frozen")), .revoked),
            (try release(grant(notBefore: t(day))), .notYetValid),
            (try release(grant(notBefore: "x")), .notYetValid),
            (try release(at: now.addingTimeInterval(8 * day)), .expired),
            (try release(grant(notAfter: "x")), .expired),
            (try release(counsel: counsel(suspendedAt: t(0))), .suspended),
            (try release(counsel: counsel(suspendedAt: "x")), .suspended),
            (try release(counsel: counsel(vettedUntil: .some(nil))), .notVetted),
            (try release(counsel: counsel(vettedUntil: "x")), .notVetted),
            (try release(docs: [doc(nil)]), .notVetted),
            (try release(opened: 3), .openLimitReached),
        ]
        for (request, code) in cases {
            let denial = try XCTUnwrap(AccessPolicy.decide(request).denial)
            XCTAssertEqual(denial.rule.releaseRefusal, code, denial.rule.name)
        }
    }
}
