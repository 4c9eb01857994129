import Dispatch
import DossierCrypto
import Foundation
import GRDB
internal import GRDBSQLite

/// The rows of a catalogue listing, read as bytes, then made into documents on all cores.
///
/// `list` and `search` open the metadata of every document: for 100,000 documents, building
/// Strings and Data per column one row at a time cost more than SQLite and the cipher. So the
/// SQLite loop only copies each row's bytes into one buffer; ordering compares bytes, as
/// SQLite's `ORDER BY` would; and each core then builds the documents of its share and opens
/// their metadata, into plain buffers wiped after use (guarded memory costs system calls per
/// value, and the fields become Strings anyway).
struct ListingRows {
    /// The columns of `sql`, in this order.
    static let columns = "id, kind, language, size, deposited_at, deposited_by, metadata_sealed, removed_at, removed_by"
    private static let textColumns: [Int32] = [0, 1, 2, 4, 5, 6, 7, 8]   // 6 is the sealed blob
    private static let fieldsPerRow = 8

    /// Every row's column bytes, one after the other.
    private var bytes: [UInt8] = []
    /// Per row, per column of `textColumns`: start and length in `bytes` (length −1: NULL).
    private var fields: [Int32] = []
    private var sizes: [Int64] = []
    /// Row numbers in listing order: deposit time, then id.
    private var order: [Int] = []

    var count: Int { sizes.count }

    /// Runs `sql` (a `SELECT` of `columns`) and keeps its rows in deposit order.
    init(_ db: Database, sql: String, arguments: StatementArguments) throws {
        // Room for the whole database: untouched pages cost nothing, while growing a buffer of
        // 40 MB by doubling copies it and touches twice the memory.
        let databaseBytes = (try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0) * (try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0)
        // Read the file through a mapping rather than one system call per 4 KiB page.
        try db.execute(sql: "PRAGMA mmap_size = \(max(databaseBytes, 1 << 20))")
        bytes.reserveCapacity(databaseBytes)
        fields.reserveCapacity(databaseBytes / 100 * Self.fieldsPerRow * 2)
        sizes.reserveCapacity(databaseBytes / 100)
        let statement = try db.makeStatement(sql: sql)
        statement.arguments = arguments
        let s = statement.sqliteStatement
        let rows = try Row.fetchCursor(statement)
        while try rows.next() != nil {
            for c in Self.textColumns {
                let start = bytes.count
                let n = Int(sqlite3_column_bytes(s, c))
                guard bytes.count <= Int(Int32.max) - n else { throw DossierError.invalidArgument("the catalogue is too large to list at once") }
                if let p = c == 6 ? sqlite3_column_blob(s, c) : UnsafeRawPointer(sqlite3_column_text(s, c)) {
                    bytes.append(contentsOf: UnsafeRawBufferPointer(start: p, count: n))
                    fields.append(Int32(start)); fields.append(Int32(n))
                } else {
                    fields.append(Int32(start)); fields.append(sqlite3_column_type(s, c) == SQLITE_NULL ? -1 : 0)
                }
            }
            sizes.append(sqlite3_column_int64(s, 3))
        }
        // Table order is deposit order unless clocks went back: one pass checks it, and only
        // then are rows sorted (SQLite would copy every row to sort it).
        order = Array(0..<sizes.count)
        if order.dropFirst().contains(where: { !precedes($0 - 1, $0) }) { order.sort(by: precedes) }
    }

    /// Bytes of column `k` (index into `textColumns`) of row `r`; nil for NULL.
    private func field(_ r: Int, _ k: Int, _ b: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8>? {
        let start = Int(fields[(r * Self.fieldsPerRow + k) * 2]), n = Int(fields[(r * Self.fieldsPerRow + k) * 2 + 1])
        return n < 0 ? nil : UnsafeBufferPointer(rebasing: b[start..<start + n])
    }

    /// `ORDER BY deposited_at, id` with SQLite's BINARY collation: bytes, then length.
    private func precedes(_ a: Int, _ b: Int) -> Bool {
        bytes.withUnsafeBufferPointer { all in
            func compare(_ k: Int) -> Int {
                let x = field(a, k, all) ?? UnsafeBufferPointer(start: nil, count: 0)
                let y = field(b, k, all) ?? UnsafeBufferPointer(start: nil, count: 0)
                let common = min(x.count, y.count)
                let c = common == 0 ? 0 : Int(memcmp(x.baseAddress!, y.baseAddress!, common))
                return c != 0 ? c : x.count - y.count
            }
            let byTime = compare(3)   // deposited_at
            return byTime != 0 ? byTime < 0 : compare(0) < 0   // then id
        }
    }

    /// The documents, in order, their metadata opened with `vaultKey` on all cores.
    func documents(vaultKey: SecureBytes) throws(DossierError) -> [Document] {
        let count = self.count
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, count / 512))
        var failures = [(index: Int, error: DossierError)?](repeating: nil, count: workers)
        let docs = bytes.withUnsafeBufferPointer { all in
            failures.withUnsafeMutableBufferPointer { f in
                [Document](unsafeUninitializedCapacity: count) { out, initialized in
                    nonisolated(unsafe) let (all, out, f) = (all, out, f)
                    DispatchQueue.concurrentPerform(iterations: workers) { w in
                        var maker = DocumentMaker(rows: self, bytes: all, vaultKey: vaultKey)
                        for i in count * w / workers..<count * (w + 1) / workers {
                            let doc: Document
                            do throws(DossierError) {
                                doc = try maker.document(order[i])
                            } catch {
                                if f[w] == nil { f[w] = (i, error) }
                                doc = Document(id: "", kind: .supportingMaterial, language: "", size: 0, depositedAt: "", depositedBy: "",
                                               metadata: nil, removedAt: nil, removedBy: nil)
                            }
                            (out.baseAddress! + i).initialize(to: doc)
                        }
                        maker.wipe()
                    }
                    initialized = count
                }
            }
        }
        if let first = failures.compactMap({ $0 }).min(by: { $0.index < $1.index }) { throw first.error }
        return docs
    }

    /// One core's share of `documents`: its scratch buffers, and the strings it has already
    /// made for repeated values (one staff member deposits thousands of documents).
    private struct DocumentMaker {
        let rows: ListingRows
        let bytes: UnsafeBufferPointer<UInt8>
        let vaultKey: SecureBytes
        var ad = Array("dossier/\(Sealing.Purpose.metadata.rawValue)/v1\n".utf8)
        let prefix: Int
        var plain = [UInt8](repeating: 0, count: 4096)
        var recent: [(bytes: [UInt8], string: String)] = []

        init(rows: ListingRows, bytes: UnsafeBufferPointer<UInt8>, vaultKey: SecureBytes) {
            self.rows = rows
            self.bytes = bytes
            self.vaultKey = vaultKey
            prefix = ad.count
        }

        mutating func wipe() { plain.withUnsafeMutableBytes { secureZero($0) } }

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

        mutating func document(_ r: Int) throws(DossierError) -> Document {
            let none = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
            let id = string(rows.field(r, 0, bytes) ?? none)
            guard let kind = DocumentKind(rawValue: string(rows.field(r, 1, bytes) ?? none)) else {
                throw .integrity("document \(id) has an unknown kind")
            }
            var meta: DocumentMetadata?
            if let sealed = rows.field(r, 5, bytes) {
                meta = try open(UnsafeRawBufferPointer(sealed), id: id)
            }
            return Document(id: id, kind: kind, language: shared(rows.field(r, 2, bytes) ?? none), size: UInt64(clamping: rows.sizes[r]),
                            depositedAt: string(rows.field(r, 3, bytes) ?? none), depositedBy: shared(rows.field(r, 4, bytes) ?? none),
                            metadata: meta, removedAt: rows.field(r, 6, bytes).map(string), removedBy: rows.field(r, 7, bytes).map { shared($0) })
        }

        /// Opens one sealed metadata value (associated data: purpose `metadata`, the id).
        private mutating func open(_ sealed: UnsafeRawBufferPointer, id: String) throws(DossierError) -> DocumentMetadata {
            ad.removeSubrange(prefix...)
            var id = id
            id.withUTF8 { ad.append(contentsOf: $0) }
            let n = sealed.count - AEAD.nonceBytes - AEAD.tagBytes
            if plain.count < max(n, 0) {
                wipe()
                plain = [UInt8](repeating: 0, count: n)
            }
            var authentic = false
            let key = vaultKey
            let meta = plain.withUnsafeMutableBytes { p -> DocumentMetadata? in
                guard n >= 0 else { return nil }
                let target = UnsafeMutableRawBufferPointer(rebasing: p[0..<n])
                defer { secureZero(target) }
                authentic = ad.withUnsafeBytes { a in AEAD.open(sealed, key: key, additionalData: a, into: target) }
                return authentic ? DocumentMetadata.decode(UnsafeRawBufferPointer(target)) : nil
            }
            guard authentic else { throw .integrity("the sealed metadata of \(id) does not authenticate under the vault key (altered or swapped)") }
            guard let meta else { throw .integrity("the metadata of \(id) is unreadable") }
            return meta
        }
    }
}
