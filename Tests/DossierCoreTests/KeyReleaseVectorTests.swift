import DossierCrypto
import Foundation
import XCTest

@testable import DossierCore

/// The key-release request format against vectors made by an independent Python generator
/// (Vectors/key-release/generate.py, Ed25519 from the `cryptography` package).
final class KeyReleaseVectorTests: XCTestCase {
    /// The vector file as blocks of `name: value` lines.
    func blocks() throws -> [[String: String]] {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Vectors", withExtension: nil)).appendingPathComponent("key-release/requests.txt")
        let text = try String(contentsOf: url, encoding: .utf8)
        return text.components(separatedBy: "\n\n").map { block in
            var fields: [String: String] = [:]
            for line in block.split(separator: "\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                fields[String(line[..<colon])] = String(line[line.index(colon, offsetBy: 2)...])
            }
            return fields
        }.filter { !$0.isEmpty }
    }

    func testRequestsSignaturesAndReceiptsMatchTheVectors() throws {
        let cases = try blocks().filter { $0["case"] != nil }
        XCTAssertEqual(cases.count, 2)
        for v in cases {
            let name = v["case"]!
            let request = ReleaseRequest(packageID: v["package"]!, grantID: v["grant"]!, recipient: v["recipient"]!, time: v["time"]!, nonce: v["nonce"]!)
            let expected = try XCTUnwrap(Data(hex: v["request"]!))
            XCTAssertEqual(request.bytes, expected, name)
            XCTAssertEqual(ReleaseRequest.parse(expected), request, name)

            let signer = try SigningKeyPair(seed: SecureBytes(copying: try XCTUnwrap(Data(hex: v["signing-seed"]!))))
            XCTAssertEqual(signer.publicKey.hex, v["signing-public"], name)
            let signature = signer.sign(request.bytes)
            XCTAssertEqual(signature.hex, v["signature"], name)
            let signed = SignedReleaseRequest(request: request, signature: signature)
            XCTAssertTrue(signed.verifies(with: signer.publicKey), name)
            XCTAssertEqual(signed.receipt, v["receipt"], name)
            XCTAssertEqual(SignedReleaseRequest.parse(receipt: v["receipt"]!), signed, name)
            // The HTTP body carries the same request and signature.
            XCTAssertEqual(SignedReleaseRequest.parse(body: signed.body), signed, name)
        }
    }

    func testNonCanonicalRequestsAreRejected() throws {
        let rejects = try blocks().filter { $0["reject"] != nil }
        XCTAssertGreaterThanOrEqual(rejects.count, 10)
        for v in rejects {
            let data = try XCTUnwrap(Data(hex: v["reject"]!))
            XCTAssertNil(ReleaseRequest.parse(data), v["why"] ?? "?")
        }
    }

    func testEveryChangeToASignedRequestBreaksTheSignature() throws {
        let v = try XCTUnwrap(blocks().first { $0["case"] == "basic" })
        let text = try XCTUnwrap(Data(hex: v["request"]!))
        let signature = try XCTUnwrap(Data(hex: v["signature"]!))
        let key = try XCTUnwrap(Data(hex: v["signing-public"]!))
        XCTAssertTrue(Signature.verify(signature, of: text, publicKey: key))
        for i in 0..<text.count {
            var changed = text
            changed[i] ^= 0x01
            XCTAssertFalse(Signature.verify(signature, of: changed, publicKey: key), "byte \(i)")
        }
        for i in 0..<signature.count {
            var changed = signature
            changed[i] ^= 0x80
            XCTAssertFalse(Signature.verify(changed, of: text, publicKey: key), "signature byte \(i)")
        }
    }

    func testTheSplitKeyIsTheXorOfTheShares() throws {
        let v = try XCTUnwrap(blocks().first { $0["split-package-key"] != nil })
        let k = SecureBytes(copying: try XCTUnwrap(Data(hex: v["split-package-key"]!)))
        let share = SecureBytes(copying: try XCTUnwrap(Data(hex: v["split-vault-share"]!)))
        let stanza = SecureBytes.xor(k, share)
        XCTAssertEqual(stanza.unsafeCopyToData().hex, v["split-stanza-secret"])
        XCTAssertTrue(SecureBytes.xor(stanza, share).constantTimeEquals(k))
    }

    func testBodiesThatAreNotExactlyTheTwoMembersAreRejected() throws {
        let v = try XCTUnwrap(blocks().first { $0["case"] == "basic" })
        let text = String(decoding: try XCTUnwrap(Data(hex: v["request"]!)), as: UTF8.self)
        let sig = try XCTUnwrap(Data(hex: v["signature"]!)).base64EncodedString()
        func body(_ object: Any) -> Data { try! JSONSerialization.data(withJSONObject: object) }
        XCTAssertNotNil(SignedReleaseRequest.parse(body: body(["request": text, "signature": sig])))
        XCTAssertNil(SignedReleaseRequest.parse(body: body(["request": text])))
        XCTAssertNil(SignedReleaseRequest.parse(body: body(["request": text, "signature": sig, "x": 1])))
        XCTAssertNil(SignedReleaseRequest.parse(body: body(["request": text, "signature": String(sig.dropLast(4))])))
        XCTAssertNil(SignedReleaseRequest.parse(body: body(["request": text, "signature": 5])))
        XCTAssertNil(SignedReleaseRequest.parse(body: body([text, sig])))
        XCTAssertNil(SignedReleaseRequest.parse(body: Data(repeating: 0x20, count: KeyReleaseService.maximumBodyBytes + 1)))
    }

    func testBodiesThatRepeatAMemberAreRejected() throws {
        let v = try XCTUnwrap(blocks().first { $0["case"] == "basic" })
        let text = String(decoding: try XCTUnwrap(Data(hex: v["request"]!)), as: UTF8.self)
        let sig = try XCTUnwrap(Data(hex: v["signature"]!)).base64EncodedString()
        func quoted(_ s: String) -> String {
            String(decoding: try! JSONSerialization.data(withJSONObject: [s], options: [.fragmentsAllowed]), as: UTF8.self).dropFirst().dropLast().description
        }
        let (r, s) = (quoted(text), quoted(sig))
        // Escapes and member order are free: these are the same body.
        for accepted in [#"{"request":\#(r),"signature":\#(s)}"#, #"{ "signature" : \#(s) , "request" : \#(r) }"#,
                         #"{"request":\#(r),"signature":\#(s)}"#] {
            XCTAssertNotNil(SignedReleaseRequest.parse(body: Data(accepted.utf8)), accepted)
        }
        // A member named twice, however the second name is written, is refused, although
        // Foundation alone would keep one of the two.
        for repeated in [#"{"request":\#(r),"signature":\#(s),"request":\#(r)}"#,
                         #"{"request":\#(r),"signature":\#(s),"signature":\#(s)}"#,
                         #"{"request":\#(r),"signature":\#(s),"signature":\#(s)}"#,
                         #"{"request":"x","request":\#(r),"signature":\#(s)}"#] {
            XCTAssertNotNil((try? JSONSerialization.jsonObject(with: Data(repeated.utf8))) as? [String: Any], "Foundation accepts it")
            XCTAssertNil(SignedReleaseRequest.parse(body: Data(repeated.utf8)), repeated)
        }
        // The seeds kept for the fuzzer say the same.
        let seeds = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/corpus/release-request")
        for (name, valid) in [("duplicate-member.json", false), ("duplicate-escaped-name.json", false), ("escaped-name.json", true), ("valid-body.json", true)] {
            let body = try Data(contentsOf: seeds.appendingPathComponent(name))
            XCTAssertEqual(SignedReleaseRequest.parse(body: body) != nil, valid, name)
        }
    }

    func testOnlineURLsAreChecked() {
        XCTAssertNil(OnlineURL.problem("https://release.example.org"))
        XCTAssertNil(OnlineURL.problem("http://127.0.0.1:8700/dossier"))
        for bad in ["", "ftp://example.org", "release.example.org", "https://", "https://user:pw@example.org",
                    "https://example.org/?x=1", "https://example.org/#f", "https://exa mple.org", "https://exämple.org",
                    "https://example.org/" + String(repeating: "a", count: 600)] {
            XCTAssertNotNil(OnlineURL.problem(bad), bad)
        }
        // RFC 3986, as key-release.md section 3 says: these parse in lenient URL libraries.
        for good in ["https://[::1]:8700/v1", "https://[2001:db8::1]", "http://localhost:1/a/b%20c/", "https://xn--exmple-cua.org/d~x_y.z",
                     "https://example.org:65535", "https://example.org/a;b=c/@d:e"] {
            XCTAssertNil(OnlineURL.problem(good), good)
        }
        for bad in ["https://example.org/a|b", "https://example.org/{x}", "https://example.org/%zz", "https://example.org/%2",
                    "https://example.org:99999", "https://example.org:0", "https://example.org:80a", "https://example.org:",
                    "https://exa^mple.org", "https://[::1", "https://[example.org]", "https://:8700", "https://example.org/a\\b",
                    "https://example.org/`x`", "https://example.org/\"q\""] {
            XCTAssertNotNil(OnlineURL.problem(bad), bad)
        }
        XCTAssertEqual(OnlineURL.openEndpoint("https://r.example.org/"), "https://r.example.org/v1/open")
        XCTAssertEqual(OnlineURL.openEndpoint("https://r.example.org/base"), "https://r.example.org/base/v1/open")
    }
}
