import DossierCrypto
import Foundation
import XCTest

/// The injected random sources.
final class RandomTests: XCTestCase {
    func testDeterministicRandomIsReproducibleAcrossInstances() {
        let a = DeterministicRandom(seed: "vector seed")
        let b = DeterministicRandom(seed: "vector seed")
        for size in [1, 16, 32, 1000] {
            XCTAssertEqual(a.bytes(size), b.bytes(size), "call for \(size) bytes")
        }
    }

    func testDeterministicRandomDiffersBetweenCalls() {
        let r = DeterministicRandom(seed: "vector seed")
        let draws = (0..<20).map { _ in r.bytes(16) }
        XCTAssertEqual(Set(draws).count, draws.count)
        // A longer draw does not merely extend the next shorter one.
        let fresh = DeterministicRandom(seed: "vector seed")
        let first = fresh.bytes(32)
        XCTAssertNotEqual(fresh.bytes(32), first)
    }

    func testDeterministicRandomDependsOnTheSeed() {
        XCTAssertNotEqual(DeterministicRandom(seed: "a").bytes(32), DeterministicRandom(seed: "b").bytes(32))
        XCTAssertNotEqual(DeterministicRandom(seed: "").bytes(32), DeterministicRandom(seed: " ").bytes(32))
    }

    func testDeterministicRandomIsSafeToShareBetweenThreads() {
        let r = DeterministicRandom(seed: "shared")
        final class Draws: @unchecked Sendable {
            let lock = NSLock()
            var values: [Data] = []
        }
        let draws = Draws()
        DispatchQueue.concurrentPerform(iterations: 200) { _ in
            let value = r.bytes(16)
            draws.lock.lock()
            draws.values.append(value)
            draws.lock.unlock()
        }
        // Each call took its own counter value: no two callers saw the same bytes.
        XCTAssertEqual(Set(draws.values).count, 200)
        let sequential = DeterministicRandom(seed: "shared")
        XCTAssertEqual(Set((0..<200).map { _ in sequential.bytes(16) }), Set(draws.values))
    }

    func testBytesHasTheRequestedCount() {
        for source in [SystemRandom() as any RandomSource, DeterministicRandom(seed: "n")] {
            XCTAssertEqual(source.bytes(0), Data())
            XCTAssertEqual(source.bytes(1).count, 1)
            XCTAssertEqual(source.bytes(100_000).count, 100_000)
        }
    }

    func testSystemRandomIsNotConstant() {
        let r = SystemRandom()
        let a = r.bytes(32)
        XCTAssertNotEqual(a, r.bytes(32))
        XCTAssertNotEqual(a, Data(count: 32))
    }

    func testFillWritesTheWholeBuffer() {
        // 4096 random bytes all avoiding one value would be a 2^-23 event.
        for source in [SystemRandom() as any RandomSource, DeterministicRandom(seed: "fill")] {
            var buffer = [UInt8](repeating: 0xEE, count: 4096)
            buffer.withUnsafeMutableBytes { source.fill($0) }
            XCTAssertLessThan(buffer.filter { $0 == 0xEE }.count, 100)
            XCTAssertGreaterThan(Set(buffer).count, 200)
        }
    }
}
