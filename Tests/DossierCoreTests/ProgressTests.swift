import DossierCrypto
import Foundation
import XCTest

@testable import DossierCore

/// Progress of long work: the line people see (done, rate, time left), the meter's throttling
/// on an injected clock, and that each long operation reports all of its work, then ends.
final class ProgressTests: XCTestCase {
    /// A clock the test sets; or, with `tick`, one that moves on by `tick` seconds at each reading
    /// (so that every batch of work is reported).
    final class TestClock: MonotonicClock, @unchecked Sendable {
        private let lock = NSLock()
        private var now: Double
        private let tick: Double
        init(_ start: Double = 0, tick: Double = 0) { now = start; self.tick = tick }
        func set(_ t: Double) { lock.lock(); now = t; lock.unlock() }
        func seconds() -> Double { lock.lock(); defer { lock.unlock() }; now += tick; return now }
    }

    /// Keeps what it hears.
    final class Recorder: ProgressReporter, @unchecked Sendable {
        private let lock = NSLock()
        private var heard: [ProgressSnapshot] = []
        private var ends = 0
        let clock: any MonotonicClock
        init(clock: any MonotonicClock) { self.clock = clock }
        func report(_ progress: ProgressSnapshot) { lock.lock(); heard.append(progress); lock.unlock() }
        func finished() { lock.lock(); ends += 1; lock.unlock() }
        var reports: [ProgressSnapshot] { lock.lock(); defer { lock.unlock() }; return heard }
        var finishedCount: Int { lock.lock(); defer { lock.unlock() }; return ends }
    }

    private let mib: UInt64 = 1 << 20

    // MARK: The line

    func testTheLineSaysDoneRateAndTimeLeft() {
        func line(_ done: UInt64, of total: UInt64?, after elapsed: Double) -> String {
            ProgressLine.format(ProgressSnapshot(unit: .bytes, done: done, total: total, elapsed: elapsed))
        }
        func entries(_ done: UInt64, of total: UInt64?, after elapsed: Double) -> String {
            ProgressLine.format(ProgressSnapshot(unit: .entries, done: done, total: total, elapsed: elapsed))
        }
        // 412 MiB in 2 s: 206 MiB/s; 612 MiB left take 2.97 s, shown as 3.
        XCTAssertEqual(line(412 * mib, of: 1024 * mib, after: 2), "412.0 MiB of 1.0 GiB (40%), 206.0 MiB/s, 3 s left")
        XCTAssertEqual(line(412 * mib, of: nil, after: 2), "412.0 MiB, 206.0 MiB/s")
        XCTAssertEqual(line(1536 * 1024, of: 10 * mib, after: 0.5), "1.5 MiB of 10.0 MiB (15%), 3.0 MiB/s, 3 s left")
        XCTAssertEqual(line(5 * mib, of: 600 * mib, after: 1), "5.0 MiB of 600.0 MiB (0%), 5.0 MiB/s, 1 min 59 s left")
        XCTAssertEqual(line(1 * mib, of: 7200 * mib, after: 1), "1.0 MiB of 7.0 GiB (0%), 1.0 MiB/s, 1 h 59 min left")
        XCTAssertEqual(entries(81920, of: 100_000, after: 2), "81920 of 100000 entries (81%), 40960 entries/s, 1 s left")
        XCTAssertEqual(entries(8192, of: nil, after: 4), "8192 entries, 2048 entries/s")
        // Nothing to measure a rate on yet: amounts only.
        XCTAssertEqual(line(1 * mib, of: 300 * mib, after: 0.05), "1.0 MiB of 300.0 MiB (0%)")
        XCTAssertEqual(line(0, of: 300 * mib, after: 3), "0 B of 300.0 MiB (0%)")
        // Done: no time left; a file that grew while it was read never passes 100%.
        XCTAssertEqual(line(300 * mib, of: 300 * mib, after: 2), "300.0 MiB of 300.0 MiB (100%), 150.0 MiB/s")
        XCTAssertEqual(line(301 * mib, of: 300 * mib, after: 1), "301.0 MiB of 300.0 MiB (100%), 301.0 MiB/s")
        XCTAssertEqual(line(0, of: 0, after: 0), "0 B of 0 B (100%)")
        // Time left is rounded up: 1024 B at 1023 B/s is 2 s.
        XCTAssertEqual(line(1023, of: 2047, after: 1), "1023 B of 2.0 KiB (49%), 1023 B/s, 2 s left")
    }

    func testDurationsForPeople() {
        XCTAssertEqual(ProgressLine.duration(0), "0 s")
        XCTAssertEqual(ProgressLine.duration(0.2), "1 s")
        XCTAssertEqual(ProgressLine.duration(45), "45 s")
        XCTAssertEqual(ProgressLine.duration(59.5), "1 min 0 s")
        XCTAssertEqual(ProgressLine.duration(125), "2 min 5 s")
        XCTAssertEqual(ProgressLine.duration(3599), "59 min 59 s")
        XCTAssertEqual(ProgressLine.duration(3720), "1 h 2 min")
        XCTAssertEqual(ProgressLine.duration(.infinity), "0 s")
        XCTAssertEqual(ProgressLine.duration(-3), "0 s")
    }

    // MARK: Throttling

    func testTheMeterReportsAtMostEveryTenthOfASecond() {
        let clock = TestClock(50)
        let recorder = Recorder(clock: clock)
        let meter = ProgressMeter(reporter: recorder, unit: .bytes, total: 1000)
        // The first batch is reported at once (the display decides when to start drawing).
        meter.add(100)
        clock.set(50.0625); meter.add(100)
        clock.set(50.09375); meter.add(100)
        clock.set(50.125); meter.add(100)      // 0.125 s after the last report
        clock.set(50.1875); meter.add(100)     // 0.0625 s after it: kept
        clock.set(50.25); meter.add(100)       // exactly 0.125 s after 50.125
        clock.set(60); meter.add(0)            // nothing more done, but time passed
        XCTAssertEqual(recorder.reports, [
            ProgressSnapshot(unit: .bytes, done: 100, total: 1000, elapsed: 0),
            ProgressSnapshot(unit: .bytes, done: 400, total: 1000, elapsed: 0.125),
            ProgressSnapshot(unit: .bytes, done: 600, total: 1000, elapsed: 0.25),
            ProgressSnapshot(unit: .bytes, done: 600, total: 1000, elapsed: 10),
        ])
        XCTAssertEqual(recorder.finishedCount, 0)
        meter.finish()
        meter.finish()
        clock.set(70); meter.add(100)
        XCTAssertEqual(recorder.finishedCount, 1, "the end is heard once")
        XCTAssertEqual(recorder.reports.count, 4, "nothing is reported after the end")
    }

    func testTheMeterCountsBatchesFromSeveralThreads() {
        let clock = TestClock(0)
        let recorder = Recorder(clock: clock)
        let meter = ProgressMeter(reporter: recorder, unit: .entries, total: nil)
        DispatchQueue.concurrentPerform(iterations: 1000) { _ in meter.add(3) }
        clock.set(1)
        meter.add(1)
        XCTAssertEqual(recorder.reports.count, 2, "\(recorder.reports)")
        XCTAssertEqual(recorder.reports.last, ProgressSnapshot(unit: .entries, done: 3001, total: nil, elapsed: 1))
    }

    func testNoReporterNoMeter() {
        XCTAssertNil(ProgressMeter(nil, unit: .bytes, total: 1))
    }

    // MARK: The operations

    /// Checks that `recorder` heard work from 0 towards `total`, all of it at the end, then the end once.
    private func assertReportedAll(_ recorder: Recorder, unit: ProgressSnapshot.Unit, total: UInt64, _ what: String,
                                   file: StaticString = #filePath, line: UInt = #line) {
        let reports = recorder.reports
        XCTAssertGreaterThan(reports.count, 1, what, file: file, line: line)
        XCTAssertEqual(Set(reports.map(\.unit)), [unit], what, file: file, line: line)
        XCTAssertEqual(Set(reports.map(\.total)), [total], what, file: file, line: line)
        XCTAssertEqual(reports.map(\.done), reports.map(\.done).sorted(), "\(what): done never goes back", file: file, line: line)
        XCTAssertEqual(reports.map(\.elapsed), reports.map(\.elapsed).sorted(), what, file: file, line: line)
        XCTAssertEqual(reports.last?.done, total, "\(what): all the work is reported", file: file, line: line)
        XCTAssertEqual(recorder.finishedCount, 1, what, file: file, line: line)
    }

    /// Each batch of each long operation is reported (the clock moves a second at each reading,
    /// so nothing is throttled): deposit and retrieve in bytes of plaintext, package in stored
    /// bytes, open in bytes written, audit verify in entries.
    func testLongOperationsReportAllTheirWork() throws {
        let world = try ShareWorld("progress")
        let big = ShareKit.content("big", count: 5 * Int(mib) / 2), small = ShareKit.content("small", count: 1_000_000)
        let folder = try world.folder("in")
        try writeFile(folder + "/big.bin", big)
        try writeFile(folder + "/small.bin", small)

        let depositing = Recorder(clock: TestClock(tick: 1))
        let docs = try world.session.documents.deposit(DepositRequest(files: [folder + "/big.bin", folder + "/small.bin"], kind: .expertReport,
                                                                      title: "Report", language: "en"), progress: depositing)
        assertReportedAll(depositing, unit: .bytes, total: UInt64(big.count + small.count), "deposit")

        let retrieving = Recorder(clock: TestClock(tick: 1))
        let out = try world.folder("out") + "/big.bin"
        _ = try world.session.documents.retrieve(docs[0].id, to: out, progress: retrieving)
        XCTAssertEqual(try readFile(out), big)
        assertReportedAll(retrieving, unit: .bytes, total: UInt64(big.count), "retrieve")

        let counsel = try world.counsel("alpha")
        let g = try world.session.sharing.grant(GrantRequest(documents: docs.map(\.id), counsel: [counsel.counsel.id],
                                                             window: .duration(seconds: 7 * 86_400)))
        let packaging = Recorder(clock: TestClock(tick: 1))
        let path = world.packagePath()
        _ = try world.session.sharing.makePackage(grant: g.id, to: path, progress: packaging)
        assertReportedAll(packaging, unit: .bytes, total: docs.reduce(0) { $0 + ContentStream.ciphertextSize(plaintextSize: $1.size) }, "package")

        try world.trustOrganisation()
        let opening = Recorder(clock: TestClock(tick: 1))
        let opened = try world.folder("opened")
        _ = try PackageReader(path: path, clock: ShareKit.clock(days: 1))
            .open(identity: counsel.identity, trust: world.trust, into: opened, progress: opening)
        XCTAssertEqual(try readFile(opened + "/small.bin"), small)
        assertReportedAll(opening, unit: .bytes, total: UInt64(big.count + small.count), "open")

        let verifying = Recorder(clock: TestClock(tick: 1))
        let snapshot = try world.vault.logSnapshot()
        _ = try AuditVerifier.verify(snapshot, progress: verifying)
        XCTAssertEqual(verifying.reports.last, ProgressSnapshot(unit: .entries, done: UInt64(snapshot.entries.count),
                                                                total: UInt64(snapshot.entries.count), elapsed: verifying.reports.last?.elapsed ?? -1))
        XCTAssertEqual(verifying.finishedCount, 1)
    }

    /// A failed operation still ends its progress (the terminal line is erased before the error).
    func testAFailedOperationEndsItsProgress() throws {
        let world = try ShareWorld("progress-failure")
        let doc = try world.document(content: ShareKit.content("x", count: 3 * Int(mib)))
        let out = try world.folder("out") + "/x"
        try writeFile(out, Data("mine".utf8))
        let recorder = Recorder(clock: TestClock(tick: 1))
        XCTAssertThrowsError(try world.session.documents.retrieve(doc.id, to: out, progress: recorder))
        // Refused before any work: nothing was reported, and nothing needs erasing.
        XCTAssertEqual(recorder.reports, [])

        // Cut the blob: decryption fails halfway, after some progress.
        let blob = regularFiles(under: world.vaultPath).first { $0.hasSuffix("/" + doc.id) }!
        XCTAssertEqual(truncate(blob, off_t(2 * mib)), 0)
        let failing = Recorder(clock: TestClock(tick: 1))
        XCTAssertThrowsError(try world.session.documents.retrieve(doc.id, to: out + ".2", progress: failing))
        XCTAssertEqual(failing.finishedCount, 1)
        XCTAssertFalse(fileExists(out + ".2"))
    }
}
