import DossierCrypto
import Foundation
import XCTest
@testable import DossierCore

// The domain's storage-touching stories, run once on each backend: the vault folder
// (`FolderBackendTests`) and PostgreSQL (`PostgresBackendTests`, which fails without
// DOSSIER_TEST_POSTGRES: see PostgresTestSupport.swift). Each test method is one line that
// calls a scenario with its backend, so a scenario cannot pass on one backend and be
// forgotten on the other.

enum BackendScenarios {
    static func world(_ test: XCTestCase, _ backend: TestBackend, _ name: String) throws -> ShareWorld {
        try ShareWorld("backend-\(name)", location: { root in try backend.newLocation(test, folder: root) })
    }

    /// The service's request intake on two services sharing one vault (replicas): a request
    /// accepted by one is a replay for the other, and the per-sender and global quotas count
    /// what both accepted, in the database. Refusals store nothing: no row, no file, no entry.
    static func serviceIntake(_ test: XCTestCase, _ backend: TestBackend) throws {
        let root = OrganisationRoot.generate(using: DeterministicRandom(seed: "backend-intake/root"))
        let w = try ShareWorld("backend-intake", organisationRoot: root, location: { r in try backend.newLocation(test, folder: r) })
        let service = ShareKit.identity("backend-intake/service")
        _ = try w.session.staff.add(service.publicIdentity, name: "Service", service: true)
        _ = try w.session.staff.certify(service.publicIdentity.fingerprint, root: root, rootPath: "root", role: .service)
        var limits = RequestIntakeLimits()
        limits.perUnknownSender = .init(count: 1, bytes: 1 << 20)
        limits.total = .init(count: 2, bytes: 1 << 20)
        let one = RequestIntakeService(session: try w.vault.unlock(service, forService: true), limits: limits)
        let other = RequestIntakeService(session: try Vault.open(at: w.vaultPath, clock: ShareKit.clock()).unlock(service, forService: true), limits: limits)
        let intake = try XCTUnwrap(try w.vault.intakeKey())
        func request(_ sender: String) throws -> Int32 {
            let path = try w.folder("requests") + "/\(sender).drq"
            let draft = RequestDraft(to: intake, need: .reports, languages: ["en"], message: SecureBytes(copying: Data("Hello.\n".utf8)))
            _ = try RequestWriter(clock: ShareKit.clock()).write(draft, identity: ShareKit.identity("backend-intake/" + sender), to: path)
            return open(path, O_RDONLY)
        }
        func error(_ answer: ReleaseResponse) -> String? {
            (try? JSONSerialization.jsonObject(with: answer.body) as? [String: Any])?["error"] as? String
        }
        let ana = try request("ana"), ana2 = try request("ana-again"), ben = try request("ben"), cy = try request("cy")
        defer { [ana, ana2, ben, cy].forEach { _ = close($0) } }
        XCTAssertEqual(one.receive(fd: ana).status, 200)
        let replay = other.receive(fd: ana)
        XCTAssertEqual(replay.status, 409)
        XCTAssertEqual(error(replay), "replay")
        XCTAssertEqual(error(other.receive(fd: ana2)), nil, "a different sender's request")
        XCTAssertEqual(error(one.receive(fd: ben)), "service-quota")
        XCTAssertEqual(try w.vault.countRows("SELECT count(*) FROM requests"), 2)
        XCTAssertEqual(try w.vault.auditEntries().filter { $0.action == "request-receive" }.map(\.actor), [service.publicIdentity.fingerprint, service.publicIdentity.fingerprint])
        if backend == .postgres {
            XCTAssertEqual(try w.vault.countRows("SELECT count(DISTINCT request_id) FROM request_chunks"), 2, "a refused request left chunks")
        } else {
            let kept = FileManager.default.enumerator(atPath: w.vaultPath + "/blobs")?.allObjects.compactMap { $0 as? String }
                .filter { ($0 as NSString).lastPathComponent.hasPrefix("req-") } ?? []
            XCTAssertEqual(kept.count, 2, "a refused request left a file: \(kept)")
        }
        // The sender quota, also across both: ana's first went through `one`.
        var strict = limits
        strict.total.count = 100
        let third = RequestIntakeService(session: try w.vault.unlock(service, forService: true), limits: strict)
        let anaAgain = try request("ana")
        defer { close(anaAgain) }
        XCTAssertEqual(error(third.receive(fd: anaAgain)), "sender-quota")
        XCTAssertEqual(error(third.receive(fd: cy)), nil)
        XCTAssertTrue(try w.vault.doctor(session: w.session).isHealthy)
    }

    /// Deposit (a multi-chunk file and a small one), list in deposit order, search, retrieve
    /// byte for byte, remove (content and key gone, tombstone listed), doctor --deep, verify.
    static func depositRetrieveListSearchRemove(_ test: XCTestCase, _ backend: TestBackend) throws {
        let w = try world(test, backend, "documents")
        let big = ShareKit.content("big", count: 2_500_000 + 17)
        let docs = try w.deposit([("big.bin", big), ("small.txt", Data("small\n".utf8))], title: "Quarterly findings")
        let later = try w.deposit([("later.txt", Data("later\n".utf8))], kind: .witnessTestimony, title: "Statement")
        XCTAssertEqual(try w.session.documents.list().map(\.id), docs.map(\.id) + later.map(\.id), "deposit order")
        XCTAssertEqual(try w.session.documents.list(DocumentFilter(kind: .witnessTestimony)).map(\.id), later.map(\.id))
        XCTAssertEqual(try w.session.documents.search(["quarterly"]).map(\.id), docs.map(\.id))
        XCTAssertEqual(try w.session.documents.search(["nowhere"]).count, 0)

        let out = try w.folder("out") + "/big.bin"
        let got = try w.session.documents.retrieve(docs[0].id, to: out)
        XCTAssertEqual(got.size, UInt64(big.count))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out)), big)

        var report = try w.vault.doctor(session: w.session)
        XCTAssertTrue(report.isHealthy, "\(report.findings)")
        XCTAssertEqual(report.blobsAuthenticated, 3)

        try w.session.documents.remove(docs[0].id, reason: "shredded for the test")
        XCTAssertEqual(w.vault.store.pendingPurges(), [], "a purge is still owed after a removal")
        assertDossierError("documentRemoved") { try w.session.documents.retrieve(docs[0].id, to: out + ".2") }
        XCTAssertEqual(try w.session.documents.list().map(\.id), [docs[1].id] + later.map(\.id))
        let all = try w.session.documents.list(DocumentFilter(includeRemoved: true))
        XCTAssertEqual(all.count, 3)
        XCTAssertNotNil(all[0].removedAt)
        XCTAssertNil(w.vault.blobs.storedSize(id: docs[0].id), "the removed document's content is still stored")
        report = try w.vault.doctor(session: w.session)
        XCTAssertTrue(report.isHealthy, "\(report.findings)")
        XCTAssertEqual(try AuditVerifier.verify(try w.vault.logSnapshot()).entries, 6, "init, 3 deposits, a retrieval, a removal")
    }

    /// Counsel, a grant needing two sign-offs, approval, package (opened counsel-side to the
    /// deposited bytes), revocation, and packaging refused after it.
    static func grantApprovePackageRevoke(_ test: XCTestCase, _ backend: TestBackend) throws {
        let w = try world(test, backend, "sharing")
        let content = ShareKit.content("report", count: 1_200_000)
        let doc = try w.deposit([("report.pdf", content)])[0]
        let adams = try w.counsel("adams")
        let (grant, path) = try w.package([doc], to: [adams.counsel])
        let opened = try SpecReader.open(try Data(contentsOf: URL(fileURLWithPath: path)), identity: adams.identity,
                                         trusted: [try w.organisationKey().signingKey])
        XCTAssertEqual(opened.files.map(\.content), [content])

        let witness = try w.document(.witnessTestimony)
        let pending = try w.session.sharing.grant(GrantRequest(documents: [witness.id], counsel: [adams.counsel.id],
                                                               window: .duration(seconds: 86400), online: ShareKit.online))
        XCTAssertEqual(pending.state, .pending)
        let bob = try w.addStaff("bob")
        XCTAssertEqual(try bob.sharing.approve(pending.id).state, .active)
        XCTAssertNoThrow(try w.session.sharing.makePackage(grant: pending.id, to: w.packagePath()))

        XCTAssertEqual(try w.session.sharing.revoke(grant.id, reason: "withdrawn").state, .revoked)
        assertDossierError("grantNotActive") { try w.session.sharing.makePackage(grant: grant.id, to: w.packagePath()) }
        XCTAssertEqual(try w.entries("package").count, 2)
        XCTAssertEqual(try w.vault.alteredRows(), [])
        XCTAssertEqual(try w.vault.verifyLogChain(), try w.vault.auditEntries().count)
    }

    /// A grant made active by editing its row is refused at use (altered, exit 3), logged as a
    /// denial and reported; so is a document whose kind was relabelled with raw SQL.
    static func editedRowsAreRefused(_ test: XCTestCase, _ backend: TestBackend) throws {
        let w = try world(test, backend, "facts")
        let witness = try w.document(.witnessTestimony)
        let adams = try w.counsel("adams").counsel
        let g = try w.session.sharing.grant(GrantRequest(documents: [witness.id], counsel: [adams.id],
                                                         window: .duration(seconds: 86400), online: ShareKit.online))
        try w.vault.editRows("UPDATE grants SET state = 'active' WHERE id = '\(g.id)'")
        XCTAssertEqual(try w.vault.countRows("SELECT count(*) FROM grants WHERE state = 'active' AND id = '\(g.id)'"), 1, "the edit did not take")
        // Shown, it is refused too: the listing says what the log says or nothing.
        assertDossierError("altered", "the grant shown") { _ = try w.session.sharing.grant(g.id) }
        assertDossierError("altered", "the grants listed") { _ = try w.session.sharing.listGrants() }
        let e = ShareKit.caught { _ = try w.session.sharing.makePackage(grant: g.id, to: w.packagePath()) }
        guard case let .altered(message)? = e else { return XCTFail("expected .altered, got \(String(describing: e))") }
        XCTAssertTrue(message.contains(g.id), message)
        XCTAssertEqual(try w.entries("deny").last?.detail("rule"), "stored.altered")
        XCTAssertFalse(try w.vault.doctor().isHealthy)

        let report = try w.document(.witnessTestimony, name: "second.txt")
        try w.vault.editRows("UPDATE documents SET kind = 'supporting-material' WHERE id = '\(report.id)'")
        let e2 = ShareKit.caught {
            _ = try w.session.sharing.grant(GrantRequest(documents: [report.id], counsel: [adams.id], window: .duration(seconds: 86400)))
        }
        guard case let .altered(m2)? = e2 else { return XCTFail("expected .altered, got \(String(describing: e2))") }
        XCTAssertTrue(m2.contains(report.id), m2)
    }

    /// Staff removal and rotation: the removed member is refused, documents still read back
    /// under the new key, no purge is owed, the log verifies.
    static func rotationAndStaffRemoval(_ test: XCTestCase, _ backend: TestBackend) throws {
        let w = try world(test, backend, "rotation")
        let content = ShareKit.content("kept", count: 300_000)
        let doc = try w.deposit([("kept.bin", content)])[0]
        let bob = ShareKit.identity("bob")
        _ = try w.session.staff.add(bob.publicIdentity, name: "Bob")
        XCTAssertNoThrow(try w.vault.unlock(bob))
        _ = try w.session.staff.remove(bob.publicIdentity.fingerprint)
        assertDossierError("notStaff") { try w.vault.unlock(bob) }
        XCTAssertEqual(try w.session.staff.rotate(), 1)
        XCTAssertEqual(w.vault.store.pendingPurges(), [])
        let out = try w.folder("out") + "/kept.bin"
        _ = try w.session.documents.retrieve(doc.id, to: out)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out)), content)
        let reopened = try Vault.open(at: w.vaultPath).unlock(w.founder)
        XCTAssertEqual(try reopened.documents.list().map(\.id), [doc.id])
        XCTAssertTrue(try w.vault.doctor(session: reopened).isHealthy)
        _ = try AuditVerifier.verify(try w.vault.logSnapshot())
    }

    /// The inbox: a request imported (kept, verified, logged), a replay and a tampered file
    /// refused with nothing stored, shown and an attachment saved, the sender registered from
    /// it, answered with a grant; an edited row refused; read again after a rotation.
    static func inbox(_ test: XCTestCase, _ backend: TestBackend) throws {
        let w = try world(test, backend, "inbox")
        let counsel = ShareKit.identity("counsel/inbox")
        let folder = try w.folder("requests")
        let attachment = ShareKit.content("inbox-attachment", count: 1_500_000)
        try attachment.write(to: URL(fileURLWithPath: folder + "/zanzibar-order.pdf"))
        // What must never be stored in the clear, whichever backend holds the vault.
        let court = "Quillborough Crown Court", caseReference = "EXT-QUILL-0042", jurisdiction = "Republic of Quillonia"
        func request(_ name: String) throws -> String {
            let path = folder + "/" + name
            _ = try RequestWriter(clock: ShareKit.clock(), random: SystemRandom()).write(
                RequestDraft(to: try XCTUnwrap(try w.vault.intakeKey()), need: .expertWitness, languages: ["en"], jurisdiction: jurisdiction,
                             court: court, caseReference: caseReference, hearing: "2027-03-15",
                             message: SecureBytes(copying: Data("Please help.\n".utf8)), attachments: [folder + "/zanzibar-order.pdf"]),
                identity: counsel, to: path)
            return path
        }
        let first = try request("first.drq")
        let r = try w.session.requests.importRequest(path: first)
        assertDossierError("requestAlreadyReceived") { _ = try w.session.requests.importRequest(path: first) }
        let bad = try request("bad.drq")
        try flipByte(in: bad, at: 2_000)
        let entries = try w.vault.auditEntries().count
        XCTAssertThrowsError(try w.session.requests.importRequest(path: bad))
        XCTAssertEqual(try w.vault.auditEntries().count, entries)
        XCTAssertEqual(try w.vault.countRows("SELECT count(*) FROM requests"), 1)
        XCTAssertEqual(w.vault.blobs.inventory().objects.keys.filter { $0.hasPrefix("req-") }, [r.id])
        XCTAssertEqual(w.vault.blobs.storedSize(id: r.id), r.size)

        XCTAssertEqual(try w.session.requests.show(r.id).message, "Please help.\n")
        let out = try w.folder("out") + "/order.pdf"
        try w.session.requests.saveAttachment(r.id, attachment: "zanzibar-order.pdf", to: out)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out)), attachment)

        let c = try w.session.sharing.addCounsel(fromRequest: r.id, details: .init(name: "Inbox Counsel"))
        _ = try w.session.sharing.vetCounsel(c.id, until: ShareKit.clock(days: 30).now(), note: nil)
        let doc = try w.document()
        let g = try w.session.sharing.grant(GrantRequest(documents: [doc.id], counsel: [c.id], window: .duration(seconds: 86400)))
        XCTAssertEqual(try w.session.requests.answer(r.id, grant: g.id).state, .answered)

        let second = try w.session.requests.importRequest(path: try request("second.drq"))
        try w.vault.editRows("UPDATE requests SET state = 'declined' WHERE id = '\(second.id)'")
        assertDossierError("altered") { _ = try w.session.requests.assign(second.id, to: w.session.actor) }
        try w.vault.editRows("UPDATE requests SET state = 'new' WHERE id = '\(second.id)'")

        XCTAssertEqual(try w.session.staff.rotate(), 1)
        XCTAssertEqual(w.vault.store.pendingPurges(), [])
        XCTAssertEqual(try w.session.requests.show(second.id).message, "Please help.\n")
        XCTAssertEqual(try w.session.requests.list().map(\.state), [.answered, .new])
        let report = try w.vault.doctor(session: w.session)
        XCTAssertTrue(report.isHealthy, "\(report.findings)")
        XCTAssertFalse(report.findings.contains { $0.severity == .damage })

        // Whoever holds the folder or the database learns none of the request's content.
        let stored = try storedBytes(backend, w.vaultPath)
        XCTAssertTrue(stored.range(of: Data(r.id.utf8)) != nil, "positive control: the request id is stored in the clear")
        for secret in [court, caseReference, jurisdiction, "Please help.", "zanzibar-order", "Inbox Counsel"] {
            XCTAssertNil(stored.range(of: Data(secret.utf8)), "'\(secret)' is stored in the clear")
        }
        XCTAssertNil(stored.range(of: attachment.prefix(64)), "the attachment is stored in the clear")

        // `vault copy` takes the inbox along: rows and the files as received.
        let copyPath = try w.folder("copy") + "/vault"
        _ = try w.vault.copy(to: copyPath)
        let copied = try Vault.open(at: copyPath).unlock(w.founder)
        XCTAssertEqual(try copied.requests.list().map(\.id), [r.id, second.id])
        XCTAssertEqual(try copied.requests.show(second.id).message, "Please help.\n")
    }

    /// A deposit that fails half-way (an unreadable second file) leaves no row, no content and
    /// no log entry; the next deposit works.
    static func aFailedDepositLeavesNothing(_ test: XCTestCase, _ backend: TestBackend) throws {
        let w = try world(test, backend, "failed")
        let folder = try w.folder("in")
        try Data("first\n".utf8).write(to: URL(fileURLWithPath: folder + "/a.txt"))
        try FileManager.default.createDirectory(atPath: folder + "/dir", withIntermediateDirectories: true)
        let entries = try w.vault.auditEntries().count
        XCTAssertThrowsError(try w.session.documents.deposit(DepositRequest(files: [folder + "/a.txt", folder + "/dir"], kind: .expertReport,
                                                                           title: "T", language: "en")))
        XCTAssertEqual(try w.vault.countRows("SELECT count(*) FROM documents"), 0)
        XCTAssertEqual(try w.vault.auditEntries().count, entries)
        XCTAssertEqual(w.vault.blobs.inventory().objects.count, 0)
        XCTAssertEqual(try w.deposit([("b.txt", Data("b\n".utf8))]).count, 1)
    }
}

final class FolderBackendTests: XCTestCase {
    func testDepositRetrieveListSearchRemove() throws { try BackendScenarios.depositRetrieveListSearchRemove(self, .folder) }
    func testGrantApprovePackageRevoke() throws { try BackendScenarios.grantApprovePackageRevoke(self, .folder) }
    func testEditedRowsAreRefused() throws { try BackendScenarios.editedRowsAreRefused(self, .folder) }
    func testRotationAndStaffRemoval() throws { try BackendScenarios.rotationAndStaffRemoval(self, .folder) }
    func testAFailedDepositLeavesNothing() throws { try BackendScenarios.aFailedDepositLeavesNothing(self, .folder) }
    func testInbox() throws { try BackendScenarios.inbox(self, .folder) }
    func testServiceIntake() throws { try BackendScenarios.serviceIntake(self, .folder) }
}

final class PostgresBackendTests: XCTestCase {
    func testDepositRetrieveListSearchRemove() throws { try BackendScenarios.depositRetrieveListSearchRemove(self, .postgres) }
    func testGrantApprovePackageRevoke() throws { try BackendScenarios.grantApprovePackageRevoke(self, .postgres) }
    func testEditedRowsAreRefused() throws { try BackendScenarios.editedRowsAreRefused(self, .postgres) }
    func testRotationAndStaffRemoval() throws { try BackendScenarios.rotationAndStaffRemoval(self, .postgres) }
    func testAFailedDepositLeavesNothing() throws { try BackendScenarios.aFailedDepositLeavesNothing(self, .postgres) }
    func testInbox() throws { try BackendScenarios.inbox(self, .postgres) }
    func testServiceIntake() throws { try BackendScenarios.serviceIntake(self, .postgres) }

    /// Content is stored in the deposit's transaction, as 1 MiB rows.
    func testContentIsChunkedInTheDatabase() throws {
        let w = try BackendScenarios.world(self, .postgres, "chunks")
        let doc = try w.deposit([("two.bin", ShareKit.content("two", count: (1 << 20) + 5))])[0]
        XCTAssertEqual(try w.vault.countRows("SELECT count(*) FROM content_chunks WHERE document_id = '\(doc.id)'"), 2)
        XCTAssertEqual(w.vault.blobs.storedSize(id: doc.id), ContentStream.ciphertextSize(plaintextSize: doc.size))
    }

    /// A chunk the server refuses in the middle of a deposit: the deposit fails, leaves nothing
    /// (not the chunks before it), and the same connection serves the next deposit.
    func testAChunkRefusedInTheMiddleOfADepositLeavesNothing() throws {
        let w = try BackendScenarios.world(self, .postgres, "refused-chunk")
        try w.vault.editRows("""
            CREATE FUNCTION refuse_third_chunk() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN IF NEW.seq = 2 THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$;
            CREATE TRIGGER refuse_third_chunk BEFORE INSERT ON content_chunks FOR EACH ROW EXECUTE FUNCTION refuse_third_chunk();
            """)
        let entries = try w.vault.auditEntries().count
        XCTAssertThrowsError(try w.deposit([("big.bin", ShareKit.content("big", count: 6 << 20))]))
        XCTAssertEqual(try w.vault.countRows("SELECT count(*) FROM documents"), 0)
        XCTAssertEqual(try w.vault.countRows("SELECT count(*) FROM content_chunks"), 0)
        XCTAssertEqual(try w.vault.auditEntries().count, entries)
        let small = try w.deposit([("small.bin", Data("small\n".utf8))])
        XCTAssertEqual(small.count, 1)
        XCTAssertEqual(try w.vault.countRows("SELECT count(*) FROM content_chunks"), 1)
    }

    /// Two writers on separate connections: every deposit logged once, the chain gap-free.
    func testWritersOnSeparateConnectionsKeepOneChain() throws {
        let w = try BackendScenarios.world(self, .postgres, "writers")
        let sessions = try (0..<4).map { _ in try Vault.open(at: w.vaultPath).unlock(w.founder) }
        let folder = try w.folder("in")
        DispatchQueue.concurrentPerform(iterations: sessions.count) { i in
            for j in 0..<5 {
                let path = folder + "/f\(i)-\(j)"
                _ = FileManager.default.createFile(atPath: path, contents: Data("file \(i) \(j)\n".utf8))
                do {
                    _ = try sessions[i].documents.deposit(DepositRequest(files: [path], kind: .expertReport, title: "T", language: "en"))
                } catch {
                    XCTFail("deposit \(i)/\(j): \(error)")
                }
            }
        }
        XCTAssertEqual(try w.session.documents.list().count, 20)
        let seqs = try w.vault.auditEntries().map(\.seq)
        XCTAssertEqual(seqs, Array(1...UInt64(seqs.count)), "the log has a gap or a repeat")
        XCTAssertEqual(try w.entries("deposit").count, 20)
        _ = try AuditVerifier.verify(try w.vault.logSnapshot())
    }

    /// A URI is never a folder, and a vault needs an empty database.
    func testAURIIsNeverAFolderAndInitRefusesAUsedDatabase() throws {
        let uri = try makePostgresDatabase()
        let cwd = FileManager.default.currentDirectoryPath
        let w = try ShareWorld("uri", location: { _ in uri })
        XCTAssertFalse(FileManager.default.fileExists(atPath: cwd + "/postgresql:"))
        assertDossierError("vaultExists") {
            try Vault.create(at: uri, organisation: "x.example/d", founder: w.founder, founderName: "F")
        }
        XCTAssertNoThrow(try Vault.open(at: uri).organisation())
        assertDossierError("notAVault") { try Vault.open(at: try makePostgresDatabase()) }
        assertDossierError("invalidArgument") { try Vault.open(at: "postgresql://u:pw@127.0.0.1/x") }
        assertDossierError("invalidArgument") { try Vault.open(at: "postgres:relative") }
    }

    /// `init` with an organisation root keeps the root out of the database, as in a folder:
    /// only its public key is recorded, with the founder's certificate.
    func testARootMadeVaultKeepsOnlyTheRootsPublicKey() throws {
        let root = OrganisationRoot.generate(using: DeterministicRandom(seed: "backend-tests/root"))
        let w = try ShareWorld("root", organisationRoot: root, location: { _ in try self.makePostgresDatabase() })
        XCTAssertEqual(try w.vault.organisation().publicKey, root.key.line)
        XCTAssertFalse(try w.vault.organisationKeyInVault())
        XCTAssertEqual(try w.vault.read { tx in try tx.allCertificates() }.map(\.fingerprint), [w.founder.publicIdentity.fingerprint])
    }

    /// VACUUM VERBOSE's report, as the purge reads it.
    func testThePurgeReadsVacuumsReport() {
        let clean = "finished vacuuming \"d.public.t\": index scans: 0\ntuples: 3 removed, 5 remain, 0 are dead but not yet removable\n"
        let blocked = "finished vacuuming \"d.public.t\": index scans: 0\ntuples: 0 removed, 5 remain, 2 are dead but not yet removable\n"
        XCTAssertTrue(PostgresStore.vacuumRemovedEverything([clean, clean], tables: 2))
        XCTAssertFalse(PostgresStore.vacuumRemovedEverything([clean, blocked], tables: 2))
        XCTAssertFalse(PostgresStore.vacuumRemovedEverything([clean], tables: 2))
        XCTAssertFalse(PostgresStore.vacuumRemovedEverything(["WARNING: skipping \"t\" --- only table or database owner can vacuum it", clean, clean], tables: 2))
    }
}
