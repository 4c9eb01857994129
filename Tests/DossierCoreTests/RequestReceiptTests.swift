import DossierCrypto
import Foundation
import XCTest

@testable import DossierCore

/// The receipt format (docs/formats/request.md, section 11.3): the checked-in vectors under
/// Vectors/receipt, made by `testVectors` from seeds; parsing is strict and canonical; every
/// altered field, a wrong root, a certificate of the wrong role or period, and a truncated
/// receipt are refused with `receiptInvalid`.
final class RequestReceiptTests: XCTestCase {
    enum Vector {
        static let rootSeed = "receipt-vector/root"
        static let serviceSeed = "receipt-vector/service"
        static let serialSeed = "receipt-vector/serial"
        static let organisation = "example.org/dossier"
        static let requestID = "req-zjqgy65hkj2gs"
        static let received = "2027-01-01T00:05:00.000Z"
        static let logSeq: UInt64 = 7

        static var root: OrganisationRoot { OrganisationRoot.generate(using: DeterministicRandom(seed: rootSeed)) }
        static var service: SecretIdentity { SecretIdentity.generate(using: DeterministicRandom(seed: serviceSeed)) }

        static func certificate(role: Certificate.Role = .service, root: OrganisationRoot = Vector.root) -> Certificate {
            Certificate.issue(by: root, organisation: organisation, subject: service.publicIdentity, role: role,
                              notBefore: Timestamp.parse("2027-01-01T00:00:00.000Z")!, validity: 30 * 86400,
                              random: DeterministicRandom(seed: serialSeed))
        }

        static func receipt(hash: String, certificate: Certificate = Vector.certificate()) -> RequestReceipt {
            RequestReceipt.sign(requestID: requestID, sha256: hash, received: received, logSeq: logSeq, certificate: certificate,
                                key: service.signing)
        }
    }

    static var sourceFolder: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors/receipt") }

    static func vector(_ folder: String, _ file: String) throws -> Data {
        let base = try XCTUnwrap(Bundle.module.url(forResource: "Vectors", withExtension: nil))
        return try Data(contentsOf: base.appendingPathComponent(folder).appendingPathComponent(file))
    }

    /// The SHA-256 of the request vector basic.drq, which the receipt vector acknowledges.
    static func requestHash() throws -> String { Hash.sha256(try vector("request", "basic.drq")).hex }

    /// The cases: name, expectation, what it tests, bytes.
    static func cases() throws -> [(name: String, expect: String, comment: String, bytes: Data)] {
        let hash = try requestHash()
        let good = Vector.receipt(hash: hash)
        let text = String(decoding: good.bytes, as: UTF8.self)
        func replacing(_ a: String, _ b: String) -> Data { Data(text.replacingOccurrences(of: a, with: b).utf8) }
        let otherRoot = OrganisationRoot.generate(using: DeterministicRandom(seed: "receipt-vector/other-root"))
        return [
            ("basic", "success", "a receipt for Vectors/request/basic.drq, signed by the service under its certificate", good.bytes),
            ("altered_log", "failure", "the log line changed from 7 to 8 after signing", replacing("\nlog 7\n", "\nlog 8\n")),
            ("altered_received", "failure", "the received time moved by one second after signing",
             replacing("received 2027-01-01T00:05:00.000Z", "received 2027-01-01T00:05:01.000Z")),
            ("altered_sha256", "failure", "the file hash changed after signing (first hex digit)",
             replacing("sha256 " + hash, "sha256 " + (hash.first == "0" ? "1" : "0") + hash.dropFirst())),
            ("staff_certificate", "failure", "signed under a certificate of role staff, not service",
             Vector.receipt(hash: hash, certificate: Vector.certificate(role: .staff)).bytes),
            ("other_root", "failure", "signed under a service certificate by another organisation root than the pinned one",
             Vector.receipt(hash: hash, certificate: Vector.certificate(root: otherRoot)).bytes),
            ("truncated", "failure", "the last 10 bytes cut off", good.bytes.prefix(good.bytes.count - 10)),
        ]
    }

    /// `DOSSIER_WRITE_RECEIPT_VECTORS=1` writes the vectors; otherwise the checked-in files must
    /// be what the seeds give, and each must verify or fail as its header says.
    func testVectors() throws {
        let hash = try Self.requestHash()
        let cases = try Self.cases()
        if ProcessInfo.processInfo.environment["DOSSIER_WRITE_RECEIPT_VECTORS"] == "1" {
            for c in cases {
                try c.bytes.write(to: Self.sourceFolder.appendingPathComponent(c.name + ".receipt"))
                let header = ["expect: \(c.expect)", "comment: \(c.comment)", "receipt: \(c.name).receipt",
                              "root: \(Vector.root.key.line)", "root-seed: \(Vector.rootSeed)", "service-seed: \(Vector.serviceSeed)",
                              "service-ed25519-public: \(Vector.service.publicIdentity.signingKey.hex)",
                              "serial-random-seed: \(Vector.serialSeed)", "request: Vectors/request/basic.drq",
                              "request-id: \(Vector.requestID)", "request-sha256: \(hash)"]
                try (header.joined(separator: "\n") + "\n").write(to: Self.sourceFolder.appendingPathComponent(c.name + ".txt"), atomically: true, encoding: .utf8)
            }
        }
        for c in cases {
            let checkedIn = try Self.vector("receipt", c.name + ".receipt")
            XCTAssertEqual(checkedIn, c.bytes, "\(c.name).receipt is not what the seeds give: the format changed")
            let header = String(decoding: try Self.vector("receipt", c.name + ".txt"), as: UTF8.self)
            XCTAssertTrue(header.hasPrefix("expect: \(c.expect)\n"), c.name)
            let outcome = Result { () throws(DossierError) in
                try RequestReceipt.parse(checkedIn, context: c.name).verify(root: Vector.root.key, requestID: Vector.requestID, sha256: hash, context: c.name)
            }
            switch (c.expect, outcome) {
            case ("success", .success): break
            case ("failure", .failure(.receiptInvalid)): break
            default: XCTFail("\(c.name): expected \(c.expect), got \(outcome)")
            }
        }
        // The basic receipt, by hand: the signature is Ed25519 by the certified key over every
        // byte before the `signature` line; parse then serialise gives the same bytes.
        let basic = try Self.vector("receipt", "basic.receipt")
        let parsed = try RequestReceipt.parse(basic, context: "basic")
        XCTAssertEqual(parsed.bytes, basic)
        let cut = try XCTUnwrap(basic.range(of: Data("signature ".utf8))).lowerBound
        XCTAssertTrue(Signature.verify(parsed.signature, of: basic.prefix(cut), publicKey: Vector.service.publicIdentity.signingKey))
        XCTAssertEqual(parsed.certificate.role, .service)
        XCTAssertEqual(parsed.logSeq, 7)
    }

    func testAReceiptForAnotherRequestOrFileIsRefused() throws {
        let hash = try Self.requestHash()
        let r = try RequestReceipt.parse(Vector.receipt(hash: hash).bytes, context: "t")
        for (id, sha) in [("req-aaaaaaaaaaaaa", hash), (Vector.requestID, String(repeating: "0", count: 64))] {
            guard case .receiptInvalid? = Result(catching: { () throws(DossierError) in
                try r.verify(root: Vector.root.key, requestID: id, sha256: sha, context: "t")
            }).failureValue else { return XCTFail("a receipt for \(id) \(sha.prefix(8)) was accepted") }
        }
    }

    func testAReceiptIsBelievedOnlyWhileItsCertificateWasValid() throws {
        let cert = Vector.certificate()
        let late = RequestReceipt.sign(requestID: Vector.requestID, sha256: try Self.requestHash(), received: "2027-03-01T00:00:00.000Z",
                                       logSeq: 1, certificate: cert, key: Vector.service.signing)
        let e = Result { () throws(DossierError) in try late.verify(root: Vector.root.key, requestID: late.requestID, sha256: late.sha256, context: "t") }
        guard case let .failure(.receiptInvalid(_, reason)) = e else { return XCTFail("got \(e)") }
        XCTAssertTrue(reason.contains("not valid at the received time"), reason)
    }

    func testMalformedReceiptsAreRefused() throws {
        let good = String(decoding: Vector.receipt(hash: try Self.requestHash()).bytes, as: UTF8.self)
        let cases: [(String, String)] = [
            ("version", good.replacingOccurrences(of: "dossier-request-receipt/1", with: "dossier-request-receipt/2")),
            ("CRLF", good.replacingOccurrences(of: "\n", with: "\r\n")),
            ("extra line", good + "note hello\n"),
            ("leading zero", good.replacingOccurrences(of: "\nlog 7\n", with: "\nlog 07\n")),
            ("log 0", good.replacingOccurrences(of: "\nlog 7\n", with: "\nlog 0\n")),
            ("uppercase hash", good.replacingOccurrences(of: "sha256 ", with: "sha256 ").uppercased()),
            ("missing line", good.replacingOccurrences(of: "\nlog 7\n", with: "\n")),
            ("no signature", String(good[..<good.range(of: "signature ")!.lowerBound])),
        ]
        for (name, text) in cases {
            guard case .receiptInvalid? = Result(catching: { () throws(DossierError) in try RequestReceipt.parse(Data(text.utf8), context: name) }).failureValue else {
                return XCTFail("\(name): accepted")
            }
        }
        XCTAssertThrowsError(try RequestReceipt.parse(Data(count: RequestReceipt.maximumBytes + 1), context: "long"))
    }
}

extension Result {
    var failureValue: Failure? {
        if case .failure(let e) = self { return e }
        return nil
    }
}
