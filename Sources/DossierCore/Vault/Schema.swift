import Foundation
import GRDB

/// The catalogue's schema, as named migrations that are never edited once shipped.
enum Schema {
    /// The vault format this program writes and reads.
    static let formatVersion = 1

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-catalogue") { db in
            // Public facts about the vault and sealed secrets (see docs/formats/vault.md).
            try db.execute(sql: """
                CREATE TABLE settings (
                    key TEXT PRIMARY KEY NOT NULL,
                    value ANY NOT NULL
                ) STRICT;
                CREATE TABLE staff (
                    fingerprint TEXT PRIMARY KEY NOT NULL,
                    public_line TEXT NOT NULL UNIQUE,
                    name_sealed BLOB NOT NULL,
                    vault_key_sealed BLOB,
                    added_at TEXT NOT NULL,
                    removed_at TEXT,
                    CHECK ((vault_key_sealed IS NULL) = (removed_at IS NOT NULL))
                ) STRICT;
                CREATE TABLE documents (
                    id TEXT PRIMARY KEY NOT NULL,
                    kind TEXT NOT NULL,
                    language TEXT NOT NULL,
                    size INTEGER NOT NULL CHECK (size >= 0),
                    deposited_at TEXT NOT NULL,
                    deposited_by TEXT NOT NULL,
                    metadata_sealed BLOB,
                    key_sealed BLOB,
                    removed_at TEXT,
                    removed_by TEXT,
                    reason_sealed BLOB,
                    CHECK ((key_sealed IS NULL) = (removed_at IS NOT NULL))
                ) STRICT;
                CREATE INDEX documents_kind ON documents(kind);
                CREATE TABLE audit_log (
                    seq INTEGER PRIMARY KEY NOT NULL CHECK (seq >= 1),
                    entry BLOB NOT NULL
                ) STRICT;
                """)
        }
        return m
    }
}
