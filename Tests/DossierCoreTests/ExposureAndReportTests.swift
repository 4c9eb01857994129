import DossierCore
import DossierCrypto
import Foundation
import XCTest

/// `audit exposure` and `audit report`, computed from the log alone.
final class ExposureAndReportTests: XCTestCase {
    func testExposureListsEverythingSealedToAKeyAndNothingElse() throws {
        let world = try ShareWorld("exposure")
        let a = try world.document(name: "a.txt")
        let b = try world.document(name: "b.txt")
        let c = try world.document(name: "c.txt")
        let adams = try world.counsel("adams").counsel
        let baker = try world.counsel("baker").counsel
        let first = try world.package([a, b], to: [adams])
        let second = try world.package([c], to: [baker])
        let snapshot = try world.vault.logSnapshot()

        for who in [adams.id, adams.fingerprint] {
            let x = try snapshot.exposure(of: who)
            XCTAssertEqual(x.fingerprint, adams.fingerprint, who)
            XCTAssertEqual(x.counsel, [adams.id], who)
            XCTAssertEqual(Set(x.documents.map(\.document)), [a.id, b.id], "\(who): only what was sealed to this key")
            XCTAssertEqual(x.grants.map(\.grant), [first.grant.id], who)
            XCTAssertEqual(x.packages.count, 1, who)
            XCTAssertEqual(x.packages.first?.grant, first.grant.id, who)
            XCTAssertEqual(x.openings.count, 0, "openings are recorded only by the key-release service")
        }
        let other = try snapshot.exposure(of: baker.id)
        XCTAssertEqual(other.documents.map(\.document), [c.id])
        XCTAssertEqual(other.grants.map(\.grant), [second.grant.id])

        // Since a later time: nothing.
        XCTAssertEqual(try snapshot.exposure(of: adams.id, since: Date.distantFuture).documents.count, 0)
        // An unknown id is an error; an unknown fingerprint is an empty answer (never registered here).
        XCTAssertThrowsError(try snapshot.exposure(of: "counsel-aaaaaaaaaaaaa"))
        XCTAssertEqual(try snapshot.exposure(of: "AAAA-AAAA-AAAA-AAAA").documents.count, 0)
    }

    func testTheReportIsSelfContainedAndShowsVerificationAccessAndDenials() throws {
        let world = try ShareWorld("report")
        let doc = try world.document(name: "a.txt")
        let counsel = try world.counsel("adams").counsel
        _ = try world.package([doc], to: [counsel])
        let unvetted = try world.counsel("unvetted", vettedForDays: nil).counsel
        XCTAssertNotNil(ShareKit.caught {
            _ = try world.session.sharing.grant(GrantRequest(documents: [doc.id], counsel: [unvetted.id], window: .duration(seconds: 3600)))
        })
        let snapshot = try world.vault.logSnapshot()
        let verification = Result<VerificationReport, DossierError> { () throws(DossierError) in try AuditVerifier.verify(snapshot) }
        let html = try AuditReport.html(snapshot, verification: verification, generatedAt: Date(timeIntervalSince1970: 0))

        XCTAssertTrue(html.contains("Log verified."))
        XCTAssertTrue(html.contains(counsel.id) && html.contains(doc.id), "the access tables name the counsel and the document")
        XCTAssertTrue(html.contains("require_vetted"), "the denial and its rule are listed")
        XCTAssertTrue(html.contains("<svg"), "the chart is inline")
        for forbidden in ["<script", "http://", "https://", "src=\"", "@import", "url("] {
            XCTAssertFalse(html.lowercased().contains(forbidden), "the report must load nothing: found \(forbidden)")
        }
        XCTAssertFalse(html.contains("Counsel adams"), "names never reach the report (they are not in the log)")

        let failed = try AuditReport.html(snapshot, verification: .failure(.logVerificationFailed("entry 3: edited")), generatedAt: Date())
        XCTAssertTrue(failed.contains("Verification FAILED") && failed.contains("entry 3: edited"))
        XCTAssertFalse(failed.contains("Log verified."))
    }
}
