import Dispatch
import DossierCrypto
import Foundation
import GRDB
internal import GRDBSQLite

/// A catalogue listing (`list`, `search`) in the vault folder: the documents' rows read and
/// their metadata opened on all cores, each core reading its own range of rowids on its own
/// SQLite connection.
///
/// SQLite's row loop costs about as much as opening the metadata (docs/performance.md), so
/// reading is shared too, not only opening. Each core opens the rows
/// it reads straight from SQLite's buffers into plain scratch memory wiped after use (guarded
/// memory costs system calls per value), and a row that a condition on its metadata rejects
/// (search words, a case reference) is never handed on.
///
/// One snapshot. A listing shows the catalogue as of one moment, even while another process
/// deposits or removes, but each connection reads in a transaction of its own. So every extra
/// connection reads `PRAGMA data_version` once before the vault's connection starts its read
/// transaction, and again as the first statement of its own transaction, which starts only
/// after the vault's has. SQLite documents that two readings on one connection differ if any
/// other connection committed in between; equal readings therefore mean that nothing was
/// committed from before the vault's snapshot was taken until after the extra connection's
/// was, so both see the same database. If they differ the listing is read on the vault's
/// connection alone. (SQLite's snapshot API would say this directly, but Debian's library is
/// built without it.)
///
/// Order. A listing is in deposit order: by deposit time, then in the order the rows were
/// recorded (rowid; the files of one deposit share its time, in the order they were given).
/// Rows are read in rowid order, so each core only checks that the deposit times it reads never
/// go back, and the seams between ranges are checked; only if a time went back (a clock set
/// back) is the listing read again on the vault's connection (the same snapshot) with SQLite
/// sorting it: `ORDER BY deposited_at, rowid`.
///
/// What a core makes of each row is its sink's business (`ListingSink`), and opening the
/// metadata is the domain's (`MetadataReader`): this file only reads rows.
enum SQLiteListing {
    /// The columns read, in this order.
    private static let columns = "id, kind, language, size, deposited_at, deposited_by, metadata_sealed, removed_at, removed_by"

    /// Below this size one connection reads faster than opening more (docs/performance.md).
    static let parallelDatabaseBytes = 512 * 1024

    /// The SQL after `WHERE rowid BETWEEN ? AND ?` for a query, and the arguments of its `?`.
    private static func conditions(_ query: ListingQuery) -> (String, [DatabaseValueConvertible]) {
        var sql = ""
        var args: [DatabaseValueConvertible] = []
        if !query.includeRemoved || query.condition != nil { sql += " AND removed_at IS NULL" }
        if let kind = query.kind { sql += " AND kind = ?"; args.append(kind.rawValue) }
        if let language = query.language { sql += " AND language = ?"; args.append(language) }
        return (sql, args)
    }

    /// The rows selected by `query`, given in deposit order to the sinks made by `sink` (one
    /// per connection), which come back in order: their concatenation is the listing.
    /// `connections` overrides how many connections read (tests); by default one per core for
    /// a large catalogue.
    static func read<S: ListingSink>(_ store: SQLiteStore, query: ListingQuery, opener: MetadataOpener, connections: Int? = nil,
                                     probe: ListingProbe? = nil, check: (any StoreTransaction) throws -> Void,
                                     sink: () -> S) throws(DossierError) -> [S] {
        let (conditions, arguments) = conditions(query)
        let databasePath = store.databasePath
        let fileBytes = ((try? FileManager.default.attributesOfItem(atPath: databasePath))?[.size] as? NSNumber)?.intValue ?? 0
        let wanted = connections ?? (fileBytes < parallelDatabaseBytes ? 1 : min(ProcessInfo.processInfo.activeProcessorCount, 8))
        // Extra connections and their first `data_version`, read before the snapshot below.
        var extra: [(queue: DatabaseQueue, version: Int64)] = []
        while extra.count < wanted - 1, let queue = try? store.openReader(),
              let version = try? queue.read({ db in try dataVersion(db) }) {
            extra.append((queue, version))
        }
        let sql = "SELECT \(columns) FROM documents WHERE rowid BETWEEN ? AND ?\(conditions)"
        return try store.withReadConnection { db in
            try check(SQLiteTransaction(db: db))
            // Read through a mapping of the file rather than one system call per 4 KiB page.
            let pageBytes = (try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0) * (try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0)
            let mmap = "PRAGMA mmap_size = \(max(pageBytes, fileBytes, 1 << 20))"
            try db.execute(sql: mmap)
            // Two subqueries: SQLite finds a lone min() or max() in the b-tree, but scans the
            // whole table for both in one SELECT.
            let bounds = try Row.fetchOne(db, sql: "SELECT (SELECT min(rowid) FROM documents), (SELECT max(rowid) FROM documents)")
            guard let lo = bounds?[0] as Int64?, let hi = bounds?[1] as Int64? else { return [] }
            let rowids = Rowids(lo: lo, hi: hi)
            var statements = [try statement(db, sql: sql, arguments: arguments)]
            try probe?.inSnapshot?()
            // Each extra connection joins if it sees the vault connection's snapshot.
            func join(_ i: Int) throws -> (sinks: [S], ordered: Bool) {
                guard i < extra.count else {
                    let ranges = rowids.split(statements.count)
                    probe?.readers?(ranges.count)
                    return try readAll(statements: statements, ranges: ranges, opener: opener, path: store.location, sink: sink)
                }
                return try extra[i].queue.read { other in
                    guard try dataVersion(other) == extra[i].version else {
                        statements.removeSubrange(1...)   // a commit came between: the vault's connection alone
                        probe?.readers?(1)
                        return try readAll(statements: statements, ranges: rowids.split(1), opener: opener, path: store.location, sink: sink)
                    }
                    try other.execute(sql: mmap)
                    statements.append(try statement(other, sql: sql, arguments: arguments))
                    return try join(i + 1)
                }
            }
            let (sinks, ordered) = try join(0)
            if ordered { return sinks }
            // A deposit time went back somewhere (a clock set back): SQLite sorts, on the
            // vault's connection, in the same snapshot.
            try probe?.beforeSorting?()
            let sorted = try statement(db, sql: sql + " ORDER BY deposited_at, rowid", arguments: arguments)
            return try readAll(statements: [sorted], ranges: rowids.split(1), opener: opener, path: store.location, sink: sink).sinks
        }
    }

    private static func dataVersion(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "PRAGMA data_version") ?? 0
    }

    /// A prepared statement whose arguments after the range are bound.
    private static func statement(_ db: Database, sql: String, arguments: [DatabaseValueConvertible]) throws -> Statement {
        let statement = try db.makeStatement(sql: sql)
        try statement.setArguments(StatementArguments([Int64(0), Int64(0)] + arguments))
        return statement
    }

    /// The rowids in the table, from the smallest to the largest.
    private struct Rowids {
        let lo: Int64
        /// hi − lo, exact even if rowids span the whole Int64 range.
        let span: UInt64

        init(lo: Int64, hi: Int64) {
            self.lo = lo
            span = UInt64(bitPattern: hi &- lo)
        }

        /// Consecutive ranges of about equal width for `n` connections. Dossier writes rowids
        /// one after another, so equal widths are about equal numbers of rows.
        func split(_ n: Int) -> [ClosedRange<Int64>] {
            let n = UInt64(max(1, n)) > span ? Int(span) + 1 : max(1, n)
            let cut = { (k: Int) -> UInt64 in (span / UInt64(n)) * UInt64(k) + (span % UInt64(n) + 1) * UInt64(k) / UInt64(n) }
            let rowid = { (o: UInt64) in Int64(bitPattern: UInt64(bitPattern: lo) &+ o) }
            return (0..<n).map { k in rowid(k == 0 ? 0 : cut(k) + 1)...rowid(k == n - 1 ? span : cut(k + 1)) }
        }
    }

    /// What one connection read, besides its sink's part.
    private struct Share {
        var failure: DossierError?
        var inOrder = true
        /// Whether any row was read, and the first and last (kept or not).
        var read = false
        var first = DepositTime(), last = DepositTime()
    }

    /// Runs every statement over its range, on its own core, each into its own sink; and
    /// whether the rows came in deposit order, within each range and across their seams.
    private static func readAll<S: ListingSink>(statements: [Statement], ranges: [ClosedRange<Int64>], opener: MetadataOpener,
                                                path: String, sink: () -> S) throws(DossierError) -> (sinks: [S], ordered: Bool) {
        var shares = [Share](repeating: Share(), count: ranges.count)
        var sinks = ranges.map { _ in sink() }
        for (s, r) in zip(statements, ranges) {
            sqlite3_bind_int64(s.sqliteStatement, 1, r.lowerBound)
            sqlite3_bind_int64(s.sqliteStatement, 2, r.upperBound)
        }
        shares.withUnsafeMutableBufferPointer { shares in
            sinks.withUnsafeMutableBufferPointer { sinks in
                // Each iteration uses only its own statement, connection, sink and share.
                nonisolated(unsafe) let (shares, sinks) = (shares, sinks)
                let handles = statements.map { UncheckedStatement(pointer: $0.sqliteStatement) }
                DispatchQueue.concurrentPerform(iterations: ranges.count) { w in
                    var reader = RowReader(metadata: opener.reader())
                    reader.read(handles[w].pointer, into: &sinks[w], share: &shares[w], path: path)
                    reader.metadata.close()
                }
            }
        }
        for s in statements { sqlite3_reset(s.sqliteStatement) }
        if let failure = shares.lazy.compactMap(\.failure).first { throw failure }
        let read = shares.filter(\.read)
        let ordered = read.allSatisfy(\.inOrder) && zip(read, read.dropFirst()).allSatisfy { a, b in
            b.first.bytes.withUnsafeBufferPointer { !a.last.isAfter($0) }
        }
        return (sinks, ordered)
    }

    /// A statement pointer handed to one worker while its connection waits in its transaction.
    private struct UncheckedStatement: @unchecked Sendable { let pointer: OpaquePointer }

    /// A row's deposit time, copied (SQLite's buffers change at every step).
    private struct DepositTime {
        var bytes: [UInt8] = []

        /// Once per row: a plain copy, with no generic collection code.
        mutating func set(_ from: UnsafeBufferPointer<UInt8>) {
            if bytes.count != from.count { bytes = [UInt8](repeating: 0, count: from.count) }
            guard let base = from.baseAddress, from.count > 0 else { return }
            bytes.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: base, count: from.count) }
        }

        /// Whether `t` is earlier than this time, as SQLite's BINARY collation orders them
        /// (bytes, then length).
        func isAfter(_ t: UnsafeBufferPointer<UInt8>) -> Bool {
            bytes.withUnsafeBufferPointer { b in
                let common = min(b.count, t.count)
                let c = common == 0 ? 0 : Int(memcmp(t.baseAddress!, b.baseAddress!, common))
                return c != 0 ? c < 0 : t.count < b.count
            }
        }
    }

    /// The current row of a statement as a sink sees it: SQLite's buffers and the opened
    /// metadata, valid only while the sink takes it (the metadata is wiped after).
    struct SQLiteRow: ListedRow {
        let statement: OpaquePointer
        let id: UnsafeBufferPointer<UInt8>
        let depositedAt: UnsafeBufferPointer<UInt8>
        let kind: DocumentKind
        let metadata: OpenedMetadata?

        var language: UnsafeBufferPointer<UInt8> { text(2) }
        var size: UInt64 { UInt64(clamping: sqlite3_column_int64(statement, 3)) }
        var depositedBy: UnsafeBufferPointer<UInt8> { text(5) }
        var removedAt: UnsafeBufferPointer<UInt8>? { optionalText(7) }
        var removedBy: UnsafeBufferPointer<UInt8>? { optionalText(8) }

        /// Bytes of text column `c`; empty for NULL (the columns read this way are NOT NULL).
        func text(_ c: Int32) -> UnsafeBufferPointer<UInt8> { SQLiteListing.text(statement, c) }

        /// Bytes of text column `c`, or nil for NULL.
        func optionalText(_ c: Int32) -> UnsafeBufferPointer<UInt8>? {
            sqlite3_column_type(statement, c) == SQLITE_NULL ? nil : text(c)
        }
    }

    /// A column's or a field's bytes as a String.
    static func string(_ b: UnsafeBufferPointer<UInt8>) -> String { String(decoding: b, as: UTF8.self) }

    /// Bytes of text column `c` of the current row of `s`; empty for NULL.
    static func text(_ s: OpaquePointer, _ c: Int32) -> UnsafeBufferPointer<UInt8> {
        guard let p = sqlite3_column_text(s, c) else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(s, c)))
    }

    /// One core's reading of its statement's rows.
    private struct RowReader {
        var metadata: MetadataReader
        let kinds = DocumentKind.allCases.map { (bytes: Array($0.rawValue.utf8), kind: $0) }

        /// Steps `s` to the end, handing each kept row to `sink`.
        mutating func read<S: ListingSink>(_ s: OpaquePointer, into sink: inout S, share: inout Share, path: String) {
            var previous = DepositTime()
            while true {
                let rc = sqlite3_step(s)
                if rc == SQLITE_DONE { break }
                guard rc == SQLITE_ROW else {
                    let message = sqlite3_errmsg(sqlite3_db_handle(s)).map { String(cString: $0) }
                    share.failure = SQLiteStore.translate(DatabaseError(resultCode: ResultCode(rawValue: rc), message: message), path: path)
                    return
                }
                let time = text(s, 4), id = text(s, 0)
                if share.read {
                    if previous.isAfter(time) { share.inOrder = false }
                } else {
                    share.first.set(time)
                    share.read = true
                }
                previous.set(time)
                do throws(DossierError) {
                    try row(s, id: id, time: time, sink: &sink)
                } catch {
                    share.failure = error
                    return
                }
            }
            share.last = previous
        }

        /// Opens the current row's metadata through `metadata` (which checks the listing's
        /// condition) and hands the row to `sink` if it is kept.
        private mutating func row<S: ListingSink>(_ s: OpaquePointer, id: UnsafeBufferPointer<UInt8>, time: UnsafeBufferPointer<UInt8>,
                                                  sink: inout S) throws(DossierError) {
            let kindBytes = text(s, 1)
            guard let kind = kinds.first(where: { k in
                k.bytes.count == kindBytes.count && k.bytes.withUnsafeBytes { memcmp($0.baseAddress!, kindBytes.baseAddress!, kindBytes.count) == 0 }
            })?.kind else {
                throw .integrity("document \(string(id)) has an unknown kind")
            }
            guard sqlite3_column_type(s, 6) != SQLITE_NULL else {
                // Removed: no metadata, never matched by a condition on it.
                if metadata.keepsRemoved { sink.take(SQLiteRow(statement: s, id: id, depositedAt: time, kind: kind, metadata: nil)) }
                return
            }
            let sealed = UnsafeRawBufferPointer(start: sqlite3_column_blob(s, 6), count: Int(sqlite3_column_bytes(s, 6)))
            _ = try metadata.withOpened(sealed, id: id) { opened in
                sink.take(SQLiteRow(statement: s, id: id, depositedAt: time, kind: kind, metadata: opened))
            }
        }

    }
}
