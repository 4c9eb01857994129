import DossierCore
import DossierCrypto
import Foundation
import XCTest

/// The counsel's trust store: the name shown for a signer never changes without being asked.
final class TrustStoreTests: XCTestCase {
    private var folder: String!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-trust-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: folder)
    }

    private func key(_ seed: String) throws -> OrganisationKey {
        let pair = try SigningKeyPair(seed: SecureBytes(copying: Hash.sha256(Data(seed.utf8))))
        return try OrganisationKey(signingKey: pair.publicKey)
    }

    func testAKeyAlreadyTrustedUnderAnotherNameIsRenamedOnlyWhenAsked() throws {
        let store = TrustStore(path: folder + "/config/trusted-organisations")
        let a = try key("a"), b = try key("b")
        _ = try store.add(a, name: "Example Defence Project")
        _ = try store.add(b, name: "Other")
        let before = FileManager.default.contents(atPath: store.path)

        XCTAssertThrowsError(try store.add(a, name: "Another Name")) { error in
            guard case let .alreadyTrusted(fingerprint, name, requested)? = error as? DossierError else { return XCTFail("\(error)") }
            XCTAssertEqual(fingerprint, a.fingerprint)
            XCTAssertEqual(name, "Example Defence Project")
            XCTAssertEqual(requested, "Another Name")
            let e = error as? DossierError
            XCTAssertTrue(e?.message.contains("already trusted as 'Example Defence Project'") ?? false)
            XCTAssertTrue(e?.hint?.contains("--rename") ?? false)
        }
        XCTAssertEqual(FileManager.default.contents(atPath: store.path), before, "a refused add must change nothing")

        // The same name again is no change at all.
        XCTAssertEqual(try store.add(a, name: " Example Defence Project ").name, "Example Defence Project")
        XCTAssertEqual(FileManager.default.contents(atPath: store.path), before)

        // Asked for: renamed, the other entry kept.
        XCTAssertEqual(try store.add(a, name: "Another Name", rename: true).name, "Another Name")
        XCTAssertEqual(try store.entries().map(\.name).sorted(), ["Another Name", "Other"])
        XCTAssertEqual(try store.entry(for: a)?.name, "Another Name")
        // --rename on a new key simply adds it.
        XCTAssertEqual(try store.add(try key("c"), name: "Third", rename: true).name, "Third")
        XCTAssertEqual(try store.entries().count, 3)
    }
}
