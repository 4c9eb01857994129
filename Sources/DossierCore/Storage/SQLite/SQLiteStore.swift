import DossierCrypto
import Foundation
import GRDB

/// The vault folder: a SQLite database (`vault.sqlite`, WAL, foreign keys, migrations) for
/// the records and a blob folder (`blobs/`) for the encrypted content (docs/formats/vault.md).
final class SQLiteStore: VaultStore, @unchecked Sendable {
    let location: String
    let content: any ContentStore
    private let database: DatabaseQueue

    static let databaseName = "vault.sqlite"

    var databasePath: String { location + "/" + SQLiteStore.databaseName }

    private init(path: String, database: DatabaseQueue, random: any RandomSource) {
        self.location = path
        self.database = database
        self.content = BlobStore(root: path + "/blobs", random: random)
    }

    private static func configuration() -> Configuration {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.journalMode = .wal
        // Several processes may use one vault; a writer waits this long before "busy".
        config.busyMode = .timeout(15)
        config.prepareDatabase { db in
            // Freed pages are zeroed, so crypto-shredded keys do not linger in the file.
            try db.execute(sql: "PRAGMA secure_delete = ON")
            // Durable against power loss, not only process crashes.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        return config
    }

    /// Opens the vault folder at `path`, bringing its schema up to date. Refuses a folder
    /// that is not a vault, or one written by a newer version.
    static func open(at path: String, random: any RandomSource) throws(DossierError) -> SQLiteStore {
        let dbPath = path + "/" + databaseName
        guard FileManager.default.fileExists(atPath: dbPath) else { throw .notAVault(path: path) }
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: dbPath, configuration: configuration())
        } catch {
            throw translate(error, path: path)
        }
        let store = SQLiteStore(path: path, database: queue, random: random)
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
            return SQLiteStore(path: path, database: queue, random: random)
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

    /// Moves the write-ahead log into the database and empties it, so that overwritten secrets
    /// (shredded keys, an old vault key) do not linger in the WAL file.
    func purgeReplacedData() {
        _ = try? database.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
    }

    /// Another connection to the database, read-only: a listing reads on one per core. It
    /// needs nothing of `configuration()`: it neither writes nor sets the journal mode, which
    /// the vault's own connection has already made WAL.
    func openReader() throws -> DatabaseQueue {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(15)
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
