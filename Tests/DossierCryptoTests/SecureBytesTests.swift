import DossierCrypto
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Secret bytes: never printed, compared in constant time, sliced and joined in guarded memory.
final class SecureBytesTests: XCTestCase {
    let secretText = "hunter2-TOP-SECRET"

    func testDescriptionIsRedacted() {
        let secret = SecureBytes(copying: Data(secretText.utf8))
        let hex = Data(secretText.utf8).hex
        for shown in [secret.description, secret.debugDescription, "\(secret)", String(describing: secret),
                      String(reflecting: secret), "\([secret])"] {
            XCTAssertFalse(shown.contains("hunter2"), shown)
            XCTAssertFalse(shown.lowercased().contains(hex.prefix(8)), shown)
            XCTAssertTrue(shown.contains("redacted"), shown)
        }
        var dumped = ""
        dump(secret, to: &dumped)
        XCTAssertFalse(dumped.contains("hunter2"))
    }

    func testCopyingKeepsTheBytes() {
        let bytes: [UInt8] = [0, 1, 2, 254, 255]
        XCTAssertEqual(SecureBytes(copying: bytes).unsafeCopyToData(), Data(bytes))
        XCTAssertEqual(SecureBytes(copying: Data(bytes)).count, 5)
        XCTAssertEqual(SecureBytes(copying: Data()).count, 0)
        XCTAssertEqual(SecureBytes(copying: Data()).unsafeCopyToData(), Data())
        // A slice of a larger Data is copied from its own start.
        let framed = Data([9, 9]) + Data(bytes)
        XCTAssertEqual(SecureBytes(copying: framed.dropFirst(2)).unsafeCopyToData(), Data(bytes))
    }

    func testInitialiserFillsAndZeroes() throws {
        XCTAssertEqual(try SecureBytes(count: 4).unsafeCopyToData(), Data(count: 4))
        let filled = SecureBytes(count: 3) { $0.copyBytes(from: [7, 8, 9]) }
        XCTAssertEqual(filled.unsafeCopyToData(), Data([7, 8, 9]))
        filled.withUnsafeBytes { XCTAssertEqual($0.count, 3) }
    }

    func testRandomCountUsesTheSource() {
        let a = SecureBytes(randomCount: 32, using: DeterministicRandom(seed: "r"))
        XCTAssertEqual(a.unsafeCopyToData(), DeterministicRandom(seed: "r").bytes(32))
        XCTAssertFalse(SecureBytes(randomCount: 32).constantTimeEquals(SecureBytes(randomCount: 32)))
    }

    func testConstantTimeEquals() throws {
        let base = pattern(40)
        let a = SecureBytes(copying: base)
        XCTAssertTrue(a.constantTimeEquals(SecureBytes(copying: base)))
        XCTAssertTrue(a.constantTimeEquals(a))
        for offset in 0..<base.count {
            XCTAssertFalse(a.constantTimeEquals(SecureBytes(copying: base.flippingBit(at: offset, bit: 7))), "differs at \(offset)")
        }
        XCTAssertFalse(a.constantTimeEquals(SecureBytes(copying: base.prefix(39))), "shorter")
        XCTAssertFalse(a.constantTimeEquals(SecureBytes(copying: base + Data([0]))), "longer")
        XCTAssertFalse(a.constantTimeEquals(SecureBytes(copying: Data())))
        XCTAssertTrue(try SecureBytes(count: 0).constantTimeEquals(SecureBytes(copying: Data())))
    }

    func testSlice() {
        let a = SecureBytes(copying: pattern(10))
        XCTAssertEqual(a.slice(2..<5).unsafeCopyToData(), Data([2, 3, 4]))
        XCTAssertEqual(a.slice(0..<10).unsafeCopyToData(), pattern(10))
        XCTAssertEqual(a.slice(9..<10).unsafeCopyToData(), Data([9]))
        XCTAssertEqual(a.slice(10..<10).count, 0)
        XCTAssertEqual(a.slice(0..<0).unsafeCopyToData(), Data())
    }

    func testConcatenate() throws {
        let a = SecureBytes(copying: Data([1, 2]))
        let b = SecureBytes(copying: Data([3]))
        let empty = try SecureBytes(count: 0)
        XCTAssertEqual(SecureBytes.concatenate([a, empty, b, a]).unsafeCopyToData(), Data([1, 2, 3, 1, 2]))
        XCTAssertEqual(SecureBytes.concatenate([]).count, 0)
        XCTAssertEqual(SecureBytes.concatenate([empty, empty]).count, 0)
        XCTAssertEqual(SecureBytes.concatenate([b]).unsafeCopyToData(), Data([3]))
        // Slicing a concatenation gives back the parts.
        let whole = SecureBytes.concatenate([a, b])
        XCTAssertTrue(whole.slice(0..<2).constantTimeEquals(a))
        XCTAssertTrue(whole.slice(2..<3).constantTimeEquals(b))
    }

    func testSecureZero() {
        var data = pattern(100)
        secureZero(&data)
        XCTAssertEqual(data, Data(count: 100))
        var empty = Data()
        secureZero(&empty)
        XCTAssertEqual(empty.count, 0)
        var bytes: [UInt8] = [1, 2, 3]
        bytes.withUnsafeMutableBytes { secureZero($0) }
        XCTAssertEqual(bytes, [0, 0, 0])
    }

    #if canImport(Glibc)
    /// `init(count:fill:)` is `rethrows`: a fill that throws must give the error back and leave
    /// the process healthy.
    func testThrowingFillPassesTheErrorOn() {
        struct Refused: Error {}
        let end = runInChild {
            do {
                _ = try SecureBytes(count: 16) { _ in throw Refused() }
                return 1
            } catch is Refused {
                // Keep using guarded memory afterwards, as a real caller would.
                let next = SecureBytes(copying: Data([1, 2, 3]))
                return next.unsafeCopyToData() == Data([1, 2, 3]) ? 0 : 2
            } catch {
                return 3
            }
        }
        XCTAssertEqual(end, .exited(0), "a throwing fill must throw Refused, not crash (signal 11 = SIGSEGV)")
    }

    func testSliceOutOfRangeStopsTheProgram() {
        let end = runInChild {
            let a = SecureBytes(copying: pattern(8))
            _ = a.slice(4..<9)
            return 0
        }
        guard case .signalled = end else { return XCTFail("slice past the end returned: \(end)") }
    }
    #endif
}
