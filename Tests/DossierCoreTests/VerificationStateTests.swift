import DossierCrypto
import Foundation
import XCTest
@testable import DossierCore

/// Verifying onwards from a state an auditor kept (issue 7): only the new entries are read;
/// an altered state, or a changed entry at the state's size, is refused; what a state cannot
/// show (an edit before its size, an added signer) is what docs/formats/log.md section 7 says.
final class VerificationStateTests: XCTestCase {
    /// 1 init, 2–3 deposits (Alice), 4 staff-add Bob, 5 deposit (Bob), checkpoint of 5,
    /// 6 deposit (Alice), checkpoint of 6.
    func makeLog() throws -> (v: AuditTestVault, bob: StaffSession) {
        let v = try makeAuditVault()
        try v.deposit("first")
        try v.deposit("second")
        _ = try v.session.staff.add(auditIdentity("bob").publicIdentity, name: "Bob")
        let bob = try v.vault.unlock(auditIdentity("bob"))
        try v.deposit("by Bob", by: bob)
        _ = try v.checkpoint()
        try v.deposit("third")
        _ = try v.checkpoint()
        return (v, bob)
    }

    func state(_ v: AuditTestVault) throws -> VerificationState {
        let report = try AuditVerifier.verify(try v.vault.logSnapshot())
        let state = try XCTUnwrap(report.state, "a log with a checkpoint gives a state")
        XCTAssertEqual(state.size, 6, "the state is at the newest checkpoint")
        return state
    }

    func testAStateRoundTripsAndResumesAtItsCheckpoint() throws {
        let (v, bob) = try makeLog()
        let kept = try state(v)
        XCTAssertEqual(try VerificationState.parse(kept.bytes, path: "s"), kept)
        XCTAssertEqual(kept.signers.count, 2, "Alice and Bob may sign after entry 6")

        // No new entries: nothing but the state's last entry is read.
        let same = try AuditVerifier.verify(try v.vault.logSnapshot(), state: kept)
        XCTAssertEqual(same.resumedAfter, 6)
        XCTAssertEqual(same.entries, 6)
        XCTAssertEqual(same.state, kept)

        // New entries, by both signers, and a newer checkpoint.
        try v.deposit("fourth")
        try v.deposit("fifth", by: bob)
        _ = try v.checkpoint()
        try v.deposit("after the checkpoint")
        let full = try AuditVerifier.verify(try v.vault.logSnapshot())
        let resumed = try AuditVerifier.verify(try v.vault.logSnapshot(), state: kept)
        XCTAssertEqual(resumed.root, full.root)
        XCTAssertEqual(resumed.entries, 9)
        XCTAssertEqual(resumed.resumedAfter, 6)
        XCTAssertEqual(resumed.checkpointSize, 8)
        XCTAssertEqual(resumed.state?.size, 8, "the state moves to the newest checkpoint")
        XCTAssertEqual(resumed.state, full.state, "resumed or full, the same state")
        // And through an export.
        let export = try LogExport.parse(LogExport.bytes(try v.vault.logSnapshot()), path: "log.dlog")
        XCTAssertEqual(try AuditVerifier.verify(export, state: kept).root, full.root)
    }

    /// The key-release service's identity may sign openings, refusals and received requests
    /// only: an auditor verifying an export, or onwards from a state kept before the entry,
    /// refuses a log in which it signed anything else (vault.md section 6.6).
    func testAnExportInWhichTheServiceSignedAGrantIsRefusedAlsoFromAState() throws {
        let (v, _) = try makeLog()
        let service = auditIdentity("service")
        _ = try v.session.staff.add(service.publicIdentity, name: "Service", service: true)
        // What the service may sign: the log verifies, and the state names it as the service.
        try v.vault.write { tx in
            try AuditLog.append(tx, signer: service, action: .deny, at: Date(), subjects: ["grant:grant-aaaaaaaaaaaaa"],
                                details: [.init("rule", "online.unknown-grant"), .init("request", "open")])
        }
        _ = try v.checkpoint()
        let kept = try XCTUnwrap(try AuditVerifier.verify(try v.vault.logSnapshot()).state)
        XCTAssertEqual(kept.services, [service.publicIdentity.fingerprint])
        XCTAssertEqual(try VerificationState.parse(kept.bytes, path: "s"), kept)
        XCTAssertTrue(String(decoding: kept.bytes, as: UTF8.self).contains("\nservice \(service.publicIdentity.fingerprint)\n"))

        // A modified program signs a grant with the service's key.
        try v.vault.write { tx in
            try AuditLog.append(tx, signer: service, action: .grant, at: Date(), subjects: ["grant:grant-bbbbbbbbbbbba", "doc:doc-aaaaaaaaaaaaa"],
                                details: [.init("not-before", "2027-01-01T00:00:00.000Z"), .init("not-after", "2027-01-02T00:00:00.000Z")])
        }
        let export = try LogExport.parse(LogExport.bytes(try v.vault.logSnapshot()), path: "log.dlog")
        for (how, run) in [("from the start", { () throws -> Void in _ = try AuditVerifier.verify(export) }),
                           ("from the state", { () throws -> Void in _ = try AuditVerifier.verify(export, state: kept) })] {
            XCTAssertThrowsError(try run(), how) { error in
                XCTAssertTrue("\(error)".contains("key-release service") && "\(error)".contains("`grant`"), "\(how): \(error)")
            }
        }
        // A state that no longer says who the service is cannot pass for one: its lines are checked.
        let stripped = String(decoding: kept.bytes, as: UTF8.self).replacingOccurrences(of: "service \(service.publicIdentity.fingerprint)\n", with: "")
        XCTAssertNoThrow(try VerificationState.parse(Data(stripped.utf8), path: "s"), "a state without services is well-formed")
        let unknown = String(decoding: kept.bytes, as: UTF8.self)
            .replacingOccurrences(of: "service \(service.publicIdentity.fingerprint)\n", with: "service AAAA-BBBB-CCCC-DDDD\n")
        XCTAssertThrowsError(try VerificationState.parse(Data(unknown.utf8), path: "s")) { XCTAssertTrue("\($0)".contains("service"), "\($0)") }
    }

    func testALogWithoutCheckpointGivesNoState() throws {
        let v = try makeAuditVault()
        try v.deposit("one")
        XCTAssertNil(try AuditVerifier.verify(try v.vault.logSnapshot()).state)
    }

    func testAlteredPathHashIsRefused() throws {
        let (v, _) = try makeLog()
        let kept = try state(v)
        var text = String(decoding: kept.bytes, as: UTF8.self)
        let pathLine = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("path ") }).description
        var hash = Data(base64Encoded: String(pathLine.dropFirst(5)))!
        hash[0] ^= 1
        text = text.replacingOccurrences(of: pathLine, with: "path " + hash.base64EncodedString())
        let altered = try VerificationState.parse(Data(text.utf8), path: "s")
        let message = assertLogVerificationFails("a state with a changed path hash") {
            try AuditVerifier.verify(try v.vault.logSnapshot(), state: altered)
        }
        assertMessage(message, contains: ["entry 6", "path"], "altered path")
    }

    func testAlteredCheckpointInTheStateIsRefused() throws {
        let (v, _) = try makeLog()
        let kept = try state(v)
        let forged = kept.checkpoint.replacingOccurrences(of: "\n6\n", with: "\n5\n")
        XCTAssertNotEqual(forged, kept.checkpoint)
        let altered = VerificationState(organisation: kept.organisation, organisationKey: kept.organisationKey,
                                        checkpoint: forged, path: kept.path, signers: kept.signers)
        let message = assertLogVerificationFails("a state whose checkpoint was edited") {
            try AuditVerifier.verify(try v.vault.logSnapshot(), state: altered)
        }
        assertMessage(message, contains: ["state", "signature"], "altered checkpoint")
    }

    func testAStateOfAnotherOrganisationIsRefused() throws {
        let (v, _) = try makeLog()
        let kept = try state(v)
        let other = try makeAuditVault("other-organisation")
        try other.deposit("elsewhere")
        _ = try other.checkpoint()
        let message = assertLogVerificationFails("another organisation's state") {
            try AuditVerifier.verify(try other.vault.logSnapshot(), state: kept)
        }
        assertMessage(message, contains: ["another organisation"], "other organisation")
    }

    func testAChangedEntryAtTheStatesSizeIsRefused() throws {
        let (v, _) = try makeLog()
        let kept = try state(v)
        try v.editEntry(6, { $0.replacingOccurrences(of: "detail size=5", with: "detail size=6") })
        let message = assertLogVerificationFails("entry 6 edited") {
            try AuditVerifier.verify(try v.vault.logSnapshot(), state: kept)
        }
        assertMessage(message, contains: ["entry 6"], "changed last entry")
    }

    func testTruncationBelowTheStateIsRefused() throws {
        let (v, _) = try makeLog()
        let kept = try state(v)
        try v.deleteEntry(6)
        try v.deleteCheckpoints(above: 5)
        let message = assertLogVerificationFails("log cut below the state") {
            try AuditVerifier.verify(try v.vault.logSnapshot(), state: kept)
        }
        assertMessage(message, contains: ["truncated"], "truncated")
    }

    func testANewEntryWithABadSignatureIsRefused() throws {
        let (v, _) = try makeLog()
        let kept = try state(v)
        try v.deposit("new")
        try v.editEntry(7, { $0.replacingOccurrences(of: "kind=expert-report", with: "kind=witness-testimony") })
        let message = assertLogVerificationFails("a new entry edited") {
            try AuditVerifier.verify(try v.vault.logSnapshot(), state: kept)
        }
        assertMessage(message, contains: ["entry 7", "signature"], "edited new entry")
    }

    /// What a state is trusted for, as the auditor guide says: entries before its size are not
    /// read, so an edit there is found by a full verification only; the signer list is taken as
    /// written, so removing a signer makes that signer's new entries fail.
    func testWhatAStateTrusts() throws {
        let (v, bob) = try makeLog()
        let kept = try state(v)
        try v.deposit("new, by Bob", by: bob)
        try v.editEntry(2, { $0.replacingOccurrences(of: "detail size=5", with: "detail size=9") })
        XCTAssertNoThrow(try AuditVerifier.verify(try v.vault.logSnapshot(), state: kept), "entry 2 is not read from a state")
        assertLogVerificationFails("a full verification") { try AuditVerifier.verify(try v.vault.logSnapshot()) }

        let bobLine = auditIdentity("bob").publicIdentity.line
        let withoutBob = VerificationState(organisation: kept.organisation, organisationKey: kept.organisationKey,
                                           checkpoint: kept.checkpoint, path: kept.path, signers: kept.signers.filter { $0 != bobLine })
        let message = assertLogVerificationFails("Bob missing from the state's signers") {
            try AuditVerifier.verify(try v.vault.logSnapshot(), state: withoutBob)
        }
        assertMessage(message, contains: ["entry 7", "not staff"], "signer removed from state")
    }

    func testAStateInAnyButItsCanonicalFormIsRefused() throws {
        let (v, _) = try makeLog()
        let text = String(decoding: try state(v).bytes, as: UTF8.self)
        let variants = [
            ("a blank line at the end", text + "\n"),
            ("an unknown version", text.replacingOccurrences(of: "dossier-verification-state/1", with: "dossier-verification-state/2")),
            ("signers out of order", {
                var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                let signerIndexes = lines.indices.filter { lines[$0].hasPrefix("signer ") }
                lines.swapAt(signerIndexes[0], signerIndexes[1])
                return lines.joined(separator: "\n")
            }()),
            ("a space after the organisation", text.replacingOccurrences(of: "organisation \(AuditTestVault.organisation)\n", with: "organisation \(AuditTestVault.organisation) \n")),
            ("a path hash of 31 bytes", text.replacingOccurrences(of: "path ", with: "path AAAA")),
            ("a signer listed twice", {
                let signer = text.split(separator: "\n").first { $0.hasPrefix("signer ") }!
                return text.replacingOccurrences(of: signer + "\n", with: signer + "\n" + signer + "\n")
            }()),
            // The size is used before the signature is checked: it must not crash or allocate.
            ("a checkpoint of 2^64 − 1 entries", withCheckpointSize("18446744073709551615", in: text)),
            ("a checkpoint of 2^40 entries", withCheckpointSize("1099511627776", in: text)),
            ("a checkpoint of 0 entries", withCheckpointSize("0", in: text)),
        ]
        for (what, variant) in variants {
            XCTAssertNotEqual(variant, text, what)
            XCTAssertThrowsError(try VerificationState.parse(Data(variant.utf8), path: "s"), what) { error in
                guard case DossierError.malformedState = error else { return XCTFail("\(what): wrong error \(error)") }
            }
        }
    }

    /// `text` with its checkpoint note's size line (6) replaced; the signature no longer matters.
    private func withCheckpointSize(_ size: String, in text: String) -> String {
        let line = text.split(separator: "\n").first { $0.hasPrefix("checkpoint ") }!
        let note = String(decoding: Data(base64Encoded: String(line.dropFirst(11)))!, as: UTF8.self)
        var noteLines = note.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(noteLines[1], "6")
        noteLines[1] = size
        return text.replacingOccurrences(of: line, with: "checkpoint " + Data(noteLines.joined(separator: "\n").utf8).base64EncodedString())
    }

    /// Skipping entries never makes up more than the log holds, nor a negative count.
    func testASnapshotSkipsNoMoreEntriesThanTheLogHolds() throws {
        let (v, _) = try makeLog()
        let all = try v.vault.logSnapshot()
        for (asked, skipped) in [(1_000_000, 6), (-5, 0), (6, 6), (3, 3)] {
            let snapshot = try v.vault.logSnapshot(firstLoaded: asked)
            XCTAssertEqual(snapshot.firstLoaded, skipped, "asked \(asked)")
            XCTAssertEqual(snapshot.entries.count, all.entries.count, "asked \(asked)")
            XCTAssertEqual(Array(snapshot.entries[skipped...]), Array(all.entries[skipped...]), "asked \(asked)")
        }
    }

    // MARK: The frontier

    func testTheFrontierGivesTheRootAndTheLastLeafsPath() throws {
        let leaves = (0..<40).map { i in Data("leaf \(i)".utf8).withUnsafeBytes { Digest32.sha256($0) } }
        var tree = MerkleTree.Frontier()
        for n in 1...40 {
            tree.append(leaves[n - 1])
            let data = leaves[0..<n].map(\.data)
            XCTAssertEqual(tree.root.data, MerkleTree.root(leafHashes: data), "root of \(n)")
            XCTAssertEqual(tree.lastLeafPath.map(\.data), MerkleTree.inclusionProof(index: n - 1, leafHashes: data[...]), "path of \(n)")
            let rebuilt = try XCTUnwrap(MerkleTree.Frontier(size: UInt64(n), lastLeaf: leaves[n - 1], path: tree.lastLeafPath))
            XCTAssertEqual(rebuilt.root, tree.root, "rebuilt root of \(n)")
            var a = rebuilt, b = tree
            a.append(leaves[0]); b.append(leaves[0])
            XCTAssertEqual(a.root, b.root, "rebuilt frontier of \(n) grows the same")
            XCTAssertNil(MerkleTree.Frontier(size: UInt64(n), lastLeaf: leaves[n - 1], path: tree.lastLeafPath + [leaves[0]]))
        }
    }
}
