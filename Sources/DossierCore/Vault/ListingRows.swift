import Dispatch
import DossierCrypto
import Foundation
import GRDB
internal import GRDBSQLite

/// A catalogue listing (`list`, `search`): the documents' rows read and their metadata opened
/// on all cores, each core reading its own range of rowids on its own SQLite connection.
///
/// For 100,000 documents SQLite's row loop alone took as long as opening every document's
/// metadata on one core, so reading is shared too, not only opening. Each core opens the rows
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
/// What a core makes of each row is its sink's business: a `Document` (`list`, `search`), or
/// the caller's own part through `listRows` (the `list` command's table, without a Document
/// per row).
enum ListingRows {
    /// The columns read, in this order.
    private static let columns = "id, kind, language, size, deposited_at, deposited_by, metadata_sealed, removed_at, removed_by"

    /// Below this size (about 1,500 documents) one connection reads faster than opening more.
    static let parallelDatabaseBytes = 512 * 1024

    /// What one core makes of the rows it reads (documents, or the caller's parts).
    protocol Sink: SendableMetatype {
        /// Takes a row that was kept; its buffers are valid only during the call.
        mutating func take(_ row: RawRow)
    }

    /// The rows selected by `conditions` (SQL appended after `WHERE rowid BETWEEN ? AND ?`, with
    /// `arguments` for its `?`) and by `keep`, given in deposit order to the sinks made by
    /// `sink` (one per connection), which come back in order: their concatenation is the
    /// listing. `connections` overrides how many connections read (tests); by default one per
    /// core for a large catalogue.
    static func read<S: Sink>(_ session: StaffSession, conditions: String, arguments: [DatabaseValueConvertible],
                              keep: MetadataCondition?, connections: Int? = nil, probe: Probe? = nil,
                              sink: () -> S) throws(DossierError) -> [S] {
        let vault = session.vault
        let databasePath = vault.path + "/" + Vault.databaseName
        let fileBytes = ((try? FileManager.default.attributesOfItem(atPath: databasePath))?[.size] as? NSNumber)?.intValue ?? 0
        let wanted = connections ?? (fileBytes < parallelDatabaseBytes ? 1 : min(ProcessInfo.processInfo.activeProcessorCount, 8))
        // Extra connections and their first `data_version`, read before the snapshot below.
        var extra: [(queue: DatabaseQueue, version: Int64)] = []
        while extra.count < wanted - 1, let queue = try? vault.openReader(),
              let version = try? queue.read({ db in try dataVersion(db) }) {
            extra.append((queue, version))
        }
        let sql = "SELECT \(columns) FROM documents WHERE rowid BETWEEN ? AND ?\(conditions)"
        return try session.read { db in
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
                    return try readAll(statements: statements, ranges: ranges, session: session, keep: keep, sink: sink)
                }
                return try extra[i].queue.read { other in
                    guard try dataVersion(other) == extra[i].version else {
                        statements.removeSubrange(1...)   // a commit came between: the vault's connection alone
                        probe?.readers?(1)
                        return try readAll(statements: statements, ranges: rowids.split(1), session: session, keep: keep, sink: sink)
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
            return try readAll(statements: [sorted], ranges: rowids.split(1), session: session, keep: keep, sink: sink).sinks
        }
    }

    /// Tests: `inSnapshot` runs once the vault's connection has its snapshot, before the extra
    /// connections take theirs; `readers` is told how many connections read; `beforeSorting`
    /// runs if the rows were out of order, before they are read again sorted.
    struct Probe {
        var inSnapshot: (() throws -> Void)?
        var readers: ((Int) -> Void)?
        var beforeSorting: (() throws -> Void)?
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
    private static func readAll<S: Sink>(statements: [Statement], ranges: [ClosedRange<Int64>], session: StaffSession,
                                         keep: MetadataCondition?, sink: () -> S) throws(DossierError) -> (sinks: [S], ordered: Bool) {
        let vaultKey = session.vaultKey
        let path = session.vault.path
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
                    var reader = RowReader(vaultKey: vaultKey, keep: keep)
                    reader.read(handles[w].pointer, into: &sinks[w], share: &shares[w], path: path)
                    reader.close()
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
    struct RawRow {
        let statement: OpaquePointer
        let id: UnsafeBufferPointer<UInt8>
        let depositedAt: UnsafeBufferPointer<UInt8>
        let kind: DocumentKind
        /// The opened metadata, nil for a removed document.
        let plain: UnsafeRawBufferPointer?
        /// Where the fields of `plain` are, for the binary form.
        let fields: DocumentMetadata.Fields?
        /// The JSON form of older vaults, decoded.
        let legacy: DocumentMetadata?

        var language: UnsafeBufferPointer<UInt8> { text(2) }
        var size: UInt64 { UInt64(clamping: sqlite3_column_int64(statement, 3)) }
        var depositedBy: UnsafeBufferPointer<UInt8> { text(5) }
        var removedAt: UnsafeBufferPointer<UInt8>? { optionalText(7) }
        var removedBy: UnsafeBufferPointer<UInt8>? { optionalText(8) }

        /// The metadata, decoded (nil for a removed document).
        func metadata() -> DocumentMetadata? {
            if let legacy { return legacy }
            guard let plain, let fields else { return nil }
            return DocumentMetadata.decode(plain, fields)
        }

        /// The title's UTF-8, nil for a removed document or the JSON form.
        var binaryTitle: UnsafeBufferPointer<UInt8>? {
            guard let plain, let fields else { return nil }
            return UnsafeRawBufferPointer(rebasing: plain[fields.title]).assumingMemoryBound(to: UInt8.self)
        }

        /// Bytes of text column `c`; empty for NULL (the columns read this way are NOT NULL).
        func text(_ c: Int32) -> UnsafeBufferPointer<UInt8> { ListingRows.text(statement, c) }

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

    /// One core's reading: its scratch buffer for opened metadata, zeroed after every row and
    /// freed by `close`.
    private struct RowReader {
        let vaultKey: SecureBytes
        var keep: MetadataCondition?
        var ad = Array("dossier/\(Sealing.Purpose.metadata.rawValue)/v1\n".utf8)
        let prefix: Int
        var plain = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 4096)
        let kinds = DocumentKind.allCases.map { (bytes: Array($0.rawValue.utf8), kind: $0) }

        init(vaultKey: SecureBytes, keep: MetadataCondition?) {
            self.vaultKey = vaultKey
            self.keep = keep
            prefix = ad.count
        }

        /// Zeroes and frees the scratch buffer and what the condition kept.
        mutating func close() {
            secureZero(UnsafeMutableRawBufferPointer(plain))
            plain.deallocate()
            plain = UnsafeMutableBufferPointer(start: nil, count: 0)
            keep?.wipe()
        }

        /// Steps `s` to the end, handing each kept row to `sink`.
        mutating func read<S: Sink>(_ s: OpaquePointer, into sink: inout S, share: inout Share, path: String) {
            var previous = DepositTime()
            while true {
                let rc = sqlite3_step(s)
                if rc == SQLITE_DONE { break }
                guard rc == SQLITE_ROW else {
                    let message = sqlite3_errmsg(sqlite3_db_handle(s)).map { String(cString: $0) }
                    share.failure = Vault.translate(DatabaseError(resultCode: ResultCode(rawValue: rc), message: message), path: path)
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

        /// Opens the current row's metadata, checks it against `keep` and hands the row to `sink`.
        private mutating func row<S: Sink>(_ s: OpaquePointer, id: UnsafeBufferPointer<UInt8>, time: UnsafeBufferPointer<UInt8>,
                                           sink: inout S) throws(DossierError) {
            let kindBytes = text(s, 1)
            guard let kind = kinds.first(where: { k in
                k.bytes.count == kindBytes.count && k.bytes.withUnsafeBytes { memcmp($0.baseAddress!, kindBytes.baseAddress!, kindBytes.count) == 0 }
            })?.kind else {
                throw .integrity("document \(string(id)) has an unknown kind")
            }
            guard sqlite3_column_type(s, 6) != SQLITE_NULL else {
                // Removed: no metadata, never matched by a condition on it.
                if keep == nil { sink.take(RawRow(statement: s, id: id, depositedAt: time, kind: kind, plain: nil, fields: nil, legacy: nil)) }
                return
            }
            let sealed = UnsafeRawBufferPointer(start: sqlite3_column_blob(s, 6), count: Int(sqlite3_column_bytes(s, 6)))
            let n = sealed.count - AEAD.nonceBytes - AEAD.tagBytes
            guard n >= 0 else { throw notAuthentic(id) }
            if plain.count < n {
                secureZero(UnsafeMutableRawBufferPointer(plain))
                plain.deallocate()
                plain = .allocate(capacity: n)
            }
            let target = UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: plain[0..<n]))
            defer { secureZero(target) }
            ad.removeSubrange(prefix...)
            ad.append(contentsOf: id)
            let key = vaultKey
            guard ad.withUnsafeBytes({ a in AEAD.open(sealed, key: key, additionalData: a, into: target) }) else { throw notAuthentic(id) }
            let opened = UnsafeRawBufferPointer(target)
            var fields: DocumentMetadata.Fields?, legacy: DocumentMetadata?
            if opened.first == UInt8(ascii: "{") {
                legacy = DocumentMetadata.decode(opened)
            } else {
                fields = DocumentMetadata.Fields(opened)
            }
            guard fields != nil || legacy != nil else { throw .integrity("the metadata of \(string(id)) is unreadable") }
            if keep != nil, !keep!.accepts(opened, fields, legacy) { return }
            sink.take(RawRow(statement: s, id: id, depositedAt: time, kind: kind, plain: opened, fields: fields, legacy: legacy))
        }

        private func notAuthentic(_ id: UnsafeBufferPointer<UInt8>) -> DossierError {
            .integrity("the sealed metadata of \(string(id)) does not authenticate under the vault key (altered or swapped)")
        }

    }

    /// Makes a `Document` of each row, with one string for each value that repeats across rows
    /// (one staff member deposits thousands of documents).
    struct DocumentSink: Sink {
        var documents: [Document] = []
        private var recent: [(bytes: [UInt8], string: String)] = []

        mutating func take(_ r: RawRow) {
            documents.append(Document(id: string(r.id), kind: r.kind, language: shared(r.language), size: r.size,
                                      depositedAt: string(r.depositedAt), depositedBy: shared(r.depositedBy), metadata: r.metadata(),
                                      removedAt: r.removedAt.map(string), removedBy: r.removedBy.map { shared($0) }))
        }


        private mutating func shared(_ b: UnsafeBufferPointer<UInt8>) -> String {
            if b.count <= 15 { return string(b) }   // small strings are stored inline anyway
            if let known = recent.first(where: { r in r.bytes.count == b.count && r.bytes.withUnsafeBytes { memcmp($0.baseAddress!, b.baseAddress!, b.count) == 0 } }) {
                return known.string
            }
            let s = string(b)
            if recent.count < 16 { recent.append((Array(b), s)) }
            return s
        }
    }

    /// The documents selected, in deposit order (see `read`).
    static func documents(_ session: StaffSession, conditions: String, arguments: [DatabaseValueConvertible],
                          keep: MetadataCondition?, connections: Int? = nil, probe: Probe? = nil) throws(DossierError) -> [Document] {
        let sinks = try read(session, conditions: conditions, arguments: arguments, keep: keep, connections: connections,
                             probe: probe, sink: { DocumentSink() })
        return sinks.count == 1 ? sinks[0].documents : sinks.flatMap(\.documents)
    }
}

/// What a listing asks of a document's metadata, checked on the core that opens it; a removed
/// document (no metadata) never matches.
struct MetadataCondition: Sendable {
    /// The whole case reference, if given.
    var caseReference: String?
    /// Words that must all occur, if given.
    var words: DocumentMetadata.Matcher?

    /// Zeroes what the word matching kept of the last document it saw.
    mutating func wipe() { words?.wipe() }

    /// Whether opened metadata is kept: `plain` with its `fields` (binary form), or `legacy`
    /// (the JSON form, decoded). The binary form is matched on its bytes where that gives the
    /// answer `matches` would; otherwise it is decoded first.
    mutating func accepts(_ plain: UnsafeRawBufferPointer, _ fields: DocumentMetadata.Fields?, _ legacy: DocumentMetadata?) -> Bool {
        guard let fields else { return legacy.map { accepts($0) } ?? false }
        if let caseReference {
            guard let r = fields.caseReference else { return false }
            let bytes = UnsafeRawBufferPointer(rebasing: plain[r])
            // Bytes decide for ASCII; otherwise Strings, which compare canonically equivalent forms equal.
            if !bytes.elementsEqual(caseReference.utf8) {
                if bytes.allSatisfy({ $0 < 0x80 }) && caseReference.utf8.allSatisfy({ $0 < 0x80 }) { return false }
                if String(decoding: bytes, as: UTF8.self) != caseReference { return false }
            }
        }
        guard words != nil else { return true }
        if let answer = words!.matches(encoded: plain, fields) { return answer }
        return words!.matches(DocumentMetadata.decode(plain, fields))
    }

    mutating func accepts(_ m: DocumentMetadata) -> Bool {
        if let caseReference, m.caseReference != caseReference { return false }
        if words != nil { return words!.matches(m) }
        return true
    }
}
