import DossierCrypto
import Foundation
import XCTest

@testable import DossierCore

/// The staff side of sharing: the counsel registry, grants, every policy rule's refusal (each
/// logged), the two-person rule, revocation and expiry, and what the log says.
final class SharingTests: XCTestCase {
    // MARK: Counsel

    func testAddCounselRecordsTheFingerprintAndRefusesADuplicate() throws {
        let world = try ShareWorld("counsel-add")
        let adams = ShareKit.identity("counsel/adams")
        let c = try world.session.sharing.addCounsel(adams.publicIdentity, details: .init(name: "  J. Adams  ", email: "adams@example.org",
                                                                                  jurisdiction: "UK", barId: "B-1"))
        XCTAssertEqual(c.fingerprint, adams.publicIdentity.fingerprint)
        XCTAssertEqual(c.publicIdentity, adams.publicIdentity.line)
        XCTAssertEqual(c.details, .init(name: "J. Adams", email: "adams@example.org", jurisdiction: "UK", barId: "B-1"))
        XCTAssertTrue(Identifier.isWellFormed(c.id, prefix: "counsel"), c.id)
        XCTAssertNil(c.vettedUntil)
        XCTAssertEqual(c.status(at: ShareKit.start), "not vetted")

        let e = ShareKit.caught { _ = try world.session.sharing.addCounsel(adams.publicIdentity, details: .init(name: "Someone else")) }
        guard case let .counselAlreadyRegistered(fp, id)? = e else { return XCTFail("got \(String(describing: e))") }
        XCTAssertEqual(fp, adams.publicIdentity.fingerprint)
        XCTAssertEqual(id, c.id)
        XCTAssertEqual(try world.session.sharing.listCounsel().count, 1)
        XCTAssertEqual(try world.entries("counsel-add").count, 1, "a refused duplicate is not logged as added")
    }

    func testAddCounselNeedsAName() throws {
        let world = try ShareWorld("counsel-noname")
        let e = ShareKit.caught { _ = try world.session.sharing.addCounsel(ShareKit.identity("x").publicIdentity, details: .init(name: "  ")) }
        guard case .invalidArgument? = e else { return XCTFail("got \(String(describing: e))") }
        XCTAssertTrue(try world.session.sharing.listCounsel().isEmpty)
    }

    func testVetCounsel() throws {
        let world = try ShareWorld("counsel-vet")
        let (_, c) = try world.counsel("brown", vettedForDays: nil)
        let until = ShareKit.start.addingTimeInterval(30 * ShareKit.day)
        let vetted = try world.session.sharing.vetCounsel(c.id, until: until, note: "bar membership checked")
        XCTAssertEqual(vetted.vettedUntil, Timestamp.format(until))
        XCTAssertEqual(vetted.vettingNote, "bar membership checked")
        XCTAssertTrue(vetted.isVetted(through: until))
        XCTAssertFalse(vetted.isVetted(through: until.addingTimeInterval(1)))
        XCTAssertEqual(vetted.status(at: ShareKit.start), "vetted until 2027-01-31")
        XCTAssertEqual(vetted.status(at: until.addingTimeInterval(1)), "vetting expired 2027-01-31")
    }

    func testVettingDateInThePastIsRefused() throws {
        let world = try ShareWorld("counsel-vet-past")
        let (_, c) = try world.counsel("clark", vettedForDays: nil)
        for past in [ShareKit.start.addingTimeInterval(-ShareKit.day), ShareKit.start] {
            let e = ShareKit.caught { _ = try world.session.sharing.vetCounsel(c.id, until: past, note: nil) }
            guard case let .invalidArgument(message, _)? = e else { return XCTFail("got \(String(describing: e))") }
            XCTAssertTrue(message.contains("past"), message)
        }
        XCTAssertNil(try world.session.sharing.counsel(c.id).vettedUntil)
        XCTAssertTrue(try world.entries("counsel-vet").isEmpty)
        let unknown = ShareKit.caught { _ = try world.session.sharing.vetCounsel("counsel-aaaaaaaaaaaaa", until: ShareKit.start.addingTimeInterval(ShareKit.day), note: nil) }
        guard case .unknownCounsel? = unknown else { return XCTFail("got \(String(describing: unknown))") }
    }

    func testCalendarDateMeansTheEndOfThatDay() throws {
        XCTAssertEqual(Timestamp.format(try CalendarDate.endOfDay("2027-06-30")), "2027-06-30T23:59:59.999Z")
        XCTAssertEqual(Timestamp.format(try CalendarDate.endOfDay("2027-06-30T18:00:00.000Z")), "2027-06-30T18:00:00.000Z")
        for bad in ["2027-02-30", "30/06/2027", "2027-6-30", ""] {
            XCTAssertNotNil(ShareKit.caught { _ = try CalendarDate.endOfDay(bad) }, bad)
        }
    }

    func testTimesOnTheCommandLineAreAnyRFC3339TimeAndAreStoredInTheOneFixedForm() throws {
        // What a person may type, and the instant it means, in the stored form.
        let accepted: [(String, String)] = [
            ("2026-12-04T23:00:49Z", "2026-12-04T23:00:49.000Z"),
            ("2026-12-04T23:00:49.000Z", "2026-12-04T23:00:49.000Z"),
            ("2026-12-04T23:00:49.5+01:00", "2026-12-04T22:00:49.500Z"),
            ("2026-12-04T23:00:49.123456789Z", "2026-12-04T23:00:49.123Z"),
            ("2026-12-04T23:00:49.1-05:30", "2026-12-05T04:30:49.100Z"),
            ("2026-12-04t23:00:49z", "2026-12-04T23:00:49.000Z"),
            ("2026-12-04T23:00:49-00:00", "2026-12-04T23:00:49.000Z"),
            ("2026-12-31T23:30:00-01:00", "2027-01-01T00:30:00.000Z"),
            ("2028-02-29T12:00:00+14:00", "2028-02-28T22:00:00.000Z"),
        ]
        for (typed, stored) in accepted {
            XCTAssertEqual(Timestamp.parseRFC3339(typed).map(Timestamp.format), stored, typed)
            XCTAssertEqual(Timestamp.format(try CalendarDate.endOfDay(typed)), stored, typed)
            XCTAssertEqual(Timestamp.format(try CalendarDate.startOfDay(typed)), stored, typed)
        }
        XCTAssertEqual(Timestamp.format(try CalendarDate.startOfDay("2027-06-30")), "2027-06-30T00:00:00.000Z")
        for refused in ["2026-12-04T23:00:49", "2026-12-04 23:00:49Z", "2026-12-04T23:00Z", "2026-12-04T23:00:49.Z",
                        "2026-12-04T23:00:49+0100", "2026-12-04T23:00:49+01", "2026-12-04T23:00:49+24:00",
                        "2026-12-04T23:00:60Z", "2026-02-30T00:00:00Z", "2026-12-04T24:00:00Z", "2026-12-04T23:00:49ZZ",
                        "2026-12-04T23:00:49.5+01:00 ", "+2026-12-04T23:00:49Z", "2026-12-4T23:00:49Z"] {
            XCTAssertNil(Timestamp.parseRFC3339(refused), refused)
            let error = ShareKit.caught { _ = try CalendarDate.endOfDay(refused) }
            guard case let .invalidArgument(_, hint)? = error else { return XCTFail("\(refused): \(String(describing: error))") }
            XCTAssertTrue(hint?.contains("2026-12-04T23:00:49.5+01:00") ?? false)
        }
        // Stored and signed times keep their one strict form.
        for notStored in ["2026-12-04T23:00:49Z", "2026-12-04T23:00:49.5+01:00", "2026-12-04t23:00:49.000z"] {
            XCTAssertNil(Timestamp.parse(notStored), notStored)
        }
    }

    func testAGrantUntilATimeWithAnOffsetIsStoredInUTC() throws {
        let world = try ShareWorld("grant-offset")
        let doc = try world.document()
        let counsel = try world.counsel("o").counsel
        let end = try CalendarDate.endOfDay(String(Timestamp.format(ShareKit.start.addingTimeInterval(2 * ShareKit.day)).prefix(19)) + ".25+02:00")
        let g = try world.session.sharing.grant(GrantRequest(documents: [doc.id], counsel: [counsel.id], window: .until(end)))
        XCTAssertEqual(g.notAfter, Timestamp.format(ShareKit.start.addingTimeInterval(2 * ShareKit.day - 7200 + 0.25)))
        XCTAssertNotNil(Timestamp.parse(g.notAfter), "stored in the strict form")
    }

    func testSuspendCounsel() throws {
        let world = try ShareWorld("counsel-suspend")
        let (_, c) = try world.counsel("davis")
        XCTAssertTrue(c.isVetted(through: ShareKit.start))
        let s = try world.session.sharing.suspendCounsel(c.id, reason: "disbarred")
        XCTAssertEqual(s.status(at: ShareKit.start), "suspended")
        XCTAssertEqual(s.suspensionReason, "disbarred")
        XCTAssertEqual(s.suspendedAt, Timestamp.format(ShareKit.start))
        XCTAssertFalse(s.isVetted(through: ShareKit.start), "a suspended counsel is not vetted")
        let e = ShareKit.caught { _ = try world.session.sharing.suspendCounsel(c.id, reason: " ") }
        guard case .invalidArgument? = e else { return XCTFail("got \(String(describing: e))") }
        // Vetting again lifts the suspension.
        let again = try world.session.sharing.vetCounsel(c.id, until: ShareKit.start.addingTimeInterval(10 * ShareKit.day), note: nil)
        XCTAssertNil(again.suspendedAt)
        XCTAssertTrue(again.isVetted(through: ShareKit.start))
    }

    func testListAndShowCounsel() throws {
        let world = try ShareWorld("counsel-list")
        let (a, ca) = try world.counsel("evans")
        let (_, cb) = try world.counsel("fox", vettedForDays: nil)
        let all = try world.session.sharing.listCounsel()
        XCTAssertEqual(Set(all.map(\.id)), [ca.id, cb.id])
        XCTAssertEqual(try world.session.sharing.counsel(ca.id).details.name, "Counsel evans")
        // By fingerprint, also as a person types it.
        let fp = a.publicIdentity.fingerprint
        XCTAssertEqual(try world.session.sharing.counsel(fp).id, ca.id)
        XCTAssertEqual(try world.session.sharing.counsel(fp.lowercased().replacingOccurrences(of: "-", with: "")).id, ca.id)
        let e = ShareKit.caught { _ = try world.session.sharing.counsel("counsel-nobody") }
        guard case .unknownCounsel? = e else { return XCTFail("got \(String(describing: e))") }
    }

    func testCounselDetailsAreSealedInTheVaultFolder() throws {
        let world = try ShareWorld("counsel-sealed")
        let details = Counsel.Details(name: "Zelda Quartermaine", email: "zq-unique-mail@example.net",
                                      jurisdiction: "Ruritania-Jurisdiction", barId: "BAR-QX-99172")
        let (_, c) = try world.counsel("sealed", vettedForDays: nil, details: details)
        _ = try world.session.sharing.vetCounsel(c.id, until: ShareKit.start.addingTimeInterval(ShareKit.day), note: "NoteCheckedByTelephone")
        _ = try world.session.sharing.suspendCounsel(c.id, reason: "ReasonOfSuspensionXYZ")
        let files = ShareKit.allBytes(under: world.vaultPath)
        XCTAssertFalse(files.isEmpty)
        XCTAssertTrue(files.contains { $0.data.range(of: ShareKit.utf8(c.fingerprint)) != nil },
                      "the search can find what is stored in the clear (the fingerprint is)")
        for secret in [details.name, details.email!, details.jurisdiction!, details.barId!, "NoteCheckedByTelephone", "ReasonOfSuspensionXYZ"] {
            for f in files {
                XCTAssertNil(f.data.range(of: ShareKit.utf8(secret)), "'\(secret)' is in the clear in \(f.path)")
            }
        }
    }

    // MARK: Grants and the policy's refusals

    /// Asserts that `body` is refused by `rule` and that exactly one `deny` entry naming the rule
    /// was appended to the log.
    private func assertDenied(_ world: ShareWorld, rule: String, request: String = "grant",
                              file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) throws {
        let before = try world.vault.auditEntries().count
        let grantsBefore = try world.session.sharing.listGrants().count
        let e = ShareKit.caught(file: file, line: line, body)
        XCTAssertEqual(ShareKit.deniedRule(e), rule, "got \(String(describing: e))", file: file, line: line)
        if case let .policyDenied(_, message, _)? = e {
            XCTAssertFalse(message.isEmpty, file: file, line: line)
            XCTAssertTrue(e!.description.contains(rule), file: file, line: line)
        }
        let after = try world.vault.auditEntries()
        XCTAssertEqual(after.count, before + 1, "the denial must be logged", file: file, line: line)
        let deny = after.last
        XCTAssertEqual(deny?.action, "deny", file: file, line: line)
        XCTAssertEqual(deny?.detail("rule"), rule, file: file, line: line)
        XCTAssertEqual(deny?.detail("request"), request, file: file, line: line)
        XCTAssertEqual(deny?.actor, world.session.actor, file: file, line: line)
        if request == "grant" {
            XCTAssertEqual(try world.session.sharing.listGrants().count, grantsBefore, "a refused grant is not recorded", file: file, line: line)
        }
    }

    func testGrantWithinThePolicyIsActive() throws {
        let world = try ShareWorld("grant-ok")
        let doc = try world.document()
        let (_, c) = try world.counsel("gray")
        let g = try world.session.sharing.grant(GrantRequest(documents: [doc.id], counsel: [c.id], window: .duration(seconds: 5 * 86400),
                                                     caseReference: "EXT-2027-001", purpose: "appeal"))
        XCTAssertEqual(g.state, .active)
        XCTAssertEqual(g.approvalsNeeded, 1)
        XCTAssertEqual(g.approvedBy, [world.session.actor])
        XCTAssertEqual(g.notBefore, Timestamp.format(ShareKit.start))
        XCTAssertEqual(g.notAfter, Timestamp.format(ShareKit.start.addingTimeInterval(5 * ShareKit.day)))
        XCTAssertEqual(g.documents, [doc.id])
        XCTAssertEqual(g.recipients, [c.id])
        XCTAssertEqual(g.caseReference, "EXT-2027-001")
        XCTAssertEqual(g.purpose, "appeal")
        XCTAssertEqual(try world.session.sharing.listGrants(activeOnly: true).map(\.id), [g.id])
        XCTAssertEqual(try world.session.sharing.listGrants(counsel: c.id).map(\.id), [g.id])
    }

    func testGrantWithoutAWindowUsesThePolicyDefault() throws {
        let world = try ShareWorld("grant-default-window")
        let report = try world.document(.expertReport)
        let (_, c) = try world.counsel("hale")
        let g = try world.session.sharing.grant(GrantRequest(documents: [report.id], counsel: [c.id]))
        XCTAssertEqual(g.notAfter, Timestamp.format(ShareKit.start.addingTimeInterval(14 * ShareKit.day)))
    }

    func testMaxWindowDenial() throws {
        let world = try ShareWorld("deny-max-window")
        let report = try world.document(.expertReport)
        let (_, c) = try world.counsel("irwin", vettedForDays: 90)
        try assertDenied(world, rule: "kinds.expert-report.max_window") {
            _ = try world.session.sharing.grant(GrantRequest(documents: [report.id], counsel: [c.id], window: .duration(seconds: 31 * 86400)))
        }
        // Exactly the maximum is allowed.
        XCTAssertEqual(try world.session.sharing.grant(GrantRequest(documents: [report.id], counsel: [c.id], window: .duration(seconds: 30 * 86400))).state, .active)
        // The strictest document decides: a witness testimony next to a report caps the window at 7 days.
        let witness = try world.document(.witnessTestimony)
        try assertDenied(world, rule: "kinds.witness-testimony.max_window") {
            _ = try world.session.sharing.grant(GrantRequest(documents: [report.id, witness.id], counsel: [c.id], window: .duration(seconds: 8 * 86400)))
        }
        try assertDenied(world, rule: "kinds.expert-report.max_window") {
            _ = try world.session.sharing.grant(GrantRequest(documents: [report.id], counsel: [c.id], window: .until(ShareKit.start.addingTimeInterval(40 * ShareKit.day))))
        }
    }

    func testMaxRecipientsDenial() throws {
        let world = try ShareWorld("deny-max-recipients")
        let witness = try world.document(.witnessTestimony)
        let counsel = try ["j1", "j2", "j3"].map { try world.counsel($0).counsel }
        try assertDenied(world, rule: "kinds.witness-testimony.max_recipients") {
            _ = try world.session.sharing.grant(GrantRequest(documents: [witness.id], counsel: counsel.map(\.id), window: .duration(seconds: 86400)))
        }
        // Naming the same counsel twice counts once.
        let g = try world.session.sharing.grant(GrantRequest(documents: [witness.id], counsel: [counsel[0].id, counsel[0].id, counsel[1].id],
                                                     window: .duration(seconds: 86400), online: ShareKit.online))
        XCTAssertEqual(g.recipients.count, 2)
    }

    func testRequireVettedDeniesUnvettedCounsel() throws {
        let world = try ShareWorld("deny-unvetted")
        let report = try world.document(.expertReport)
        let (_, c) = try world.counsel("kent", vettedForDays: nil)
        try assertDenied(world, rule: "kinds.expert-report.require_vetted") {
            _ = try world.session.sharing.grant(GrantRequest(documents: [report.id], counsel: [c.id], window: .duration(seconds: 86400)))
        }
        let deny = try XCTUnwrap(world.entries("deny").last)
        XCTAssertTrue(deny.subjects.contains("counsel:" + c.id))
        XCTAssertTrue(deny.subjects.contains("doc:" + report.id))
    }

    func testRequireVettedDeniesVettingThatEndsBeforeTheWindow() throws {
        let world = try ShareWorld("deny-vetting-ends")
        let report = try world.document(.expertReport)
        let (_, c) = try world.counsel("lane", vettedForDays: 2)
        try assertDenied(world, rule: "kinds.expert-report.require_vetted") {
            _ = try world.session.sharing.grant(GrantRequest(documents: [report.id], counsel: [c.id], window: .duration(seconds: 5 * 86400)))
        }
        // A window inside the vetting is fine.
        XCTAssertEqual(try world.session.sharing.grant(GrantRequest(documents: [report.id], counsel: [c.id], window: .duration(seconds: 86400))).state, .active)
    }

    func testRequireVettedIsNotAskedWhereThePolicySaysSo() throws {
        let world = try ShareWorld("vetting-not-needed")
        let material = try world.document(.supportingMaterial)
        let (_, c) = try world.counsel("moss", vettedForDays: nil)
        XCTAssertEqual(try world.session.sharing.grant(GrantRequest(documents: [material.id], counsel: [c.id], window: .duration(seconds: 86400))).state, .active)
    }

    func testSuspendedCounselDenial() throws {
        let world = try ShareWorld("deny-suspended")
        // Supporting material does not need vetting, so only the suspension can refuse it.
        let material = try world.document(.supportingMaterial)
        let (_, c) = try world.counsel("nash")
        _ = try world.session.sharing.suspendCounsel(c.id, reason: "under investigation")
        try assertDenied(world, rule: "counsel.suspended") {
            _ = try world.session.sharing.grant(GrantRequest(documents: [material.id], counsel: [c.id], window: .duration(seconds: 86400)))
        }
        // Where vetting is required too, the suspension is what refuses (as package and key release say).
        let report = try world.document(.expertReport)
        try assertDenied(world, rule: "counsel.suspended") {
            _ = try world.session.sharing.grant(GrantRequest(documents: [report.id], counsel: [c.id], window: .duration(seconds: 86400)))
        }
    }

    func testCounselSuspendedAfterTheGrantCannotBePackagedFor() throws {
        let world = try ShareWorld("deny-suspended-later")
        let report = try world.document(.expertReport)
        let (_, c) = try world.counsel("owen")
        let g = try world.session.sharing.grant(GrantRequest(documents: [report.id], counsel: [c.id], window: .duration(seconds: 86400)))
        _ = try world.session.sharing.suspendCounsel(c.id, reason: "conflict of interest")
        let out = world.packagePath()
        try assertDenied(world, rule: "counsel.suspended", request: "package") {
            _ = try world.session.sharing.makePackage(grant: g.id, to: out)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        XCTAssertEqual(ShareKit.names(in: world.root).filter { $0.contains("dossier-tmp") }, [])
    }

    func testRequireOnlineDenial() throws {
        let world = try ShareWorld("deny-online")
        let online = DefaultPolicy.text.replacingOccurrences(
            of: "[kinds.expert-report]\nmax_window = \"30d\"\ndefault_window = \"14d\"\napprovals = 1\nmax_recipients = 5\nrequire_vetted = true\nrequire_online = false",
            with: "[kinds.expert-report]\nmax_window = \"30d\"\ndefault_window = \"14d\"\napprovals = 1\nmax_recipients = 5\nrequire_vetted = true\nrequire_online = true")
        XCTAssertNotEqual(online, DefaultPolicy.text, "the fixture did not change the policy")
        try world.installPolicy(online, source: "online.toml")
        XCTAssertTrue(try world.vault.policy().rule(for: .expertReport).requireOnline)
        let report = try world.document(.expertReport)
        let (_, c) = try world.counsel("page")
        try assertDenied(world, rule: "kinds.expert-report.require_online") {
            _ = try world.session.sharing.grant(GrantRequest(documents: [report.id], counsel: [c.id], window: .duration(seconds: 86400)))
        }
    }

    func testGrantArgumentsAreChecked() throws {
        let world = try ShareWorld("grant-arguments")
        let doc = try world.document()
        let (_, c) = try world.counsel("quinn")
        let cases: [(String, GrantRequest)] = [
            ("no documents", GrantRequest(documents: [], counsel: [c.id])),
            ("no counsel", GrantRequest(documents: [doc.id], counsel: [])),
            ("window in the past", GrantRequest(documents: [doc.id], counsel: [c.id], window: .until(ShareKit.start.addingTimeInterval(-1)))),
        ]
        for (what, request) in cases {
            let e = ShareKit.caught { _ = try world.session.sharing.grant(request) }
            guard case .invalidArgument? = e else { XCTFail("\(what): got \(String(describing: e))"); continue }
        }
        let unknownDoc = ShareKit.caught { _ = try world.session.sharing.grant(GrantRequest(documents: ["doc-aaaaaaaaaaaaa"], counsel: [c.id])) }
        guard case .unknownDocument? = unknownDoc else { return XCTFail("got \(String(describing: unknownDoc))") }
        let unknownCounsel = ShareKit.caught { _ = try world.session.sharing.grant(GrantRequest(documents: [doc.id], counsel: ["counsel-aaaaaaaaaaaaa"])) }
        guard case .unknownCounsel? = unknownCounsel else { return XCTFail("got \(String(describing: unknownCounsel))") }
        try world.session.documents.remove(doc.id, reason: "shredded")
        let removed = ShareKit.caught { _ = try world.session.sharing.grant(GrantRequest(documents: [doc.id], counsel: [c.id])) }
        guard case .documentRemoved? = removed else { return XCTFail("got \(String(describing: removed))") }
        XCTAssertTrue(try world.session.sharing.listGrants().isEmpty)
    }

    // MARK: The two-person rule

    func testWitnessTestimonyNeedsASecondStaffMember() throws {
        let world = try ShareWorld("two-person")
        let second = try world.addStaff("second-staff")
        let witness = try world.document(.witnessTestimony)
        let (_, c) = try world.counsel("reid")
        let g = try world.session.sharing.grant(GrantRequest(documents: [witness.id], counsel: [c.id], window: .duration(seconds: 3 * 86400),
                                                     online: ShareKit.online))
        XCTAssertEqual(g.state, .pending)
        XCTAssertEqual(g.approvalsNeeded, 2)
        XCTAssertEqual(g.approvedBy, [world.session.actor])

        // No package while pending.
        let out = world.packagePath()
        let pending = ShareKit.caught { _ = try world.session.sharing.makePackage(grant: g.id, to: out) }
        guard case let .grantNotActive(id, state)? = pending else { return XCTFail("got \(String(describing: pending))") }
        XCTAssertEqual(id, g.id)
        XCTAssertTrue(state.hasPrefix("pending"), state)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        XCTAssertTrue(try world.entries("package").isEmpty)

        // The grantor cannot approve their own grant.
        let own = ShareKit.caught { _ = try world.session.sharing.approve(g.id) }
        guard case let .selfApproval(grant)? = own else { return XCTFail("got \(String(describing: own))") }
        XCTAssertEqual(grant, g.id)
        XCTAssertEqual(try world.session.sharing.grant(g.id).state, .pending)
        XCTAssertTrue(try world.entries("approve").isEmpty)

        // A second staff member's approval activates it.
        let approved = try second.sharing.approve(g.id)
        XCTAssertEqual(approved.state, .active)
        XCTAssertEqual(approved.approvedBy, [world.session.actor, second.actor])
        let entry = try XCTUnwrap(world.entries("approve").last)
        XCTAssertEqual(entry.actor, second.actor)
        XCTAssertEqual(entry.subjects, ["grant:" + g.id])
        XCTAssertEqual(entry.detail("approvals"), "2/2")

        // Approving again is refused and changes nothing.
        let twice = ShareKit.caught { _ = try second.sharing.approve(g.id) }
        guard case .grantNotActive? = twice else { return XCTFail("got \(String(describing: twice))") }
        XCTAssertEqual(try world.entries("approve").count, 1)

        // Now it can be packaged.
        _ = try world.session.sharing.makePackage(grant: g.id, to: out)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out))
    }

    func testTheSameStaffMemberCannotApproveTwice() throws {
        let world = try ShareWorld("three-person")
        let strictest = DefaultPolicy.text.replacingOccurrences(of: "approvals = 2", with: "approvals = 3")
        try world.installPolicy(strictest, source: "three.toml")
        let second = try world.addStaff("second")
        let third = try world.addStaff("third")
        let witness = try world.document(.witnessTestimony)
        let (_, c) = try world.counsel("shaw")
        let g = try world.session.sharing.grant(GrantRequest(documents: [witness.id], counsel: [c.id], window: .duration(seconds: 86400),
                                                     online: ShareKit.online))
        XCTAssertEqual(g.approvalsNeeded, 3)
        XCTAssertEqual(try second.sharing.approve(g.id).state, .pending)
        let again = ShareKit.caught { _ = try second.sharing.approve(g.id) }
        guard case let .alreadyApproved(grant)? = again else { return XCTFail("got \(String(describing: again))") }
        XCTAssertEqual(grant, g.id)
        XCTAssertEqual(try world.session.sharing.grant(g.id).state, .pending)
        XCTAssertEqual(try third.sharing.approve(g.id).state, .active)
        XCTAssertEqual(try world.entries("approve").compactMap { $0.detail("approvals") }, ["2/3", "3/3"])
    }

    func testAnActiveGrantNeedsNoApproval() throws {
        let world = try ShareWorld("approve-active")
        let second = try world.addStaff("second")
        let (_, c) = try world.counsel("todd")
        let g = try world.session.sharing.grant(GrantRequest(documents: [try world.document().id], counsel: [c.id], window: .duration(seconds: 86400)))
        let e = ShareKit.caught { _ = try second.sharing.approve(g.id) }
        guard case .grantNotActive? = e else { return XCTFail("got \(String(describing: e))") }
    }

    // MARK: Revocation and expiry

    func testRevokedGrantCannotBePackaged() throws {
        let world = try ShareWorld("revoke")
        let (_, c) = try world.counsel("upton")
        let g = try world.session.sharing.grant(GrantRequest(documents: [try world.document().id], counsel: [c.id], window: .duration(seconds: 86400)))
        let r = try world.session.sharing.revoke(g.id, reason: "case closed")
        XCTAssertEqual(r.state, .revoked)
        XCTAssertEqual(r.revokedAt, Timestamp.format(ShareKit.start))
        let out = world.packagePath()
        let e = ShareKit.caught { _ = try world.session.sharing.makePackage(grant: g.id, to: out) }
        guard case let .grantNotActive(_, state)? = e else { return XCTFail("got \(String(describing: e))") }
        XCTAssertEqual(state, "revoked")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        XCTAssertTrue(try world.entries("package").isEmpty)
        let twice = ShareKit.caught { _ = try world.session.sharing.revoke(g.id, reason: "again") }
        guard case .grantNotActive? = twice else { return XCTFail("got \(String(describing: twice))") }
        let noReason = ShareKit.caught { _ = try world.session.sharing.revoke("grant-aaaaaaaaaaaaa", reason: "") }
        guard case .invalidArgument? = noReason else { return XCTFail("got \(String(describing: noReason))") }
        XCTAssertTrue(try world.session.sharing.listGrants(activeOnly: true).isEmpty)
    }

    func testExpiredGrantCannotBePackaged() throws {
        let world = try ShareWorld("expire")
        let (_, c) = try world.counsel("vance")
        let g = try world.session.sharing.grant(GrantRequest(documents: [try world.document().id], counsel: [c.id], window: .duration(seconds: 2 * 86400)))
        // The same vault folder, two days and a second later.
        let later = try world.reopened(clock: ShareKit.clock(days: 2, seconds: 1))
        XCTAssertEqual(try later.sharing.grant(g.id).state, .expired)
        let out = world.packagePath()
        let e = ShareKit.caught { _ = try later.sharing.makePackage(grant: g.id, to: out) }
        guard case let .grantNotActive(_, state)? = e else { return XCTFail("got \(String(describing: e))") }
        XCTAssertTrue(state.hasPrefix("expired"), state)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        XCTAssertTrue(try later.sharing.listGrants(activeOnly: true).isEmpty)
        // At the last instant of the window it is still active.
        let edge = try world.reopened(clock: ShareKit.clock(days: 2))
        XCTAssertEqual(try edge.sharing.grant(g.id).state, .active)
    }

    // MARK: The log

    func testEverySharingActionIsLoggedWithItsSubjectsAndNoNamesOrTitles() throws {
        let world = try ShareWorld("log")
        let second = try world.addStaff("second")
        guard case let .proposed(_, sha, _, _) = try world.session.sharing.setPolicy(DefaultPolicy.text, source: "default.toml") else {
            return XCTFail("a policy change took effect with one sign-off")
        }
        _ = try second.sharing.approvePolicy(sha)
        let counselName = "Wilhelmina Counsel-Name-Secret"
        let title = "Title-Of-Testimony-Secret"
        let adams = ShareKit.identity("counsel/log-adams")
        let c = try world.session.sharing.addCounsel(adams.publicIdentity, details: .init(name: counselName, email: "hidden@example.org"))
        _ = try world.session.sharing.vetCounsel(c.id, until: ShareKit.start.addingTimeInterval(30 * ShareKit.day), note: "vetting-note-secret")
        let witness = try world.deposit([("witness-file-name.txt", Data("w".utf8))], kind: .witnessTestimony, title: title)[0]
        let report = try world.deposit([("report-file-name.pdf", Data("r".utf8))], kind: .expertReport, title: title)[0]
        let g = try world.session.sharing.grant(GrantRequest(documents: [witness.id, report.id], counsel: [c.id], window: .duration(seconds: 86400),
                                                     caseReference: "CASE-REF-SECRET", purpose: "purpose-secret", online: ShareKit.online))
        _ = try second.sharing.approve(g.id)
        let summary = try world.session.sharing.makePackage(grant: g.id, to: world.packagePath())
        _ = try world.session.sharing.revoke(g.id, reason: "revocation-reason-secret")
        _ = try world.session.sharing.suspendCounsel(c.id, reason: "suspension-reason-secret")

        func one(_ action: String) throws -> AuditEntry {
            let e = try world.entries(action)
            XCTAssertEqual(e.count, 1, "\(action) entries")
            return try XCTUnwrap(e.last, action)
        }
        XCTAssertEqual(try one("counsel-add").subjects, ["counsel:" + c.id])
        XCTAssertEqual(try one("counsel-add").detail("fingerprint"), adams.publicIdentity.fingerprint)
        XCTAssertEqual(try one("counsel-vet").subjects, ["counsel:" + c.id])
        XCTAssertEqual(try one("counsel-vet").detail("until"), Timestamp.format(ShareKit.start.addingTimeInterval(30 * ShareKit.day)))
        XCTAssertEqual(try one("counsel-suspend").subjects, ["counsel:" + c.id])
        // The default policy's strictest rule asks for two sign-offs: proposed, then approved.
        XCTAssertEqual(try one("policy-propose").subjects, [])
        XCTAssertEqual(try one("policy-propose").detail("sha256"), Hash.sha256(Data(DefaultPolicy.text.utf8)).hex)
        XCTAssertEqual(try one("policy-approve").detail("sha256"), Hash.sha256(Data(DefaultPolicy.text.utf8)).hex)
        XCTAssertEqual(try one("policy-approve").detail("approvals"), "2/2")
        let grant = try one("grant")
        XCTAssertEqual(grant.subjects, ["grant:" + g.id, "doc:" + witness.id, "doc:" + report.id, "counsel:" + c.id])
        XCTAssertEqual(grant.detail("approvals-needed"), "2")
        XCTAssertEqual(grant.detail("not-after"), g.notAfter)
        XCTAssertEqual(try one("approve").subjects, ["grant:" + g.id])
        XCTAssertEqual(try one("approve").actor, second.actor)
        let package = try one("package")
        XCTAssertEqual(package.subjects, ["grant:" + g.id, "package:" + summary.packageID, "doc:" + witness.id, "doc:" + report.id, "counsel:" + c.id])
        XCTAssertEqual(package.details.filter { $0.key == "recipient" }.map(\.value), [adams.publicIdentity.fingerprint])
        XCTAssertEqual(package.detail("not-after"), g.notAfter)
        let manifest = try PackageMap(try Data(contentsOf: URL(fileURLWithPath: summary.path)))
        XCTAssertEqual(package.detail("manifest-sha256"), Hash.sha256(manifest.bytes[manifest.manifest]).hex)
        XCTAssertEqual(try one("revoke").subjects, ["grant:" + g.id])

        let secrets = [counselName, "hidden@example.org", title, "witness-file-name", "report-file-name", "CASE-REF-SECRET", "purpose-secret",
                       "vetting-note-secret", "revocation-reason-secret", "suspension-reason-secret"]
        for entry in try world.vault.auditEntries() {
            for s in secrets {
                XCTAssertNil(entry.bytes.range(of: ShareKit.utf8(s)), "entry \(entry.seq) (\(entry.action)) contains '\(s)'")
            }
        }
        XCTAssertEqual(try world.vault.verifyLogChain(), try world.vault.auditEntries().count)

        // The vault folder itself (database, write-ahead log, blobs) holds them only sealed.
        var searched: [String] = []
        for name in FileManager.default.enumerator(atPath: world.vaultPath)?.allObjects as? [String] ?? [] {
            let path = world.vaultPath + "/" + name
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue,
                  let bytes = FileManager.default.contents(atPath: path) else { continue }
            searched.append(name)
            for s in secrets {
                XCTAssertNil(bytes.range(of: ShareKit.utf8(s)), "\(name) contains '\(s)'")
            }
        }
        XCTAssertTrue(searched.contains("vault.sqlite") && searched.contains("vault.sqlite-wal"), "searched only \(searched)")
    }
}
