// The workload both clients run, and the line each prints. The standard library and the C
// library only: neither client pays here for more than its driver.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What both clients do, in this order, each on one connection to the database of the URI.
public enum Workload {
    /// The table, dropped and created anew at the start of every run, dropped at its end.
    public static let table = "pg_clients_bench"
    public static let createTable = "CREATE TABLE \(table) (id int PRIMARY KEY, data bytea NOT NULL)"
    public static let dropTable = "DROP TABLE IF EXISTS \(table)"
    /// (a) sequential single-row round trips, after `warmUpRoundTrips` untimed ones.
    public static let roundTrips = 2_000
    public static let warmUpRoundTrips = 100
    public static let roundTripSQL = "SELECT $1::int"
    /// (b) one transaction of `rows` inserts, one statement per row, binary parameters.
    public static let rows = 4_096
    public static let rowBytes = 64 * 1024
    public static let insertSQL = "INSERT INTO \(table) (id, data) VALUES ($1, $2)"
    /// (c) one query, the rows in order, streamed (libpq: single-row mode; PostgresNIO: its
    /// row sequence), every row compared with what was inserted.
    public static let selectSQL = "SELECT data FROM \(table) ORDER BY id"

    public static var totalBytes: Int { rows * rowBytes }

    /// The 64 KiB every row carries: pseudo-random bytes (xorshift64, fixed seed), so that the
    /// server's TOAST compression finds nothing to gain, as with Dossier's ciphertext. Row `i`
    /// has `i` as a big-endian UInt32 in its first 4 bytes, so a row out of order is caught.
    public static func payloadTemplate() -> [UInt8] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var bytes = [UInt8](repeating: 0, count: rowBytes)
        for i in 0..<rowBytes {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            bytes[i] = UInt8(truncatingIfNeeded: state)
        }
        return bytes
    }

    public static func stamp(_ row: Int32, into bytes: UnsafeMutableRawBufferPointer) {
        bytes.storeBytes(of: UInt32(bitPattern: row).bigEndian, toByteOffset: 0, as: UInt32.self)
    }

    /// Whether `bytes` is row `row`'s payload.
    public static func check(_ bytes: UnsafeRawBufferPointer, row: Int32, template: [UInt8]) -> Bool {
        guard bytes.count == rowBytes,
              bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self) == UInt32(bitPattern: row).bigEndian
        else { return false }
        return template.withUnsafeBytes { t in
            memcmpEqual(UnsafeRawBufferPointer(rebasing: bytes[4...]), UnsafeRawBufferPointer(rebasing: t[4...]))
        }
    }

    private static func memcmpEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        // Eight bytes at a time; the tail byte by byte.
        let words = a.count / 8
        for i in 0..<words where a.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self) != b.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self) {
            return false
        }
        for i in (words * 8)..<a.count where a[i] != b[i] { return false }
        return true
    }
}

/// Wall time of one step, and the per-round-trip latencies of (a).
public struct Stopwatch {
    private let clock = ContinuousClock()
    private var started: ContinuousClock.Instant

    public init() { started = clock.now }
    public mutating func restart() { started = clock.now }
    /// Seconds since `init` or the last `restart`.
    public var elapsed: Double {
        let d = clock.now - started
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}

/// One run's figures; `line` is what run.sh reads (`key=value` pairs on one line).
public struct Report: Sendable {
    public var client: String
    public var latencies: [Double] = []   // seconds, one per round trip of (a)
    public var roundTripTotal = 0.0       // seconds for all of (a)
    public var insertSeconds = 0.0        // BEGIN … COMMIT of (b)
    public var readSeconds = 0.0          // query sent … last row checked, (c)

    public init(client: String) { self.client = client }

    public var line: String {
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            // Nearest rank: the smallest value with at least p of the sample at or below it.
            let rank = Int((p * Double(sorted.count)).rounded(.up))
            return sorted[max(0, min(sorted.count - 1, rank - 1))]
        }
        let mb = Double(Workload.totalBytes) / 1e6
        return [
            "client=\(client)",
            "rt_p50_us=\(fixed(percentile(0.50) * 1e6, 1))",
            "rt_p99_us=\(fixed(percentile(0.99) * 1e6, 1))",
            "rt_total_ms=\(fixed(roundTripTotal * 1e3, 1))",
            "insert_s=\(fixed(insertSeconds, 3))",
            "insert_MBps=\(fixed(mb / insertSeconds, 1))",
            "read_s=\(fixed(readSeconds, 3))",
            "read_MBps=\(fixed(mb / readSeconds, 1))",
        ].joined(separator: " ")
    }
}

/// `value` with `digits` decimals, without Foundation's String(format:).
func fixed(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return "\(value)" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    let whole = Int(scaled / scale)
    let fraction = Int(scaled - Double(whole) * scale)
    var text = (value < 0 ? "-" : "") + String(whole)
    if digits > 0 {
        let f = String(fraction)
        text += "." + String(repeating: "0", count: digits - f.count) + f
    }
    return text
}

/// Ends the process with status 1 and a message on standard error.
public func fail(_ message: String) -> Never {
    let text = Array("pg-clients: \(message)\n".utf8)
    _ = text.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(1)
}

/// The database URI: the first argument that is not an option (`--…`), else
/// DOSSIER_TEST_POSTGRES (scripts/pg-cluster.sh run).
public func databaseURI() -> String {
    if let uri = CommandLine.arguments.dropFirst().first(where: { !$0.hasPrefix("--") }) { return uri }
    if let uri = getenv("DOSSIER_TEST_POSTGRES") { return String(cString: uri) }
    fail("usage: \(CommandLine.arguments[0]) postgresql://USER@HOST:PORT/DATABASE (or DOSSIER_TEST_POSTGRES)")
}
