import DossierCrypto
import Foundation
import GRDB
internal import GRDBSQLite

/// The vault folder: a SQLite database (`vault.sqlite`, WAL, foreign keys, migrations) for
/// the records and a blob folder (`blobs/`) for the encrypted content (docs/formats/vault.md).
final class SQLiteStore: VaultStore, @unchecked Sendable {
    let location: String
    let content: any ContentStore
    private let database: DatabaseQueue
    private let random: any RandomSource
    /// How long a purge waits for other processes' readers to let go (`purgeBlocked` after).
    let purgeWait: TimeInterval

    static let databaseName = "vault.sqlite"
    /// How long a writer waits for another writer before "busy".
    static let busyTimeout: TimeInterval = 15
    /// The longest wait a purge accepts.
    static let longestPurgeWait: TimeInterval = 3600
    /// The name of a marker file recording an owed purge, before its random suffix.
    static let pendingPurgePrefix = databaseName + "-purge-"

    var databasePath: String { location + "/" + SQLiteStore.databaseName }

    /// How long a write waits for another writer before "busy" (`DOSSIER_BUSY_WAIT`).
    let busyWait: TimeInterval

    private init(path: String, database: DatabaseQueue, random: any RandomSource, purgeWait: TimeInterval,
                 busyWait: TimeInterval = busyTimeout) {
        self.location = path
        self.database = database
        self.random = random
        self.busyWait = Self.clamped(busyWait)
        // SQLite takes the wait in milliseconds as a C int.
        self.purgeWait = Self.clamped(purgeWait)
        self.content = BlobStore(root: path + "/blobs", random: random)
    }

    /// A wait cut to 0 … `longestPurgeWait` seconds (SQLite takes it in milliseconds as a C int).
    private static func clamped(_ wait: TimeInterval) -> TimeInterval {
        wait.isNaN ? 0 : max(0, min(wait, longestPurgeWait))
    }

    private static func configuration(busyWait: TimeInterval = busyTimeout) -> Configuration {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.journalMode = .wal
        // Several processes may use one vault; a writer waits this long before "busy".
        config.busyMode = .timeout(clamped(busyWait))
        config.prepareDatabase { db in
            // Freed pages are zeroed, so crypto-shredded keys do not linger in the file.
            try db.execute(sql: "PRAGMA secure_delete = ON")
            // Durable against power loss, not only process crashes.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        return config
    }

    /// Opens the vault folder at `path`, bringing its schema up to date. Refuses a folder
    /// that is not a vault, or one written by a newer version. A purge waits up to `purgeWait`
    /// seconds for other readers; a write waits up to `busyWait` seconds for another writer.
    static func open(at path: String, random: any RandomSource, purgeWait: TimeInterval = busyTimeout,
                     busyWait: TimeInterval = busyTimeout) throws(DossierError) -> SQLiteStore {
        let dbPath = path + "/" + databaseName
        guard FileManager.default.fileExists(atPath: dbPath) else { throw .notAVault(path: path) }
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: dbPath, configuration: configuration(busyWait: busyWait))
        } catch {
            throw translate(error, path: path)
        }
        let store = SQLiteStore(path: path, database: queue, random: random, purgeWait: purgeWait, busyWait: busyWait)
        let version: Int? = try store.readDatabase { db in
            guard try db.tableExists("settings") else { return nil }
            return try String.fetchOne(db, sql: "SELECT CAST(value AS TEXT) FROM settings WHERE key = 'format_version'").flatMap(Int.init)
        }
        guard let version else { throw .notAVault(path: path) }
        guard version <= SQLiteSchema.formatVersion else {
            throw .unsupportedVaultVersion(found: version, supported: SQLiteSchema.formatVersion)
        }
        do {
            if try !queue.read({ try SQLiteSchema.migrator.hasCompletedMigrations($0) }) { try SQLiteSchema.migrator.migrate(queue) }
        } catch {
            throw translate(error, path: path)
        }
        return store
    }

    /// Creates the database and blob folder in `path`, a new or empty private folder made by
    /// the caller.
    static func create(at path: String, random: any RandomSource) throws(DossierError) -> SQLiteStore {
        try FileAccess.makePrivateDirectory(path + "/blobs")
        do {
            // Create the file private first: SQLite gives the -wal and -shm files its mode.
            try FileAccess.createPrivateFile(path + "/" + databaseName)
            let queue = try DatabaseQueue(path: path + "/" + databaseName, configuration: configuration())
            try SQLiteSchema.migrator.migrate(queue)
            return SQLiteStore(path: path, database: queue, random: random, purgeWait: busyTimeout)
        } catch {
            throw translate(error, path: path)
        }
    }

    /// The format version new vaults get.
    static var formatVersion: Int { SQLiteSchema.formatVersion }

    func read<T>(_ body: (any StoreTransaction) throws -> T) throws(DossierError) -> T {
        try readDatabase { db in try body(SQLiteTransaction(db: db)) }
    }

    func write<T>(_ body: (any StoreTransaction) throws -> T) throws(DossierError) -> T {
        do {
            return try database.writeWithoutTransaction { db in
                var result: T?
                // IMMEDIATE: the write lock is taken at the start, so writers are serialised
                // and the log's head read inside the transaction is still the head at commit.
                try db.inTransaction(.immediate) {
                    result = try body(SQLiteTransaction(db: db))
                    return .commit
                }
                guard let result else { throw DossierError.database("a write transaction ended without a result") }
                return result
            }
        } catch {
            throw Self.translate(error, path: location)
        }
    }

    private func readDatabase<T>(_ body: (Database) throws -> T) throws(DossierError) -> T {
        do {
            return try database.read(body)
        } catch {
            throw Self.translate(error, path: location)
        }
    }

    // MARK: Purging replaced secrets
    //
    // A committed change that overwrites a secret leaves the old value in two places until a
    // checkpoint completes: the old page in vault.sqlite (kept for readers of older snapshots)
    // and, for a value written earlier and not yet checkpointed, an older frame of the WAL. A
    // TRUNCATE checkpoint copies every frame into the database (where `secure_delete` has
    // zeroed the freed bytes) and empties the WAL, but it cannot pass a reader's snapshot. So
    // the purge is owed from before the commit until such a checkpoint succeeds, and a marker
    // file records it across crashes and blocked checkpoints (docs/formats/vault.md, 8.5).

    func writeReplacingSecrets<T>(_ body: (any StoreTransaction) throws -> T,
                                  committed: (T) -> Void) throws(DossierError) -> T {
        let marker = location + "/" + Self.pendingPurgePrefix + random.bytes(6).hex
        try FileAccess.writeAtomically(Data(Self.pendingPurgeNote.utf8), to: marker)
        let result: T
        do {
            result = try write(body)
        } catch {
            // Rolled back: nothing was replaced, so nothing is owed.
            removeMarker(marker)
            throw error
        }
        committed(result)
        try truncateWriteAheadLog()
        removeMarker(marker)
        return result
    }

    func pendingPurges() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: location)) ?? []
        return names.filter { $0.hasPrefix(Self.pendingPurgePrefix) }.sorted().map { location + "/" + $0 }
    }

    func purgeReplacedData() throws(DossierError) {
        // Markers listed before the checkpoint, which covers every change committed by then.
        // `doctor --fix` runs while no other process uses the vault, so none is mid-change.
        let markers = pendingPurges()
        try truncateWriteAheadLog()
        for marker in markers { removeMarker(marker) }
    }

    private static let pendingPurgeNote = "dossier: secrets replaced in vault.sqlite may remain in vault.sqlite-wal until a checkpoint completes; run `dossier doctor --fix`\n"

    /// Copies every WAL frame into the database and empties the WAL, waiting up to `purgeWait`
    /// for readers of older snapshots; throws `purgeBlocked` if they outlast it.
    private func truncateWriteAheadLog() throws(DossierError) {
        let complete: Bool
        do {
            complete = try database.writeWithoutTransaction { db in
                // Readers block a TRUNCATE checkpoint, which waits for them through the busy
                // handler: give them the purge's wait, not a writer's.
                sqlite3_busy_timeout(db.sqliteConnection, CInt(purgeWait * 1000))
                defer { sqlite3_busy_timeout(db.sqliteConnection, CInt(busyWait * 1000)) }
                // One row: busy (1 when it could not finish), frames in the WAL, frames copied.
                guard let row = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") else { return false }
                let busy: Int = row[0], frames: Int = row[1], copied: Int = row[2]
                return busy == 0 && frames == copied
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
            complete = false
        } catch {
            throw Self.translate(error, path: location)
        }
        guard complete else { throw .purgeBlocked(path: location) }
    }

    private func removeMarker(_ path: String) {
        if unlink(path) == 0 { FileAccess.syncDirectory(location) }
    }

    /// Another connection to the database, read-only: a listing reads on one per core. It
    /// needs nothing of `configuration()`: it neither writes nor sets the journal mode, which
    /// the vault's own connection has already made WAL.
    func openReader() throws -> DatabaseQueue {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(busyWait)
        return try DatabaseQueue(path: databasePath, configuration: config)
    }

    /// Runs `body` on the vault's own connection in a read transaction (the listing's snapshot).
    func withReadConnection<T>(_ body: (Database) throws -> T) throws(DossierError) -> T {
        try readDatabase(body)
    }

    func listDocuments<S: ListingSink>(_ query: ListingQuery, opener: MetadataOpener, connections: Int?, probe: ListingProbe?,
                                       check: (any StoreTransaction) throws -> Void, sink: () -> S) throws(DossierError) -> [S] {
        try SQLiteListing.read(self, query: query, opener: opener, connections: connections, probe: probe, check: check, sink: sink)
    }

    func translate(_ error: any Error) -> DossierError { Self.translate(error, path: location) }

    static func translate(_ error: any Error, path: String) -> DossierError {
        if let e = error as? DossierError { return e }
        if let e = error as? DatabaseError {
            switch e.resultCode {
            case .SQLITE_BUSY, .SQLITE_LOCKED: return .vaultBusy(path: path)
            case .SQLITE_NOTADB, .SQLITE_CORRUPT: return .integrity("the vault database \(path)/\(databaseName) is damaged (\(e.resultCode))")
            case .SQLITE_CANTOPEN: return .notAVault(path: path)
            default: return .database("\(e.resultCode): \(e.message ?? "unknown")")
            }
        }
        return .database("\(error)")
    }
}
