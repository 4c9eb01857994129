import DossierCrypto
import Foundation
import XCTest

@testable import DossierCore

/// Checkpoints of a vault whose root is offline: signed by a certified member, verified
/// against the root through the certificates in the log (docs/formats/log.md, section 3.1).
final class CheckpointSignerTests: XCTestCase {
    func rootVault(_ label: String) throws -> (ShareWorld, OrganisationRoot) {
        let root = OrganisationRoot.generate(using: DeterministicRandom(seed: "checkpoint-root/" + label))
        return (try ShareWorld("checkpoint-" + label, organisationRoot: root), root)
    }

    func testAMemberSignedCheckpointVerifiesAgainstTheRootAndThroughAnExport() throws {
        let (w, root) = try rootVault("member")
        _ = try w.document()
        let note = try w.session.audit.checkpoint()
        let (_, sigs) = try SignedNote.split(note)
        XCTAssertEqual(sigs.count, 1)
        XCTAssertEqual(sigs[0].keyID, SignedNote.keyID(name: "example.org/dossier", publicKey: w.founder.publicIdentity.signingKey))
        let report = try AuditVerifier.verify(try w.vault.logSnapshot(), expectedOrganisationFingerprint: root.key.fingerprint)
        XCTAssertEqual(report.checkpointSize, 3)   // init, certify, deposit
        // Through an export: the certificates travel in the entries.
        let back = try LogExport.parse(LogExport.bytes(try w.vault.logSnapshot()), path: "x")
        XCTAssertNoThrow(try AuditVerifier.verify(back, expectedOrganisationFingerprint: root.key.fingerprint))
    }

    func testACheckpointByAnUncertifiedOrRemovedMemberIsRefused() throws {
        let (w, root) = try rootVault("refused")
        let bob = ShareKit.identity("bob")
        _ = try w.session.staff.add(bob.publicIdentity, name: "Bob")
        let bobSession = try w.vault.unlock(bob)
        // Staff without a certificate cannot sign one.
        assertDossierError("noCurrentCertificate") { try bobSession.audit.checkpoint() }
        // A note Bob signs anyway is not accepted: no certificate of his is in the log.
        let snapshot = try w.vault.logSnapshot()
        let text = Checkpoint(origin: "example.org/dossier", size: UInt64(snapshot.entries.count),
                              root: MerkleTree.root(leafHashes: snapshot.entries.map(MerkleTree.leafHash))).text
        let forged = SignedNote.sign(text, name: "example.org/dossier", key: bob.signing)
        XCTAssertThrowsError(try AuditVerifier.verify(snapshot, olderCheckpoints: [forged]))
        // Certified, then removed: checkpoints he signs for sizes after his revocation fail.
        _ = try w.session.staff.certify(bob.publicIdentity.fingerprint, root: root, rootPath: "r")
        let bobAgain = try w.vault.unlock(bob)
        let good = try bobAgain.audit.checkpoint()
        XCTAssertNoThrow(try AuditVerifier.verify(try w.vault.logSnapshot(), olderCheckpoints: [good]))
        try w.session.staff.remove(bob.publicIdentity.fingerprint)
        let after = try w.vault.logSnapshot()
        let text2 = Checkpoint(origin: "example.org/dossier", size: UInt64(after.entries.count),
                               root: MerkleTree.root(leafHashes: after.entries.map(MerkleTree.leafHash))).text
        let late = SignedNote.sign(text2, name: "example.org/dossier", key: bob.signing)
        XCTAssertThrowsError(try AuditVerifier.verify(after, olderCheckpoints: [late])) { e in
            XCTAssertTrue("\(e)".contains("revoked"), "\(e)")
        }
        // The founder's checkpoint still verifies.
        _ = try w.session.audit.checkpoint()
        XCTAssertNoThrow(try AuditVerifier.verify(try w.vault.logSnapshot(), expectedOrganisationFingerprint: root.key.fingerprint))
    }

    func testACertificateFromAnotherRootInTheLogCertifiesNothing() throws {
        let (w, _) = try rootVault("other-root")
        let other = OrganisationRoot.generate(using: DeterministicRandom(seed: "checkpoint/other"))
        let mallory = ShareKit.identity("mallory")
        _ = try w.session.staff.add(mallory.publicIdentity, name: "Mallory")
        // A certificate by another root, logged by a member.
        let c = Certificate.issue(by: other, organisation: "example.org/dossier", subject: mallory.publicIdentity, role: .staff,
                                  notBefore: ShareKit.start, validity: 86400 * 30, random: DeterministicRandom(seed: "c"))
        try w.vault.write { tx in try Certification.record(tx, c, signer: w.founder, at: ShareKit.start) }
        let snapshot = try w.vault.logSnapshot()
        let text = Checkpoint(origin: "example.org/dossier", size: UInt64(snapshot.entries.count),
                              root: MerkleTree.root(leafHashes: snapshot.entries.map(MerkleTree.leafHash))).text
        XCTAssertThrowsError(try AuditVerifier.verify(snapshot, olderCheckpoints: [SignedNote.sign(text, name: "example.org/dossier", key: mallory.signing)]))
    }

    func testAResumedVerificationAcceptsMemberCheckpointsThroughTheCertificatesItsStateCarries() throws {
        let (w, root) = try rootVault("state")
        _ = try w.document()
        _ = try w.session.audit.checkpoint()
        let first = try AuditVerifier.verify(try w.vault.logSnapshot(), expectedOrganisationFingerprint: root.key.fingerprint)
        let state = try XCTUnwrap(first.state)
        XCTAssertEqual(state.certificates.count, 1, "the founder's certificate is not carried")
        let reparsed = try VerificationState.parse(state.bytes, path: "state")
        XCTAssertEqual(reparsed, state)
        // New entries and a new checkpoint, signed by the founder, whose certify entry (2) is
        // among the entries a resumed verification skips.
        _ = try w.document(name: "later.txt")
        _ = try w.session.audit.checkpoint()
        let size = Int(try XCTUnwrap(state.size))
        let resumed = try AuditVerifier.verify(try w.vault.logSnapshot(firstLoaded: size - 1), expectedOrganisationFingerprint: root.key.fingerprint,
                                               state: reparsed)
        XCTAssertEqual(resumed.checkpointSize, UInt64(try w.vault.auditEntries().count))
        // Without the certificates, the same resumed verification cannot accept the checkpoint.
        let bare = VerificationState(organisation: state.organisation, organisationKey: state.organisationKey, checkpoint: state.checkpoint,
                                     path: state.path, signers: state.signers, certificates: [])
        XCTAssertThrowsError(try AuditVerifier.verify(try w.vault.logSnapshot(firstLoaded: size - 1), expectedOrganisationFingerprint: root.key.fingerprint,
                                                      state: bare))
    }
}
