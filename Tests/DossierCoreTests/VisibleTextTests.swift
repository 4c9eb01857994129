import DossierCrypto
import Foundation
import XCTest

@_spi(Benchmark) @testable import DossierCore

/// The one rule for showing outside text (`VisibleText`): what it escapes, what it leaves
/// alone, that an escaped text reads back to exactly the original, and that the byte form
/// `list` uses says what the String form says.
final class VisibleTextTests: XCTestCase {
    /// The scalars the rule promises to escape, written out here rather than taken from the code.
    private static func promisedEscaped(_ v: UInt32) -> Bool {
        v < 0x20 || v == 0x5c || (0x7f...0x9f).contains(v) || [0x200e, 0x200f, 0x2028, 0x2029].contains(v)
            || (0x202a...0x202e).contains(v) || (0x2066...0x2069).contains(v)
    }

    private func bytesForm(_ s: String) -> String {
        String(decoding: VisibleText.escaped(Array(s.utf8)), as: UTF8.self)
    }

    /// Reads the escapes back: `\\`, `\xNN`, `\u{NNNN}`; nil if a backslash starts anything else.
    private func unescape(_ s: String) -> String? {
        var out = String.UnicodeScalarView()
        var it = Array(s.unicodeScalars)[...]
        while let c = it.popFirst() {
            guard c == "\\" else { out.append(c); continue }
            switch it.popFirst() {
            case "\\": out.append("\\")
            case "x":
                guard it.count >= 2, let v = UInt32(String(String.UnicodeScalarView(it.prefix(2))), radix: 16) else { return nil }
                it = it.dropFirst(2)
                out.append(Unicode.Scalar(v)!)
            case "u":
                guard it.first == "{", let close = it.firstIndex(of: "}"),
                      let v = UInt32(String(String.UnicodeScalarView(it[it.startIndex + 1..<close])), radix: 16),
                      let scalar = Unicode.Scalar(v) else { return nil }
                it = it[(close + 1)...]
                out.append(scalar)
            default: return nil
            }
        }
        return String(out)
    }

    func testEveryPromisedClassIsShownByItsEscape() {
        let cases: [(String, String)] = [
            ("\u{1b}]0;owned\u{07}", "\\x1b]0;owned\\x07"),                          // OSC 0: window title
            ("\u{1b}]8;;https://x.example/\u{1b}\\link\u{1b}]8;;\u{1b}\\", "\\x1b]8;;https://x.example/\\x1b\\\\link\\x1b]8;;\\x1b\\\\"),   // OSC 8
            ("\u{1b}[2J", "\\x1b[2J"), ("\u{1b}[1A\u{1b}[K", "\\x1b[1A\\x1b[K"),
            ("a\rb", "a\\x0db"), ("a\nb", "a\\x0ab"), ("a\tb", "a\\x09b"), ("\u{0}", "\\x00"), ("\u{7f}", "\\x7f"),
            ("\u{80}", "\\x80"), ("\u{85}", "\\x85"), ("\u{9b}2J", "\\x9b2J"), ("\u{9f}", "\\x9f"),
            ("\u{200e}", "\\u{200e}"), ("\u{200f}", "\\u{200f}"), ("\u{202a}", "\\u{202a}"), ("\u{202b}", "\\u{202b}"),
            ("\u{202c}", "\\u{202c}"), ("\u{202d}", "\\u{202d}"), ("exe.\u{202e}fdp", "exe.\\u{202e}fdp"),
            ("\u{2066}", "\\u{2066}"), ("\u{2067}", "\\u{2067}"), ("\u{2068}", "\\u{2068}"), ("\u{2069}", "\\u{2069}"),
            ("\u{2028}", "\\u{2028}"), ("\u{2029}", "\\u{2029}"),
            ("C:\\x1b", "C:\\\\x1b"), ("\\", "\\\\"),
        ]
        for (input, shown) in cases {
            XCTAssertEqual(VisibleText.escaped(input), shown, "String form of \(Array(input.unicodeScalars))")
            XCTAssertEqual(bytesForm(input), shown, "byte form of \(Array(input.unicodeScalars))")
        }
    }

    func testPlainTextInEveryScriptIsUnchanged() {
        let plain = [
            "Expert report on prison conditions", "تقرير الخبير عن ظروف السجون", "关于监狱条件的专家报告", "Доклад эксперта о тюрьмах",
            "Rapport d’expertise — conditions de détention", "Ñandú, Ångström, Łódź, Straße", "דו\"ח מומחה", "Witness 👩🏽‍⚖️ 🇺🇿 ✅",
            "e\u{301} combining, \u{a0}no-break, © ® … – € ‰ ⁠ ⁪ ⁥", "tab-free; quotes \" ' and /slashes/", "",
        ]
        for text in plain {
            XCTAssertEqual(VisibleText.escaped(text), text)
            XCTAssertEqual(bytesForm(text), text)
        }
    }

    /// Every Unicode scalar alone, and between letters, in both forms: escaped exactly when
    /// the rule says, and read back to itself.
    func testEachScalarIsEscapedExactlyWhenPromised() {
        var checked = 0
        var v: UInt32 = 0
        while v <= 0x10ffff {
            defer { v += v < 0x3000 ? 1 : 251 }
            guard let scalar = Unicode.Scalar(v) else { continue }
            let alone = String(scalar), between = "a\(scalar)b"
            let shown = VisibleText.escaped(alone)
            XCTAssertEqual(shown != alone, Self.promisedEscaped(v), String(format: "U+%04X", v))
            XCTAssertEqual(bytesForm(alone), shown, String(format: "U+%04X alone", v))
            XCTAssertEqual(bytesForm(between), VisibleText.escaped(between), String(format: "U+%04X between", v))
            XCTAssertEqual(unescape(shown), alone, String(format: "U+%04X", v))
            checked += 1
        }
        XCTAssertGreaterThan(checked, 16_000)
    }

    /// Random strings built from the scalars near every boundary of the rule (and their UTF-8
    /// neighbours): both forms agree, nothing escaped is left raw, and the escapes read back.
    func testBothFormsAgreeOnRandomText() {
        var pool: [UInt32] = Array(0x00...0x21) + [0x41, 0x5b, 0x5c, 0x5d, 0x78, 0x75, 0x7b, 0x7d, 0x7e, 0x7f]
        pool += Array(0x80...0xa1) + [0xc2, 0xe2, 0xff, 0x100, 0x627, 0x4e2d, 0x416, 0x1f600, 0xfeff, 0xfffd, 0x10ffff]
        pool += Array(0x2000...0x2030) + Array(0x2060...0x206f) + [0x1e2, 0x802, 0x80e, 0xa8e, 0xe2e]
        var random = SplitMix(seed: 0x5eed)
        for _ in 0..<5000 {
            let length = Int(random.next() % 24)
            let scalars = (0..<length).map { _ in Unicode.Scalar(pool[Int(random.next() % UInt64(pool.count))])! }
            let text = String(String.UnicodeScalarView(scalars))
            let shown = VisibleText.escaped(text)
            XCTAssertEqual(bytesForm(text), shown, "\(scalars)")
            XCTAssertFalse(shown.unicodeScalars.contains { $0 != "\\" && Self.promisedEscaped($0.value) }, "\(scalars)")
            XCTAssertFalse(shown.contains("\t") || shown.contains("\n") || shown.contains("\r"))
            XCTAssertEqual(unescape(shown), text, "\(scalars)")
        }
    }

    /// `list`'s lines to a pipe: one line per document and six fields whatever the titles hold.
    func testListingLinesKeepOneLineAndSixFieldsPerDocument() throws {
        let titles = ["Report\nfake-id\texpert-report\tEnglish\t1 B\t2026-01-01\tforged row", "a\tb\tc", "\u{1b}]0;owned\u{7}",
                      "\r\u{1b}[1A\u{1b}[K", "\u{85}\u{9b}2J", "exe.\u{202e}fdp", "back\\slash", "تقرير", "plain"]
        let v = try makeVault()
        defer { v.folder.remove() }
        try v.session.documents.recordSyntheticDocuments(count: titles.count) { i in
            (.expertReport, "en", UInt64(i), DocumentMetadata(title: titles[i], fileName: "f\(i)\n.pdf", tags: ["t\u{1b}"],
                                                            jurisdiction: nil, caseReference: nil))
        }
        var sink = DataSink()
        for part in try v.session.documents.listLines(DocumentFilter()) { try part.write(to: &sink) }
        let text = String(decoding: sink.data, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        XCTAssertEqual(lines.count, titles.count, text)
        XCTAssertFalse(sink.data.contains(0x1b) || sink.data.contains(0x0d) || sink.data.contains(0x07), text)
        for (line, title) in zip(lines, titles) {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            XCTAssertEqual(fields.count, 6, String(line))
            XCTAssertEqual(fields.last.map(String.init), VisibleText.escaped(title))
            XCTAssertEqual(fields.last.flatMap { unescape(String($0)) }, title)
        }
    }
}

/// A small seeded generator, so that a failure can be run again.
private struct SplitMix {
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
