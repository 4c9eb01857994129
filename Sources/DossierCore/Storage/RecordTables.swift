import Foundation

// The vault's records as whole tables, for `dossier vault copy` (VaultCopy.swift): every row of
// every table read from one store and written to another exactly as it is stored, sealed bytes
// and all, with no key. The tables and columns are those of docs/formats/vault.md, section 2,
// which both backends hold with the same values (section 10.1); each backend maps them onto
// its own SQL (SQLiteRecords.swift, PostgresRecords.swift).

/// A stored value: the four kinds both backends hold (SQLite's STRICT types; PostgreSQL's
/// `bigint`, `text`, `bytea`).
enum StoredValue: Equatable, Sendable {
    case null
    case integer(Int64)
    case text(String)
    case bytes(Data)
}

/// One table of the vault's records, as docs/formats/vault.md section 2 defines it.
struct RecordTable: Sendable {
    /// A column that orders the rows.
    enum OrderColumn: Sendable {
        case text(String)
        case integer(String)
    }

    let name: String
    /// Every column copied, in the order the values of a row are handed over.
    let columns: [String]
    /// A unique key that orders the rows (text compared byte by byte, as SQLite's BINARY and
    /// PostgreSQL's `COLLATE "C"`); empty for the tables whose order of insertion is itself
    /// recorded: `documents` (SQLite's rowid, PostgreSQL's `position`: the listing breaks ties of
    /// deposit time with it) and `certificates` (rowid, `ord`). Rows are copied in this order, so
    /// the copy's order of insertion is the source's.
    let order: [OrderColumn]
    /// Whether a row replaces one with the same key (`settings`: a new vault's schema already
    /// holds the default policy, which the source's row replaces).
    let replaces: Bool

    init(_ name: String, _ columns: [String], order: [OrderColumn], replaces: Bool = false) {
        self.name = name
        self.columns = columns
        self.order = order
        self.replaces = replaces
    }

    /// Every table, parents before the tables whose rows refer to them. Not copied: the
    /// migrations' own tables (each store records its own), PostgreSQL's `content_chunks`
    /// and `request_chunks` (content and request files are copied through `ContentStore`) and `pending_purges` (a purge owed by the
    /// source concerns the source's files; the copy holds no replaced value).
    static let all: [RecordTable] = [
        RecordTable("settings", ["key", "value"], order: [.text("key")], replaces: true),
        RecordTable("staff", ["fingerprint", "public_line", "name_sealed", "vault_key_sealed", "added_at", "removed_at"],
                    order: [.text("fingerprint")]),
        RecordTable("documents", ["id", "kind", "language", "size", "deposited_at", "deposited_by", "metadata_sealed", "key_sealed",
                                  "removed_at", "removed_by", "reason_sealed"], order: []),
        RecordTable("audit_log", ["seq", "entry"], order: [.integer("seq")]),
        RecordTable("counsel", ["id", "fingerprint", "public_line", "details_sealed", "added_at", "vetted_until", "vetting_note_sealed",
                                "suspended_at", "suspension_reason_sealed"], order: [.text("id")]),
        RecordTable("grants", ["id", "created_at", "created_by", "not_before", "not_after", "approvals_needed", "state", "details_sealed",
                               "revoked_at", "revoked_by", "reason_sealed", "online_url", "max_opens"], order: [.text("id")]),
        RecordTable("grant_documents", ["grant_id", "position", "document_id"], order: [.text("grant_id"), .text("document_id")]),
        RecordTable("grant_recipients", ["grant_id", "counsel_id"], order: [.text("grant_id"), .text("counsel_id")]),
        RecordTable("grant_approvals", ["grant_id", "staff", "approved_at"], order: [.text("grant_id"), .text("staff")]),
        RecordTable("packages", ["id", "grant_id", "created_at", "created_by", "manifest_sha256", "online_url"], order: [.text("id")]),
        RecordTable("checkpoints", ["size", "note", "created_at"], order: [.integer("size")]),
        RecordTable("online_shares", ["package_id", "fingerprint", "counsel_id", "share_sealed"],
                    order: [.text("package_id"), .text("fingerprint")]),
        RecordTable("online_opens", ["log_seq", "grant_id", "package_id", "counsel_id", "opened_at"], order: [.integer("log_seq")]),
        RecordTable("online_nonces", ["nonce", "seen_at"], order: [.text("nonce")]),
        RecordTable("certificates", ["serial", "fingerprint", "sha256", "certificate", "issued_at", "revoked_at"], order: []),
        RecordTable("package_certificates", ["package_id", "certificate_sha256"], order: [.text("package_id")]),
        RecordTable("requests", ["id", "received_at", "received_by", "sha256", "size", "sender", "state", "assigned_to", "grant_id",
                                 "summary_sealed", "reason_sealed", "closed_at"], order: [.text("id")]),
    ]
}

/// Whole tables, read and written as stored (no sealing, no decision): only `vault copy` uses it.
protocol RawRecords {
    /// Hands every row of `table` to `row`, one at a time and in the table's order, its values
    /// in the order of `table.columns`. Memory holds one row, whatever the table's size.
    func forEachRow(of table: RecordTable, _ row: ([StoredValue]) throws -> Void) throws
    /// Inserts a row (values in the order of `table.columns`) exactly as given.
    func insertRow(into table: RecordTable, _ values: [StoredValue]) throws
}
