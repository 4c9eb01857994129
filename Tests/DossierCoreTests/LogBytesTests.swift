import DossierCrypto
import Foundation
import XCTest
@testable import DossierCore

/// The byte-level readers behind `audit verify` agree with the Foundation-based ones they
/// replace: timestamps with `Timestamp.parse`, base64 with `base64EncodedString`.
final class LogBytesTests: XCTestCase {
    func testTimestampBytesAgreeWithTimestampParse() {
        var cases = ["2026-11-29T04:02:05.985Z", "2024-02-29T23:59:59.999Z", "2023-02-29T00:00:00.000Z", "2100-02-29T00:00:00.000Z",
                     "2000-02-29T00:00:00.000Z", "2026-04-31T00:00:00.000Z", "2026-12-31T24:00:00.000Z", "2026-12-31T23:60:00.000Z",
                     "2026-12-31T23:59:60.000Z", "2026-13-01T00:00:00.000Z", "2026-00-01T00:00:00.000Z", "2026-01-00T00:00:00.000Z",
                     "1969-12-31T23:59:59.999Z", "0001-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z", "2026-1-29T04:02:05.985Z",
                     "2026-11-29T04:02:05.985", "2026-11-29 04:02:05.985Z", "2026-11-29T04:02:05,985Z", "+026-11-29T04:02:05.985Z",
                     "2026-11-29T04:02:05.98aZ", ""]
        let random = DeterministicRandom(seed: "timestamps")
        for _ in 0..<2000 {
            let b = random.bytes(8)
            cases.append(String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", 1900 + Int(b[0]) % 300, Int(b[1]) % 14, Int(b[2]) % 33,
                                Int(b[3]) % 26, Int(b[4]) % 62, Int(b[5]) % 62, Int(b[6]) * 4))
        }
        for c in cases {
            let bytes = Array(c.utf8)
            XCTAssertEqual(bytes.withUnsafeBytes { TimestampBytes.isValid($0) }, Timestamp.parse(c) != nil, c)
        }
    }

    func testStrictBase64AcceptsExactlyTheCanonicalForm() {
        let random = DeterministicRandom(seed: "base64")
        for n in 0..<80 {
            let data = random.bytes(n)
            let text = Array(data.base64EncodedString().utf8)
            XCTAssertEqual(text.withUnsafeBytes { StrictBase64.decode($0) }, data, "length \(n)")
            // Every single-character change is refused unless it is the canonical form of other bytes.
            for i in text.indices {
                for c in ["A", "=", "/", "+", " ", "\n", "-"].map({ $0.utf8.first! }) where c != text[i] {
                    var t = text
                    t[i] = c
                    let strict = t.withUnsafeBytes { StrictBase64.decode($0) }
                    let canonical = Data(base64Encoded: Data(t)).map { $0.base64EncodedString() == String(decoding: t, as: UTF8.self) } ?? false
                    XCTAssertEqual(strict != nil, canonical, "\(String(decoding: t, as: UTF8.self))")
                }
            }
        }
    }
}
