import Foundation
import GRDB

/// The vault database's schema, as named migrations that are never edited once shipped.
enum SQLiteSchema {
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
        m.registerMigration("v2-sharing") { db in
            try db.execute(sql: """
                CREATE TABLE counsel (
                    id TEXT PRIMARY KEY NOT NULL,
                    fingerprint TEXT NOT NULL UNIQUE,
                    public_line TEXT NOT NULL,
                    details_sealed BLOB NOT NULL,
                    added_at TEXT NOT NULL,
                    vetted_until TEXT,
                    vetting_note_sealed BLOB,
                    suspended_at TEXT,
                    suspension_reason_sealed BLOB
                ) STRICT;
                CREATE TABLE grants (
                    id TEXT PRIMARY KEY NOT NULL,
                    created_at TEXT NOT NULL,
                    created_by TEXT NOT NULL,
                    not_before TEXT NOT NULL,
                    not_after TEXT NOT NULL,
                    approvals_needed INTEGER NOT NULL CHECK (approvals_needed >= 1),
                    state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'revoked')),
                    details_sealed BLOB NOT NULL,
                    revoked_at TEXT,
                    revoked_by TEXT,
                    reason_sealed BLOB,
                    online_url TEXT,
                    max_opens INTEGER
                ) STRICT;
                CREATE TABLE grant_documents (
                    grant_id TEXT NOT NULL REFERENCES grants(id),
                    position INTEGER NOT NULL,
                    document_id TEXT NOT NULL REFERENCES documents(id),
                    PRIMARY KEY (grant_id, document_id)
                ) STRICT;
                CREATE TABLE grant_recipients (
                    grant_id TEXT NOT NULL REFERENCES grants(id),
                    counsel_id TEXT NOT NULL REFERENCES counsel(id),
                    PRIMARY KEY (grant_id, counsel_id)
                ) STRICT;
                CREATE INDEX grant_recipients_counsel ON grant_recipients(counsel_id);
                CREATE TABLE grant_approvals (
                    grant_id TEXT NOT NULL REFERENCES grants(id),
                    staff TEXT NOT NULL,
                    approved_at TEXT NOT NULL,
                    PRIMARY KEY (grant_id, staff)
                ) STRICT;
                CREATE TABLE packages (
                    id TEXT PRIMARY KEY NOT NULL,
                    grant_id TEXT NOT NULL REFERENCES grants(id),
                    created_at TEXT NOT NULL,
                    created_by TEXT NOT NULL,
                    manifest_sha256 TEXT NOT NULL
                ) STRICT;
                """)
            // Vaults made before policies existed get the default one.
            try db.execute(sql: "INSERT OR IGNORE INTO settings(key, value) VALUES ('policy', ?)", arguments: [DefaultPolicy.text])
        }
        m.registerMigration("v3-checkpoints") { db in
            try db.execute(sql: """
                CREATE TABLE checkpoints (
                    size INTEGER PRIMARY KEY NOT NULL CHECK (size >= 0),
                    note TEXT NOT NULL,
                    created_at TEXT NOT NULL
                ) STRICT;
                """)
        }
        m.registerMigration("v4-online") { db in
            // Online packages (docs/formats/key-release.md): the vault's share of each
            // recipient's package key, every release, and every nonce seen.
            try db.execute(sql: """
                ALTER TABLE packages ADD COLUMN online_url TEXT;
                CREATE TABLE online_shares (
                    package_id TEXT NOT NULL REFERENCES packages(id),
                    fingerprint TEXT NOT NULL,
                    counsel_id TEXT NOT NULL REFERENCES counsel(id),
                    share_sealed BLOB NOT NULL,
                    PRIMARY KEY (package_id, fingerprint)
                ) STRICT;
                CREATE TABLE online_opens (
                    log_seq INTEGER PRIMARY KEY NOT NULL,
                    grant_id TEXT NOT NULL REFERENCES grants(id),
                    package_id TEXT NOT NULL REFERENCES packages(id),
                    counsel_id TEXT NOT NULL REFERENCES counsel(id),
                    opened_at TEXT NOT NULL
                ) STRICT;
                CREATE INDEX online_opens_grant ON online_opens(grant_id, counsel_id);
                CREATE TABLE online_nonces (
                    nonce TEXT PRIMARY KEY NOT NULL,
                    seen_at TEXT NOT NULL
                ) STRICT;
                """)
        }
        m.registerMigration("v5-nonce-index") { db in
            // The key-release service deletes nonces by age (docs/formats/key-release.md, step 8).
            try db.execute(sql: "CREATE INDEX online_nonces_seen ON online_nonces(seen_at)")
        }
        m.registerMigration("v6-certificates") { db in
            // Certificates by the organisation root (docs/formats/identity.md, section 7), and
            // which one each package of format 2 was signed under (for the key-release service).
            try db.execute(sql: """
                CREATE TABLE certificates (
                    serial TEXT PRIMARY KEY NOT NULL,
                    fingerprint TEXT NOT NULL,
                    sha256 TEXT NOT NULL UNIQUE,
                    certificate BLOB NOT NULL,
                    issued_at TEXT NOT NULL,
                    revoked_at TEXT
                ) STRICT;
                CREATE INDEX certificates_fingerprint ON certificates(fingerprint);
                CREATE TABLE package_certificates (
                    package_id TEXT PRIMARY KEY NOT NULL REFERENCES packages(id),
                    certificate_sha256 TEXT NOT NULL
                ) STRICT;
                """)
        }
        m.registerMigration("v7-requests") { db in
            // The staff inbox (docs/formats/vault.md, section 2.6): one row per request from
            // counsel; the file itself is kept as received in blobs/ under the request id.
            try db.execute(sql: """
                CREATE TABLE requests (
                    id TEXT PRIMARY KEY NOT NULL,
                    received_at TEXT NOT NULL,
                    received_by TEXT NOT NULL,
                    sha256 TEXT NOT NULL,
                    size INTEGER NOT NULL CHECK (size >= 0),
                    sender TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('new', 'assigned', 'answered', 'declined')),
                    assigned_to TEXT,
                    grant_id TEXT REFERENCES grants(id),
                    summary_sealed BLOB NOT NULL,
                    reason_sealed BLOB,
                    closed_at TEXT
                ) STRICT;
                """)
        }
        return m
    }
}
