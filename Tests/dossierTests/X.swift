import XCTest
final class XdossierTests: XCTestCase { func testX() { XCTAssertTrue(true) } }
