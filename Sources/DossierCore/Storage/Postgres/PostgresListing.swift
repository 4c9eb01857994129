import DossierCrypto
import Foundation

/// A catalogue listing (`list`, `search`) in PostgreSQL: one query in the read transaction's
/// snapshot, sorted by the server in deposit order (deposit time, then insertion order,
/// `position`), its rows received one at a time (libpq's single-row mode) and their metadata
/// opened as they come, on one core. (The folder's listing reads on every core; here the
/// server does the reading, and a parallel version is future work: docs/performance.md.)
enum PostgresListing {
    static func read<S: ListingSink>(_ connection: PostgresConnection, query: ListingQuery, opener: MetadataOpener,
                                     sink: S) throws -> S {
        var sql = "SELECT id, kind, language, size, deposited_at, deposited_by, metadata_sealed, removed_at, removed_by FROM documents WHERE true"
        var parameters: [PostgresValue] = []
        if !query.includeRemoved || query.condition != nil { sql += " AND removed_at IS NULL" }
        if let kind = query.kind { parameters.append(.text(kind.rawValue)); sql += " AND kind = $\(parameters.count)" }
        if let language = query.language { parameters.append(.text(language)); sql += " AND language = $\(parameters.count)" }
        sql += " ORDER BY deposited_at COLLATE \"C\", position"

        var sink = sink
        var metadata = opener.reader()
        defer { metadata.close() }
        let kinds = DocumentKind.allCases.map { (bytes: Array($0.rawValue.utf8), kind: $0) }
        try connection.stream(sql, parameters) { r in
            let id = text(r, 0)
            let kindBytes = text(r, 1)
            guard let kind = kinds.first(where: { $0.bytes.elementsEqual(kindBytes) })?.kind else {
                throw DossierError.integrity("document \(String(decoding: id, as: UTF8.self)) has an unknown kind")
            }
            let row = { (opened: OpenedMetadata?) in
                PostgresRow(rows: r, id: id, kind: kind, depositedAt: text(r, 4), metadata: opened)
            }
            guard !r.isNull(0, 6) else {
                // Removed: no metadata, never matched by a condition on it.
                if metadata.keepsRemoved { sink.take(row(nil)) }
                return
            }
            _ = try metadata.withOpened(r.buffer(0, 6), id: id) { opened in sink.take(row(opened)) }
        }
        return sink
    }

    private static func text(_ r: PostgresRows, _ c: Int) -> UnsafeBufferPointer<UInt8> {
        let b = r.buffer(0, c)
        return UnsafeBufferPointer(start: b.baseAddress?.assumingMemoryBound(to: UInt8.self), count: b.count)
    }

    /// The current row as a sink sees it: libpq's buffers, valid while the sink takes it.
    private struct PostgresRow: ListedRow {
        let rows: PostgresRows
        let id: UnsafeBufferPointer<UInt8>
        let kind: DocumentKind
        let depositedAt: UnsafeBufferPointer<UInt8>
        let metadata: OpenedMetadata?

        var language: UnsafeBufferPointer<UInt8> { text(rows, 2) }
        var size: UInt64 { UInt64(clamping: rows.int(0, 3) ?? 0) }
        var depositedBy: UnsafeBufferPointer<UInt8> { text(rows, 5) }
        var removedAt: UnsafeBufferPointer<UInt8>? { rows.isNull(0, 7) ? nil : text(rows, 7) }
        var removedBy: UnsafeBufferPointer<UInt8>? { rows.isNull(0, 8) ? nil : text(rows, 8) }
    }
}
