import Foundation
import GRDB

// Whole tables as stored (RecordTables.swift), for `vault copy`. The order of insertion of
// `documents` and `certificates` is their rowid, which SQLite assigns again, in the same order,
// as the rows are inserted.
extension SQLiteTransaction {
    private static func orderBy(_ table: RecordTable) -> String {
        guard !table.order.isEmpty else { return "rowid" }
        return table.order.map {
            switch $0 {
            case .text(let c), .integer(let c): return c
            }
        }.joined(separator: ", ")
    }

    func forEachRow(of table: RecordTable, _ row: ([StoredValue]) throws -> Void) throws {
        let cursor = try Row.fetchCursor(db, sql: "SELECT \(table.columns.joined(separator: ", ")) FROM \(table.name) ORDER BY \(Self.orderBy(table))")
        while let r = try cursor.next() {
            var values: [StoredValue] = []
            values.reserveCapacity(table.columns.count)
            for i in 0..<table.columns.count {
                let v: DatabaseValue = r[i]
                switch v.storage {
                case .null: values.append(.null)
                case .int64(let n): values.append(.integer(n))
                case .string(let s): values.append(.text(s))
                case .blob(let d): values.append(.bytes(d))
                case .double:
                    throw DossierError.database("table \(table.name), column \(table.columns[i]): a real number, which no vault column holds")
                }
            }
            try row(values)
        }
    }

    func insertRow(into table: RecordTable, _ values: [StoredValue]) throws {
        precondition(values.count == table.columns.count, "\(table.name): \(values.count) values for \(table.columns.count) columns")
        let arguments = StatementArguments(values.map { v -> DatabaseValue in
            switch v {
            case .null: return .null
            case .integer(let n): return n.databaseValue
            case .text(let s): return s.databaseValue
            case .bytes(let d): return d.databaseValue
            }
        })
        let verb = table.replaces ? "INSERT OR REPLACE" : "INSERT"
        let placeholders = Array(repeating: "?", count: values.count).joined(separator: ", ")
        try db.execute(sql: "\(verb) INTO \(table.name)(\(table.columns.joined(separator: ", "))) VALUES (\(placeholders))", arguments: arguments)
    }
}
