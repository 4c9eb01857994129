import DossierCrypto
import Foundation

/// A vault in a PostgreSQL database, named by a `postgresql://` (or `postgres://`) URI: the same
/// records as the vault folder (PostgresSchema), the encrypted content as chunks in a table
/// (PostgresContent), written through libpq (PostgresConnection). docs/architecture.md says
/// why libpq; docs/formats/vault.md, section 10, has the schema; docs/deployment.md the roles.
///
/// The guarantees of `VaultStore`, in PostgreSQL terms:
///
/// - **One linear log.** Every write transaction takes one transaction-level advisory lock
///   (`pg_advisory_xact_lock`) before its first statement that reads the log, so writers from
///   every process and machine are serialised by the database, as `BEGIN IMMEDIATE` serialises
///   them in the folder. Transactions run at READ COMMITTED: each statement after the lock sees
///   every write committed before it, so the head of the log read inside a write is still the
///   head at commit.
/// - **Reads** run in a REPEATABLE READ, READ ONLY transaction: one snapshot.
/// - **Waiting and retrying.** The lock wait is `lock_timeout`, set to the busy wait; past it the
///   command fails with `vaultBusy`. A lost connection, a serialisation failure, a deadlock or a
///   server that became read-only (a demoted primary) makes the whole transaction run again on a
///   new connection (libpq follows a multi-host URI with `target_session_attrs`), with a bounded
///   exponential backoff; past it, `vaultUnreachable` (or `vaultBusy`). Opening the vault waits
///   the same way for a server that accepts writes, so that a command started while a standby
///   is being promoted runs once it is. A lost connection is retried until the busy wait has
///   passed (a promotion takes seconds), the other failures at most `attempts` times. A
///   connection lost while COMMIT was in flight is not retried: the change may or may not have
///   committed (`commitUnknown`).
/// - **Content in the same transaction.** A deposit's chunks are written in the transaction
///   that then records the document and its log entry (PostgresContent, "staging").
final class PostgresStore: VaultStore, @unchecked Sendable {
    /// The URI as the user gave it (it never holds a password: `open` refuses one).
    let location: String
    let busyWait: TimeInterval
    let purgeWait: TimeInterval
    private let random: any RandomSource

    var content: any ContentStore { PostgresContent(store: self) }

    /// Key of the advisory lock that serialises writers (any 64-bit number no other program on
    /// the database uses: "dossier" in ASCII).
    static let writeLock: Int64 = 0x646f_7373_6965_72
    /// Key of the advisory lock held while migrations are applied.
    static let migrationLock: Int64 = 0x646f_7373_6965_73
    /// How many times a transaction is tried before giving up.
    static let attempts = 8

    private let lock = NSLock()
    /// The vault's connection (made on first use, dropped when lost). Guarded by `lock`.
    private var connection: PostgresConnection?
    /// The thread whose deposit holds `lock` and an open transaction (PostgresContent).
    private var stagingThread: pthread_t?

    private init(location: String, random: any RandomSource, busyWait: TimeInterval, purgeWait: TimeInterval) {
        self.location = location
        self.random = random
        self.busyWait = max(0, min(busyWait.isNaN ? 0 : busyWait, SQLiteStore.longestPurgeWait))
        self.purgeWait = max(0, min(purgeWait.isNaN ? 0 : purgeWait, SQLiteStore.longestPurgeWait))
    }

    // MARK: Naming a vault in PostgreSQL

    /// Whether `location` names a PostgreSQL vault rather than a folder: it starts with
    /// `postgresql:` or `postgres:` (a folder of that name can be given as `./postgres:…`).
    static func isURI(_ location: String) -> Bool {
        let l = location.lowercased()
        return l.hasPrefix("postgresql:") || l.hasPrefix("postgres:")
    }

    /// Checks a URI before anything connects: it must be `postgresql://…` or `postgres://…`,
    /// parse as libpq parses it, and carry no password (a URI is seen in process lists and shell
    /// histories; libpq reads the password from ~/.pgpass, PGPASSFILE or a service file).
    static func validate(_ uri: String) throws(DossierError) {
        let l = uri.lowercased()
        guard l.hasPrefix("postgresql://") || l.hasPrefix("postgres://") else {
            throw .invalidArgument("'\(uri.prefix(40))' is neither a folder nor a PostgreSQL URI",
                                   hint: "write postgresql://[USER@]HOST[:PORT]/DATABASE, or ./NAME for a folder of that name")
        }
        switch PostgresConnectionInfo.parse(uri) {
        case .failure:
            throw .invalidArgument("the vault URI is not a valid PostgreSQL connection URI",
                                   hint: "write postgresql://[USER@]HOST[:PORT][,HOST2[:PORT2]]/DATABASE[?sslmode=verify-full&target_session_attrs=read-write]")
        case .success(let options):
            if let password = options["password"], !password.isEmpty {
                throw .invalidArgument("the vault URI holds a password; dossier refuses it, since a URI shows in process lists and shell histories",
                                       hint: "remove it from the URI and put it in ~/.pgpass (mode 0600), a PGPASSFILE, or a service file")
            }
        }
    }

    /// Connects to an existing vault, bringing its schema up to date. Refuses a database that
    /// holds no vault, or one written by a newer version.
    static func open(uri: String, random: any RandomSource, purgeWait: TimeInterval, busyWait: TimeInterval) throws(DossierError) -> PostgresStore {
        try validate(uri)
        let store = PostgresStore(location: uri, random: random, busyWait: busyWait, purgeWait: purgeWait)
        try store.connectWaiting()
        let version: Int? = try store.locked { c throws in
            let exists = try c.query("SELECT to_regclass('settings') IS NOT NULL AND to_regclass($1) IS NOT NULL", [.text(PostgresSchema.migrationsTable)])
            guard exists.buffer(0, 0).first == 1 else { return nil }
            let r = try c.query("SELECT value_text FROM settings WHERE key = 'format_version'")
            return r.count == 1 ? r.text(0, 0).flatMap { Int($0) } : nil
        }
        guard let version else { throw .notAVault(path: uri) }
        guard version <= PostgresSchema.formatVersion else {
            throw .unsupportedVaultVersion(found: version, supported: PostgresSchema.formatVersion)
        }
        try store.locked { c throws in
            if try !PostgresSchema.isCurrent(c) { try PostgresSchema.migrate(c) }
        }
        return store
    }

    /// Creates the schema in the database `uri` names, which must hold no vault (nor any table
    /// of the same name) or, with `empty`, no table at all in the schema it would use (`vault
    /// copy`). The caller writes the first records; `discard` undoes this if it fails.
    static func create(uri: String, random: any RandomSource, empty: Bool = false) throws(DossierError) -> PostgresStore {
        try validate(uri)
        let store = PostgresStore(location: uri, random: random, busyWait: SQLiteStore.busyTimeout, purgeWait: SQLiteStore.busyTimeout)
        let taken: Bool = try store.locked { c throws in
            let names = ([PostgresSchema.migrationsTable] + PostgresSchema.tables).joined(separator: ",")
            let r = try c.query("SELECT count(*) FROM unnest(string_to_array($1, ',')) AS t(name) WHERE to_regclass(t.name) IS NOT NULL", [.text(names)])
            if (r.int(0, 0) ?? 0) > 0 { return true }
            guard empty else { return false }
            let any = try c.query("""
                SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
                """)
            return (any.int(0, 0) ?? 0) > 0
        }
        if taken { throw .vaultExists(path: uri) }
        try store.locked { c throws in try PostgresSchema.migrate(c) }
        return store
    }

    /// Drops what `create` made, after the first records could not be written.
    func discard() {
        _ = try? locked { c throws in
            try c.execute("DROP TABLE IF EXISTS " + (PostgresSchema.tables.reversed() + [PostgresSchema.migrationsTable]).joined(separator: ", "))
        }
    }

    // MARK: Connections

    /// A new connection with the vault's session settings.
    func connect() throws(PostgresError) -> PostgresConnection {
        var defaults: [(String, String)] = [("fallback_application_name", "dossier")]
        // libpq waits for ever for an unreachable host unless told; a URI or PGCONNECT_TIMEOUT wins.
        if ProcessInfo.processInfo.environment["PGCONNECT_TIMEOUT"] == nil { defaults.append(("connect_timeout", "10")) }
        let c = try PostgresConnection(conninfo: location, parameters: defaults)
        // READ COMMITTED whatever the database's default (see the type's comment), the busy wait
        // as the lock wait, and no notice chatter.
        try c.execute("""
            SET default_transaction_isolation = 'read committed';
            SET lock_timeout = '\(Int(busyWait * 1000))ms';
            SET client_min_messages = 'warning';
            """)
        return c
    }

    private var isStagingThread: Bool {
        guard let t = stagingThread else { return false }
        return pthread_equal(t, pthread_self()) != 0
    }

    /// Runs `body` on the vault's connection, alone; once, no retry (opening, creating).
    private func locked<T>(_ body: (PostgresConnection) throws -> T) throws(DossierError) -> T {
        lock.lock()
        defer { lock.unlock() }
        do {
            if connection == nil || connection!.isBroken { connection = try connect() }
            return try body(connection!)
        } catch {
            throw translate(error)
        }
    }

    /// Runs `attempt` on the vault's connection (the caller holds `lock`), again on a retryable
    /// failure, with an exponential backoff (50 ms doubling, to 1 s, with jitter) bounded by the
    /// busy wait (at least 1 s) and, unless the connection was lost, by `attempts`.
    private func retrying<T>(_ attempt: (PostgresConnection) throws -> T) throws(DossierError) -> T {
        let deadline = Date().addingTimeInterval(max(busyWait, 1))
        var delay = 0.05
        var tries = 0
        while true {
            tries += 1
            do {
                if connection == nil || connection!.isBroken { connection = try connect() }
                return try attempt(connection!)
            } catch let e as PostgresError where e.isRetryable {
                let lost = e.connectionLost || e.sqlState == "25006"
                if lost { connection = nil }
                let remaining = deadline.timeIntervalSinceNow
                if (tries >= Self.attempts && !lost) || remaining <= 0 {
                    if lost { throw .vaultUnreachable(location: location, reason: e.message) }
                    throw .vaultBusy(path: location)
                }
                // The last sleep is cut to the deadline, so that the wait is the busy wait.
                usleep(useconds_t(min(delay * (0.5 + Double(random.bytes(1)[0]) / 255), remaining) * 1_000_000))
                delay = min(delay * 2, 1)
            } catch {
                throw translate(error)
            }
        }
    }

    /// Commits; a connection lost while COMMIT was in flight leaves the outcome unknown.
    private func commit(_ c: PostgresConnection) throws {
        do {
            try c.execute("COMMIT")
        } catch where error.connectionLost {
            connection = nil
            throw DossierError.commitUnknown(location: location)
        }
    }

    private func rollback(_ c: PostgresConnection) {
        if c.inTransaction { try? c.execute("ROLLBACK") }
    }

    // MARK: Transactions

    func read<T>(_ body: (any StoreTransaction) throws -> T) throws(DossierError) -> T {
        if isStagingThread {
            do { return try body(PostgresTransaction(connection: connection!)) } catch { throw translate(error) }
        }
        lock.lock()
        defer { lock.unlock() }
        return try retrying { c in
            try c.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            do {
                let result = try body(PostgresTransaction(connection: c))
                try c.execute("COMMIT")
                return result
            } catch {
                rollback(c)
                throw error
            }
        }
    }

    func write<T>(_ body: (any StoreTransaction) throws -> T) throws(DossierError) -> T {
        if isStagingThread {
            // A deposit: its content is in the open transaction, which cannot be run again.
            defer { endStaging() }
            let c = connection!
            do {
                try c.query("SELECT pg_advisory_xact_lock($1)", [.int(Self.writeLock)])
                let result = try body(PostgresTransaction(connection: c))
                try commit(c)
                return result
            } catch {
                rollback(c)
                if let e = error as? PostgresError, e.connectionLost { connection = nil }
                if let e = error as? PostgresError, e.isRetryable {
                    throw e.connectionLost ? .vaultUnreachable(location: location, reason: e.message) : .vaultBusy(path: location)
                }
                throw translate(error)
            }
        }
        lock.lock()
        defer { lock.unlock() }
        return try retrying { c in
            try c.execute("BEGIN")
            do {
                try c.query("SELECT pg_advisory_xact_lock($1)", [.int(Self.writeLock)])
                let result = try body(PostgresTransaction(connection: c))
                try commit(c)
                return result
            } catch {
                rollback(c)
                throw error
            }
        }
    }

    // MARK: Staging a deposit's content

    /// Runs `body` inside the transaction that the calling thread's next `write` commits: the
    /// first call takes the vault's connection and begins it; `endStaging` (after that write, or
    /// `abandonStaging`) gives it back. Any failure here abandons everything staged.
    func staging<T>(_ body: (PostgresConnection) throws -> T) throws(DossierError) -> T {
        if !isStagingThread {
            lock.lock()
            do {
                try retryingConnect()
                try connection!.execute("BEGIN")
            } catch {
                lock.unlock()
                throw translate(error)
            }
            stagingThread = pthread_self()
        }
        do {
            return try body(connection!)
        } catch {
            abandonStaging()
            throw translate(error)
        }
    }

    /// Rolls back what the calling thread staged, if anything.
    func abandonStaging() {
        guard isStagingThread else { return }
        if let c = connection { rollback(c) }
        endStaging()
    }

    private func endStaging() {
        stagingThread = nil
        lock.unlock()
    }

    /// Connects if needed, retrying a refused connection as `retrying` does.
    private func retryingConnect() throws(DossierError) {
        try retrying { _ in }
    }

    /// Connects, waiting as `retrying` does for a server that accepts the connection (and, with
    /// `target_session_attrs=read-write`, writes): a vault opened during a failover.
    private func connectWaiting() throws(DossierError) {
        lock.lock()
        defer { lock.unlock() }
        try retryingConnect()
    }

    /// A connection of its own, for reading content while the vault's connection is used for
    /// the log entry that comes first (PostgresContent.openForReading).
    func separateConnection() throws(DossierError) -> PostgresConnection {
        var delay = 0.05
        for tries in 1...Self.attempts {
            do {
                return try connect()
            } catch where error.isRetryable && tries < Self.attempts {
                usleep(useconds_t(delay * 1_000_000))
                delay = min(delay * 2, 1)
            } catch {
                throw translate(error)
            }
        }
        throw .vaultUnreachable(location: location, reason: "no connection")
    }

    /// Runs `body` on the vault's connection outside any transaction (each statement commits).
    func autocommit<T>(_ body: (PostgresConnection) throws -> T) throws(DossierError) -> T {
        if isStagingThread { throw .database("a statement outside the deposit's transaction was asked for during it") }
        lock.lock()
        defer { lock.unlock() }
        return try retrying(body)
    }

    // MARK: Listing

    func listDocuments<S: ListingSink>(_ query: ListingQuery, opener: MetadataOpener, connections: Int?, probe: ListingProbe?,
                                       check: (any StoreTransaction) throws -> Void, sink: () -> S) throws(DossierError) -> [S] {
        try read { tx in
            try check(tx)
            try probe?.inSnapshot?()
            probe?.readers?(1)
            return [try PostgresListing.read((tx as! PostgresTransaction).connection, query: query, opener: opener, sink: sink())]
        }
    }

    // MARK: Purging replaced secrets
    //
    // An UPDATE in PostgreSQL leaves the old row version in the table as a dead tuple until
    // VACUUM removes it, which it can only do once no transaction could still see it. So after
    // a change that replaces secrets commits, the tables that hold sealed values are vacuumed;
    // the purge is owed (a row of `pending_purges`, committed before the change) until a VACUUM
    // reports no dead row version left that it could not remove. What VACUUM cannot reach (the
    // free space of a page, the server's WAL and its archives, standbys, backups) is said in
    // docs/formats/vault.md, section 10.4.

    /// The tables that hold values sealed under the vault key or content, vacuumed by a purge.
    static let purgedTables = ["settings", "staff", "documents", "counsel", "grants", "online_shares", "content_chunks", "requests"]

    func writeReplacingSecrets<T>(_ body: (any StoreTransaction) throws -> T, committed: (T) -> Void) throws(DossierError) -> T {
        let marker = "purge-" + random.bytes(6).hex
        _ = try autocommit { c in try c.query("INSERT INTO pending_purges(id) VALUES ($1)", [.text(marker)]) }
        let result: T
        do {
            result = try write(body)
        } catch {
            // Rolled back: nothing was replaced, so nothing is owed.
            _ = try? autocommit { c in try c.query("DELETE FROM pending_purges WHERE id = $1", [.text(marker)]) }
            throw error
        }
        committed(result)
        try vacuum()
        _ = try? autocommit { c in try c.query("DELETE FROM pending_purges WHERE id = $1", [.text(marker)]) }
        return result
    }

    func pendingPurges() -> [String] {
        let names: [String]? = try? autocommit { c in
            let r = try c.query("SELECT id FROM pending_purges ORDER BY id")
            return (0..<r.count).compactMap { r.text($0, 0) }
        }
        return (names ?? ["pending_purges (unreadable)"]).map { "pending_purges/" + $0 }
    }

    func purgeReplacedData() throws(DossierError) {
        let markers: [String] = try autocommit { c in
            let r = try c.query("SELECT id FROM pending_purges")
            return (0..<r.count).compactMap { r.text($0, 0) }
        }
        try vacuum()
        for m in markers { _ = try autocommit { c in try c.query("DELETE FROM pending_purges WHERE id = $1", [.text(m)]) } }
    }

    /// VACUUMs the tables that hold sealed values until its report says that no dead row version
    /// is left, waiting up to `purgeWait` for transactions that could still see one; throws
    /// `purgeBlocked` past it, or when this role may not vacuum them (only their owner may).
    private func vacuum() throws(DossierError) {
        let deadline = Date().addingTimeInterval(purgeWait)
        var delay = 0.05
        while true {
            let clean: Bool = try autocommit { c in
                c.notices = []
                try c.execute("VACUUM (VERBOSE) " + Self.purgedTables.joined(separator: ", "))
                defer { c.notices = [] }
                return Self.vacuumRemovedEverything(c.notices, tables: Self.purgedTables.count)
            }
            if clean { return }
            if Date().addingTimeInterval(delay) > deadline { throw .purgeBlocked(path: location) }
            usleep(useconds_t(delay * 1_000_000))
            delay = min(delay * 2, 1)
        }
    }

    /// Whether VACUUM VERBOSE's report says it vacuumed every table (at least `tables` reports)
    /// and left no dead row version behind. A report it cannot read (another language than
    /// English, `lc_messages`) counts as not clean: the purge stays owed.
    static func vacuumRemovedEverything(_ notices: [String], tables: Int) -> Bool {
        var finished = 0
        for n in notices {
            if n.contains("skipping") { return false }   // "permission denied to vacuum" / "only table or database owner"
            guard n.contains("finished vacuuming") else { continue }
            finished += 1
            guard let r = n.range(of: #"(\d+) are dead but not yet removable"#, options: .regularExpression) else { return false }
            if !n[r].hasPrefix("0 ") { return false }
        }
        return finished >= tables
    }

    // MARK: Errors

    func translate(_ error: any Error) -> DossierError {
        if let e = error as? DossierError { return e }
        if let e = error as? PostgresError {
            if e.isLockTimeout { return .vaultBusy(path: location) }
            if e.connectionLost { return .vaultUnreachable(location: location, reason: e.message) }
            if e.sqlState == "42501" {
                return .database("permission denied (\(e.message)); the database role lacks a grant that docs/deployment.md lists")
            }
            return .database(e.description)
        }
        return .database("\(error)")
    }
}
