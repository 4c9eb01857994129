import Foundation
import XCTest

/// The tables of counsel's messages (Sources/dossier/Resources/<language>.lproj/Localizable.strings,
/// docs/translations.md), read as Foundation reads them.
enum LocalizationTables {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let languages = ["ar", "en", "es", "fr", "ru", "zh-Hans"]

    static func load(_ language: String) throws -> [String: String] {
        let url = root.appendingPathComponent("Sources/dossier/Resources/\(language).lproj/Localizable.strings")
        let data = try Data(contentsOf: url)
        guard let table = try PropertyListSerialization.propertyList(from: data, format: nil) as? [String: String] else {
            throw NSError(domain: "LocalizationTables", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(url.path) is not a table of strings"])
        }
        return table
    }

    /// The format specifiers of a template, in argument order: `%@` is the next argument,
    /// `%2$@` the second; `%%` is no specifier.
    static func specifiers(_ template: String) -> [String] {
        let regex = try! NSRegularExpression(pattern: "%%|%(?:([0-9]+)\\$)?([-+ #0-9.]*[a-zA-Z@])")
        let ns = template as NSString
        var next = 0, out: [Int: String] = [:], bare: [String] = []
        for m in regex.matches(in: template, range: NSRange(location: 0, length: ns.length)) where ns.substring(with: m.range) != "%%" {
            let type = ns.substring(with: m.range(at: 2))
            if m.range(at: 1).location != NSNotFound, let position = Int(ns.substring(with: m.range(at: 1))) {
                out[position] = type
            } else {
                next += 1
                out[next] = type
                bare.append(type)
            }
        }
        return out.keys.sorted().map { "\($0):\(out[$0]!)" }
    }

    /// The text of a template between its specifiers.
    static func fixedPieces(_ template: String) -> [String] {
        template.components(separatedBy: try! NSRegularExpression(pattern: "%(?:[0-9]+\\$)?@"))
    }

    /// The longest stretch of fixed text, trimmed: what an output in that language must show.
    static func longestFixedPiece(_ template: String) -> String? {
        fixedPieces(template).map { $0.trimmingCharacters(in: .whitespaces) }.max { $0.count < $1.count }.flatMap { $0.isEmpty ? nil : $0 }
    }

    static func squeezed(_ text: String) -> String { text.split(whereSeparator: \.isWhitespace).joined(separator: " ") }

    /// No sentence of the English table (a fixed piece of two words or more) in `output`.
    static func assertNoEnglish(_ output: String, english: [String: String], _ context: String, file: StaticString = #filePath, line: UInt = #line) {
        for (key, template) in english {
            for piece in fixedPieces(template) {
                let words = piece.split { !$0.isLetter }.filter { $0.count >= 2 && $0.allSatisfy(\.isASCII) }
                guard words.count >= 2 else { continue }
                XCTAssertFalse(output.contains(piece), "English '\(piece)' (\(key)) left in: \(context)", file: file, line: line)
            }
        }
    }
}

extension String {
    fileprivate func components(separatedBy regex: NSRegularExpression) -> [String] {
        let ns = self as NSString
        var out: [String] = [], last = 0
        for m in regex.matches(in: self, range: NSRange(location: 0, length: ns.length)) {
            out.append(ns.substring(with: NSRange(location: last, length: m.range.location - last)))
            last = m.range.location + m.range.length
        }
        out.append(ns.substring(from: last))
        return out
    }
}

final class LocalizationTableTests: XCTestCase {
    func testEveryLanguageHasEveryKeyOfEnglishAndNoOtherWithTheSameSpecifiers() throws {
        let english = try LocalizationTables.load("en")
        XCTAssertGreaterThan(english.count, 100)
        for language in LocalizationTables.languages {
            let table = try LocalizationTables.load(language)
            XCTAssertEqual(Set(table.keys).subtracting(english.keys).sorted(), [], "\(language) has keys English lacks")
            XCTAssertEqual(Set(english.keys).subtracting(table.keys).sorted(), [], "\(language) lacks keys")
            for (key, value) in table {
                XCTAssertFalse(value.trimmingCharacters(in: .whitespaces).isEmpty && key != "list.separator", "\(language): \(key) is empty")
                XCTAssertEqual(LocalizationTables.specifiers(value), LocalizationTables.specifiers(english[key] ?? ""),
                               "\(language): \(key) takes other arguments than in English: \(value)")
                XCTAssertTrue(LocalizationTables.specifiers(value).allSatisfy { $0.hasSuffix(":@") }, "\(language): \(key): only %@ is used")
                // Controls and bidirectional marks are the program's to add (isolates), never a table's.
                XCTAssertFalse(value.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || (0x200e...0x200f).contains($0.value) || (0x202a...0x202e).contains($0.value) || (0x2066...0x2069).contains($0.value) },
                               "\(language): \(key) holds a control character")
            }
        }
    }

    /// Every key the code names (a string literal that looks like a key of the tables) is in
    /// the English table, so that no message shows its key instead of its text.
    func testEveryKeyTheCodeUsesIsInTheEnglishTable() throws {
        let english = try LocalizationTables.load("en")
        let sources = LocalizationTables.root.appendingPathComponent("Sources/dossier")
        let regex = try NSRegularExpression(pattern: "\"((?:help|usage|identity|trust|inspect|open|request|prompt|error|hint|reason|table|list|unit)\\.[A-Za-z0-9.]+)\"")
        var used = Set<String>()
        let files = FileManager.default.enumerator(atPath: sources.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
        XCTAssertFalse(files.isEmpty)
        for file in files {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            let ns = text as NSString
            for m in regex.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
                used.insert(ns.substring(with: m.range(at: 1)))
            }
        }
        XCTAssertGreaterThan(used.count, 80)
        XCTAssertEqual(used.subtracting(english.keys).sorted(), [], "keys used in Sources/dossier but missing from en.lproj")
        // And the other way: a key no code names is a reason template (matched, not named) or dead.
        let unused = Set(english.keys).subtracting(used).filter { !$0.hasPrefix("reason.") }
        XCTAssertEqual(unused.sorted(), [], "keys in en.lproj that no code uses")
    }
}
