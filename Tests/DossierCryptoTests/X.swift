import XCTest
final class XDossierCryptoTests: XCTestCase { func testX() { XCTAssertTrue(true) } }
