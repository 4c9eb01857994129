// The workload of PGClientsBench through PostgresNIO: async/await, one PostgresConnection, the
// driver's own binary encoding of parameters and results.
import Logging
import NIOCore
import PGClientsBench
import PostgresNIO

/// postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE, the form scripts/pg-cluster.sh prints
/// (PostgresNIO itself takes no URI; no query parameters are read).
func configuration(_ uri: String) -> PostgresConnection.Configuration {
    var rest = Substring(uri)
    for scheme in ["postgresql://", "postgres://"] where rest.hasPrefix(scheme) { rest = rest.dropFirst(scheme.count) }
    if let query = rest.firstIndex(of: "?") { rest = rest[..<query] }
    var user = "postgres", password: String?
    if let at = rest.lastIndex(of: "@") {
        let credentials = rest[..<at].split(separator: ":", maxSplits: 1)
        user = String(credentials.first ?? "postgres")
        if credentials.count == 2 { password = String(credentials[1]) }
        rest = rest[rest.index(after: at)...]
    }
    let hostPort = rest.prefix { $0 != "/" }
    let database = rest.dropFirst(hostPort.count + 1)
    let parts = hostPort.split(separator: ":", maxSplits: 1)
    let host = parts.first.map(String.init) ?? "127.0.0.1"
    let port = parts.count == 2 ? Int(parts[1]) ?? 5432 : 5432
    return .init(host: host, port: port, username: user, password: password,
                 database: database.isEmpty ? nil : String(database), tls: .disable)
}

func run() async throws {
    var logger = Logger(label: "nio-client")
    logger.logLevel = .error
    let conn = try await PostgresConnection.connect(configuration: configuration(databaseURI()), id: 1, logger: logger)
    let report = try await runWorkload(conn, logger)
    try await conn.close()
    print(report.line)
}

/// On Swift's global executor (`run` is nonisolated): each reply is read on the connection's
/// event loop thread and resumes the workload on a thread of the pool, as in a typical caller.
func runWorkload(_ conn: PostgresConnection, _ logger: Logger) async throws -> Report {
    var report = Report(client: "nio")
    try await conn.query(PostgresQuery(unsafeSQL: Workload.dropTable), logger: logger)
    try await conn.query(PostgresQuery(unsafeSQL: Workload.createTable), logger: logger)

    // (a) SELECT $1::int, one round trip each, an Int32 bound (int4) and decoded.
    do {
        var stopwatch = Stopwatch()
        let total = Workload.warmUpRoundTrips + Workload.roundTrips
        report.latencies.reserveCapacity(Workload.roundTrips)
        for i in 0..<Int32(total) {
            if i == Workload.warmUpRoundTrips { stopwatch.restart() }
            let one = Stopwatch()
            var got: Int32?
            var binds = PostgresBindings(capacity: 1)
            binds.append(i)
            let rows = try await conn.query(PostgresQuery(unsafeSQL: Workload.roundTripSQL, binds: binds), logger: logger)
            for try await value in rows.decode(Int32.self) {
                got = value
            }
            guard got == i else { fail("round trip \(i): wrong value") }
            if i >= Workload.warmUpRoundTrips { report.latencies.append(one.elapsed) }
        }
        report.roundTripTotal = stopwatch.elapsed
    }

    // (b) 4,096 rows of 64 KiB in one transaction, each an INSERT with an Int32 and a ByteBuffer.
    let template = Workload.payloadTemplate()
    do {
        var payload = ByteBuffer(bytes: template)
        let stopwatch = Stopwatch()
        try await conn.query("BEGIN", logger: logger)
        for row in 0..<Int32(Workload.rows) {
            payload.setInteger(UInt32(bitPattern: row), at: 0)   // big-endian, as Workload.stamp
            var binds = PostgresBindings(capacity: 2)
            binds.append(row)
            binds.append(payload)
            try await conn.query(PostgresQuery(unsafeSQL: Workload.insertSQL, binds: binds), logger: logger)
        }
        try await conn.query("COMMIT", logger: logger)
        report.insertSeconds = stopwatch.elapsed
    }

    // (c) One query, every row in order through the driver's row sequence, each checked.
    do {
        let stopwatch = Stopwatch()
        var expected: Int32 = 0
        let rows = try await conn.query(PostgresQuery(unsafeSQL: Workload.selectSQL), logger: logger)
        for try await data in rows.decode(ByteBuffer.self) {
            let ok = data.withUnsafeReadableBytes { Workload.check($0, row: expected, template: template) }
            guard ok else { fail("row \(expected) differs") }
            expected += 1
        }
        guard expected == Workload.rows else { fail("read \(expected) rows of \(Workload.rows)") }
        report.readSeconds = stopwatch.elapsed
    }

    try await conn.query(PostgresQuery(unsafeSQL: Workload.dropTable), logger: logger)
    return report
}


do {
    try await run()
} catch {
    fail("\(String(reflecting: error))")
}
