import DossierCrypto
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How far a long operation is: `done` of `total` (nil when the total is not known: a deposit
/// from a pipe), in bytes or log entries, `elapsed` seconds after the work began. It carries
/// amounts only: never a name, a title or anything secret.
public struct ProgressSnapshot: Sendable, Equatable {
    public enum Unit: Sendable, Equatable { case bytes, entries }

    public let unit: Unit
    public let done: UInt64
    public let total: UInt64?
    public let elapsed: Double

    public init(unit: Unit, done: UInt64, total: UInt64?, elapsed: Double) {
        self.unit = unit
        self.done = done
        self.total = total
        self.elapsed = elapsed
    }
}

/// Who hears how a long operation (deposit, retrieve, package, open, audit verify, vault copy) goes: the
/// command line draws it on a terminal. `report` is called on the thread doing the work, at
/// most every `ProgressMeter.interval`; `finished` once, when the operation ends, whether it
/// succeeded or failed, before the function that did the work returns.
public protocol ProgressReporter: AnyObject, Sendable {
    func report(_ progress: ProgressSnapshot)
    func finished()
    /// What the work is timed with (the system's monotonic clock; tests move their own).
    var clock: any MonotonicClock { get }
}

extension ProgressReporter {
    public var clock: any MonotonicClock { SystemMonotonicClock() }
}

/// Seconds from a fixed point, never going back: what progress measures rates with. Injected so
/// that tests can move it.
public protocol MonotonicClock: Sendable {
    func seconds() -> Double
}

/// `CLOCK_MONOTONIC`: unaffected by changes of the wall clock.
public struct SystemMonotonicClock: MonotonicClock {
    public init() {}
    public func seconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}

/// Counts the work of one operation and passes it to a `ProgressReporter`, throttled: the
/// domain adds a batch at a time (a MiB of content, 8192 log entries), and the reporter hears
/// at most once per `interval`, the first batch included. Adding costs a lock and a clock read
/// per batch, nothing per byte. Safe to use from several threads.
public final class ProgressMeter: @unchecked Sendable {
    /// The shortest time between two reports.
    public static let interval = 0.1

    private let reporter: any ProgressReporter
    private let clock: any MonotonicClock
    private let unit: ProgressSnapshot.Unit
    private let total: UInt64?
    private let start: Double
    private let lock = NSLock()
    private var done: UInt64 = 0
    private var lastReport = -Double.infinity
    private var ended = false

    /// Starts measuring now, on the reporter's clock. Nil when there is no reporter, so that
    /// callers write `meter?.add(n)`.
    public convenience init?(_ reporter: (any ProgressReporter)?, unit: ProgressSnapshot.Unit, total: UInt64?) {
        guard let reporter else { return nil }
        self.init(reporter: reporter, unit: unit, total: total)
    }

    public init(reporter: any ProgressReporter, unit: ProgressSnapshot.Unit, total: UInt64?) {
        self.reporter = reporter
        self.clock = reporter.clock
        self.unit = unit
        self.total = total
        start = clock.seconds()
    }

    /// Records `count` more units done; reports if the last report is `interval` old.
    public func add(_ count: Int) {
        lock.lock()
        done += UInt64(max(0, count))
        let now = clock.seconds()
        guard !ended, now - lastReport >= Self.interval else { lock.unlock(); return }
        lastReport = now
        let snapshot = ProgressSnapshot(unit: unit, done: done, total: total, elapsed: now - start)
        lock.unlock()
        reporter.report(snapshot)
    }

    /// The operation ended: the reporter hears it once; later adds are ignored.
    public func finish() {
        lock.lock()
        let first = !ended
        ended = true
        lock.unlock()
        if first { reporter.finished() }
    }
}

/// A source that tells a meter how much was read (a batch per `read`).
struct MeteredSource<Base: ByteSource>: ByteSource {
    var base: Base
    let meter: ProgressMeter?

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(CryptoError) -> Int {
        let n = try base.read(into: buffer)
        meter?.add(n)
        return n
    }
}

/// A sink that tells a meter how much was written (a batch per `write`).
struct MeteredSink<Base: ByteSink>: ByteSink {
    var base: Base
    let meter: ProgressMeter?

    mutating func write(_ bytes: UnsafeRawBufferPointer) throws(CryptoError) {
        try base.write(bytes)
        meter?.add(bytes.count)
    }
}

/// The line a person sees: how much is done, how fast, how long is left.
///
///     412.0 MiB of 1.0 GiB (40%), 205.9 MiB/s, 3 s left
///     412.0 MiB, 205.9 MiB/s                       (total unknown)
///     81920 of 100000 entries (81%), 40960 entries/s, 1 s left
///
/// Sizes and rates as `ByteCount` writes them; the rate and the time left only once there is
/// something to measure them on (some work done, a tenth of a second passed).
public enum ProgressLine {
    public static func format(_ p: ProgressSnapshot) -> String {
        func amount(_ n: UInt64) -> String { p.unit == .bytes ? ByteCount.format(n) : String(n) }
        var line = amount(p.done)
        if let total = p.total {
            let percent = total == 0 ? 100 : Int(min(100, (Double(p.done) * 100 / Double(total)).rounded(.down)))
            line += " of " + amount(total) + (p.unit == .entries ? " entries" : "") + " (\(percent)%)"
        } else if p.unit == .entries {
            line += " entries"
        }
        guard p.done > 0, p.elapsed >= 0.1 else { return line }
        let rate = Double(p.done) / p.elapsed
        line += ", " + (p.unit == .bytes ? ByteCount.format(UInt64(rate)) + "/s" : String(UInt64(rate)) + " entries/s")
        if let total = p.total, total > p.done {
            line += ", " + duration((Double(total - p.done) / rate).rounded(.up)) + " left"
        }
        return line
    }

    /// `45 s`, `2 min 5 s`, `1 h 2 min`.
    public static func duration(_ seconds: Double) -> String {
        let s = seconds.isFinite ? UInt64(max(0, min(seconds, 1e9)).rounded(.up)) : 0
        if s < 60 { return "\(s) s" }
        if s < 3600 { return "\(s / 60) min \(s % 60) s" }
        return "\(s / 3600) h \(s % 3600 / 60) min"
    }
}
