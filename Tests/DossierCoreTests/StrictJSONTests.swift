import DossierCore
import Foundation
import XCTest

/// JSON from outside: one JSON text, no member named twice (RFC 8259 names compared after
/// their escapes are decoded).
final class StrictJSONTests: XCTestCase {
    func testWellFormedTextsWithoutRepeatedMembersAreAccepted() {
        for text in [#"{}"#, #"[]"#, #" {"a":1,"b":[1,2,{"a":2}],"c":{"a":3}} "#, #"{"a":"\u00e9","b":"\ud83d\ude00"}"#,
                     #"{"a":-0.5e+10,"b":true,"c":false,"d":null,"e":"\"\\\/\b\f\n\r\t"}"#, #""text""#, "12",
                     // Different names: RFC 8259 compares code points, so é and e + combining accent differ.
                     "{\"\u{e9}\":1,\"e\u{301}\":2}", #"{"a":1,"A":2}"#] {
            XCTAssertTrue(StrictJSON.isStrict(Data(text.utf8)), text)
        }
        XCTAssertEqual(StrictJSON.object(Data(#"{"a":1}"#.utf8))?["a"] as? Int, 1)
    }

    func testARepeatedMemberIsRefusedAtAnyDepthHoweverItIsWritten() {
        for text in [#"{"a":1,"a":1}"#, #"{"a":1,"a":2}"#, #"{"a":1,"\u0061":2}"#, #"{"a\/b":1,"a/b":2}"#,
                     #"[{"x":{"y":1,"y":2}}]"#, #"{"k":[{"a":1,"b":2,"a":3}]}"#, #"{"😀":1,"\ud83d\ude00":2}"#] {
            XCTAssertFalse(StrictJSON.isStrict(Data(text.utf8)), text)
            XCTAssertNil(StrictJSON.object(Data(text.utf8)), text)
        }
    }

    func testNamesFoundationTakesForOneAreNotHandedToIt() {
        // Foundation keys members by String, which compares canonically equivalent text equal:
        // K and U+212A KELVIN SIGN, é and e + U+0301. JSONSerialization would keep one of each,
        // JSONDecoder the other.
        struct K: Decodable { let K: Int }
        for text in [#"{"K":1,"\u212A":2}"#, "{\"K\":1,\"\u{212A}\":2}", "{\"\u{E9}\":1,\"e\u{301}\":2}"] {
            XCTAssertNil(StrictJSON.object(Data(text.utf8)), text)
        }
        XCTAssertNil(StrictJSON.decode(K.self, from: Data(#"{"K":1,"\u212A":2}"#.utf8)))
        XCTAssertEqual(StrictJSON.object(Data(#"{"K":1,"k":2}"#.utf8))?.count, 2, "names differing in case are two members")
    }

    func testMalformedTextIsRefused() {
        let deep = String(repeating: "[", count: StrictJSON.maximumDepth + 1) + String(repeating: "]", count: StrictJSON.maximumDepth + 1)
        let fits = String(repeating: "[", count: StrictJSON.maximumDepth) + String(repeating: "]", count: StrictJSON.maximumDepth)
        XCTAssertTrue(StrictJSON.isStrict(Data(fits.utf8)))
        for text in ["", " ", "{", #"{"a":1,}"#, #"{"a"}"#, #"{"a":01}"#, #"{"a":1}{"#, #"{"a":1} x"#, "[1,]", #"{'a':1}"#,
                     #"{"a":"\x"}"#, #"{"a":"\ud800"}"#, #"{"a":"\udc00"}"#, "{\"a\":\"\u{1}\"}", #"{"a":tru}"#, #"{"a":-}"#,
                     #"{"a":1.}"#, #"{"a":1e}"#, deep] {
            XCTAssertFalse(StrictJSON.isStrict(Data(text.utf8)), text)
        }
        XCTAssertFalse(StrictJSON.isStrict(Data([0x22, 0xff, 0x22])), "not UTF-8")
        XCTAssertFalse(StrictJSON.isStrict(Data([0xef, 0xbb, 0xbf] + Array("{}".utf8))), "a byte-order mark")
    }
}
