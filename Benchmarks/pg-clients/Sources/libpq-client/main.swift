// The workload of PGClientsBench through libpq: synchronous calls, binary parameters and binary
// results, one connection. The same calls as Dossier's PostgresConnection makes.
import CLibPQBench
import PGClientsBench

let int4OID: Oid = 23
let byteaOID: Oid = 17

guard let conn = PQconnectdb(databaseURI()), PQstatus(conn) == CONNECTION_OK else {
    fail("cannot connect")
}
defer { PQfinish(conn) }

func errorMessage() -> String { String(cString: PQerrorMessage(conn)) }

/// Runs SQL without parameters that returns no rows.
func exec(_ sql: String) {
    guard let result = PQexec(conn, sql) else { fail("\(sql): \(errorMessage())") }
    defer { PQclear(result) }
    guard PQresultStatus(result) == PGRES_COMMAND_OK else { fail("\(sql): \(errorMessage())") }
}

var report = Report(client: "libpq")
exec(Workload.dropTable)
exec(Workload.createTable)

// (a) SELECT $1::int, one round trip each, the value sent as a binary int4, read back in binary.
do {
    var stopwatch = Stopwatch()
    let total = Workload.warmUpRoundTrips + Workload.roundTrips
    report.latencies.reserveCapacity(Workload.roundTrips)
    for i in 0..<Int32(total) {
        if i == Workload.warmUpRoundTrips { stopwatch.restart() }
        let one = Stopwatch()
        var value = UInt32(bitPattern: i).bigEndian
        var type = int4OID
        var length: Int32 = 4
        var format: Int32 = 1
        let result = withUnsafeBytes(of: &value) { raw in
            var values: [UnsafePointer<CChar>?] = [raw.baseAddress!.assumingMemoryBound(to: CChar.self)]
            return PQexecParams(conn, Workload.roundTripSQL, 1, &type, &values, &length, &format, 1)
        }
        guard let result, PQresultStatus(result) == PGRES_TUPLES_OK, PQntuples(result) == 1,
              PQgetlength(result, 0, 0) == 4
        else { fail("round trip \(i): \(errorMessage())") }
        let got = UnsafeRawPointer(PQgetvalue(result, 0, 0)!).loadUnaligned(as: UInt32.self)
        PQclear(result)
        guard Int32(bitPattern: UInt32(bigEndian: got)) == i else { fail("round trip \(i): wrong value") }
        if i >= Workload.warmUpRoundTrips { report.latencies.append(one.elapsed) }
    }
    report.roundTripTotal = stopwatch.elapsed
}

// (b) 4,096 rows of 64 KiB in one transaction, each an INSERT with binary int4 and bytea.
let template = Workload.payloadTemplate()
do {
    var payload = template
    let stopwatch = Stopwatch()
    exec("BEGIN")
    var types: [Oid] = [int4OID, byteaOID]
    var lengths: [Int32] = [4, Int32(Workload.rowBytes)]
    var formats: [Int32] = [1, 1]
    for row in 0..<Int32(Workload.rows) {
        var id = UInt32(bitPattern: row).bigEndian
        let result = payload.withUnsafeMutableBytes { data in
            Workload.stamp(row, into: data)
            return withUnsafeBytes(of: &id) { idBytes in
                var values: [UnsafePointer<CChar>?] = [
                    idBytes.baseAddress!.assumingMemoryBound(to: CChar.self),
                    UnsafeRawPointer(data.baseAddress!).assumingMemoryBound(to: CChar.self),
                ]
                return PQexecParams(conn, Workload.insertSQL, 2, &types, &values, &lengths, &formats, 1)
            }
        }
        guard let result else { fail("insert \(row): \(errorMessage())") }
        let status = PQresultStatus(result)
        PQclear(result)
        guard status == PGRES_COMMAND_OK else { fail("insert \(row): \(errorMessage())") }
    }
    exec("COMMIT")
    report.insertSeconds = stopwatch.elapsed
}

// (c) One query, every row in order, one row per result (single-row mode), each checked.
do {
    let stopwatch = Stopwatch()
    guard PQsendQueryParams(conn, Workload.selectSQL, 0, nil, nil, nil, nil, 1) == 1,
          PQsetSingleRowMode(conn) == 1
    else { fail("select: \(errorMessage())") }
    var expected: Int32 = 0
    while let result = PQgetResult(conn) {
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_SINGLE_TUPLE:
            let bytes = UnsafeRawBufferPointer(start: PQgetvalue(result, 0, 0), count: Int(PQgetlength(result, 0, 0)))
            guard Workload.check(bytes, row: expected, template: template) else { fail("row \(expected) differs") }
            expected += 1
        case PGRES_TUPLES_OK:
            break
        default:
            fail("select: \(errorMessage())")
        }
    }
    guard expected == Workload.rows else { fail("read \(expected) rows of \(Workload.rows)") }
    report.readSeconds = stopwatch.elapsed
}

exec(Workload.dropTable)
print(report.line)
