import DossierCrypto
import Foundation

/// A catalogue listing (`list`, `search`) in PostgreSQL: one query in the read transaction's
/// snapshot, in deposit order (deposit time, then insertion order, `position`: the index
/// `documents_order`), read through a cursor `batch` rows per round trip, their metadata
/// opened as they come, on one core. Batches keep memory bounded whatever the catalogue's size,
/// and cost one result per batch where single-row mode cost one per row. (The folder's listing
/// reads on every core; here the server does the reading: docs/performance.md.)
enum PostgresListing {
    /// Rows per FETCH: about 0.6 MiB of results for typical rows.
    static let batch = 2000

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
        // A cursor in the caller's read transaction (its snapshot), closed at its end.
        try connection.query("DECLARE dossier_listing NO SCROLL CURSOR FOR " + sql, parameters)
        defer { try? connection.execute("CLOSE dossier_listing") }
        while true {
            let r = try connection.query("FETCH \(batch) FROM dossier_listing")
            for i in 0..<r.count {
                let id = text(r, i, 0)
                let kindBytes = text(r, i, 1)
                guard let kind = kinds.first(where: { $0.bytes.elementsEqual(kindBytes) })?.kind else {
                    throw DossierError.integrity("document \(String(decoding: id, as: UTF8.self)) has an unknown kind")
                }
                let row = { (opened: OpenedMetadata?) in
                    PostgresRow(rows: r, row: i, id: id, kind: kind, depositedAt: text(r, i, 4), metadata: opened)
                }
                guard !r.isNull(i, 6) else {
                    // Removed: no metadata, never matched by a condition on it.
                    if metadata.keepsRemoved { sink.take(row(nil)) }
                    continue
                }
                _ = try metadata.withOpened(r.buffer(i, 6), id: id) { opened in sink.take(row(opened)) }
            }
            if r.count < batch { break }
        }
        return sink
    }

    private static func text(_ r: PostgresRows, _ i: Int, _ c: Int) -> UnsafeBufferPointer<UInt8> {
        let b = r.buffer(i, c)
        return UnsafeBufferPointer(start: b.baseAddress?.assumingMemoryBound(to: UInt8.self), count: b.count)
    }

    /// The current row as a sink sees it: libpq's buffers, valid while the sink takes it.
    private struct PostgresRow: ListedRow {
        let rows: PostgresRows
        let row: Int
        let id: UnsafeBufferPointer<UInt8>
        let kind: DocumentKind
        let depositedAt: UnsafeBufferPointer<UInt8>
        let metadata: OpenedMetadata?

        var language: UnsafeBufferPointer<UInt8> { text(rows, row, 2) }
        var size: UInt64 { UInt64(clamping: rows.int(row, 3) ?? 0) }
        var depositedBy: UnsafeBufferPointer<UInt8> { text(rows, row, 5) }
        var removedAt: UnsafeBufferPointer<UInt8>? { rows.isNull(row, 7) ? nil : text(rows, row, 7) }
        var removedBy: UnsafeBufferPointer<UInt8>? { rows.isNull(row, 8) ? nil : text(rows, row, 8) }
    }
}
