import DossierCrypto
import Foundation
import GRDB
import XCTest
@_spi(Benchmark) @testable import DossierCore

/// `list` and `search` read on several connections at once (ListingRows.swift): the same
/// documents in the same order as one connection, filters applied, one snapshot.
final class ListingTests: XCTestCase {
    /// A catalogue of `count` documents with varied kinds, languages, cases, tags and titles.
    private func makeCatalogue(_ count: Int) throws -> VaultFixture {
        let v = try makeVault()
        try v.session.documents.recordSyntheticDocuments(count: count) { i in
            (DocumentKind.allCases[i % 4], ["en", "fr", "und", "zh-Hans"][i % 4 == 0 ? 0 : i % 3], UInt64(i * 37),
             DocumentMetadata(title: i % 11 == 0 ? "Ташкент title \(i)" : "title \(i)", fileName: "f\(i).pdf",
                              tags: i % 2 == 0 ? [] : ["odd", "t\(i % 5)"], jurisdiction: i % 3 == 0 ? "UK" : nil,
                              caseReference: i % 5 == 0 ? "EXT-\(i % 7)" : nil))
        }
        return v
    }

    /// Every field, so that two listings compare whole.
    private func fields(_ docs: [Document]) -> [String] {
        docs.map { d in
            [d.id, d.kind.rawValue, d.language, String(d.size), d.depositedAt, d.depositedBy, d.removedAt ?? "-", d.removedBy ?? "-",
             d.metadata.map { m in [m.title, m.fileName, m.tags.joined(separator: ","), m.jurisdiction ?? "-", m.caseReference ?? "-"].joined(separator: "|") } ?? "-"]
                .joined(separator: "/")
        }
    }

    /// The fields `list` prints, from Documents.
    private func tableFields(_ docs: [Document]) -> [String] {
        docs.map { d in [d.id, d.kind.rawValue, d.language, String(d.size), d.depositedAt, d.metadata?.title ?? "-"].joined(separator: "/") }
    }

    /// The same, from `listRows` on `n` connections, and how many parts it gave.
    private func tableFields(_ s: StaffSession, _ filter: DocumentFilter, connections n: Int) throws -> (fields: [String], parts: Int) {
        let parts = try s.documents.listRows(filter, connections: n, part: { [String]() }) { part, r in
            let text = { (b: UnsafeBufferPointer<UInt8>) in String(decoding: b, as: UTF8.self) }
            part.append([text(r.id), r.kind.rawValue, text(r.language), String(r.size), text(r.depositedAt), r.title.map(text) ?? "-"]
                .joined(separator: "/"))
        }
        return (parts.flatMap { $0 }, parts.count)
    }

    private func assertSameOnEveryConnectionCount(_ s: StaffSession, _ filter: DocumentFilter, expectedCount: Int? = nil,
                                                  file: StaticString = #filePath, line: UInt = #line) throws {
        let one = try s.documents.list(filter, connections: 1)
        if let expectedCount { XCTAssertEqual(one.count, expectedCount, file: file, line: line) }
        for n in [1, 2, 3, 8] {
            var readers = 0
            let many = try s.documents.list(filter, connections: n, probe: .init(readers: { readers = $0 }))
            XCTAssertTrue(fields(many) == fields(one), "\(n) connections", file: file, line: line)
            if one.count > 0 { XCTAssertEqual(readers, n, "\(n) connections asked", file: file, line: line) }
            // The rows `list` prints from: the same documents, fields and order.
            let rows = try tableFields(s, filter, connections: n)
            XCTAssertTrue(rows.fields == tableFields(one), "rows on \(n) connections", file: file, line: line)
            if one.count > 0 { XCTAssertEqual(rows.parts, n, "one part per connection", file: file, line: line) }
        }
    }

    func testSeveralConnectionsListWhatOneLists() throws {
        let v = try makeCatalogue(3000)
        defer { v.folder.remove() }
        let s = v.session
        let removed = try s.documents.list(DocumentFilter(), connections: 1).filter { $0.size % 7 == 0 }.prefix(40)
        for d in removed { try s.documents.remove(d.id, reason: "test") }

        try assertSameOnEveryConnectionCount(s, DocumentFilter(), expectedCount: 3000 - removed.count)
        try assertSameOnEveryConnectionCount(s, DocumentFilter(includeRemoved: true), expectedCount: 3000)
        try assertSameOnEveryConnectionCount(s, DocumentFilter(kind: .witnessTestimony))
        try assertSameOnEveryConnectionCount(s, DocumentFilter(language: "zh-hans"))
        try assertSameOnEveryConnectionCount(s, DocumentFilter(caseReference: "EXT-3"))
        try assertSameOnEveryConnectionCount(s, DocumentFilter(kind: .expertReport, caseReference: "EXT-0", language: "en", includeRemoved: true))
        try assertSameOnEveryConnectionCount(s, DocumentFilter(caseReference: "EXT-99"), expectedCount: 0)

        // The filters select what they say, on the parallel path too.
        let all = try s.documents.list(DocumentFilter(includeRemoved: true), connections: 2)
        XCTAssertEqual(Set(try s.documents.list(DocumentFilter(caseReference: "EXT-3"), connections: 2).map(\.id)),
                       Set(all.filter { $0.metadata?.caseReference == "EXT-3" }.map(\.id)))
        XCTAssertEqual(Set(try s.documents.list(DocumentFilter(kind: .witnessTestimony), connections: 2).map(\.id)),
                       Set(all.filter { $0.kind == .witnessTestimony && !$0.isRemoved }.map(\.id)))
        XCTAssertEqual(try s.documents.list(DocumentFilter(), connections: 2).filter(\.isRemoved).count, 0)
        XCTAssertEqual(all.filter(\.isRemoved).count, removed.count)
    }

    func testSeveralConnectionsSearchWhatOneSearches() throws {
        let v = try makeCatalogue(3000)
        defer { v.folder.remove() }
        let s = v.session
        let all = try s.documents.list(DocumentFilter(), connections: 1)
        for words in [["title 2999"], ["ODD", "t3"], ["ташкент"], ["TASHKENT"], ["f12.pdf\nuk"], ["uk\n\nodd"], ["ext-4"], ["nothing"]] {
            let one = try s.documents.search(words, connections: 1)
            for n in [2, 3] {
                XCTAssertTrue(fields(try s.documents.search(words, connections: n)) == fields(one), "\(words) on \(n) connections")
            }
            // The reference answer: every word in the joined, lowercased fields.
            let expected = all.filter { d in
                let m = d.metadata!
                let text = ([m.title, m.fileName, m.jurisdiction ?? "", m.caseReference ?? ""] + m.tags).joined(separator: "\n").lowercased()
                return words.allSatisfy { text.contains($0.lowercased()) }
            }
            XCTAssertEqual(one.map(\.id), expected.map(\.id), "\(words)")
        }
        XCTAssertEqual(try s.documents.search(["title 2999"], connections: 2).count, 1)
        XCTAssertEqual(try s.documents.search(["ташкент"], connections: 2).count, all.filter { $0.metadata!.title.hasPrefix("Ташкент") }.count)
    }

    func testAnEmptyCatalogueAndOneDocument() throws {
        let v = try makeVault()
        defer { v.folder.remove() }
        for n in [1, 2, 4] {
            XCTAssertEqual(try v.session.documents.list(DocumentFilter(), connections: n).count, 0)
            XCTAssertEqual(try v.session.documents.search(["x"], connections: n).count, 0)
        }
        try v.session.documents.recordSyntheticDocuments(count: 1) { _ in (.expertReport, "en", 5, DocumentMetadata(title: "Only one", fileName: "a.pdf")) }
        for n in [1, 2, 4] {
            let docs = try v.session.documents.list(DocumentFilter(), connections: n)
            XCTAssertEqual(docs.map { $0.metadata?.title }, ["Only one"], "\(n) connections")
            XCTAssertEqual(try v.session.documents.search(["ONLY"], connections: n).count, 1)
            XCTAssertEqual(try v.session.documents.list(DocumentFilter(kind: .witnessTestimony), connections: n).count, 0)
        }
    }

    /// Removes the document at `rowid` (an SQL expression) as `remove` would, through `writer`.
    private func removeBehindTheListingsBack(_ writer: DatabaseQueue, rowid: String) throws {
        try writer.write { db in
            try db.execute(sql: "UPDATE documents SET key_sealed = NULL, metadata_sealed = NULL, removed_at = '2030-01-01T00:00:00.000Z', removed_by = 'x' WHERE rowid = \(rowid)")
        }
    }

    /// The order of a listing, as SQLite gives it: deposit time, then the order recorded.
    private func depositOrder(_ v: VaultFixture, _ condition: String = "") throws -> [String] {
        try rawDatabase(v).read { db in
            try String.fetchAll(db, sql: "SELECT id FROM documents WHERE removed_at IS NULL\(condition) ORDER BY deposited_at, rowid")
        }
    }

    /// Deposit times that go back (a clock set back) across the ranges' seam: the listing is
    /// still in deposit order on any number of connections, read again sorted, in the same
    /// snapshot, for every kind of condition.
    func testDepositOrderAcrossRangesWhenClocksWentBack() throws {
        let v = try makeCatalogue(2000)
        defer { v.folder.remove() }
        let writer = try rawDatabase(v)
        try writer.write { db in
            // Rows in the second half get times before those of the first half; some share a time.
            try db.execute(sql: "UPDATE documents SET deposited_at = '2000-01-01T00:00:00.' || printf('%03d', (rowid * 7) % 1000) || 'Z' WHERE rowid > 1000")
            try db.execute(sql: "UPDATE documents SET deposited_at = '1999-12-31T00:00:00.000Z' WHERE rowid % 97 = 0")
        }
        let expected = try depositOrder(v)
        for n in [1, 2, 3] {
            var sorted = 0
            XCTAssertEqual(try v.session.documents.list(DocumentFilter(), connections: n, probe: .init(beforeSorting: { sorted += 1 })).map(\.id),
                           expected, "\(n) connections")
            XCTAssertEqual(sorted, 1, "read again sorted")
            let rows = try tableFields(v.session, DocumentFilter(), connections: n)
            XCTAssertEqual(rows.fields.map { String($0.prefix { $0 != "/" }) }, expected, "rows on \(n) connections")
            XCTAssertEqual(rows.parts, 1, "read again, sorted, on one connection")
            // Conditions in SQL and on the metadata keep their effect when sorted.
            XCTAssertEqual(try v.session.documents.list(DocumentFilter(kind: .witnessTestimony), connections: n).map(\.id),
                           try depositOrder(v, " AND kind = 'witness-testimony'"))
            let all = try v.session.documents.list(DocumentFilter(), connections: n)
            XCTAssertEqual(try v.session.documents.list(DocumentFilter(caseReference: "EXT-3"), connections: n).map(\.id),
                           all.filter { $0.metadata?.caseReference == "EXT-3" }.map(\.id))
            XCTAssertEqual(try v.session.documents.search(["odd"], connections: n).map(\.id),
                           all.filter { $0.metadata!.tags.contains("odd") }.map(\.id))
        }
        // The sorted reading is the same snapshot: a removal committed just before it is not seen.
        let before = try v.session.documents.list(DocumentFilter(), connections: 2)
        let during = try v.session.documents.list(DocumentFilter(), connections: 2, probe: .init(beforeSorting: {
            try self.removeBehindTheListingsBack(writer, rowid: "5")
        }))
        XCTAssertTrue(fields(during) == fields(before), "the sorted reading saw a later commit")
        XCTAssertEqual(try v.session.documents.list(DocumentFilter(), connections: 2).count, before.count - 1)
    }

    /// The files of one deposit share its time and have random ids: that is deposit order, not
    /// a clock set back, so such a catalogue is read on every connection and never again.
    func testDepositsOfManyFilesStayOnEveryConnection() throws {
        let v = try makeCatalogue(3000)
        defer { v.folder.remove() }
        try rawDatabase(v).write { db in
            // Deposits of up to 50 files: each group of rows gets one time, in increasing order.
            try db.execute(sql: "UPDATE documents SET deposited_at = printf('2026-01-01T00:%02d:%02d.000Z', rowid / 3000, (rowid / 50) % 60)")
        }
        let expected = try depositOrder(v)
        XCTAssertNotEqual(expected, try rawDatabase(v).read { db in
            try String.fetchAll(db, sql: "SELECT id FROM documents ORDER BY deposited_at, id")
        }, "ids within a deposit must not already be in order, or the test shows nothing")
        for n in [1, 2, 3] {
            var sorted = 0, readers = 0
            let docs = try v.session.documents.list(DocumentFilter(), connections: n, probe: .init(readers: { readers = $0 }, beforeSorting: { sorted += 1 }))
            XCTAssertEqual(docs.map(\.id), expected, "\(n) connections")
            XCTAssertEqual(sorted, 0, "\(n) connections: read again although nothing went back")
            XCTAssertEqual(readers, n)
            XCTAssertEqual(try tableFields(v.session, DocumentFilter(), connections: n).parts, n)
        }
    }

    /// Metadata larger than a core's scratch buffer (4 KiB) and than the search's first haystack
    /// (1 KiB): both grow, and what they hold is found.
    func testLargeMetadataIsListedAndSearched() throws {
        let v = try makeVault()
        defer { v.folder.remove() }
        let long = String(repeating: "assurances ", count: 600) + "Tashkent"
        try v.session.documents.recordSyntheticDocuments(count: 2000) { i in
            (.expertReport, "en", 1, DocumentMetadata(title: i % 500 == 7 ? long : "t\(i)", fileName: "f", tags: i % 500 == 7 ? [long] : []))
        }
        for n in [1, 2] {
            XCTAssertEqual(try v.session.documents.search(["tashkent"], connections: n).map { $0.metadata!.title }, Array(repeating: long, count: 4))
            XCTAssertEqual(try v.session.documents.list(DocumentFilter(), connections: n).filter { $0.metadata!.title == long }.count, 4)
            XCTAssertEqual(try tableFields(v.session, DocumentFilter(), connections: n).fields.filter { $0.hasSuffix("/" + long) }.count, 4)
        }
    }

    /// A commit that lands after the vault's connection took its snapshot but before another
    /// connection takes its own: the listing is read on the vault's connection alone, and
    /// shows the catalogue as it was, not half of each.
    func testACommitBetweenSnapshotsFallsBackToOneConnection() throws {
        let v = try makeCatalogue(2000)
        defer { v.folder.remove() }
        let before = try v.session.documents.list(DocumentFilter(), connections: 1)
        let writer = try rawDatabase(v)
        var readers = 0
        let during = try v.session.documents.list(DocumentFilter(), connections: 2, probe: .init(inSnapshot: {
            // Remove the last document (in the second connection's range) behind the listing's back.
            try self.removeBehindTheListingsBack(writer, rowid: "(SELECT max(rowid) FROM documents)")
        }, readers: { readers = $0 }))
        XCTAssertEqual(readers, 1, "the extra connection must not join a later snapshot")
        XCTAssertTrue(fields(during) == fields(before), "the listing mixes two snapshots")
        XCTAssertEqual(try v.session.documents.list(DocumentFilter(), connections: 2).count, before.count - 1)
    }

    /// A sealed value moved to another row does not open there, whichever connection reads it.
    func testMetadataSwappedIsRefusedOnEveryConnection() throws {
        let v = try makeCatalogue(2000)
        defer { v.folder.remove() }
        try rawDatabase(v).write { db in
            try db.execute(sql: "UPDATE documents SET metadata_sealed = (SELECT metadata_sealed FROM documents WHERE rowid = 1) WHERE rowid = 1990")
        }
        for n in [1, 2] {
            assertDossierError("integrity") { try v.session.documents.list(DocumentFilter(), connections: n) }
            assertDossierError("integrity") { try self.tableFields(v.session, DocumentFilter(), connections: n) }
            assertDossierError("integrity") { try v.session.documents.search(["title"], connections: n) }
            // A search that would not keep the row still refuses it.
            assertDossierError("integrity") { try v.session.documents.search(["no such words"], connections: n) }
        }
    }

    /// A case reference is compared as Swift compares Strings: a decomposed "é" finds a
    /// precomposed one, on the byte path as on the decoded one.
    func testACaseReferenceMatchesCanonicallyEquivalentForms() throws {
        let v = try makeVault()
        defer { v.folder.remove() }
        try v.session.documents.recordSyntheticDocuments(count: 3) { i in
            (.expertReport, "en", 1, DocumentMetadata(title: "t\(i)", fileName: "f", caseReference: ["EXT-\u{e9}", "EXT-E", "EXT-e"][i]))
        }
        for reference in ["EXT-\u{e9}", "EXT-e\u{301}"] {
            let filter = DocumentFilter(caseReference: reference)
            XCTAssertEqual(try v.session.documents.list(filter).compactMap { $0.metadata?.title }, ["t0"], reference.debugDescription)
            XCTAssertEqual(try tableFields(v.session, filter, connections: 1).fields.map { String($0.split(separator: "/").last!) }, ["t0"])
        }
        XCTAssertEqual(try v.session.documents.list(DocumentFilter(caseReference: "EXT-E")).compactMap { $0.metadata?.title }, ["t1"])
        XCTAssertEqual(try tableFields(v.session, DocumentFilter(caseReference: "EXT-e"), connections: 1).fields.count, 1)
    }

    /// The search's byte matcher answers as decoding and the String matcher do, or defers to them.
    func testTheByteMatcherAgreesWithTheStringMatcher() {
        let metas = [
            DocumentMetadata(title: "Prison CONDITIONS", fileName: "a.pdf", tags: ["x", "Medical"], jurisdiction: nil, caseReference: "EXT-7"),
            DocumentMetadata(title: "Assurances — Ташкент", fileName: "Report.PDF", tags: [], jurisdiction: "UK", caseReference: nil),
            DocumentMetadata(title: "t", fileName: "", tags: ["", "y"], jurisdiction: "", caseReference: ""),
        ]
        let words: [[String]] = [["prison"], ["conditions", "A.PDF"], ["ons\na.pdf"], ["7\nx"], ["x\next"], ["pdf\n\next"], ["medical"],
                                 ["ташкент"], ["uk"], ["\n\n\n"], ["t\n\n\n\n\ny"], ["missing"]]
        for m in metas {
            let encoded = m.encoded()
            for w in words {
                var bytes = DocumentMetadata.Matcher(words: w)
                var strings = DocumentMetadata.Matcher(words: w)
                let expected = strings.matches(m)
                let answer = encoded.withUnsafeBytes { bytes.matches(encoded: $0) }
                if let answer { XCTAssertEqual(answer, expected, "\(w) in \(m.title)") }
                if w.allSatisfy({ $0.utf8.allSatisfy { $0 < 0x80 } }) && m.title.utf8.allSatisfy({ $0 < 0x80 }) {
                    XCTAssertNotNil(answer, "ASCII needs no decoding: \(w) in \(m.title)")
                }
            }
        }
        // The older JSON form, and malformed values, are left to `decode`.
        var matcher = DocumentMetadata.Matcher(words: ["a"])
        let json = Array(#"{"title":"a","fileName":"b","tags":[]}"#.utf8)
        XCTAssertNil(json.withUnsafeBytes { matcher.matches(encoded: $0) })
        var truncated = metas[0].encoded()
        truncated.removeLast()
        XCTAssertNil(truncated.withUnsafeBytes { matcher.matches(encoded: $0) })
        XCTAssertNil([UInt8]([0x01, 0, 0, 0, 0]).withUnsafeBytes { matcher.matches(encoded: $0) }, "an empty title is malformed")
    }
}
