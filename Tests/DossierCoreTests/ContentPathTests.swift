import DossierCrypto
import Foundation
import XCTest
@testable import DossierCore

/// The content path with the overlapped stream: multi-batch documents through deposit,
/// retrieve, package and open; damage found late still leaves nothing; a deposit's blobs are
/// flushed together before the catalogue names them.
final class ContentPathTests: XCTestCase {
    /// Three 16-chunk batches and one byte.
    static let size = 3 * 16 * ContentStream.chunkSize + 1

    func testMultiBatchDocumentsRoundTrip() throws {
        let v = try makeVault()
        for size in [16 * ContentStream.chunkSize - 1, 16 * ContentStream.chunkSize, Self.size] {
            let input = v.folder.file("in-\(size).bin")
            let digest = try generateFile(input, size: size, seed: "batches-\(size)")
            let doc = try XCTUnwrap(try v.session.documents.deposit(depositRequest([input])).first)
            XCTAssertEqual(fileSize(try XCTUnwrap(blobPath(v, doc.id))), 4 + ContentStream.ciphertextSize(plaintextSize: UInt64(size)))
            let output = v.folder.file("out-\(size).bin")
            _ = try v.session.documents.retrieve(doc.id, to: output)
            XCTAssertEqual(try sha256(ofFile: output), digest, "size \(size)")
        }
    }

    func testDamageInALaterBatchLeavesNoOutput() throws {
        let v = try makeVault()
        let input = v.folder.file("in.bin")
        try generateFile(input, size: Self.size, seed: "late-damage")
        let doc = try XCTUnwrap(try v.session.documents.deposit(depositRequest([input])).first)
        let blob = try XCTUnwrap(blobPath(v, doc.id))
        // Chunk 40, in the third batch: two batches were already decrypted and written.
        try flipByte(in: blob, at: 4 + 40 * UInt64(ContentStream.chunkSize + ContentStream.tagBytes) + 7)
        let outFolder = v.folder.file("out")
        try FileManager.default.createDirectory(atPath: outFolder, withIntermediateDirectories: false)
        assertDossierError("integrity") { try v.session.documents.retrieve(doc.id, to: outFolder + "/doc.bin") }
        XCTAssertEqual(folderContents(outFolder), [], "a failed retrieve left files behind")
    }

    func testADepositOfManyFilesFlushesThemAllAndRecordsThemAll() throws {
        let v = try makeVault()
        let paths = (0..<40).map { v.folder.file("f\($0).txt") }
        for (i, p) in paths.enumerated() { try writeFile(p, "file \(i)\n") }
        let docs = try v.session.documents.deposit(depositRequest(paths))
        XCTAssertEqual(docs.count, paths.count)
        XCTAssertEqual(blobFiles(v).count, paths.count)
        XCTAssertEqual(temporaryBlobFiles(v), [])
        for (i, d) in docs.enumerated() {
            let out = v.folder.file("out-\(i)")
            _ = try v.session.documents.retrieve(d.id, to: out)
            XCTAssertEqual(try readFile(out), Data("file \(i)\n".utf8))
        }
    }

    func testFlushingABlobThatIsNotThereFails() throws {
        let v = try makeVault()
        assertDossierError("writeFailed") { try v.vault.blobs.makeDurable(ids: ["doc_missing0000000000"]) }
    }
}
