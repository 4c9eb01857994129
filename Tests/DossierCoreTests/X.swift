import XCTest
final class XDossierCoreTests: XCTestCase { func testX() { XCTAssertTrue(true) } }
