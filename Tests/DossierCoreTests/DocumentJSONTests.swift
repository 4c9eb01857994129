@testable import DossierCore
import XCTest

/// `list --json` writes its JSON without `JSONEncoder` (issue 19, part 5): the bytes must be
/// the encoder's, byte for byte, whatever the titles hold.
final class DocumentJSONTests: XCTestCase {
    /// What `JSONOutput` prints for a listing (Sources/dossier/Output/JSONOutput.swift).
    private func encoded(_ docs: [Document]) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(docs.map(DocumentJSON.init))) + [0x0a]
    }

    private func document(_ i: Int, _ meta: DocumentMetadata?, language: String = "fr", size: UInt64 = 1234,
                          removed: Bool = false) -> Document {
        Document(id: "doc-\(i)", kind: DocumentKind.allCases[i % DocumentKind.allCases.count], language: language, size: size,
                 depositedAt: "2026-12-05T04:20:45.611Z", depositedBy: "BEBU-6W5F-RAOQ-Q36Y", metadata: meta,
                 removedAt: removed ? "2026-12-06T00:00:00.000Z" : nil, removedBy: removed ? "BEBU-6W5F-RAOQ-Q36Y" : nil)
    }

    private func assertSameBytes(_ docs: [Document], _ message: String = "", line: UInt = #line) throws {
        let mine = DocumentJSON.array(docs), theirs = try encoded(docs)
        if mine != theirs {
            let at = (0..<min(mine.count, theirs.count)).first { mine[$0] != theirs[$0] } ?? min(mine.count, theirs.count)
            XCTFail("\(message): differs at byte \(at): \(String(decoding: mine[max(0, at - 40)..<min(mine.count, at + 40)], as: UTF8.self).debugDescription) "
                    + "against \(String(decoding: theirs[max(0, at - 40)..<min(theirs.count, at + 40)], as: UTF8.self).debugDescription)", line: line)
        }
    }

    func testHostileTitlesAreWrittenAsTheEncoderWritesThem() throws {
        var everyASCII = ""
        for v in 0..<0x80 { everyASCII.unicodeScalars.append(Unicode.Scalar(UInt8(v))) }
        let hostile = [
            everyASCII,
            #"She said "no" \ then \\"quoted\\" \u0041 \n"#,
            "line\nbreak\ttab\r\u{8}\u{c}\u{0}\u{1b}[31mred\u{7f}",
            "bidi \u{202e}txt.exe\u{202c} \u{200f}\u{2066}\u{2069} \u{61c}",
            "non-BMP 😀 𝄞 𠀋 \u{10ffff} \u{e0041}",
            "separators \u{2028}\u{2029}\u{85}\u{a0}\u{feff}\u{fffe}\u{ffff}",
            "slashes a/b </script> //",
            "Réfutation — протокол — مُحَاكَمَة — 外交保证 — ＡＢＣ",
            "e\u{301} and \u{e9}",
        ]
        var docs: [Document] = []
        for (i, t) in hostile.enumerated() {
            docs.append(document(i, DocumentMetadata(title: t, fileName: t + ".pdf", tags: [t, "", "x/y"], jurisdiction: t, caseReference: t),
                                 language: ["fr", "ar", "zh-Hans", "und", "pt-BR", "x-private"][i % 6]))
        }
        docs.append(document(100, DocumentMetadata(title: "no tags, no case", fileName: "", tags: [])))
        docs.append(document(101, nil, size: 0, removed: true))
        docs.append(document(102, DocumentMetadata(title: "largest size", fileName: "f"), size: .max))
        try assertSameBytes(docs, "hostile titles")
        try assertSameBytes([], "an empty listing")
        for d in docs { try assertSameBytes([d], d.metadata?.title ?? "removed") }
    }

    /// Random titles, tags and fields drawn from escapes, controls and many scripts.
    /// Written in pieces on several cores, the pieces joined are the encoder's bytes, however
    /// the documents are cut (one document per piece included).
    func testPiecesWrittenOnSeveralCoresJoinToTheEncodersBytes() throws {
        let docs = (0..<7).map { i in document(i, DocumentMetadata(title: "title \(i) \"q\" é", fileName: "f\(i).pdf", tags: i % 2 == 0 ? ["a", "b"] : [],
                                                                   jurisdiction: nil, caseReference: i == 3 ? "EXT-3" : nil), removed: i == 5) }
        let theirs = try encoded(docs)
        for pieces in 1...9 {
            let parts = DocumentJSON.arrayParts(docs, pieces: pieces)
            XCTAssertEqual(parts.count, min(pieces, docs.count))
            XCTAssertEqual(parts.flatMap { $0 }, theirs, "\(pieces) pieces")
        }
        XCTAssertEqual(DocumentJSON.arrayParts([], pieces: 3).flatMap { $0 }, try encoded([]))
    }

    func testRandomDocumentsAreWrittenAsTheEncoderWritesThem() throws {
        var state: UInt64 = 0x5eed
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(truncatingIfNeeded: state >> 33)
        }
        let pool: [String] = ["a", "Z", " ", "\"", "\\", "/", "\u{0}", "\u{1f}", "\u{7f}", "\n", "\t", "é", "ё", "ا", "\u{64e}", "中", "😀",
                              "\u{202e}", "\u{2028}", "\u{fffd}", "e\u{301}", "{", "}", "[", "]", ":", ","]
        func text(_ n: Int) -> String { (0..<n).map { _ in pool[next() % pool.count] }.joined() }
        let docs = (0..<300).map { i in
            document(i, next() % 10 == 0 ? nil : DocumentMetadata(title: text(1 + next() % 20), fileName: text(next() % 6),
                                                                  tags: (0..<(next() % 3)).map { _ in text(next() % 5) },
                                                                  jurisdiction: next() % 2 == 0 ? nil : text(3),
                                                                  caseReference: next() % 2 == 0 ? nil : text(4)),
                     language: ["en", "ru", "ar", "es", "zh-Hans", "fr"][i % 6], size: UInt64(next()), removed: next() % 10 == 0)
        }
        try assertSameBytes(docs, "random documents")
    }
}
