@testable import DossierCore
import XCTest

/// Search folding (issue 19, part 2): case, diacritics and width ignored in the six UN
/// languages' scripts, one rule (`SearchFolding`, docs/staff-guide.md "How search compares text").
final class SearchFoldingTests: XCTestCase {
    private func fold(_ s: String) -> String { SearchFolding.fold(s) }

    func testTheIssuesExamplesFold() {
        let pairs: [(String, String)] = [
            // French, Spanish, English: case and accents.
            ("Garanties diplomatiques : Réfutation", "garanties diplomatiques : refutation"),
            ("ÉLÈVE Ça Œuvre", "eleve ca œuvre"),
            ("Año de la Decisión, PEÑA", "ano de la decision, pena"),
            ("Prison CONDITIONS", "prison conditions"),
            // Russian: case, ё and е, й folds to и (a diacritic too).
            ("ПРОТОКОЛ допроса", "протокол допроса"),
            ("Ёлка и ёж", "елка и еж"),
            ("Йошкар-Ола", "иошкар-ола"),
            // Arabic: harakat, superscript alef and tatweel dropped, alef forms made ا.
            ("مُحَاكَمَةٌ", "محاكمة"),
            ("هٰذا", "هذا"),
            ("عـــدل", "عدل"),
            ("أحمد إبراهيم آمن ٱلله", "احمد ابراهيم امن الله"),
            ("ﻻ", "لا"),   // a presentation form (lam-alef ligature) is its letters
            // Width: full-width ASCII, half-width katakana (its voiced mark too), ideographic space.
            ("ＡＢＣ１２３", "abc123"),
            ("ｶﾀｶﾅ", "カタカナ"),
            ("ｶﾞ", "カ"), ("ガ", "カ"),
            // Chinese: unchanged except width.
            ("中华人民共和国外交部", "中华人民共和国外交部"),
            ("外交保证，驳斥（草稿）", "外交保证,驳斥(草稿)"),
            ("报告\u{3000}第一", "报告 第一"),
        ]
        for (text, folded) in pairs {
            XCTAssertEqual(fold(text), folded, text)
            XCTAssertEqual(fold(folded), folded, "already folded: \(folded)")
        }
        // Malformed UTF-8 in the matcher's bytes folds as U+FFFD, as String(decoding:) reads it.
        var folds = ScalarFolds()
        for bytes: [UInt8] in [[0x41, 0xff, 0x42], [0xc3], [0xe2, 0x82], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80]] {
            XCTAssertEqual(bytes.withUnsafeBufferPointer { folds.fold($0) }.filter { $0 != 0xef && $0 != 0xbf && $0 != 0xbd },
                           Array(fold(String(decoding: bytes, as: UTF8.self)).utf8).filter { $0 != 0xef && $0 != 0xbf && $0 != 0xbd }, "\(bytes)")
        }
        // Composed and decomposed forms fold alike.
        XCTAssertEqual(fold("e\u{301}"), fold("\u{e9}"))
        XCTAssertEqual(fold("\u{415}\u{308}"), fold("Ё"))
        XCTAssertEqual(fold("\u{627}\u{654}"), fold("أ"))
    }

    /// A haystack folded from text that is not ASCII is zeroed by `wipe` too.
    func testTheFoldedHaystackIsWiped() {
        var matcher = DocumentMetadata.Matcher(words: ["refutation"])
        let meta = DocumentMetadata(title: "Réfutation secrète", fileName: "протокол.pdf")
        XCTAssertEqual(meta.encoded().withUnsafeBytes { matcher.matches(encoded: $0) }, true)
        XCTAssertTrue(matcher.haystack.contains(0x73))
        matcher.wipe()
        XCTAssertTrue(matcher.haystack.allSatisfy { $0 == 0 })
    }

    /// The rule's Arabic marks are all dropped, whatever their combining class.
    func testEveryArabicMarkOfTheRuleIsDropped() {
        for v in Array(0x064b...0x065f) + [0x0670, 0x0640] {
            let s = Unicode.Scalar(UInt32(v))!
            XCTAssertEqual(SearchFolding.fold(s), [], String(v, radix: 16))
            XCTAssertEqual(fold("ب" + String(s) + "ت"), "بت", String(v, radix: 16))
        }
        // Letters that are not marks stay.
        XCTAssertEqual(fold("ة ى ي ه"), "ة ى ي ه", "ta marbuta and alef maksura are not folded")
    }

    /// ASCII folds by lowering A–Z alone: the matcher's shortcut gives the rule's answer.
    func testASCIIFoldsByLoweringAlone() {
        for v in 0..<0x80 {
            let lowered = v >= 0x41 && v <= 0x5a ? v | 0x20 : v
            XCTAssertEqual(SearchFolding.fold(Unicode.Scalar(UInt8(v))).map(\.value), [UInt32(lowered)], "U+\(String(v, radix: 16))")
        }
    }

    /// Folding a folded scalar changes nothing, for every scalar of the planes that hold
    /// characters (0–3 and 14; the six scripts, width forms and every mark the rule drops are
    /// in plane 0), and the cache that the matcher uses gives the same bytes as the rule.
    func testFoldingIsIdempotentForEveryScalar() {
        var folds = ScalarFolds()
        var bad: [String] = []
        var longest = 0.0
        for v in Array(UInt32(0)..<0x40000) + Array(0xe0000..<0xe1000) {
            guard let c = Unicode.Scalar(v) else { continue }
            let once = SearchFolding.fold(c)
            let twice = once.flatMap(SearchFolding.fold)
            if once != twice { bad.append(String(v, radix: 16)) }
            var text = String(c)
            let bytes = text.withUTF8 { folds.fold($0) }
            if bytes != Array(String(String.UnicodeScalarView(once)).utf8) { bad.append("cache " + String(v, radix: 16)) }
            if bytes.count > ScalarFolds.maximumGrowth * text.utf8.count { bad.append("growth " + String(v, radix: 16)) }
            longest = max(longest, Double(bytes.count) / Double(text.utf8.count))
        }
        XCTAssertEqual(bad, [], "scalars whose folded form folds again differently, or is longer than the matcher makes room for")
        XCTAssertEqual(longest, 11, "U+FDFA's folded form is the longest, 11 times its UTF-8")
    }

    /// Random strings drawn from the six scripts (with their marks, width forms and
    /// punctuation): folding is idempotent, and a query finds what its folded form finds.
    func testPropertiesOverRandomStrings() {
        var rng = SplitMix(seed: 19)
        let pieces: [String] = [
            "a", "B", "z", "É", "é", "e\u{301}", "ç", "Ñ", "ñ", "ü", "Œ", "ß", " ", "-", ".", ":", "'", "1",
            "П", "р", "Ё", "ё", "е", "Й", "й", "Щ", "ъ", "\u{306}",
            "ا", "أ", "إ", "آ", "ٱ", "ب", "ة", "ى", "ي", "ل", "\u{64e}", "\u{64f}", "\u{650}", "\u{651}", "\u{652}", "\u{64b}", "\u{670}", "\u{640}", "ﻻ",
            "中", "华", "报", "告", "，", "（", "）", "\u{3000}", "Ａ", "ｚ", "１", "ｶ", "ﾞ", "ガ", "𠀋",
        ]
        func random(_ n: Int) -> String { (0..<n).map { _ in pieces[Int(rng.next() % UInt64(pieces.count))] }.joined() }
        let metas = (0..<40).map { _ in DocumentMetadata(title: random(12) + "x", fileName: random(5), tags: [random(3)], jurisdiction: random(4), caseReference: nil) }
        for _ in 0..<2000 {
            let s = random(Int(rng.next() % 16))
            XCTAssertEqual(fold(fold(s)), fold(s), s.unicodeScalars.map { String($0.value, radix: 16) }.joined(separator: " "))
        }
        for i in 0..<300 {
            // Queries cut from the titles (so that some match), and random ones.
            let m = metas[i % metas.count]
            let query = i % 2 == 0 ? String(m.title.dropFirst(i % 5).prefix(3 + i % 4)) : random(2)
            var given = DocumentMetadata.Matcher(words: [query]), folded = DocumentMetadata.Matcher(words: [fold(query)])
            XCTAssertEqual(given.words, folded.words)
            for m in metas {
                let expected = referenceMatch(query, m)
                XCTAssertEqual(given.matches(m), expected, "\(query) in \(m.title)")
                XCTAssertEqual(folded.matches(m), expected)
                let encoded = m.encoded()
                XCTAssertEqual(encoded.withUnsafeBytes { given.matches(encoded: $0) }, expected, "binary form: \(query) in \(m.title)")
            }
        }
    }

    /// The answer by the rule, on Strings: every folded word, split at spaces, occurs in the
    /// folded fields joined by newlines (compared as scalars, as the matcher compares bytes).
    private func referenceMatch(_ query: String, _ m: DocumentMetadata) -> Bool {
        let text = Array(fold(([m.title, m.fileName, m.jurisdiction ?? "", m.caseReference ?? ""] + m.tags).joined(separator: "\n")).unicodeScalars)
        return fold(query).unicodeScalars.split(separator: " ").allSatisfy { word in
            let w = Array(word)
            return text.count >= w.count && (0...(text.count - w.count)).contains { Array(text[$0..<$0 + w.count]) == w }
        }
    }

    /// End to end through the library: documents deposited with titles in the six languages
    /// are found by unaccented, differently cased or differently wide queries, on one core and on two.
    func testDepositedTitlesInSixScriptsAreFound() throws {
        let v = try makeVault()
        defer { v.folder.remove() }
        var ids: [String: String] = [:]
        let titles: [(String, String)] = [
            ("fr", "Garanties diplomatiques : Réfutation"), ("ru", "протокол допроса свидетеля"), ("ru", "Отчёт о тюрьме"),
            ("ar", "مُحَاكَمَةٌ عـــادلة في الإسكندرية"), ("ar", "أدلة إضافية"), ("zh-Hans", "外交保证（草稿）"),
            ("es", "Año de la decisión"), ("en", "Prison conditions in Tashkent"), ("ja", "ｶﾀｶﾅ 報告"),
        ]
        for (i, (lang, title)) in titles.enumerated() {
            let path = v.folder.file("f\(i).txt")
            try writeFile(path, "content \(i)")
            ids[title] = try XCTUnwrap(try v.session.documents.deposit(depositRequest([path], title: title, language: lang)).first).id
        }
        let cases: [([String], [String])] = [
            (["refutation"], ["Garanties diplomatiques : Réfutation"]),
            (["RÉFUTATION"], ["Garanties diplomatiques : Réfutation"]),
            (["ПРОТОКОЛ"], ["протокол допроса свидетеля"]),
            (["отчет"], ["Отчёт о тюрьме"]), (["ОТЧЁТ"], ["Отчёт о тюрьме"]),
            (["محاكمة", "عادلة"], ["مُحَاكَمَةٌ عـــادلة في الإسكندرية"]),
            (["الاسكندرية"], ["مُحَاكَمَةٌ عـــادلة في الإسكندرية"]),
            (["ادلة", "اضافية"], ["أدلة إضافية"]), (["إضافيّة"], ["أدلة إضافية"]),
            (["ادلة"], ["أدلة إضافية", "مُحَاكَمَةٌ عـــادلة في الإسكندرية"]),   // inside عادلة too
            (["外交保证(草稿)"], ["外交保证（草稿）"]), (["草稿"], ["外交保证（草稿）"]),
            (["ano decision"], ["Año de la decisión"]), (["AÑO"], ["Año de la decisión"]),
            (["ＴＡＳＨＫＥＮＴ"], ["Prison conditions in Tashkent"]),
            (["カタカナ"], ["ｶﾀｶﾅ 報告"]),
            (["refutation", "протокол"], []),
        ]
        for n in [1, 2] {
            for (words, expected) in cases {
                XCTAssertEqual(Set(try v.session.documents.search(words, connections: n).map(\.id)), Set(expected.map { ids[$0]! }), "\(words) on \(n)")
                XCTAssertEqual(Set(try v.session.documents.search(words.map(SearchFolding.fold), connections: n).map(\.id)),
                               Set(expected.map { ids[$0]! }), "folded \(words) on \(n)")
            }
        }
        let error = assertDossierError("invalidArgument") { try v.session.documents.search(["\u{64e}\u{640}", " "]) }
        XCTAssertNotNil(error?.hint)
    }
}

/// A small seeded generator (SplitMix64), so that a failing case can be run again.
private struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
