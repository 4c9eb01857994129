import DossierCrypto
import Foundation
import GRDB
import XCTest
@testable import DossierCore

// `Vault.copy` (dossier vault copy): a folder into PostgreSQL and back, exactly; and what it
// refuses. The comparisons read the folders' databases with SQL of their own, not through the
// code under test.

enum VaultCopyKit {
    static let root = OrganisationRoot.generate(using: DeterministicRandom(seed: "vault-copy-tests/root"))

    /// A folder vault with rows in every table but the key-release service's: staff, a
    /// multi-chunk document and small ones, a removed one, counsel, an offline package and an
    /// online one (two sign-offs, the vault's shares), certificates and package certificates
    /// (an offline root), a checkpoint. Returns the live documents and their content.
    static func populated(_ name: String) throws -> (world: ShareWorld, documents: [(id: String, content: Data)], onlineGrant: String) {
        let w = try ShareWorld("copy-" + name, randomSeed: "copy/" + name, organisationRoot: root)
        let big = ShareKit.content("big", count: 2_500_000 + 17)
        let small = Data("small\n".utf8), said = Data("what the witness said\n".utf8)
        let docs = try w.deposit([("big.bin", big), ("small.txt", small)], title: "Quarterly findings")
        let gone = try w.document(name: "gone.txt")
        let witness = try w.document(.witnessTestimony, name: "witness.txt", content: said)
        let adams = try w.counsel("adams")
        _ = try w.package([docs[1]], to: [adams.counsel])
        let pending = try w.session.sharing.grant(GrantRequest(documents: [witness.id], counsel: [adams.counsel.id],
                                                               window: .duration(seconds: 86400), online: ShareKit.online))
        _ = try w.addStaff("bob").sharing.approve(pending.id)
        _ = try w.session.sharing.makePackage(grant: pending.id, to: w.packagePath())
        try w.session.documents.remove(gone.id, reason: "shredded before the move")
        // A request in the inbox: its row and its file as received.
        let requestPath = try w.folder("request") + "/r.drq"
        _ = try RequestWriter(clock: ShareKit.clock(), random: SystemRandom()).write(
            RequestDraft(to: try XCTUnwrap(try w.vault.intakeKey()), need: .reports, languages: ["fr"],
                         message: SecureBytes(copying: Data("Rapports, s'il vous plaît.\n".utf8)), attachments: []),
            identity: ShareKit.identity("counsel/copy-request"), to: requestPath)
        _ = try w.session.requests.importRequest(path: requestPath)
        _ = try w.session.audit.checkpoint()
        return (w, [(docs[0].id, big), (docs[1].id, small), (witness.id, said)], pending.id)
    }

    /// Every row of every table of a folder vault, read with SQL: each table's rows as text,
    /// sorted (the copy's rowids may differ), and the documents' ids in rowid order.
    static func folderRows(_ vault: Vault) throws -> [String: [String]] {
        try vault.store.read { tx in
            let db = (tx as! SQLiteTransaction).db
            var out: [String: [String]] = [:]
            let names = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'grdb_migrations'")
            for name in names {
                out[name] = try Row.fetchAll(db, sql: "SELECT * FROM \(name)").map { row in
                    row.databaseValues.map { "\($0.storage)" }.joined(separator: "|")
                }.sorted()
            }
            out["documents in order"] = try String.fetchAll(db, sql: "SELECT id FROM documents ORDER BY rowid")
            return out
        }
    }

    /// Every blob file of a folder vault: id → bytes.
    static func blobFiles(_ vault: Vault) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for (id, path) in vault.blobs.inventory().objects { out[id] = try Data(contentsOf: URL(fileURLWithPath: path)) }
        return out
    }

    static func retrieve(_ session: StaffSession, _ id: String, into folder: String) throws -> Data {
        let out = folder + "/" + id
        _ = try session.documents.retrieve(id, to: out)
        return try Data(contentsOf: URL(fileURLWithPath: out))
    }
}

/// Copies between folders, and refusals: these need no database server.
final class VaultCopyTests: XCTestCase {
    func testAFolderCopiesToAFolderExactly() throws {
        let (w, docs, _) = try VaultCopyKit.populated("folder")
        let target = try w.folder("copies") + "/copy"
        let report = try w.vault.copy(to: target, identity: w.founder)
        let verified = try AuditVerifier.verify(try w.vault.logSnapshot())
        XCTAssertEqual(report.logEntries, verified.entries)
        XCTAssertEqual(report.root, verified.root)
        XCTAssertEqual(report.documents, 3)
        XCTAssertEqual(report.removedDocuments, 1)
        XCTAssertEqual(report.authenticated, 3)

        let copy = try Vault.open(at: target)
        let rows = try VaultCopyKit.folderRows(w.vault)
        for table in RecordTable.all.map(\.name) where !["online_opens", "online_nonces"].contains(table) {
            XCTAssertFalse(rows[table]?.isEmpty ?? true, "\(table) is empty, so its copy is not tested")
        }
        XCTAssertEqual(try VaultCopyKit.folderRows(copy), rows)
        XCTAssertEqual(try VaultCopyKit.blobFiles(copy), try VaultCopyKit.blobFiles(w.vault))
        XCTAssertEqual(try VaultCopyKit.blobFiles(copy).count, 4, "three documents and one request file")
        let session = try copy.unlock(w.founder)
        let out = try w.folder("out")
        for d in docs { XCTAssertEqual(try VaultCopyKit.retrieve(session, d.id, into: out), d.content) }
    }

    func testADestinationThatHoldsAnythingIsRefusedAndLeftAlone() throws {
        let w = try ShareWorld("copy-refusals")
        _ = try w.document()
        let used = try w.folder("used")
        try Data("keep me\n".utf8).write(to: URL(fileURLWithPath: used + "/notes.txt"))
        assertDossierError("copyTargetNotEmpty") { try w.vault.copy(to: used) }
        XCTAssertEqual(try String(contentsOfFile: used + "/notes.txt", encoding: .utf8), "keep me\n")
        XCTAssertEqual(ShareKit.names(in: used), ["notes.txt"])
        // Another vault, and a file.
        let other = try ShareWorld("copy-refusals-other")
        assertDossierError("copyTargetNotEmpty") { try w.vault.copy(to: other.vaultPath) }
        XCTAssertEqual(try other.vault.auditEntries().count, 1)
        assertDossierError("copyTargetNotEmpty") { try w.vault.copy(to: used + "/notes.txt") }
        // The vault itself.
        assertDossierError("copyTargetNotEmpty") { try w.vault.copy(to: w.vaultPath) }
        // An empty folder is fine.
        let empty = try w.folder("empty")
        XCTAssertEqual(try w.vault.copy(to: empty).documents, 1)
    }

    func testADamagedOrEditedSourceIsNotCopiedAndNothingIsLeft() throws {
        let w = try ShareWorld("copy-damaged")
        let doc = try w.document()
        let edited = try w.document(.witnessTestimony, name: "w.txt")
        let target = try w.folder("copies") + "/copy"

        try w.vault.editRows("UPDATE documents SET kind = 'supporting-material' WHERE id = '\(edited.id)'")
        let e = assertDossierError("altered") { try w.vault.copy(to: target) }
        XCTAssertTrue(e?.message.contains(edited.id) ?? false, "\(String(describing: e))")
        XCTAssertFalse(FileManager.default.fileExists(atPath: target))
        try w.vault.editRows("UPDATE documents SET kind = 'witness-testimony' WHERE id = '\(edited.id)'")

        let blob = try XCTUnwrap(w.vault.blobs.inventory().objects[doc.id])
        XCTAssertEqual(truncate(blob, off_t(w.vault.blobs.storedSize(id: doc.id)!) - 1), 0)
        assertDossierError("integrity") { try w.vault.copy(to: target) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: target), "a failed copy left its destination behind")
    }

    func testTheCopyIsCheckedAgainstTheSourceItRead() throws {
        // The digests and the check compare what was read with what was written, table by table.
        let (w, _, _) = try VaultCopyKit.populated("digests")
        let (before, rows) = try w.vault.store.read { tx in try RecordCopy.digests(tx) }
        XCTAssertEqual(Set(before.keys), Set(RecordTable.all.map(\.name)))
        XCTAssertGreaterThan(rows, 20)
        try w.vault.editRows("UPDATE counsel SET details_sealed = CAST(x'00' || details_sealed AS BLOB)")
        let (after, _) = try w.vault.store.read { tx in try RecordCopy.digests(tx) }
        XCTAssertEqual(RecordTable.all.map(\.name).filter { before[$0] != after[$0] }, ["counsel"])
    }
}

/// Folder → PostgreSQL → folder (DOSSIER_TEST_POSTGRES; fails without it).
final class PostgresVaultCopyTests: XCTestCase {
    func testAFolderMovesIntoPostgresAndBackExactly() throws {
        let (w, docs, onlineGrant) = try VaultCopyKit.populated("postgres")
        let uri = try makePostgresDatabase()
        let verified = try AuditVerifier.verify(try w.vault.logSnapshot())

        let into = try w.vault.copy(to: uri)
        XCTAssertEqual(into.logEntries, verified.entries)
        XCTAssertEqual(into.root, verified.root)
        XCTAssertNil(into.authenticated)
        XCTAssertEqual(into.contentBytes, docs.reduce(0) { $0 + ContentStream.ciphertextSize(plaintextSize: UInt64($1.content.count)) })

        // The vault in PostgreSQL: the same log, listed, its facts agree.
        let pg = try Vault.open(at: uri)
        let pgSession = try pg.unlock(w.founder)
        XCTAssertEqual(try pgSession.documents.list().map(\.id), docs.map(\.id))
        XCTAssertEqual(try pg.alteredRows(), [])
        XCTAssertEqual(try pg.countRows("SELECT count(*) FROM content_chunks WHERE document_id = '\(docs[0].id)'"), 3, "2.5 MB in 1 MiB rows")
        XCTAssertEqual(try pg.logEntries().map(\.bytes), try w.vault.logEntries().map(\.bytes), "the log entries differ")
        XCTAssertEqual(try pg.logEntries().map(\.seq), try w.vault.logEntries().map(\.seq))

        // Back into a folder, with the deep check (before anything is retrieved from PostgreSQL,
        // which logs the retrieval).
        let back = try w.folder("back") + "/vault"
        let out2 = try pg.copy(to: back, identity: w.founder)
        XCTAssertEqual(out2.root, verified.root)
        XCTAssertEqual(out2.authenticated, 3)
        let returned = try Vault.open(at: back, clock: ShareKit.clock(seconds: 60))
        XCTAssertEqual(try VaultCopyKit.folderRows(returned), try VaultCopyKit.folderRows(w.vault), "a row changed on the way")
        XCTAssertEqual(try VaultCopyKit.blobFiles(returned), try VaultCopyKit.blobFiles(w.vault), "content changed on the way")
        let session = try returned.unlock(w.founder)
        for d in docs { XCTAssertEqual(try VaultCopyKit.retrieve(session, d.id, into: try w.folder("out")), d.content) }
        // Decisions still stand on the copied log: the approved online grant packages.
        XCTAssertNoThrow(try session.sharing.makePackage(grant: onlineGrant, to: w.packagePath()))
        // And PostgreSQL's copy gives the content back byte for byte.
        let out = try w.folder("out")
        for d in docs { XCTAssertEqual(try VaultCopyKit.retrieve(pgSession, d.id, into: out), d.content) }
    }

    func testADatabaseThatHoldsAnythingIsRefusedAndLeftAlone() throws {
        let w = try ShareWorld("copy-pg-refusals")
        _ = try w.document()
        let used = try makePostgresDatabase()
        let c = try PostgresConnection(conninfo: used)
        try c.execute("CREATE TABLE notes (t text); INSERT INTO notes VALUES ('keep me')")
        assertDossierError("copyTargetNotEmpty") { try w.vault.copy(to: used) }
        XCTAssertEqual(try c.query("SELECT t FROM notes").text(0, 0), "keep me")
        XCTAssertEqual(try c.query("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").int(0, 0), 1, "the copy left tables behind")

        let vault = try makePostgresDatabase()
        XCTAssertNoThrow(try w.vault.copy(to: vault))
        assertDossierError("copyTargetNotEmpty") { try w.vault.copy(to: vault) }
        XCTAssertEqual(try Vault.open(at: vault).auditEntries().count, try w.vault.auditEntries().count)
    }
}

extension Vault {
    /// Every log entry with its position.
    func logEntries() throws -> [(seq: Int64, bytes: Data)] { try store.read { tx in try tx.logEntries() } }
}
