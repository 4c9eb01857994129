import DossierCrypto
import Foundation
import GRDB
import XCTest
@testable import DossierCore

/// After `staff remove`, `rotate` and `remove` report success, no copy of the vault folder
/// (write-ahead log included) holds a retired secret; when another process's reader blocks the
/// clean-up, the command says so (`purgeBlocked`) and `doctor` reports it until `doctor --fix`
/// finishes it (trust issue, item D; threat-model.md).
final class RetiredKeyPurgeTests: XCTestCase {
    /// What each operation retires, and how to run it on a session.
    private enum Operation: String {
        case staffRemove = "staff remove", rotate, remove
    }

    /// A vault with documents, a second staff member (Bob) and a removed document, so that
    /// every kind of sealed value exists.
    private func populatedVault() throws -> (v: VaultFixture, docs: [Document], bob: SecretIdentity) {
        let v = try makeVault()
        var paths: [String] = []
        for name in ["one.txt", "two.txt", "three.txt"] {
            paths.append(v.folder.file(name))
            try writeFile(paths.last!, "content of \(name)")
        }
        let docs = try v.session.documents.deposit(depositRequest(paths, title: "Purge title"))
        try v.session.documents.remove(docs[2].id, reason: "an earlier removal")
        let bob = TestIdentity.make("bob")
        _ = try v.session.staff.add(bob.publicIdentity, name: "Bob")
        return (v, Array(docs.prefix(2)), bob)
    }

    /// The stored values `operation` retires, read through raw SQL before it runs.
    private func retiredSecrets(_ v: VaultFixture, _ operation: Operation, removing doc: Document) throws -> [(what: String, bytes: Data)] {
        try rawDatabase(v).read { db in
            var out: [(String, Data)] = []
            func collect(_ what: String, _ sql: String, _ arguments: StatementArguments = []) throws {
                for row in try Row.fetchAll(db, sql: sql, arguments: arguments) {
                    let id: String = row[0]
                    if let bytes: Data = row[1] { out.append(("\(what) of \(id)", bytes)) }
                }
            }
            switch operation {
            case .remove:
                try collect("document key", "SELECT id, key_sealed FROM documents WHERE id = ?", [doc.id])
                try collect("metadata", "SELECT id, metadata_sealed FROM documents WHERE id = ?", [doc.id])
            case .rotate, .staffRemove:
                try collect("document key", "SELECT id, key_sealed FROM documents")
                try collect("metadata", "SELECT id, metadata_sealed FROM documents")
                try collect("removal reason", "SELECT id, reason_sealed FROM documents")
                try collect("vault key", "SELECT fingerprint, vault_key_sealed FROM staff")
                try collect("staff name", "SELECT fingerprint, name_sealed FROM staff")
                try collect("organisation key", "SELECT key, value FROM settings WHERE key = 'organisation_secret_sealed'")
            }
            return out
        }
    }

    private func run(_ operation: Operation, on session: StaffSession, bob: SecretIdentity, doc: Document) throws {
        switch operation {
        case .staffRemove: try session.staff.remove(bob.publicIdentity.fingerprint)
        case .rotate: try session.staff.rotate()
        case .remove: try session.documents.remove(doc.id, reason: "withdrawn")
        }
    }

    /// The operation's change itself is committed, whether or not its clean-up finished.
    private func assertCommitted(_ operation: Operation, _ v: VaultFixture, session: StaffSession, bob: SecretIdentity, doc: Document,
                                 file: StaticString = #filePath, line: UInt = #line) throws {
        switch operation {
        case .staffRemove:
            XCTAssertThrowsError(try reopen(v).unlock(bob), "the removal was not committed", file: file, line: line)
        case .rotate:
            XCTAssertEqual(try rawDatabase(v).read { db in try String.fetchOne(db, sql: "SELECT CAST(value AS TEXT) FROM settings WHERE key = 'vault_key_generation'") },
                           "1", "the rotation was not committed", file: file, line: line)
        case .remove:
            XCTAssertTrue(try reopen(v).unlock(v.founder).documents.document(doc.id).isRemoved, "the removal was not committed", file: file, line: line)
        }
        // The session that ran it carries on under the current key.
        XCTAssertNoThrow(try session.documents.list(), file: file, line: line)
    }

    // MARK: Copies of the folder

    /// Copies the database and its -wal and -shm files, as they are now, to a fresh folder.
    private func copyDatabaseFiles(_ v: VaultFixture, label: String) throws -> String {
        let copy = v.folder.file("copy-" + label)
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: false)
        for suffix in ["", "-wal", "-shm"] where fileExists(v.databasePath + suffix) {
            try FileManager.default.copyItem(atPath: v.databasePath + suffix, toPath: copy + "/vault.sqlite" + suffix)
        }
        return copy
    }

    /// The retired secrets found in a copy: in the raw bytes of each file, then in every value
    /// of every table as SQLite reads the copy (replaying its WAL).
    private func secretsFound(inCopy copy: String, _ secrets: [(what: String, bytes: Data)]) throws -> [String] {
        var found: [String] = []
        for path in regularFiles(under: copy) {
            let bytes = try readFile(path)
            for s in secrets where contains(bytes, s.bytes) { found.append("\(s.what) in \((path as NSString).lastPathComponent)") }
        }
        try DatabaseQueue(path: copy + "/vault.sqlite").read { db in
            for table in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'") {
                for row in try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\"") {
                    for (_, value) in row {
                        let bytes: Data
                        switch value.storage {
                        case .blob(let b): bytes = b
                        case .string(let t): bytes = Data(t.utf8)
                        default: continue
                        }
                        for s in secrets where contains(bytes, s.bytes) { found.append("\(s.what) in table \(table)") }
                    }
                }
            }
        }
        return found
    }

    // MARK: A reader holding a snapshot

    /// Another connection, as an auditor's `sqlite3` shell or a backup tool would hold it: a
    /// read transaction with a snapshot taken.
    private func holdSnapshot(_ v: VaultFixture) throws -> DatabaseQueue {
        var config = Configuration()
        config.allowsUnsafeTransactions = true
        let reader = try DatabaseQueue(path: v.databasePath, configuration: config)
        try reader.inDatabase { db in
            try db.execute(sql: "BEGIN")
            _ = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM documents")
        }
        return reader
    }

    private func release(_ reader: DatabaseQueue) throws {
        try reader.inDatabase { db in try db.execute(sql: "ROLLBACK") }
        try reader.close()
    }

    private func checkWithABlockingReader(_ operation: Operation, file: StaticString = #filePath, line: UInt = #line) throws {
        let (v, docs, bob) = try populatedVault()
        let doc = docs[0]
        let secrets = try retiredSecrets(v, operation, removing: doc)
        XCTAssertFalse(secrets.isEmpty, file: file, line: line)
        // Positive control: before the operation the search finds them in a copy.
        XCTAssertFalse(try secretsFound(inCopy: try copyDatabaseFiles(v, label: "before"), secrets).isEmpty,
                       "the search cannot find the secrets even before \(operation.rawValue); it proves nothing", file: file, line: line)

        // Another process's view of the vault, with a short wait for the clean-up.
        let session = try Vault.open(at: v.path, clock: testClock, random: SystemRandom(), purgeWait: 0.2).unlock(v.founder)
        let reader = try holdSnapshot(v)
        let started = Date()
        var blocked = false
        do {
            try run(operation, on: session, bob: bob, doc: doc)
        } catch DossierError.purgeBlocked(let path) {
            blocked = true
            XCTAssertEqual(path, v.path, file: file, line: line)
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, "the clean-up must wait a bounded time", file: file, line: line)
        try assertCommitted(operation, v, session: session, bob: bob, doc: doc, file: file, line: line)
        // The reader really held its snapshot: it still sees the value the operation replaced.
        let held: Data? = try reader.inDatabase { db in try Data.fetchOne(db, sql: "SELECT key_sealed FROM documents WHERE id = ?", arguments: [doc.id]) }
        XCTAssertNotNil(held, file: file, line: line)
        XCTAssertEqual(held, secrets.first { $0.what == "document key of \(doc.id)" }?.bytes, "the reader's snapshot was not held", file: file, line: line)

        let copy = try copyDatabaseFiles(v, label: "during")
        let leaked = try secretsFound(inCopy: copy, secrets)
        if blocked {
            // It refused to report success, and says why until the clean-up is done.
            XCTAssertFalse(leaked.isEmpty, "blocked, yet the copy holds nothing retired: the test setup is wrong", file: file, line: line)
            let report = try v.vault.doctor()
            XCTAssertFalse(report.isHealthy, "doctor must report the unfinished clean-up: \(report.findings)", file: file, line: line)
            XCTAssertEqual(report.findings.map(\.subject), ["write-ahead log"], file: file, line: line)
            // Still blocked: --fix cannot finish it, and does not pretend to.
            let stillBlocked = try Vault.open(at: v.path, purgeWait: 0.2).doctor(fix: true)
            XCTAssertFalse(stillBlocked.isHealthy, file: file, line: line)
            XCTAssertEqual(stillBlocked.findings.map(\.fixed), [false], file: file, line: line)
        } else {
            XCTAssertEqual(leaked, [], "\(operation.rawValue) reported success, yet a copy of the folder holds retired secrets", file: file, line: line)
        }

        try release(reader)
        let fixed = try v.vault.doctor(fix: true)
        XCTAssertTrue(fixed.isHealthy, "\(fixed.findings)", file: file, line: line)
        if blocked { XCTAssertEqual(fixed.findings.map(\.fixed), [true], file: file, line: line) }
        let after = try v.vault.doctor()
        XCTAssertTrue(after.isHealthy, file: file, line: line)
        XCTAssertEqual(after.findings.count, 0, "\(after.findings)", file: file, line: line)
        XCTAssertEqual(fileSize(v.databasePath + "-wal") ?? 0, 0, "the WAL is not empty", file: file, line: line)
        XCTAssertEqual(try secretsFound(inCopy: try copyDatabaseFiles(v, label: "after"), secrets), [], file: file, line: line)
    }

    func testStaffRemoveBlockedByAReaderFailsLoudlyAndDoctorFixFinishesTheCleanUp() throws {
        try checkWithABlockingReader(.staffRemove)
    }

    func testRotateBlockedByAReaderFailsLoudlyAndDoctorFixFinishesTheCleanUp() throws {
        try checkWithABlockingReader(.rotate)
    }

    func testRemoveBlockedByAReaderFailsLoudlyAndDoctorFixFinishesTheCleanUp() throws {
        try checkWithABlockingReader(.remove)
    }

    // MARK: Without a reader

    func testWithoutAReaderEachOperationLeavesNoRetiredSecretInAnyCopyOfTheFolder() throws {
        for operation in [Operation.remove, .rotate, .staffRemove] {
            let (v, docs, bob) = try populatedVault()
            let secrets = try retiredSecrets(v, operation, removing: docs[0])
            XCTAssertFalse(try secretsFound(inCopy: try copyDatabaseFiles(v, label: "before"), secrets).isEmpty, operation.rawValue)

            try run(operation, on: v.session, bob: bob, doc: docs[0])
            // Checked first: opening another connection (GRDB) writes harmless frames to an empty WAL.
            XCTAssertEqual(fileSize(v.databasePath + "-wal") ?? 0, 0, "\(operation.rawValue): the WAL is not empty")
            try assertCommitted(operation, v, session: v.session, bob: bob, doc: docs[0])
            XCTAssertEqual(try secretsFound(inCopy: try copyDatabaseFiles(v, label: "after"), secrets), [], operation.rawValue)
            XCTAssertEqual(try v.vault.doctor().findings.count, 0, operation.rawValue)
            XCTAssertEqual(folderContents(v.path).filter { $0.hasPrefix("vault.sqlite-purge-") }, [], "\(operation.rawValue) left its marker")
        }
    }

    func testARefusedRotationLeavesNothingForDoctorToReport() throws {
        let v = try makeVault()
        assertDossierError("lastStaffMember") { try v.session.staff.remove(v.founder.publicIdentity.fingerprint) }
        XCTAssertEqual(folderContents(v.path).filter { $0.hasPrefix("vault.sqlite-purge-") }, [])
        let report = try v.vault.doctor()
        XCTAssertEqual(report.findings.count, 0, "\(report.findings)")
    }

    /// A crash between the commit and the clean-up leaves the marker, written before the commit.
    func testACleanUpInterruptedByACrashIsReportedAndFixed() throws {
        let v = try makeVault()
        try writeFile(v.path + "/vault.sqlite-purge-0123456789ab", "as left by a crash\n")
        let report = try v.vault.doctor()
        XCTAssertFalse(report.isHealthy)
        XCTAssertEqual(report.findings.map(\.severity), [.damage])
        let fixed = try v.vault.doctor(fix: true)
        XCTAssertTrue(fixed.isHealthy)
        XCTAssertEqual(fixed.findings.map(\.fixed), [true])
        XCTAssertFalse(fileExists(v.path + "/vault.sqlite-purge-0123456789ab"))
        XCTAssertEqual(try v.vault.doctor().findings.count, 0)
    }
}
