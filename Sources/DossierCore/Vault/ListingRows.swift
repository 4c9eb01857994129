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
/// memory costs system calls per value, and the fields become Strings anyway), and a row that
/// a condition on its metadata rejects (search words, a case reference) never becomes a
/// `Document`.
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
/// Order. Rows are read in rowid order, which is deposit order unless clocks went back; each
/// core checks the order of the rows it reads, the seams between ranges are checked, and only
/// if one is out of order are the documents sorted by deposit time, then id, comparing bytes as
/// SQLite's `ORDER BY deposited_at, id` would.
enum ListingRows {
    /// The columns read, in this order.
    private static let columns = "id, kind, language, size, deposited_at, deposited_by, metadata_sealed, removed_at, removed_by"

    /// Below this size (about 1,500 documents) one connection reads faster than opening more.
    static let parallelDatabaseBytes = 512 * 1024

    /// The documents selected by `conditions` (SQL appended after `WHERE rowid BETWEEN ? AND ?`,
    /// with `arguments` for its `?`) and by `keep`, in deposit order. `connections` overrides
    /// how many connections read (tests); by default one per core for a large catalogue.
    static func documents(_ session: StaffSession, conditions: String, arguments: [DatabaseValueConvertible],
                          keep: MetadataCondition?, connections: Int? = nil, probe: Probe? = nil) throws(DossierError) -> [Document] {
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
            var plan = Plan(lo: lo, hi: hi, databaseBytes: max(pageBytes, fileBytes))
            if plan.sparse {
                // Rowids far apart (never written so by Dossier): size the buffer by counting.
                plan.capacity = try Int.fetchOne(db, sql: "SELECT count(*) FROM documents") ?? 0
            }
            var statements = [try statement(db, sql: sql, arguments: arguments)]
            try probe?.inSnapshot?()
            // Each extra connection joins if it sees the vault connection's snapshot.
            func join(_ i: Int) throws -> [Document] {
                guard i < extra.count, !plan.sparse else {
                    let shares = plan.split(statements.count)
                    probe?.readers?(shares.ranges.count)
                    return try read(statements: statements, plan: shares, session: session, keep: keep)
                }
                return try extra[i].queue.read { other in
                    guard try dataVersion(other) == extra[i].version else {
                        statements.removeSubrange(1...)   // a commit came between: the vault's connection alone
                        probe?.readers?(1)
                        return try read(statements: statements, plan: plan.split(1), session: session, keep: keep)
                    }
                    try other.execute(sql: mmap)
                    statements.append(try statement(other, sql: sql, arguments: arguments))
                    return try join(i + 1)
                }
            }
            return try join(0)
        }
    }

    /// Tests: `inSnapshot` runs once the vault's connection has its snapshot, before the extra
    /// connections take theirs; `readers` is told how many connections read.
    struct Probe {
        var inSnapshot: (() throws -> Void)?
        var readers: ((Int) -> Void)?
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

    /// Which rowids each connection reads, and where its documents go in the result.
    private struct Plan {
        let lo: Int64
        /// hi − lo, exact even if rowids span the whole Int64 range.
        let span: UInt64
        /// Room for every document read: one slot per rowid, or the row count if they are sparse.
        var capacity: Int
        let sparse: Bool
        /// Per connection: first and last rowid, and the offset of its slots.
        var ranges: [(first: Int64, last: Int64, offset: Int, capacity: Int)] = []

        init(lo: Int64, hi: Int64, databaseBytes: Int) {
            self.lo = lo
            span = UInt64(bitPattern: hi &- lo)
            // Dossier writes rowids one after another; far more rowids than the file could hold
            // rows (each row takes well over 16 bytes) means they were written otherwise.
            sparse = span >= UInt64(max(databaseBytes / 16, 4096))
            capacity = sparse ? 0 : Int(span) + 1
        }

        /// Consecutive ranges of about equal size for `n` connections (one if sparse).
        func split(_ n: Int) -> Plan {
            var plan = self
            let n = sparse ? 1 : max(1, min(n, capacity))
            let cut = { (k: Int) -> UInt64 in (span / UInt64(n)) * UInt64(k) + (span % UInt64(n) + 1) * UInt64(k) / UInt64(n) }
            plan.ranges = (0..<n).map { k in
                let from = k == 0 ? 0 : cut(k) + 1, to = k == n - 1 ? span : cut(k + 1)
                let rowid = { (o: UInt64) in Int64(bitPattern: UInt64(bitPattern: lo) &+ o) }
                return (rowid(from), rowid(to), sparse ? 0 : Int(from), sparse ? capacity : Int(to - from) + 1)
            }
            return plan
        }
    }

    /// What one connection read: its documents are slots `offset ..< offset + count`.
    private struct Share {
        var count = 0
        var failure: DossierError?
        var inOrder = true
        /// Whether any row was read, and the first and last (kept or not).
        var read = false
        var first = DepositKey(), last = DepositKey()
    }

    /// Runs every statement over its range, on its own core, then joins the shares in order.
    private static func read(statements: [Statement], plan: Plan, session: StaffSession, keep: MetadataCondition?) throws -> [Document] {
        let vaultKey = session.vaultKey
        let path = session.vault.path
        var shares = [Share](repeating: Share(), count: plan.ranges.count)
        var failure: DossierError?
        var docs = [Document](unsafeUninitializedCapacity: max(plan.capacity, 1)) { out, initialized in
            for (s, r) in zip(statements, plan.ranges) {
                sqlite3_bind_int64(s.sqliteStatement, 1, r.first)
                sqlite3_bind_int64(s.sqliteStatement, 2, r.last)
            }
            shares.withUnsafeMutableBufferPointer { shares in
                // Each iteration uses only its own statement, connection, slots and share.
                nonisolated(unsafe) let (shares, out) = (shares, out)
                let handles = statements.map { UncheckedStatement(pointer: $0.sqliteStatement) }
                DispatchQueue.concurrentPerform(iterations: plan.ranges.count) { w in
                    var reader = RowReader(vaultKey: vaultKey, keep: keep)
                    let r = plan.ranges[w]
                    reader.read(handles[w].pointer, into: out.baseAddress! + r.offset, capacity: r.capacity, share: &shares[w], path: path)
                    reader.wipe()
                }
            }
            // Close the gaps between shares; on failure, release everything made.
            var total = 0
            for (share, r) in zip(shares, plan.ranges) {
                if failure == nil, let f = share.failure { failure = f }
                if total != r.offset { (out.baseAddress! + total).moveInitialize(from: out.baseAddress! + r.offset, count: share.count) }
                total += share.count
            }
            if failure != nil { out.baseAddress!.deinitialize(count: total); total = 0 }
            initialized = total
        }
        for s in statements { sqlite3_reset(s.sqliteStatement) }
        if let failure { throw failure }
        let read = shares.filter(\.read)
        let ordered = read.allSatisfy(\.inOrder) && zip(read, read.dropFirst()).allSatisfy { !$1.first.precedes($0.last) }
        if !ordered {
            docs.sort { a, b in
                a.depositedAt.utf8.elementsEqual(b.depositedAt.utf8)
                    ? a.id.utf8.lexicographicallyPrecedes(b.id.utf8) : a.depositedAt.utf8.lexicographicallyPrecedes(b.depositedAt.utf8)
            }
        }
        // A search keeps few of many slots: give the rest back.
        if docs.count < docs.capacity / 2 && docs.capacity > 1024 { docs = docs.withUnsafeBufferPointer { Array($0) } }
        return docs
    }

    /// A statement pointer handed to one worker while its connection waits in its transaction.
    private struct UncheckedStatement: @unchecked Sendable { let pointer: OpaquePointer }

    /// Deposit time and id of a row, copied (SQLite's buffers change at every step).
    private struct DepositKey {
        var time: [UInt8] = []
        var id: [UInt8] = []

        mutating func set(time t: UnsafeBufferPointer<UInt8>, id i: UnsafeBufferPointer<UInt8>) {
            Self.copy(t, to: &time)
            Self.copy(i, to: &id)
        }

        /// Once per row: a plain copy, with no generic collection code.
        private static func copy(_ from: UnsafeBufferPointer<UInt8>, to: inout [UInt8]) {
            if to.count != from.count { to = [UInt8](repeating: 0, count: from.count) }
            guard let base = from.baseAddress, from.count > 0 else { return }
            to.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: base, count: from.count) }
        }

        /// `ORDER BY deposited_at, id` with SQLite's BINARY collation: bytes, then length.
        func precedes(_ other: DepositKey) -> Bool {
            time.withUnsafeBufferPointer { t in id.withUnsafeBufferPointer { i in other.comesAfter(time: t, id: i) } }
        }

        /// Whether a row with `time` and `id` comes before this one.
        func comesAfter(time t: UnsafeBufferPointer<UInt8>, id i: UnsafeBufferPointer<UInt8>) -> Bool {
            time.withUnsafeBufferPointer { mt in id.withUnsafeBufferPointer { mi in Self.precedes(t, i, mt, mi) } }
        }

        static func precedes(_ t: UnsafeBufferPointer<UInt8>, _ i: UnsafeBufferPointer<UInt8>,
                             _ ot: UnsafeBufferPointer<UInt8>, _ oi: UnsafeBufferPointer<UInt8>) -> Bool {
            let byTime = compare(t, ot)
            return byTime != 0 ? byTime < 0 : compare(i, oi) < 0
        }

        private static func compare(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Int {
            let common = min(x.count, y.count)
            let c = common == 0 ? 0 : Int(memcmp(x.baseAddress!, y.baseAddress!, common))
            return c != 0 ? c : x.count - y.count
        }
    }

    /// One core's reading: its scratch buffers, and the strings it has already made for
    /// repeated values (one staff member deposits thousands of documents).
    private struct RowReader {
        let vaultKey: SecureBytes
        var keep: MetadataCondition?
        var ad = Array("dossier/\(Sealing.Purpose.metadata.rawValue)/v1\n".utf8)
        let prefix: Int
        var plain = [UInt8](repeating: 0, count: 4096)
        var recent: [(bytes: [UInt8], string: String)] = []
        let kinds = DocumentKind.allCases.map { (bytes: Array($0.rawValue.utf8), kind: $0) }

        init(vaultKey: SecureBytes, keep: MetadataCondition?) {
            self.vaultKey = vaultKey
            self.keep = keep
            prefix = ad.count
        }

        mutating func wipe() {
            plain.withUnsafeMutableBytes { secureZero($0) }
            keep?.wipe()
        }

        /// Steps `s` to the end, writing each kept document to the next of `capacity` slots.
        mutating func read(_ s: OpaquePointer, into out: UnsafeMutablePointer<Document>, capacity: Int, share: inout Share, path: String) {
            var previous = DepositKey()
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
                    if previous.comesAfter(time: time, id: id) { share.inOrder = false }
                } else {
                    share.first.set(time: time, id: id)
                    share.read = true
                }
                previous.set(time: time, id: id)
                do throws(DossierError) {
                    guard let doc = try document(s, id: id, time: time) else { continue }
                    guard share.count < capacity else {
                        throw .integrity("the catalogue has more rows than rowids in \(path)/\(Vault.databaseName)")
                    }
                    (out + share.count).initialize(to: doc)
                    share.count += 1
                } catch {
                    share.failure = error
                    return
                }
            }
            share.last = previous
        }

        /// Bytes of text column `c`; empty for NULL (the columns read this way are NOT NULL).
        private func text(_ s: OpaquePointer, _ c: Int32) -> UnsafeBufferPointer<UInt8> {
            guard let p = sqlite3_column_text(s, c) else { return UnsafeBufferPointer(start: nil, count: 0) }
            return UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(s, c)))
        }

        /// Bytes of text column `c`, or nil for NULL.
        private func optionalText(_ s: OpaquePointer, _ c: Int32) -> UnsafeBufferPointer<UInt8>? {
            sqlite3_column_type(s, c) == SQLITE_NULL ? nil : text(s, c)
        }

        private func string(_ b: UnsafeBufferPointer<UInt8>) -> String { String(decoding: b, as: UTF8.self) }

        /// A string for a value that repeats across rows (staff fingerprint, language, removal time).
        private mutating func shared(_ b: UnsafeBufferPointer<UInt8>) -> String {
            if b.count <= 15 { return string(b) }   // small strings are stored inline anyway
            if let known = recent.first(where: { r in r.bytes.count == b.count && r.bytes.withUnsafeBytes { memcmp($0.baseAddress!, b.baseAddress!, b.count) == 0 } }) {
                return known.string
            }
            let s = string(b)
            if recent.count < 16 { recent.append((Array(b), s)) }
            return s
        }

        /// The document of the current row of `s`, or nil if `keep` rejects it.
        private mutating func document(_ s: OpaquePointer, id: UnsafeBufferPointer<UInt8>, time: UnsafeBufferPointer<UInt8>) throws(DossierError) -> Document? {
            let kindBytes = text(s, 1)
            guard let kind = kinds.first(where: { k in
                k.bytes.count == kindBytes.count && k.bytes.withUnsafeBytes { memcmp($0.baseAddress!, kindBytes.baseAddress!, kindBytes.count) == 0 }
            })?.kind else {
                throw .integrity("document \(string(id)) has an unknown kind")
            }
            var meta: DocumentMetadata?
            if sqlite3_column_type(s, 6) != SQLITE_NULL {
                let sealed = UnsafeRawBufferPointer(start: sqlite3_column_blob(s, 6), count: Int(sqlite3_column_bytes(s, 6)))
                guard let opened = try open(sealed, id: id) else { return nil }
                meta = opened
            }
            if keep != nil {
                guard let meta, keep!.accepts(meta) else { return nil }
            }
            return Document(id: string(id), kind: kind, language: shared(text(s, 2)), size: UInt64(clamping: sqlite3_column_int64(s, 3)),
                            depositedAt: string(time), depositedBy: shared(text(s, 5)),
                            metadata: meta, removedAt: optionalText(s, 7).map(string), removedBy: optionalText(s, 8).map { shared($0) })
        }

        /// Opens one sealed metadata value (associated data: purpose `metadata`, the id); nil
        /// if `keep` rejects its plaintext before it is decoded.
        private mutating func open(_ sealed: UnsafeRawBufferPointer, id: UnsafeBufferPointer<UInt8>) throws(DossierError) -> DocumentMetadata? {
            ad.removeSubrange(prefix...)
            ad.append(contentsOf: id)
            let n = sealed.count - AEAD.nonceBytes - AEAD.tagBytes
            if plain.count < max(n, 0) {
                wipe()
                plain = [UInt8](repeating: 0, count: n)
            }
            var authentic = false, rejected = false
            let key = vaultKey
            let meta = plain.withUnsafeMutableBytes { p -> DocumentMetadata? in
                guard n >= 0 else { return nil }
                let target = UnsafeMutableRawBufferPointer(rebasing: p[0..<n])
                defer { secureZero(target) }
                authentic = ad.withUnsafeBytes { a in AEAD.open(sealed, key: key, additionalData: a, into: target) }
                guard authentic else { return nil }
                if keep?.rejects(encoded: UnsafeRawBufferPointer(target)) == true {
                    rejected = true
                    return nil
                }
                return DocumentMetadata.decode(UnsafeRawBufferPointer(target))
            }
            if rejected { return nil }
            guard authentic else {
                throw .integrity("the sealed metadata of \(string(id)) does not authenticate under the vault key (altered or swapped)")
            }
            guard let meta else { throw .integrity("the metadata of \(string(id)) is unreadable") }
            return meta
        }
    }
}

/// What a listing asks of a document's metadata, checked on the core that opens it; a removed
/// document (no metadata) never matches.
struct MetadataCondition: Sendable {
    /// The whole case reference, if given.
    var caseReference: String?
    /// Words that must all occur, if given.
    var words: DocumentMetadata.Matcher?

    /// Whether the words are surely missing from metadata in its sealed (binary) form, so that
    /// it need not be decoded; false when only `accepts` can tell.
    mutating func rejects(encoded: UnsafeRawBufferPointer) -> Bool {
        words?.matches(encoded: encoded) == false
    }

    /// Zeroes what the word matching kept of the last document it saw.
    mutating func wipe() { words?.wipe() }

    mutating func accepts(_ m: DocumentMetadata) -> Bool {
        if let caseReference, m.caseReference != caseReference { return false }
        if words != nil { return words!.matches(m) }
        return true
    }
}
