import DossierCore
import Foundation
import XCTest

/// BCP 47 tags as `deposit --lang` and `list --lang` take them: the RFC 5646 grammar, any case
/// in, canonical case out (Vectors/language/tags.txt).
final class LanguageTests: XCTestCase {
    private struct Case {
        let line: Int
        let input: String
        /// nil: the tag must be refused.
        let canonical: String?
    }

    private func cases() throws -> [Case] {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Vectors", withExtension: nil)).appendingPathComponent("language/tags.txt")
        let text = try String(contentsOf: url, encoding: .utf8)
        var out: [Case] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty && !line.hasPrefix("#") {
            let fields = line.split(separator: " ").map(String.init)
            let input = fields.count > 1 && fields[1] == "<empty>" ? "" : (fields.count > 1 ? fields[1] : "")
            switch (fields.first, fields.count) {
            case ("valid", 3): out.append(Case(line: n + 1, input: input, canonical: fields[2]))
            case ("invalid", 2): out.append(Case(line: n + 1, input: input, canonical: nil))
            default: XCTFail("tags.txt:\(n + 1): not a case: \(line)")
            }
        }
        return out
    }

    func testEveryVectorIsAcceptedInCanonicalCaseOrRefused() throws {
        let all = try cases()
        XCTAssertGreaterThan(all.count, 60)
        for c in all {
            if let expected = c.canonical {
                XCTAssertEqual(try Language.canonical(c.input), expected, "tags.txt:\(c.line) \(c.input)")
            } else {
                XCTAssertThrowsError(try Language.canonical(c.input), "tags.txt:\(c.line) \(c.input) must be refused") { error in
                    guard case .invalidLanguageTag(c.input)? = error as? DossierError else {
                        return XCTFail("tags.txt:\(c.line): wrong error \(error)")
                    }
                }
            }
        }
    }

    func testACanonicalTagIsItsOwnCanonicalForm() throws {
        for c in try cases() {
            guard let canonical = c.canonical else { continue }
            XCTAssertEqual(try Language.canonical(canonical), canonical, "tags.txt:\(c.line)")
            XCTAssertEqual(try Language.canonical(canonical.uppercased()), canonical, "tags.txt:\(c.line)")
        }
    }

    func testTagsLongerThanTheLimitAreRefused() throws {
        let variants = (0..<50).map { String(format: "%05d", $0) }
        let long = "en-" + variants.joined(separator: "-")
        XCTAssertGreaterThan(long.utf8.count, Language.maximumLength)
        XCTAssertThrowsError(try Language.canonical(long))
        let fits = "en-" + variants.prefix(40).joined(separator: "-")
        XCTAssertLessThanOrEqual(fits.utf8.count, Language.maximumLength)
        XCTAssertEqual(try Language.canonical(fits), fits)
    }
}
