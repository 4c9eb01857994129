import DossierCrypto
import Foundation
import GRDB
import XCTest
@_spi(Benchmark) @testable import DossierCore

/// The sealed metadata's binary form (docs/formats/vault.md, section 2.1): the published
/// vector, round trips, strict refusals, and vaults whose metadata is still the older JSON.
final class MetadataEncodingTests: XCTestCase {
    /// The example of vault.md section 2.1, byte for byte.
    func testTheDocumentedVector() {
        let meta = DocumentMetadata(title: "Prison conditions", fileName: "report.pdf", tags: ["medical"],
                                    jurisdiction: nil, caseReference: "EXT-2026-014")
        let hex = "01" + "00000011" + Data("Prison conditions".utf8).hex + "0000000a" + Data("report.pdf".utf8).hex
            + "00000001" + "00000007" + Data("medical".utf8).hex + "00" + "01" + "0000000c" + Data("EXT-2026-014".utf8).hex
        XCTAssertEqual(Data(meta.encoded()).hex, hex)
        XCTAssertEqual(Data(hex: hex)!.withUnsafeBytes { DocumentMetadata.decode($0) }, meta)
    }

    func testRoundTrips() {
        let cases = [
            DocumentMetadata(title: "t", fileName: ""),
            DocumentMetadata(title: "Заверения — Ташкент", fileName: "отчёт.pdf", tags: ["a", "", "日本語"], jurisdiction: "UK", caseReference: ""),
            DocumentMetadata(title: String(repeating: "x", count: 70_000), fileName: "f", tags: Array(repeating: "t", count: 300)),
        ]
        for meta in cases {
            let bytes = meta.encoded()
            XCTAssertEqual(bytes.withUnsafeBytes { DocumentMetadata.decode($0) }, meta)
        }
    }

    func testMalformedFormsAreRefused() {
        let good = DocumentMetadata(title: "Title", fileName: "f.pdf", tags: ["x"], jurisdiction: "FR", caseReference: nil).encoded()
        func refused(_ bytes: [UInt8], _ what: String) {
            XCTAssertNil(bytes.withUnsafeBytes { DocumentMetadata.decode($0) }, what)
        }
        refused([], "empty")
        for n in 0..<good.count { refused(Array(good[0..<n]), "truncated to \(n) bytes") }
        refused(good + [0], "a trailing byte")
        refused([0x02] + good.dropFirst(), "an unknown version")
        refused(DocumentMetadata(title: "", fileName: "f").encoded(), "an empty title")
        var presence = good
        presence[presence.count - 1] = 2
        refused(presence, "a presence byte other than 0 or 1")
        var utf8 = good
        utf8[5] = 0xff
        refused(utf8, "bad UTF-8 in the title")
        refused([1, 0, 0, 0, 1, 0x41, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0], "a tag count larger than the bytes left")
    }

    /// Vaults written before the binary form keep their JSON metadata: it is read as before,
    /// by `list`, `search` and `show`, beside documents in the new form.
    func testOlderJSONMetadataStillReads() throws {
        let v = try makeVault()
        defer { v.folder.remove() }
        let file = v.folder.file("new.txt")
        try writeFile(file, "new")
        let new = try XCTUnwrap(try v.session.documents.deposit(depositRequest([file], title: "New form")).first)
        // A document as dossier 0.1.0 recorded it: its metadata sealed as JSON.
        let old = DocumentMetadata(title: "Old form", fileName: "old.pdf", tags: ["legacy"], jurisdiction: "UK", caseReference: "EXT-1")
        let id = "doc-aaaaaaaaaaaaa"
        let json = try JSONEncoder().encode(old)
        let sealed = try Sealing.seal(json, purpose: .metadata, id: id, vaultKey: v.session.vaultKey, random: SystemRandom())
        let key = try Sealing.seal(SecureBytes(randomCount: 32), purpose: .documentKey, id: id, vaultKey: v.session.vaultKey, random: SystemRandom())
        try rawDatabase(v).write { db in
            try db.execute(sql: """
                INSERT INTO documents(id, kind, language, size, deposited_at, deposited_by, metadata_sealed, key_sealed)
                VALUES (?, 'expert-report', 'en', 3, '2000-01-01T00:00:00.000Z', ?, ?, ?)
                """, arguments: [id, v.session.actor, sealed, key])
        }
        let listed = try v.session.documents.list()
        XCTAssertEqual(listed.map(\.id), [id, new.id])
        XCTAssertEqual(listed[0].metadata, old)
        XCTAssertEqual(listed[1].metadata?.title, "New form")
        XCTAssertEqual(try v.session.documents.search(["legacy"]).map(\.id), [id])
        XCTAssertEqual(try v.session.documents.document(id).metadata, old)
        XCTAssertEqual(try v.session.documents.list(DocumentFilter(caseReference: "EXT-1")).map(\.id), [id])
        // The rows `list` prints from: the JSON title too, in deposit order.
        let titles = try v.session.documents.listRows(DocumentFilter(), part: { [String]() }) { part, row in
            part.append(String(decoding: row.title!, as: UTF8.self))
        }
        XCTAssertEqual(titles.flatMap { $0 }, ["Old form", "New form"])
        let cased = try v.session.documents.listRows(DocumentFilter(caseReference: "EXT-1"), part: { [String]() }) { part, row in
            part.append(String(decoding: row.id, as: UTF8.self))
        }
        XCTAssertEqual(cased.flatMap { $0 }, [id])
    }

    /// Many documents are opened on all cores; the order and every field are as one by one.
    func testAListOpenedInParallelMatchesOneByOne() throws {
        let v = try makeVault()
        defer { v.folder.remove() }
        try v.session.documents.recordSyntheticDocuments(count: 3000) { i in
            (DocumentKind.allCases[i % 4], ["en", "fr", "und"][i % 3], UInt64(i),
             DocumentMetadata(title: "title \(i)", fileName: "f\(i).pdf", tags: i % 2 == 0 ? [] : ["odd"],
                              jurisdiction: nil, caseReference: i % 5 == 0 ? "EXT-\(i % 7)" : nil))
        }
        let all = try v.session.documents.list()
        XCTAssertEqual(all.count, 3000)
        for d in all.prefix(50) + all.suffix(50) {
            XCTAssertEqual(try v.session.documents.document(d.id).metadata, d.metadata)
        }
        XCTAssertEqual(try v.session.documents.search(["ODD", "title 2999"]).count, 1)
        XCTAssertEqual(try v.session.documents.list(DocumentFilter(caseReference: "EXT-0")).count, all.filter { $0.metadata?.caseReference == "EXT-0" }.count)
    }

    /// The search matcher gives the answers of Unicode lowercasing, with its ASCII shortcut or without.
    func testSearchMatchesCaseInsensitivelyAcrossFields() {
        let m = DocumentMetadata(title: "Assurances — Ташкент", fileName: "Report.PDF", tags: ["Medical"], jurisdiction: "UK", caseReference: "EXT-7")
        let ascii = DocumentMetadata(title: "Prison CONDITIONS", fileName: "a.pdf", tags: ["x"], jurisdiction: nil, caseReference: "EXT-7")
        let cases: [([String], DocumentMetadata, Bool)] = [
            (["ташкент"], m, true), (["ТАШКЕНТ", "report.pdf"], m, true), (["medical", "ext-7"], m, true), (["missing"], m, false),
            (["prison", "conditions"], ascii, true), (["PRISON", "pdf"], ascii, true), (["ons\na.pdf"], ascii, true),
            (["prison", "ташкент"], ascii, false), (["conditionsx"], ascii, false), (["7\nx"], ascii, true), (["x\next"], ascii, false),
        ]
        for (words, meta, expected) in cases {
            var matcher = DocumentMetadata.Matcher(words: words)
            XCTAssertEqual(matcher.matches(meta), expected, "\(words) in \(meta.title)")
            let joined = ([meta.title, meta.fileName, meta.jurisdiction ?? "", meta.caseReference ?? ""] + meta.tags).joined(separator: "\n").lowercased()
            XCTAssertEqual(words.allSatisfy { joined.contains($0.lowercased()) }, expected, "reference answer for \(words)")
        }
    }

    /// A sealed value moved to another row does not open there, in the parallel path too.
    func testMetadataSwappedBetweenRowsIsRefused() throws {
        let v = try makeVault()
        defer { v.folder.remove() }
        try v.session.documents.recordSyntheticDocuments(count: 2000) { i in
            (.expertReport, "en", 1, DocumentMetadata(title: "t\(i)", fileName: "f"))
        }
        try rawDatabase(v).write { db in
            let ids = try String.fetchAll(db, sql: "SELECT id FROM documents ORDER BY id LIMIT 2")
            try db.execute(sql: "UPDATE documents SET metadata_sealed = (SELECT metadata_sealed FROM documents WHERE id = ?) WHERE id = ?",
                           arguments: [ids[0], ids[1]])
        }
        assertDossierError("integrity") { try v.session.documents.list() }
    }

    /// The search's scratch copy of a document's metadata is zeroed by `wipe`, whichever path
    /// filled it (decoded metadata or the sealed binary form).
    func testTheMatchersScratchIsWiped() throws {
        let meta = DocumentMetadata(title: "Secret witness W7", fileName: "w7.txt", tags: ["medical"], caseReference: "EXT-1")
        var matcher = DocumentMetadata.Matcher(words: ["witness"])
        XCTAssertTrue(matcher.matches(meta))
        XCTAssertTrue(matcher.haystack.contains(0x77))
        matcher.wipe()
        XCTAssertTrue(matcher.haystack.allSatisfy { $0 == 0 })
        let encoded = meta.encoded()
        XCTAssertEqual(encoded.withUnsafeBytes { matcher.matches(encoded: $0) }, true)
        XCTAssertFalse(matcher.haystack.allSatisfy { $0 == 0 })
        var condition = MetadataCondition(caseReference: nil, words: matcher)
        condition.wipe()
        XCTAssertTrue(condition.words!.haystack.allSatisfy { $0 == 0 })
    }
}
