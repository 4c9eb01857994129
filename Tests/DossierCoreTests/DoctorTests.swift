import DossierCrypto
import Foundation
import XCTest
@testable import DossierCore

/// `doctor` (issue 3, point 7): orphans and leftovers are reported and removed with `fix`,
/// missing or altered content is damage, and no content is ever reported.
final class DoctorTests: XCTestCase {
    /// A vault with two live documents (one of two chunks) and one removed.
    private func populatedVault() throws -> (v: VaultFixture, docs: [Document]) {
        let v = try makeVault()
        let f1 = v.folder.file("one.bin"), f2 = v.folder.file("two.txt"), f3 = v.folder.file("three.txt")
        try generateFile(f1, size: 100_000, seed: "doctor")
        try writeFile(f2, "DOCTOR-CONTENT-MARKER second document")
        try writeFile(f3, "to be removed")
        let docs = try v.session.documents.deposit(depositRequest([f1, f2, f3], title: "Doctor Title Marker"))
        try v.session.documents.remove(docs[2].id, reason: "removed for the test")
        return (v, Array(docs.prefix(2)))
    }

    private func assertReportHasNoContent(_ report: DoctorReport, file: StaticString = #filePath, line: UInt = #line) throws {
        let json = try JSONEncoder().encode(report)
        for marker in ["DOCTOR-CONTENT-MARKER", "Doctor Title Marker", "one.bin", "two.txt"] {
            XCTAssertFalse(contains(json, Data(marker.utf8)), "the report mentions '\(marker)'", file: file, line: line)
        }
    }

    func testAHealthyVaultIsOK() throws {
        let (v, docs) = try populatedVault()
        let shallow = try v.vault.doctor()
        XCTAssertTrue(shallow.isHealthy)
        XCTAssertEqual(shallow.findings.count, 0, "\(shallow.findings)")
        XCTAssertEqual(shallow.documentsChecked, docs.count)
        XCTAssertEqual(shallow.blobsAuthenticated, 0, "without a session nothing is decrypted")
        XCTAssertEqual(shallow.logEntriesVerified, try rawLog(v).count)

        let deep = try v.vault.doctor(session: v.session)
        XCTAssertTrue(deep.isHealthy)
        XCTAssertEqual(deep.findings.count, 0, "\(deep.findings)")
        XCTAssertEqual(deep.blobsAuthenticated, docs.count)
        try assertReportHasNoContent(deep)
        // Checking logs nothing.
        XCTAssertEqual(deep.logEntriesVerified, try rawLog(v).count)
    }

    func testAnOrphanBlobIsALeftoverAndFixRemovesIt() throws {
        let (v, docs) = try populatedVault()
        let blob = try XCTUnwrap(blobPath(v, docs[0].id))
        let orphan = (blob as NSString).deletingLastPathComponent + "/doc-zzzzzzzzzzzzz"
        try FileManager.default.copyItem(atPath: blob, toPath: orphan)

        let report = try v.vault.doctor()
        XCTAssertTrue(report.isHealthy, "an orphan is a leftover, not damage")
        XCTAssertEqual(report.findings.count, 1, "\(report.findings)")
        let finding = try XCTUnwrap(report.findings.first)
        XCTAssertEqual(finding.severity, .leftover)
        XCTAssertEqual(finding.subject, orphan)
        XCTAssertFalse(finding.fixed)
        XCTAssertTrue(fileExists(orphan), "without fix nothing is removed")

        let fixed = try v.vault.doctor(fix: true)
        XCTAssertEqual(fixed.findings.map(\.fixed), [true])
        XCTAssertFalse(fileExists(orphan), "fix should remove the orphan")
        XCTAssertTrue(fileExists(blob), "fix must not touch live blobs")
        XCTAssertEqual(try v.vault.doctor().findings.count, 0)
        let out = v.folder.file("out.bin")
        _ = try v.session.documents.retrieve(docs[0].id, to: out)
        XCTAssertEqual(try sha256(ofFile: out), try sha256(ofFile: v.folder.file("one.bin")))
    }

    func testTheBlobOfARemovedDocumentLeftBehindIsAnOrphan() throws {
        let (v, docs) = try populatedVault()
        // As if the process died between committing the removal and deleting the blob.
        let input = v.folder.file("four.txt")
        try writeFile(input, "four")
        let doc = try XCTUnwrap(try v.session.documents.deposit(depositRequest([input])).first)
        let blob = try XCTUnwrap(blobPath(v, doc.id))
        let saved = blob + ".saved"
        try FileManager.default.copyItem(atPath: blob, toPath: saved)
        try v.session.documents.remove(doc.id, reason: "test")
        XCTAssertFalse(fileExists(blob))
        try FileManager.default.moveItem(atPath: saved, toPath: blob)

        let report = try v.vault.doctor(fix: true)
        XCTAssertTrue(report.isHealthy)
        XCTAssertEqual(report.findings.map(\.severity), [.leftover])
        XCTAssertEqual(report.findings.first?.subject, blob)
        XCTAssertTrue(report.findings.first?.message.contains("removed") ?? false, "\(report.findings)")
        XCTAssertFalse(fileExists(blob))
        XCTAssertEqual(report.documentsChecked, docs.count)
    }

    func testLeftoverTemporaryFilesAreReportedAndRemoved() throws {
        let (v, docs) = try populatedVault()
        XCTAssertEqual(temporaryBlobFiles(v), [], "a successful deposit leaves no temporary file")
        // A named temporary beside the blobs (where anonymous files are unsupported), and one in
        // the `blobs/tmp/` folder of vaults made by earlier versions.
        let shard = (try XCTUnwrap(blobPath(v, docs[0].id)) as NSString).deletingLastPathComponent
        let beside = shard + "/.doc-abcdefghijklm.dossier-tmp-001122334455"
        try FileManager.default.createDirectory(atPath: v.blobsPath + "/tmp", withIntermediateDirectories: true)
        let legacy = v.blobsPath + "/tmp/doc-abcdefghijklm.0011223344"
        for path in [beside, legacy] { try writeFile(path, Data(repeating: 0x5a, count: 1000)) }

        let report = try v.vault.doctor()
        XCTAssertTrue(report.isHealthy)
        XCTAssertEqual(report.findings.map(\.severity), [.leftover, .leftover], "\(report.findings)")
        XCTAssertEqual(Set(report.findings.map(\.subject)), [beside, legacy])
        XCTAssertTrue(fileExists(beside) && fileExists(legacy), "without fix nothing is removed")

        let fixed = try v.vault.doctor(fix: true)
        XCTAssertEqual(fixed.findings.map(\.fixed), [true, true])
        XCTAssertFalse(fileExists(beside))
        XCTAssertFalse(fileExists(legacy))
        XCTAssertEqual(try v.vault.doctor().findings.count, 0)
        XCTAssertEqual(blobFiles(v).count, docs.count, "fix must not touch live blobs")
    }

    func testAMissingBlobIsDamage() throws {
        let (v, docs) = try populatedVault()
        try FileManager.default.removeItem(atPath: try XCTUnwrap(blobPath(v, docs[1].id)))
        for report in [try v.vault.doctor(), try v.vault.doctor(session: v.session), try v.vault.doctor(fix: true)] {
            XCTAssertFalse(report.isHealthy)
            XCTAssertEqual(report.findings.count, 1, "\(report.findings)")
            XCTAssertEqual(report.findings.first?.severity, .damage)
            XCTAssertEqual(report.findings.first?.subject, docs[1].id)
            XCTAssertEqual(report.findings.first?.fixed, false)
        }
        XCTAssertTrue(try v.session.documents.document(docs[1].id).isRemoved == false, "doctor must not change the catalogue")
    }

    func testAWrongSizeBlobIsDamage() throws {
        for (label, change) in [("truncated", { (p: String) in try truncateFile(p, to: fileSize(p)! - 1) }),
                                ("extended", { (p: String) in
                                    let h = try FileHandle(forWritingTo: URL(fileURLWithPath: p))
                                    try h.seekToEnd(); try h.write(contentsOf: Data([0])); try h.close()
                                })] {
            let (v, docs) = try populatedVault()
            let blob = try XCTUnwrap(blobPath(v, docs[0].id))
            try change(blob)
            let report = try v.vault.doctor(fix: true)
            XCTAssertFalse(report.isHealthy, label)
            XCTAssertEqual(report.findings.map(\.severity), [.damage], label)
            XCTAssertEqual(report.findings.first?.subject, docs[0].id, label)
            XCTAssertTrue(fileExists(blob), "\(label): fix must never delete a live document's blob")
            try assertReportHasNoContent(report)
        }
    }

    func testAnAlteredBlobOfTheRightSizeIsDamageWhenDecrypted() throws {
        let (v, docs) = try populatedVault()
        let blob = try XCTUnwrap(blobPath(v, docs[0].id))
        try flipByte(in: blob, at: try XCTUnwrap(fileSize(blob)) - 5)
        // The size check alone cannot see it…
        XCTAssertTrue(try v.vault.doctor().isHealthy)
        // …decrypting every chunk does.
        let deep = try v.vault.doctor(session: v.session)
        XCTAssertFalse(deep.isHealthy)
        XCTAssertEqual(deep.findings.map(\.subject), [docs[0].id])
        XCTAssertEqual(deep.findings.map(\.severity), [.damage])
        XCTAssertEqual(deep.blobsAuthenticated, 1)
        try assertReportHasNoContent(deep)
    }

    func testASwappedBlobIsDamageWhenDecrypted() throws {
        // Two blobs of the same size swapped: each is intact, but under the wrong key.
        let v = try makeVault()
        let f1 = v.folder.file("a.txt"), f2 = v.folder.file("b.txt")
        try writeFile(f1, "aaaa")
        try writeFile(f2, "bbbb")
        let docs = try v.session.documents.deposit(depositRequest([f1, f2]))
        let p1 = try XCTUnwrap(blobPath(v, docs[0].id)), p2 = try XCTUnwrap(blobPath(v, docs[1].id))
        let b1 = try readFile(p1), b2 = try readFile(p2)
        try writeFile(p1, b2)
        try writeFile(p2, b1)
        let deep = try v.vault.doctor(session: v.session)
        XCTAssertEqual(Set(deep.findings.map(\.subject)), Set(docs.map(\.id)))
        assertDossierError("integrity") { try v.session.documents.retrieve(docs[0].id, to: v.folder.file("out")) }
        XCTAssertFalse(fileExists(v.folder.file("out")))
    }
}
