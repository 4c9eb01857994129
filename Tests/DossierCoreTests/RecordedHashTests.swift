import DossierCrypto
import Foundation
import GRDB
import XCTest
@testable import DossierCore

/// The plaintext hash recorded at deposit beside the document key (vault.md, section 3.2):
/// what deposit records, that `package` takes it instead of hashing again, that a wrong one is
/// caught by counsel's `open` and by `doctor`, and that documents without one still package.
/// Also the output durability choices of retrieve, package and open.
final class RecordedHashTests: XCTestCase {
    private func sealedKey(_ w: ShareWorld, _ id: String) throws -> Data {
        let db = try DatabaseQueue(path: w.vaultPath + "/vault.sqlite")
        return try XCTUnwrap(try db.read { db in try Data.fetchOne(db, sql: "SELECT key_sealed FROM documents WHERE id = ?", arguments: [id]) })
    }

    private func replaceSealedKey(_ w: ShareWorld, _ id: String, with sealed: Data) throws {
        let db = try DatabaseQueue(path: w.vaultPath + "/vault.sqlite")
        try db.write { db in try db.execute(sql: "UPDATE documents SET key_sealed = ? WHERE id = ?", arguments: [sealed, id]) }
    }

    /// Re-seals document `id`'s key with `plain` (key, key ‖ hash, or something malformed).
    private func reseal(_ w: ShareWorld, _ id: String, plain: Data) throws {
        let sealed = try Sealing.seal(plain, purpose: .documentKey, id: id, vaultKey: w.session.vaultKey, random: SystemRandom())
        try replaceSealedKey(w, id, with: sealed)
    }

    private func opened(_ w: ShareWorld, _ path: String, _ who: SecretIdentity) throws -> [Data] {
        let out = try w.folder("opened")
        let docs = try PackageReader(path: path, clock: ShareKit.clock(days: 1)).open(identity: who, trust: w.trust, into: out)
        return try docs.map { try Data(contentsOf: URL(fileURLWithPath: $0.path)) }
    }

    func testDepositRecordsTheBlake2bOfThePlaintextWithTheKey() throws {
        let w = try ShareWorld("recorded-hash")
        // Empty, one chunk, one batch exactly, and several batches plus a byte.
        let sizes = [0, 1000, 16 * ContentStream.chunkSize, 3 * 16 * ContentStream.chunkSize + 1]
        let files = sizes.map { (name: "f\($0).bin", content: ShareKit.content("hash-\($0)", count: $0)) }
        let docs = try w.deposit(files)
        for (d, f) in zip(docs, files) {
            let secret = try DocumentSecret.open(try sealedKey(w, d.id), id: d.id, vaultKey: w.session.vaultKey)
            XCTAssertEqual(secret.key.count, 32)
            XCTAssertEqual(secret.contentHash, Hash.blake2b(f.content), "size \(f.content.count)")
        }
    }

    func testAPackageCarriesTheRecordedHash() throws {
        let w = try ShareWorld("recorded-hash-package")
        try w.trustOrganisation()
        let content = ShareKit.content("recorded", count: 2 * 16 * ContentStream.chunkSize + 5)
        let doc = try w.deposit([("a.bin", content)])[0]
        let (id, c) = try w.counsel("anna")
        let p = try w.package([doc], to: [c])
        let spec = try SpecReader.open(try Data(contentsOf: URL(fileURLWithPath: p.path)), identity: id,
                                       trusted: [try w.organisationKey().signingKey])
        XCTAssertEqual(spec.files.map(\.content), [content])
        XCTAssertEqual(try opened(w, p.path, id), [content])
    }

    /// Proof that `package` takes the recorded hash rather than hashing again: a wrong recorded
    /// hash goes into the signed list, counsel's `open` refuses the document, and `doctor`
    /// (which does hash) reports the disagreement.
    func testAWrongRecordedHashIsRefusedByOpenAndReportedByDoctor() throws {
        let w = try ShareWorld("recorded-hash-wrong")
        try w.trustOrganisation()
        let doc = try w.deposit([("a.txt", Data("the testimony\n".utf8))])[0]
        let secret = try DocumentSecret.open(try sealedKey(w, doc.id), id: doc.id, vaultKey: w.session.vaultKey)
        try reseal(w, doc.id, plain: secret.key.unsafeCopyToData() + Hash.blake2b(Data("another text\n".utf8)))

        let (id, c) = try w.counsel("anna")
        let p = try w.package([doc], to: [c])
        let out = try w.folder("refused")
        let e = ShareKit.caught {
            _ = try PackageReader(path: p.path, clock: ShareKit.clock(days: 1)).open(identity: id, trust: w.trust, into: out)
        }
        XCTAssertEqual(e.map(caseName), "packageTampered")
        XCTAssertTrue("\(e.map { "\($0)" } ?? "")".contains("does not match its signed hash"), "\(String(describing: e))")
        XCTAssertEqual(ShareKit.names(in: out), [])

        let report = try w.vault.doctor(session: w.session)
        XCTAssertFalse(report.isHealthy)
        XCTAssertEqual(report.findings.map(\.subject), [doc.id])
        XCTAssertTrue(report.findings[0].message.contains("hash recorded at deposit"), report.findings[0].message)
    }

    /// Vaults keep documents deposited before the hash was recorded (a 32-byte sealed key):
    /// they retrieve, package (hashed then) and open as before, and doctor finds them healthy.
    func testADocumentWithoutARecordedHashStillPackages() throws {
        let w = try ShareWorld("recorded-hash-absent")
        try w.trustOrganisation()
        let content = ShareKit.content("old", count: 16 * ContentStream.chunkSize + 3)
        let doc = try w.deposit([("old.bin", content)])[0]
        let secret = try DocumentSecret.open(try sealedKey(w, doc.id), id: doc.id, vaultKey: w.session.vaultKey)
        try reseal(w, doc.id, plain: secret.key.unsafeCopyToData())
        XCTAssertNil(try DocumentSecret.open(try sealedKey(w, doc.id), id: doc.id, vaultKey: w.session.vaultKey).contentHash)

        let out = try w.folder("retrieved") + "/old.bin"
        _ = try w.session.documents.retrieve(doc.id, to: out)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out)), content)
        let (id, c) = try w.counsel("anna")
        let p = try w.package([doc], to: [c])
        XCTAssertEqual(try opened(w, p.path, id), [content])
        XCTAssertTrue(try w.vault.doctor(session: w.session).isHealthy)
    }

    func testASealedKeyOfAnyOtherLengthIsDamage() throws {
        let w = try ShareWorld("recorded-hash-length")
        let doc = try w.deposit([("a.txt", Data("x\n".utf8))])[0]
        let secret = try DocumentSecret.open(try sealedKey(w, doc.id), id: doc.id, vaultKey: w.session.vaultKey)
        let key = secret.key.unsafeCopyToData()
        let (_, c) = try w.counsel("anna")
        for plain in [Data(), key.prefix(31), key + Data(repeating: 7, count: 16), key + Hash.blake2b(Data()) + Data([0])] {
            try reseal(w, doc.id, plain: plain)
            let out = try w.folder("none") + "/out"
            XCTAssertEqual(ShareKit.caught { _ = try w.session.documents.retrieve(doc.id, to: out) }.map(caseName), "integrity", "\(plain.count) bytes")
            XCTAssertFalse(fileExists(out))
            XCTAssertEqual(ShareKit.caught { _ = try w.package([doc], to: [c]) }.map(caseName), "integrity", "\(plain.count) bytes")
            XCTAssertFalse(try w.vault.doctor(session: w.session).isHealthy)
        }
    }

    func testAKeyAndHashMovedToAnotherDocumentDoNotOpen() throws {
        let w = try ShareWorld("recorded-hash-swap")
        let docs = try w.deposit([("a.txt", Data("aaaa".utf8)), ("b.txt", Data("bbbb".utf8))])
        try replaceSealedKey(w, docs[1].id, with: try sealedKey(w, docs[0].id))
        XCTAssertEqual(ShareKit.caught { _ = try w.session.documents.retrieve(docs[1].id, to: try w.folder("x") + "/out") }.map(caseName), "integrity")
        XCTAssertEqual(ShareKit.caught { _ = try w.package([docs[1]], to: [try w.counsel("anna").counsel]) }.map(caseName), "integrity")
    }

    func testRotationKeepsTheRecordedHash() throws {
        let w = try ShareWorld("recorded-hash-rotation")
        let content = Data("kept across rotation\n".utf8)
        let doc = try w.deposit([("a.txt", content)])[0]
        _ = try w.session.staff.rotate()
        let rotated = try w.vault.unlock(w.founder)
        let secret = try DocumentSecret.open(try sealedKey(w, doc.id), id: doc.id, vaultKey: rotated.vaultKey)
        XCTAssertEqual(secret.contentHash, Hash.blake2b(content))
    }

    // MARK: Output durability

    /// Every durability gives the same complete file under its name and nothing else in the
    /// folder; the choice changes only when the data is pushed to disk.
    func testEveryDurabilityWritesTheSameFilesAndLeavesNothingElse() throws {
        let w = try ShareWorld("durability")
        try w.trustOrganisation()
        let content = ShareKit.content("durable", count: 9 * 1024 * 1024 + 17)   // past the 8 MiB write-behind window
        let doc = try w.deposit([("big.bin", content)])[0]
        let (id, c) = try w.counsel("anna")
        let g = try w.session.sharing.grant(GrantRequest(documents: [doc.id], counsel: [c.id], window: .duration(seconds: 7 * 86400)))
        for durability in [Durability.durable, .system] {
            let folder = try w.folder("out-\(durability)")
            _ = try w.session.documents.retrieve(doc.id, to: folder + "/retrieved.bin", durability: durability)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: folder + "/retrieved.bin")), content)
            _ = try w.session.sharing.makePackage(grant: g.id, to: folder + "/p.dpkg", durability: durability)
            let opened = try w.folder("opened-\(durability)")
            let docs = try PackageReader(path: folder + "/p.dpkg", clock: ShareKit.clock(days: 1))
                .open(identity: id, trust: w.trust, into: opened, durability: durability)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: docs[0].path)), content)
            XCTAssertEqual(ShareKit.names(in: folder), ["p.dpkg", "retrieved.bin"])
            XCTAssertEqual(ShareKit.names(in: opened), ["big.bin"])
        }
    }

    /// A refusal leaves nothing, whatever the durability.
    func testAFailedRetrieveLeavesNothingWithoutFlushingEither() throws {
        let w = try ShareWorld("durability-failure")
        let content = ShareKit.content("damaged", count: 3 * 16 * ContentStream.chunkSize)
        let doc = try w.deposit([("a.bin", content)])[0]
        let blob = w.vaultPath + "/blobs/" + String(doc.id.suffix(13).prefix(2)) + "/" + doc.id
        try flipByte(in: blob, at: 4 + 40 * UInt64(ContentStream.chunkSize + ContentStream.tagBytes) + 3)
        let folder = try w.folder("none")
        XCTAssertEqual(ShareKit.caught { _ = try w.session.documents.retrieve(doc.id, to: folder + "/out", durability: .system) }.map(caseName), "integrity")
        XCTAssertEqual(ShareKit.names(in: folder), [])
    }
}
