import DossierCrypto
import Foundation
import GRDB

/// A vault folder: the SQLite catalogue (`vault.sqlite`) and the encrypted blobs (`blobs/`).
/// Opening a vault needs no secret; reading or changing documents needs a `StaffSession`.
public final class Vault: @unchecked Sendable {
    public let path: String
    let database: DatabaseQueue
    let blobs: BlobStore
    let clock: any TimeSource
    let random: any RandomSource

    static let databaseName = "vault.sqlite"

    /// The organisation's public facts.
    public struct Organisation: Sendable, Codable {
        public let name: String
        public let publicKey: String
        public let fingerprint: String
    }

    private init(path: String, database: DatabaseQueue, clock: any TimeSource, random: any RandomSource) {
        self.path = path
        self.database = database
        self.blobs = BlobStore(root: path + "/blobs", random: random)
        self.clock = clock
        self.random = random
    }

    static func configuration() -> Configuration {
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

    /// Another connection to the catalogue, read-only: a listing reads on one per core
    /// (`ListingRows`). It needs nothing of `configuration()`: it neither writes nor sets the
    /// journal mode, which the vault's own connection has already made WAL.
    func openReader() throws -> DatabaseQueue {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(15)
        return try DatabaseQueue(path: path + "/" + Vault.databaseName, configuration: config)
    }

    /// Opens an existing vault.
    public static func open(at path: String, clock: any TimeSource = SystemClock(), random: any RandomSource = SystemRandom()) throws(DossierError) -> Vault {
        let dbPath = path + "/" + databaseName
        guard FileManager.default.fileExists(atPath: dbPath) else { throw .notAVault(path: path) }
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: dbPath, configuration: configuration())
        } catch {
            throw Vault.translate(error, path: path)
        }
        let vault = Vault(path: path, database: queue, clock: clock, random: random)
        let version: Int? = try vault.read { db in
            guard try db.tableExists("settings") else { return nil }
            return try String.fetchOne(db, sql: "SELECT CAST(value AS TEXT) FROM settings WHERE key = 'format_version'").flatMap(Int.init)
        }
        guard let version else { throw .notAVault(path: path) }
        guard version <= Schema.formatVersion else { throw .unsupportedVaultVersion(found: version, supported: Schema.formatVersion) }
        do {
            if try !queue.read({ try Schema.migrator.hasCompletedMigrations($0) }) { try Schema.migrator.migrate(queue) }
        } catch {
            throw Vault.translate(error, path: path)
        }
        return vault
    }

    /// Creates a vault at `path` (a new or empty folder), with a fresh organisation signing key
    /// and vault key, and `founder` as its first staff member.
    public static func create(
        at path: String, organisation: String, founder: SecretIdentity, founderName: String,
        clock: any TimeSource = SystemClock(), random: any RandomSource = SystemRandom()
    ) throws(DossierError) -> Vault {
        let org = organisation.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !org.isEmpty, !org.contains(where: \.isNewline) else {
            throw .invalidArgument("the organisation name must be one non-empty line (--org \"NAME\")")
        }
        guard OrganisationName.isValid(org) else {
            throw .invalidArgument("the organisation name is used in signed notes: use printable ASCII without spaces or '+', e.g. example.org/dossier")
        }
        let fm = FileManager.default
        var isDir: ObjCBool = false
        let existed = fm.fileExists(atPath: path, isDirectory: &isDir)
        if existed {
            let contents = (try? fm.contentsOfDirectory(atPath: path)) ?? ["?"]
            if !isDir.boolValue || !contents.isEmpty { throw .vaultExists(path: path) }
        }
        do throws(DossierError) {
            try FileAccess.makePrivateDirectory(path)
            try FileAccess.makePrivateDirectory(path + "/blobs")
            let queue: DatabaseQueue
            do {
                // Create the file private first: SQLite gives the -wal and -shm files its mode.
                try FileAccess.createPrivateFile(path + "/" + Vault.databaseName)
                queue = try DatabaseQueue(path: path + "/" + databaseName, configuration: configuration())
                try Schema.migrator.migrate(queue)
            } catch {
                throw Vault.translate(error, path: path)
            }
            let vault = Vault(path: path, database: queue, clock: clock, random: random)
            try vault.initialise(organisation: org, founder: founder, founderName: founderName)
            return vault
        } catch {
            // Leave nothing half-made behind.
            if existed {
                for item in (try? fm.contentsOfDirectory(atPath: path)) ?? [] { try? fm.removeItem(atPath: path + "/" + item) }
            } else {
                try? fm.removeItem(atPath: path)
            }
            throw error
        }
    }

    private func initialise(organisation: String, founder: SecretIdentity, founderName: String) throws(DossierError) {
        let vaultKey = SecureBytes(randomCount: AEAD.keyBytes, using: random)
        let orgKey = SigningKeyPair.generate(using: random)
        let now = clock.now()
        let founderPublic = founder.publicIdentity
        try write { db in
            let org = try OrganisationKey(signingKey: orgKey.publicKey)
            let settings: [(String, DatabaseValueConvertible)] = [
                ("format_version", String(Schema.formatVersion)),
                ("organisation_name", organisation),
                ("organisation_key", org.line),
                ("organisation_secret_sealed", try Sealing.seal(orgKey.seed, purpose: .organisationKey, id: "", vaultKey: vaultKey, random: random)),
                ("created_at", Timestamp.format(now)),
            ]
            for (k, v) in settings {
                try db.execute(sql: "INSERT INTO settings(key, value) VALUES (?, ?)", arguments: [k, v])
            }
            try StaffRoster.insert(db, identity: founderPublic, name: founderName, vaultKey: vaultKey, at: now, random: random)
            try AuditLog.append(db, signer: founder, action: .initialise, at: now,
                                subjects: ["org:" + org.fingerprint, "staff:" + founderPublic.fingerprint],
                                details: [.init("organisation-key", org.line), .init("identity", founderPublic.line)])
        }
    }

    /// The organisation's name and public key.
    public func organisation() throws(DossierError) -> Organisation {
        try read { db in
            let name = try String.fetchOne(db, sql: "SELECT CAST(value AS TEXT) FROM settings WHERE key = 'organisation_name'") ?? ""
            let line = try String.fetchOne(db, sql: "SELECT CAST(value AS TEXT) FROM settings WHERE key = 'organisation_key'") ?? ""
            let key = try OrganisationKey(line: line)
            return Organisation(name: name, publicKey: key.line, fingerprint: key.fingerprint)
        }
    }

    /// Unlocks the vault with a staff identity; refuses anyone who is not (or no longer) staff.
    public func unlock(_ identity: SecretIdentity) throws(DossierError) -> StaffSession {
        let fp = identity.publicIdentity.fingerprint
        // The sealed key and the key generation are read in one snapshot.
        let (sealed, generation): (Data?, Int64) = try read { db in
            (try Data.fetchOne(db, sql: "SELECT vault_key_sealed FROM staff WHERE fingerprint = ? AND public_line = ?",
                               arguments: [fp, identity.publicIdentity.line]),
             try Vault.keyGeneration(db))
        }
        guard let sealed else { throw .notStaff(fingerprint: fp) }
        let key: SecureBytes
        do {
            key = try SealedBox.open(sealed, with: identity.encryption)
        } catch {
            throw .notStaff(fingerprint: fp)
        }
        return StaffSession(vault: self, identity: identity, vaultKey: key, generation: generation)
    }

    /// Incremented by every rotation of the vault key (absent: 0).
    static func keyGeneration(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'vault_key_generation'") ?? 0
    }

    // MARK: Database access

    /// Runs `body` in an IMMEDIATE transaction: all of it commits, or none of it.
    @discardableResult
    func write<T>(_ body: (Database) throws -> T) throws(DossierError) -> T {
        do {
            return try database.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        } catch {
            throw Vault.translate(error, path: path)
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws(DossierError) -> T {
        do {
            return try database.read(body)
        } catch {
            throw Vault.translate(error, path: path)
        }
    }

    /// Moves the write-ahead log into the database and empties it, so that overwritten secrets
    /// (shredded keys, an old vault key) do not linger in the WAL file.
    func checkpointAndTruncateWAL() {
        _ = try? database.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
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

/// A vault unlocked by a staff member: holds the vault key until released.
public final class StaffSession: @unchecked Sendable {
    public let vault: Vault
    public let identity: SecretIdentity
    /// Replaced (with `generation`) when this session itself rotates the key.
    private(set) var vaultKey: SecureBytes
    /// The vault key generation `vaultKey` belongs to.
    private(set) var generation: Int64

    /// After this session's own rotation committed: carry on under the new key.
    func adopt(vaultKey newKey: SecureBytes, generation newGeneration: Int64) {
        vaultKey = newKey
        generation = newGeneration
    }

    init(vault: Vault, identity: SecretIdentity, vaultKey: SecureBytes, generation: Int64) {
        self.vault = vault
        self.identity = identity
        self.vaultKey = vaultKey
        self.generation = generation
    }

    /// A write transaction that first checks that the vault key this session holds is still
    /// the current one: another process may have rotated it since this session unlocked the
    /// vault, and anything sealed under the old key would be lost.
    @discardableResult
    func write<T>(_ body: (Database) throws -> T) throws(DossierError) -> T {
        try vault.write { db in
            try checkGeneration(db)
            return try body(db)
        }
    }

    /// A read transaction with the same check, so that sealed values are opened with the right key.
    func read<T>(_ body: (Database) throws -> T) throws(DossierError) -> T {
        try vault.read { db in
            try checkGeneration(db)
            return try body(db)
        }
    }

    private func checkGeneration(_ db: Database) throws {
        if try Vault.keyGeneration(db) != generation { throw DossierError.vaultKeyRotated(path: vault.path) }
    }

    /// The acting staff member's fingerprint.
    public var actor: String { identity.publicIdentity.fingerprint }

    /// The organisation's signing key (never leaves the vault).
    func organisationSigningKey() throws(DossierError) -> SigningKeyPair {
        let sealed: Data? = try read { db in
            try Data.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'organisation_secret_sealed'")
        }
        guard let sealed else { throw .integrity("the organisation key is missing from the vault") }
        let seed = try Sealing.open(sealed, purpose: .organisationKey, id: "", vaultKey: vaultKey)
        do { return try SigningKeyPair(seed: seed) } catch { throw .crypto(context: "the organisation key", error) }
    }
}

/// Small secrets sealed under the vault key, each bound to what it is and whose it is
/// (associated data `dossier/<purpose>/v1` ‖ 0x0a ‖ id), so one cannot be swapped for another.
enum Sealing {
    enum Purpose: String {
        case documentKey = "document-key"
        case metadata
        case staffName = "staff-name"
        case organisationKey = "organisation-key"
        case reason
        case counsel
        case grant
        case onlineShare = "online-share"
    }

    static func associatedData(_ purpose: Purpose, _ id: String) -> Data {
        Data("dossier/\(purpose.rawValue)/v1\n\(id)".utf8)
    }

    static func seal(_ secret: SecureBytes, purpose: Purpose, id: String, vaultKey: SecureBytes, random: any RandomSource) throws(DossierError) -> Data {
        do {
            return try secret.withUnsafeBytes { (b: UnsafeRawBufferPointer) throws(CryptoError) in
                try AEAD.seal(UnsafeRawBufferPointerBytes(b), key: vaultKey, additionalData: associatedData(purpose, id), random: random)
            }
        } catch {
            throw .crypto(context: "cannot seal \(purpose.rawValue)", error)
        }
    }

    static func seal(_ data: Data, purpose: Purpose, id: String, vaultKey: SecureBytes, random: any RandomSource) throws(DossierError) -> Data {
        do {
            return try AEAD.seal(data, key: vaultKey, additionalData: associatedData(purpose, id), random: random)
        } catch {
            throw .crypto(context: "cannot seal \(purpose.rawValue)", error)
        }
    }

    static func open(_ sealed: Data, purpose: Purpose, id: String, vaultKey: SecureBytes) throws(DossierError) -> SecureBytes {
        do {
            return try AEAD.open(sealed, key: vaultKey, additionalData: associatedData(purpose, id))
        } catch {
            throw .integrity("the sealed \(purpose.rawValue) of \(id.isEmpty ? "the vault" : id) does not authenticate under the vault key (altered or swapped)")
        }
    }
}

/// Lets a raw buffer be passed where `ContiguousBytes` is expected, without a copy.
struct UnsafeRawBufferPointerBytes: ContiguousBytes {
    let buffer: UnsafeRawBufferPointer
    init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try body(buffer) }
}

/// What `documents.key_sealed` holds (purpose `document-key`): the 32-byte document key and,
/// for documents deposited since the hash is recorded, the 32-byte BLAKE2b-256 of the
/// plaintext (docs/formats/vault.md, section 3.2). One sealed value, so the hash goes wherever
/// the key goes: re-sealed on rotation, destroyed with it on removal.
struct DocumentSecret {
    static let keyBytes = 32, hashBytes = 32

    let key: SecureBytes
    /// Nil for documents deposited before the hash was recorded.
    let contentHash: Data?

    static func seal(key: SecureBytes, contentHash: Data, id: String, vaultKey: SecureBytes, random: any RandomSource) throws(DossierError) -> Data {
        precondition(key.count == keyBytes && contentHash.count == hashBytes)
        let plain = SecureBytes.concatenate([key, SecureBytes(copying: contentHash)])
        return try Sealing.seal(plain, purpose: .documentKey, id: id, vaultKey: vaultKey, random: random)
    }

    static func open(_ sealed: Data, id: String, vaultKey: SecureBytes) throws(DossierError) -> DocumentSecret {
        let plain = try Sealing.open(sealed, purpose: .documentKey, id: id, vaultKey: vaultKey)
        switch plain.count {
        case keyBytes:
            return DocumentSecret(key: plain, contentHash: nil)
        case keyBytes + hashBytes:
            return DocumentSecret(key: plain.slice(0..<keyBytes), contentHash: plain.slice(keyBytes..<plain.count).unsafeCopyToData())
        default:
            throw .integrity("the sealed document key of \(id) has \(plain.count) bytes, neither 32 nor 64; run `dossier doctor`")
        }
    }
}
