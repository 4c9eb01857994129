import Foundation

/// A vault in PostgreSQL: the same tables as the vault folder's SQLite database
/// (SQLiteSchema), built by named migrations that are never edited once shipped, plus the
/// content chunks and the records PostgreSQL needs (docs/formats/vault.md, section 10).
///
/// Types: TEXT stays `text`; BLOB becomes `bytea`; INTEGER becomes `bigint`. The SQLite
/// `rowid` order of `documents` (insertion order, which breaks ties of deposit time) is the
/// column `position`. A setting is text or bytes (SQLite's `value ANY`): one of two columns.
enum PostgresSchema {
    /// The vault format this program writes and reads (the same as the folder's).
    static var formatVersion: Int { SQLiteSchema.formatVersion }

    /// The table that records applied migrations.
    static let migrationsTable = "dossier_migrations"

    /// Every table a vault has: `create` refuses a database holding any of them, `discard`
    /// drops them.
    static let tables = ["settings", "staff", "documents", "audit_log", "counsel", "grants", "grant_documents", "grant_recipients",
                         "grant_approvals", "packages", "checkpoints", "online_shares", "online_opens", "online_nonces",
                         "content_chunks", "pending_purges", "certificates", "package_certificates", "requests", "request_chunks"]

    static let migrations: [(name: String, sql: String)] = [
        ("v1-catalogue", """
            CREATE TABLE settings (
                key text PRIMARY KEY,
                value_text text,
                value_data bytea,
                CHECK ((value_text IS NULL) <> (value_data IS NULL))
            );
            CREATE TABLE staff (
                fingerprint text PRIMARY KEY,
                public_line text NOT NULL UNIQUE,
                name_sealed bytea NOT NULL,
                vault_key_sealed bytea,
                added_at text NOT NULL,
                removed_at text,
                CHECK ((vault_key_sealed IS NULL) = (removed_at IS NOT NULL))
            );
            CREATE TABLE documents (
                id text PRIMARY KEY,
                position bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
                kind text NOT NULL,
                language text NOT NULL,
                size bigint NOT NULL CHECK (size >= 0),
                deposited_at text NOT NULL,
                deposited_by text NOT NULL,
                metadata_sealed bytea,
                key_sealed bytea,
                removed_at text,
                removed_by text,
                reason_sealed bytea,
                CHECK ((key_sealed IS NULL) = (removed_at IS NOT NULL))
            );
            CREATE INDEX documents_kind ON documents(kind);
            CREATE INDEX documents_order ON documents(deposited_at COLLATE "C", position);
            CREATE TABLE audit_log (
                seq bigint PRIMARY KEY CHECK (seq >= 1),
                entry bytea NOT NULL
            );
            """),
        ("v2-sharing", """
            CREATE TABLE counsel (
                id text PRIMARY KEY,
                fingerprint text NOT NULL UNIQUE,
                public_line text NOT NULL,
                details_sealed bytea NOT NULL,
                added_at text NOT NULL,
                vetted_until text,
                vetting_note_sealed bytea,
                suspended_at text,
                suspension_reason_sealed bytea
            );
            CREATE TABLE grants (
                id text PRIMARY KEY,
                created_at text NOT NULL,
                created_by text NOT NULL,
                not_before text NOT NULL,
                not_after text NOT NULL,
                approvals_needed bigint NOT NULL CHECK (approvals_needed >= 1),
                state text NOT NULL CHECK (state IN ('pending', 'active', 'revoked')),
                details_sealed bytea NOT NULL,
                revoked_at text,
                revoked_by text,
                reason_sealed bytea,
                online_url text,
                max_opens bigint
            );
            CREATE TABLE grant_documents (
                grant_id text NOT NULL REFERENCES grants(id),
                position bigint NOT NULL,
                document_id text NOT NULL REFERENCES documents(id),
                PRIMARY KEY (grant_id, document_id)
            );
            CREATE TABLE grant_recipients (
                grant_id text NOT NULL REFERENCES grants(id),
                counsel_id text NOT NULL REFERENCES counsel(id),
                PRIMARY KEY (grant_id, counsel_id)
            );
            CREATE INDEX grant_recipients_counsel ON grant_recipients(counsel_id);
            CREATE TABLE grant_approvals (
                grant_id text NOT NULL REFERENCES grants(id),
                staff text NOT NULL,
                approved_at text NOT NULL,
                PRIMARY KEY (grant_id, staff)
            );
            CREATE TABLE packages (
                id text PRIMARY KEY,
                grant_id text NOT NULL REFERENCES grants(id),
                created_at text NOT NULL,
                created_by text NOT NULL,
                manifest_sha256 text NOT NULL
            );
            INSERT INTO settings(key, value_text) VALUES ('policy', $policy$\(DefaultPolicy.text)$policy$) ON CONFLICT DO NOTHING;
            """),
        ("v3-checkpoints", """
            CREATE TABLE checkpoints (
                size bigint PRIMARY KEY CHECK (size >= 0),
                note text NOT NULL,
                created_at text NOT NULL
            );
            """),
        ("v4-online", """
            ALTER TABLE packages ADD COLUMN online_url text;
            CREATE TABLE online_shares (
                package_id text NOT NULL REFERENCES packages(id),
                fingerprint text NOT NULL,
                counsel_id text NOT NULL REFERENCES counsel(id),
                share_sealed bytea NOT NULL,
                PRIMARY KEY (package_id, fingerprint)
            );
            CREATE TABLE online_opens (
                log_seq bigint PRIMARY KEY,
                grant_id text NOT NULL REFERENCES grants(id),
                package_id text NOT NULL REFERENCES packages(id),
                counsel_id text NOT NULL REFERENCES counsel(id),
                opened_at text NOT NULL
            );
            CREATE INDEX online_opens_grant ON online_opens(grant_id, counsel_id);
            CREATE TABLE online_nonces (
                nonce text PRIMARY KEY,
                seen_at text NOT NULL
            );
            """),
        ("v5-nonce-index", """
            CREATE INDEX online_nonces_seen ON online_nonces(seen_at);
            """),
        // PostgreSQL only: the documents' encrypted content, and owed purges.
        ("pg1-content", """
            -- One row per piece of a document's ciphertext (the STREAM of docs/formats/vault.md
            -- 5.2, without the blob file's magic), in order from 0. Written in the transaction
            -- that records the document; the deferred key makes a piece without its row impossible.
            CREATE TABLE content_chunks (
                document_id text NOT NULL REFERENCES documents(id) DEFERRABLE INITIALLY DEFERRED,
                seq bigint NOT NULL CHECK (seq >= 0),
                data bytea NOT NULL,
                PRIMARY KEY (document_id, seq)
            );
            -- Ciphertext does not compress: stored out of line, uncompressed.
            ALTER TABLE content_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
            -- A purge of replaced secrets that is owed (section 8.5): recorded before the change
            -- commits, deleted once VACUUM has removed the old row versions.
            CREATE TABLE pending_purges (
                id text PRIMARY KEY,
                recorded_at timestamptz NOT NULL DEFAULT now()
            );
            """),
        // As SQLite's v6-certificates; `ord` keeps the order in which they were recorded.
        ("v6-certificates", """
            CREATE TABLE certificates (
                serial text PRIMARY KEY,
                fingerprint text NOT NULL,
                sha256 text NOT NULL UNIQUE,
                certificate bytea NOT NULL,
                issued_at text NOT NULL,
                revoked_at text,
                ord bigserial NOT NULL
            );
            CREATE INDEX certificates_fingerprint ON certificates(fingerprint);
            CREATE TABLE package_certificates (
                package_id text PRIMARY KEY REFERENCES packages(id),
                certificate_sha256 text NOT NULL
            );
            """),
        // As SQLite's v7-requests; the request files, kept as received, are request_chunks
        // (the folder keeps them in blobs/), written in the transaction that records the row.
        ("v7-requests", """
            CREATE TABLE requests (
                id text PRIMARY KEY,
                received_at text NOT NULL,
                received_by text NOT NULL,
                sha256 text NOT NULL,
                size bigint NOT NULL CHECK (size >= 0),
                sender text NOT NULL,
                state text NOT NULL CHECK (state IN ('new', 'assigned', 'answered', 'declined')),
                assigned_to text,
                grant_id text REFERENCES grants(id),
                summary_sealed bytea NOT NULL,
                reason_sealed bytea,
                closed_at text
            );
            CREATE TABLE request_chunks (
                request_id text NOT NULL REFERENCES requests(id) DEFERRABLE INITIALLY DEFERRED,
                seq bigint NOT NULL CHECK (seq >= 0),
                data bytea NOT NULL,
                PRIMARY KEY (request_id, seq)
            );
            ALTER TABLE request_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
            """),
    ]

    /// Applies every migration `connection` lacks, in one transaction (DDL is transactional in
    /// PostgreSQL: a vault gets all of them or none), under an advisory
    /// lock so that two processes opening a new vault at once do not both apply one.
    static func migrate(_ connection: PostgresConnection) throws(PostgresError) {
        try connection.execute("BEGIN")
        do {
            try connection.query("SELECT pg_advisory_xact_lock($1)", [.int(PostgresStore.migrationLock)])
            try connection.execute("CREATE TABLE IF NOT EXISTS \(migrationsTable) (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
            let rows = try connection.query("SELECT name FROM \(migrationsTable)")
            let applied = Set((0..<rows.count).compactMap { rows.text($0, 0) })
            for m in migrations where !applied.contains(m.name) {
                try connection.execute(m.sql)
                try connection.query("INSERT INTO \(migrationsTable)(name) VALUES ($1)", [.text(m.name)])
            }
            try connection.execute("COMMIT")
        } catch {
            try? connection.execute("ROLLBACK")
            throw error
        }
    }

    /// Whether every migration has been applied.
    static func isCurrent(_ connection: PostgresConnection) throws(PostgresError) -> Bool {
        let rows = try connection.query("SELECT count(*) FROM \(migrationsTable) WHERE name = ANY(string_to_array($1, ','))",
                                        [.text(migrations.map(\.name).joined(separator: ","))])
        return rows.int(0, 0) == Int64(migrations.count)
    }
}
