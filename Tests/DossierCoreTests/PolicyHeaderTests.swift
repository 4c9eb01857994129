import DossierCore
import XCTest

/// Inputs the fuzzer found that made the TOML library abort: each must be a clear error.
final class PolicyHeaderTests: XCTestCase {
    private func line(of text: String) -> Int? {
        do {
            _ = try Policy.parse(text, source: "fuzz.toml")
            XCTFail("a malformed header was accepted: \(text.debugDescription)")
            return nil
        } catch let DossierError.policyInvalid(_, line, message) {
            XCTAssertTrue(message.contains("table header"), message)
            return line
        } catch {
            XCTFail("unexpected error \(error)")
            return nil
        }
    }

    func testMalformedHeadersAreRefusedWithTheirLine() {
        XCTAssertEqual(line(of: "[\n"), 1)
        XCTAssertEqual(line(of: "version = 1\n[\nx = 1\n"), 2)
        XCTAssertEqual(line(of: "version = 1\n\n[kinds.\n"), 3)
        XCTAssertEqual(line(of: "[kinds..expert-report]\n"), 1)
        XCTAssertEqual(line(of: "[[kinds]]\n"), 1)
        XCTAssertEqual(line(of: "[ ]\n"), 1)
    }

    func testWellFormedHeadersStillParse() throws {
        let text = DefaultPolicy.text.replacingOccurrences(of: "[kinds.expert-report]", with: "[kinds.expert-report]   # the reports")
        XCTAssertEqual(try Policy.parse(text, source: "default").rules.count, DocumentKind.allCases.count)
    }
}
