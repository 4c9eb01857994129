import Foundation

// Whole tables as stored (RecordTables.swift), for `vault copy`. The folder's `settings.value`
// is here one of `value_text` and `value_data` (docs/formats/vault.md 10.1); the order of
// insertion of `documents` and `certificates` is `position` and `ord`, which PostgreSQL assigns
// again, in the same order, as the rows are inserted.
extension PostgresTransaction {
    private static func isSettings(_ table: RecordTable) -> Bool { table.name == "settings" }

    private static func orderBy(_ table: RecordTable) -> String {
        switch table.name {
        case "documents": return "position"
        case "certificates": return "ord"
        default:
            precondition(!table.order.isEmpty, "a table without an order: \(table.name)")
            return table.order.map {
                switch $0 {
                case .text(let c): return c + " COLLATE \"C\""
                case .integer(let c): return c
                }
            }.joined(separator: ", ")
        }
    }

    func forEachRow(of table: RecordTable, _ row: ([StoredValue]) throws -> Void) throws {
        let columns = Self.isSettings(table) ? "key, value_text, value_data" : table.columns.joined(separator: ", ")
        try connection.stream("SELECT \(columns) FROM \(table.name) ORDER BY \(Self.orderBy(table))", []) { r in
            if Self.isSettings(table) {
                let value = try Self.value(r, 1, table)
                try row([try Self.value(r, 0, table), value == .null ? try Self.value(r, 2, table) : value])
            } else {
                try row(try (0..<table.columns.count).map { try Self.value(r, $0, table) })
            }
        }
    }

    /// Column `column` of the one row of `r`, by its type.
    private static func value(_ r: PostgresRows, _ column: Int, _ table: RecordTable) throws -> StoredValue {
        if r.isNull(0, column) { return .null }
        switch r.type(column) {
        case 25, 1043: return .text(r.text(0, column) ?? "")
        case 17: return .bytes(r.data(0, column) ?? Data())
        case 20, 23, 21: return .integer(r.int(0, column) ?? 0)
        case let other: throw DossierError.database("table \(table.name), column \(column + 1): a value of type \(other), not text, bytea or an integer")
        }
    }

    private static func parameter(_ v: StoredValue) -> PostgresValue {
        switch v {
        case .null: return .null
        case .integer(let i): return .int(i)
        case .text(let s): return .text(s)
        case .bytes(let d): return .bytes(d)
        }
    }

    func insertRow(into table: RecordTable, _ values: [StoredValue]) throws {
        precondition(values.count == table.columns.count, "\(table.name): \(values.count) values for \(table.columns.count) columns")
        if Self.isSettings(table) {
            // A setting is text or bytes: one of two columns, the other NULL.
            let text: PostgresValue, data: PostgresValue
            switch values[1] {
            case .text(let s): (text, data) = (.text(s), .bytes(nil))
            case .bytes(let d): (text, data) = (.text(nil), .bytes(d))
            case .integer(let i): (text, data) = (.text(String(i)), .bytes(nil))
            case .null: throw DossierError.database("setting \(values[0]) has no value")
            }
            try run("""
                INSERT INTO settings(key, value_text, value_data) VALUES ($1, $2, $3)
                ON CONFLICT (key) DO UPDATE SET value_text = excluded.value_text, value_data = excluded.value_data
                """, [Self.parameter(values[0]), text, data])
            return
        }
        precondition(!table.replaces, "only settings replace rows")
        let placeholders = (1...values.count).map { "$\($0)" }.joined(separator: ", ")
        try run("INSERT INTO \(table.name)(\(table.columns.joined(separator: ", "))) VALUES (\(placeholders))", values.map(Self.parameter))
    }
}
