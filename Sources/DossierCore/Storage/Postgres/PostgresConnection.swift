internal import CLibPQ
import Foundation

// A small Swift face on libpq, for the PostgreSQL store only: one connection, statements with
// bound parameters (binary both ways), results read by row and column, and rows streamed one at
// a time for content. Nothing outside Storage/Postgres/ sees libpq.

/// A failure reported by PostgreSQL or by libpq. The message is PostgreSQL's primary message
/// only: the detail, which may quote bound values, is never kept.
struct PostgresError: Error, CustomStringConvertible {
    /// The SQLSTATE code; empty when libpq itself failed (no connection, a broken socket).
    let sqlState: String
    let message: String
    /// A connection refused for a reason that waiting does not cure (no such database or role,
    /// failed authentication, a certificate that does not verify), rather than a server that is
    /// down, starting, or not (yet) accepting writes.
    var permanent = false

    var description: String { sqlState.isEmpty ? message : "\(message) (SQLSTATE \(sqlState))" }

    /// The connection is gone (refused, lost, the server shut down): a new connection may cure it,
    /// and any transaction on this one is lost.
    var connectionLost: Bool {
        sqlState.isEmpty || sqlState.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(sqlState)
    }

    /// Worth running the whole transaction again: a serialisation failure, a deadlock, a lost
    /// connection, or a connection to a server that became read-only (a demoted primary).
    var isRetryable: Bool { (connectionLost && !permanent) || ["40001", "40P01", "25006"].contains(sqlState) }

    /// Whether libpq's message for a failed connection names a cause that waiting does not cure.
    /// libpq gives no SQLSTATE for a refused connection; with several hosts its message holds
    /// each host's reason, and one such reason is enough.
    static func isPermanent(connectionFailure message: String) -> Bool {
        ["does not exist", "authentication failed", "pg_hba.conf", "no password supplied", "permission denied",
         "certificate verify failed", "does not match host name"].contains { message.contains($0) }
    }

    /// The lock wait (`lock_timeout`) ran out: another writer held the vault that long.
    var isLockTimeout: Bool { sqlState == "55P03" }
}

/// A statement's parameter, sent in binary.
enum PostgresValue {
    case text(String?)
    case bytes(Data?)
    case int(Int64?)
    /// Bytes the caller keeps alive during the call (a content chunk, without a copy).
    case raw(UnsafeRawBufferPointer)
    /// NULL of the type the statement gives it (a copied row, whose column says its type).
    case null

    /// The parameter's type: text, bytea or int8 (0 for `null`: the server infers it).
    fileprivate var oid: Oid {
        switch self {
        case .text: return 25
        case .bytes, .raw: return 17
        case .int: return 20
        case .null: return 0
        }
    }
}

/// One result: rows of columns, every value in binary form (text as UTF-8, bigint as 8 bytes
/// big-endian, bytea as is).
final class PostgresRows {
    fileprivate let result: OpaquePointer

    fileprivate init(_ result: OpaquePointer) { self.result = result }
    deinit { PQclear(result) }

    var count: Int { Int(PQntuples(result)) }

    /// A column's type, as PostgreSQL's type oid (25 text, 17 bytea, 20 int8, 23 int4, …).
    func type(_ column: Int) -> UInt32 { UInt32(PQftype(result, Int32(column))) }

    func isNull(_ row: Int, _ column: Int) -> Bool { PQgetisnull(result, Int32(row), Int32(column)) == 1 }

    /// The value's bytes, valid while this result lives.
    func buffer(_ row: Int, _ column: Int) -> UnsafeRawBufferPointer {
        let n = Int(PQgetlength(result, Int32(row), Int32(column)))
        guard let p = PQgetvalue(result, Int32(row), Int32(column)), n > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: UnsafeRawPointer(p), count: n)
    }

    func data(_ row: Int, _ column: Int) -> Data? {
        isNull(row, column) ? nil : Data(buffer(row, column))
    }

    func text(_ row: Int, _ column: Int) -> String? {
        isNull(row, column) ? nil : String(decoding: buffer(row, column), as: UTF8.self)
    }

    /// An integer column (int2, int4 or int8).
    func int(_ row: Int, _ column: Int) -> Int64? {
        guard !isNull(row, column) else { return nil }
        var v: Int64 = 0
        let b = buffer(row, column)
        for byte in b { v = (v << 8) | Int64(byte) }
        // Sign-extend the shorter widths.
        if b.count < 8, b.count > 0, b[0] & 0x80 != 0 { v -= Int64(1) << (8 * b.count) }
        return v
    }
}

/// One connection to PostgreSQL. Not for concurrent use: its owner serialises calls.
final class PostgresConnection {
    private let connection: OpaquePointer
    /// Notices and warnings the server sent (VACUUM VERBOSE's report), instead of libpq's default of
    /// printing them on standard error; the owner empties it.
    var notices: [String] = []

    /// Connects with `conninfo` (a `postgresql://` URI), which libpq completes from the `PG*`
    /// variables, the password file and the service file as it always does. `parameters` are
    /// defaults the URI may override. Throws with libpq's message, which never holds a password.
    init(conninfo: String, parameters: [(String, String)] = []) throws(PostgresError) {
        // Earlier keywords are overridden by later ones, and the URI (dbname, expanded) is last.
        let keywords = parameters.map(\.0) + ["dbname"]
        let values = parameters.map(\.1) + [conninfo]
        let made: OpaquePointer? = withCStrings(keywords) { k in withCStrings(values) { v in PQconnectdbParams(k, v, 1) } }
        guard let made else { throw PostgresError(sqlState: "", message: "out of memory") }
        guard PQstatus(made) == CONNECTION_OK else {
            let message = Self.errorText(PQerrorMessage(made))
            PQfinish(made)
            throw PostgresError(sqlState: "", message: message, permanent: PostgresError.isPermanent(connectionFailure: message))
        }
        connection = made
        // Collect notices rather than print them. The receiver holds an unretained reference:
        // the connection is finished in deinit, before this object is freed.
        PQsetNoticeReceiver(made, { context, result in
            guard let context, let result, let text = PQresultErrorMessage(result) else { return }
            let me = Unmanaged<PostgresConnection>.fromOpaque(context).takeUnretainedValue()
            if me.notices.count < 1000 { me.notices.append(String(cString: text)) }
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    deinit { PQfinish(connection) }

    /// Whether the connection is still usable as far as libpq knows.
    var isBroken: Bool { PQstatus(connection) != CONNECTION_OK }

    /// Whether a transaction is open (or failed and not yet rolled back).
    var inTransaction: Bool {
        let s = PQtransactionStatus(connection)
        return s == PQTRANS_INTRANS || s == PQTRANS_INERROR || s == PQTRANS_ACTIVE
    }

    /// Whether the server serves writes (not a standby in recovery).
    var serverVersion: Int { Int(PQserverVersion(connection)) }

    /// Runs statements without parameters (several may be separated by semicolons).
    func execute(_ sql: String) throws(PostgresError) {
        let result = PQexec(connection, sql)
        try check(result, freeing: true)
    }

    /// Runs one statement with parameters; returns its rows (empty for a command).
    @discardableResult
    func query(_ sql: String, _ parameters: [PostgresValue] = []) throws(PostgresError) -> PostgresRows {
        let result = withParameters(parameters) { types, values, lengths, formats in
            PQexecParams(connection, sql, Int32(parameters.count), types, values, lengths, formats, 1)
        }
        try check(result, freeing: false)
        return PostgresRows(result!)
    }

    /// Runs one query with parameters and hands its rows to `row` one at a time, as they arrive
    /// (libpq's single-row mode): memory holds one row, whatever the result's size. If `row`
    /// throws, the rest of the result is read and dropped, and the error is rethrown.
    func stream(_ sql: String, _ parameters: [PostgresValue], row: (PostgresRows) throws -> Void) throws {
        let sent = withParameters(parameters) { types, values, lengths, formats in
            PQsendQueryParams(connection, sql, Int32(parameters.count), types, values, lengths, formats, 1)
        }
        guard sent == 1 else { throw PostgresError(sqlState: "", message: Self.errorText(PQerrorMessage(connection))) }
        PQsetSingleRowMode(connection)
        var failure: (any Error)?
        while let result = PQgetResult(connection) {
            let status = PQresultStatus(result)
            if status == PGRES_SINGLE_TUPLE, failure == nil {
                do { try row(PostgresRows(result)) } catch { failure = error }
                continue
            }
            if status == PGRES_SINGLE_TUPLE || status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK {
                PQclear(result)
                continue
            }
            if failure == nil { failure = error(result) }
            PQclear(result)
        }
        if let failure { throw failure }
    }

    // MARK: Details

    private func check(_ result: OpaquePointer?, freeing: Bool) throws(PostgresError) {
        guard let result else { throw PostgresError(sqlState: "", message: Self.errorText(PQerrorMessage(connection))) }
        let status = PQresultStatus(result)
        if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY {
            if freeing { PQclear(result) }
            return
        }
        let failure = error(result)
        PQclear(result)
        throw failure
    }

    private func error(_ result: OpaquePointer) -> PostgresError {
        let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? ""
        let primary = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
        // A lost connection has no SQLSTATE from the server; libpq's own message says why.
        let message = primary ?? Self.errorText(PQerrorMessage(connection))
        return PostgresError(sqlState: isBroken && state.isEmpty ? "" : state, message: message)
    }

    /// libpq's message, on one line.
    private static func errorText(_ p: UnsafePointer<CChar>?) -> String {
        let text = p.map { String(cString: $0) } ?? "unknown libpq error"
        return text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: "; ")
    }

    /// Calls `body` with the parameters laid out as libpq wants them, in binary.
    private func withParameters<R>(_ parameters: [PostgresValue],
                                   _ body: (UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?,
                                            UnsafePointer<Int32>?) -> R) -> R {
        let types: [Oid] = parameters.map(\.oid)
        var lengths = [Int32](repeating: 0, count: parameters.count)
        let formats = [Int32](repeating: 1, count: parameters.count)
        var pointers = [UnsafePointer<CChar>?](repeating: nil, count: parameters.count)
        var owned: [UnsafeMutableRawPointer] = []
        defer { owned.forEach { free($0) } }
        func copy(_ bytes: UnsafeRawBufferPointer, _ i: Int) {
            let p = malloc(max(bytes.count, 1))!
            if bytes.count > 0 { p.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
            owned.append(p)
            pointers[i] = UnsafePointer(p.assumingMemoryBound(to: CChar.self))
            lengths[i] = Int32(bytes.count)
        }
        for (i, p) in parameters.enumerated() {
            switch p {
            case .text(let s?): Array(s.utf8).withUnsafeBytes { copy($0, i) }
            case .bytes(let d?): d.withUnsafeBytes { copy($0, i) }
            case .int(let v?): withUnsafeBytes(of: v.bigEndian) { copy($0, i) }
            case .raw(let b):
                // An empty value still needs a non-null pointer, or libpq sends NULL.
                if b.count == 0 { copy(b, i) } else {
                    pointers[i] = UnsafePointer(b.baseAddress!.assumingMemoryBound(to: CChar.self))
                    lengths[i] = Int32(b.count)
                }
            case .text(nil), .bytes(nil), .int(nil), .null: break
            }
        }
        return types.withUnsafeBufferPointer { t in
            pointers.withUnsafeBufferPointer { v in
                lengths.withUnsafeBufferPointer { l in
                    formats.withUnsafeBufferPointer { f in body(t.baseAddress, v.baseAddress, l.baseAddress, f.baseAddress) }
                }
            }
        }
    }
}

/// Calls `body` with `strings` as a NULL-terminated array of C strings.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    let pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// What libpq makes of a connection URI, without connecting.
enum PostgresConnectionInfo {
    /// The URI's parameters (only those it sets), or libpq's complaint.
    static func parse(_ conninfo: String) -> Result<[String: String], PostgresError> {
        var message: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &message) else {
            let text = message.map { String(cString: $0) } ?? "not a connection string"
            if let message { PQfreemem(message) }
            return .failure(PostgresError(sqlState: "", message: text.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        defer { PQconninfoFree(options) }
        var out: [String: String] = [:]
        var p = options
        while let keyword = p.pointee.keyword {
            if let value = p.pointee.val { out[String(cString: keyword)] = String(cString: value) }
            p += 1
        }
        return .success(out)
    }

    /// libpq's version, as a number (e.g. 150008).
    static var libraryVersion: Int { Int(PQlibVersion()) }
}
