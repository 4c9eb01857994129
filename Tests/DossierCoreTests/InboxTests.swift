import DossierCrypto
import Foundation
import GRDB
import XCTest

@testable import DossierCore

/// The organisation's intake key in the vault: made at init and named in the signed log, its
/// secret sealed and re-sealed by rotation, its stored line checked against the log.
final class InboxTests: XCTestCase {
    private func world(_ name: String = #function) throws -> ShareWorld {
        try ShareWorld("inbox/" + name)
    }

    private func raw(_ w: ShareWorld) throws -> DatabaseQueue { try DatabaseQueue(path: w.vaultPath + "/vault.sqlite") }

    // MARK: The intake key

    func testInitMakesAnIntakeKeyNamedInTheSignedLogWhoseSecretOpens() throws {
        let w = try world()
        let key = try XCTUnwrap(try w.vault.intakeKey())
        XCTAssertEqual(try w.entries("init").first?.detail("intake-key"), key.line)
        let (signed, secret) = try w.session.intakeSecret()
        XCTAssertEqual(signed, key)
        XCTAssertEqual(try BoxKeyPair(secretKey: secret).publicKey, key.encryptionKey)
        // The secret is sealed, never stored as is.
        let stored = try XCTUnwrap(try raw(w).read { db in try Data.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'intake_secret_sealed'") })
        XCTAssertFalse(contains(stored, secret.unsafeCopyToData()))
        // A vault that has one refuses a second.
        XCTAssertEqual(ShareKit.caught { _ = try w.session.staff.createIntakeKey() }.map(caseName), "intakeKeyExists")
    }

    func testAnIntakeKeyRowEditedOutsideDossierIsRefused() throws {
        let w = try world()
        let other = try IntakeKey(encryptionKey: BoxKeyPair.generate().publicKey)
        try raw(w).write { db in try db.execute(sql: "UPDATE settings SET value = ? WHERE key = 'intake_key'", arguments: [other.line]) }
        XCTAssertEqual(ShareKit.caught { _ = try w.vault.intakeKey() }.map(caseName), "altered")
        XCTAssertEqual(ShareKit.caught { _ = try w.session.intakeSecret() }.map(caseName), "altered")
        let altered = try w.vault.alteredRows()
        XCTAssertTrue(altered.contains { $0.contains("intake key") }, "\(altered)")
    }

    func testRotationReSealsTheIntakeSecretAndLeavesNoOldCopy() throws {
        let w = try world()
        let read = { () throws -> Data in
            try XCTUnwrap(try self.raw(w).read { db in try Data.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'intake_secret_sealed'") })
        }
        let old = try read()
        let (key, secret) = try w.session.intakeSecret()
        let bob = try w.addStaff("bob")
        try w.session.staff.remove(bob.actor)
        XCTAssertNotEqual(try read(), old)
        let (after, reopened) = try w.session.intakeSecret()
        XCTAssertEqual(after, key)
        XCTAssertEqual(reopened.unsafeCopyToData(), secret.unsafeCopyToData())
        for file in ShareKit.allBytes(under: w.vaultPath) {
            XCTAssertFalse(contains(file.data, old), "the old sealed intake secret is still in \(file.path)")
        }
    }
}
