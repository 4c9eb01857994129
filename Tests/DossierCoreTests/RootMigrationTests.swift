import DossierCrypto
import Foundation
import GRDB
import XCTest

@testable import DossierCore

/// `org migrate-root`: an older vault's organisation key moves out of it (docs/formats/vault.md,
/// section 8.6).
final class RootMigrationTests: XCTestCase {
    func testMigrationRemovesTheKeyCertifiesStaffAndKeepsTheLogVerifiable() throws {
        let v = try makeVault()
        let bob = TestIdentity.make("bob")
        _ = try v.session.staff.add(bob.publicIdentity, name: "Bob")
        let oldCheckpoint = try v.session.audit.checkpoint()
        let previous = try OrganisationKey(line: try v.vault.organisation().publicKey)
        let sealed = try XCTUnwrap(try rawDatabase(v).read { db in try Data.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'organisation_secret_sealed'") })
        XCTAssertTrue(try v.vault.organisationKeyInVault())

        let root = OrganisationRoot.generate(using: DeterministicRandom(seed: "migration-root"))
        let done = try v.session.staff.migrateRoot(to: root)
        XCTAssertEqual(done.previous, previous)
        XCTAssertEqual(Set(done.certificates.map(\.fingerprint)), Set([v.founder.publicIdentity.fingerprint, bob.publicIdentity.fingerprint]))
        XCTAssertEqual(try v.vault.organisation().publicKey, root.key.line)
        XCTAssertFalse(try v.vault.organisationKeyInVault())
        // The old sealed key is in no file of the vault (WAL included).
        for file in regularFiles(under: v.path) { XCTAssertFalse(contains(try readFile(file), sealed), file) }
        XCTAssertEqual(folderContents(v.path).filter { $0.contains("purge") }, [])
        XCTAssertThrowsError(try v.session.staff.migrateRoot(to: OrganisationRoot.generate())) { e in
            guard case DossierError.rootAlreadyOffline = e else { return XCTFail("\(e)") }
        }

        // The log verifies against the new root: the old checkpoint by the previous key, a new
        // one by a certified member; and not against the old key any more.
        let newCheckpoint = try v.session.audit.checkpoint()
        XCTAssertNotEqual(oldCheckpoint, newCheckpoint)
        let report = try AuditVerifier.verify(try v.vault.logSnapshot(), expectedOrganisationFingerprint: root.key.fingerprint)
        XCTAssertEqual(report.checkpointSize.map(Int.init), try v.vault.logSnapshot().entries.count)
        assertDossierError("wrongOrganisation") { try AuditVerifier.verify(try v.vault.logSnapshot(), expectedOrganisationFingerprint: previous.fingerprint) }
        XCTAssertNoThrow(try v.vault.verifyLogChain())
        let actions = try rawLog(v).map { try AuditEntry.parse($0.bytes).action }
        XCTAssertEqual(Array(actions.suffix(3)), ["root-migrate", "certify", "certify"])

        // The previous key cannot sign a checkpoint of the log after the migration.
        let snapshot = try v.vault.logSnapshot()
        let text = Checkpoint(origin: snapshot.organisation, size: UInt64(snapshot.entries.count),
                              root: MerkleTree.root(leafHashes: snapshot.entries.map(MerkleTree.leafHash))).text
        let oldSeed = try Sealing.open(sealed, purpose: .organisationKey, id: "", vaultKey: v.session.vaultKey)
        XCTAssertThrowsError(try Sealing.open(sealed, purpose: .organisationKey, id: "", vaultKey: SecureBytes(randomCount: 32, using: SystemRandom())))
        let forged = SignedNote.sign(text, name: snapshot.organisation, key: try SigningKeyPair(seed: oldSeed))
        XCTAssertThrowsError(try AuditVerifier.verify(snapshot, olderCheckpoints: [forged]))
    }
}
