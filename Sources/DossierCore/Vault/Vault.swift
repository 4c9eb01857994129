import DossierCrypto
import Foundation

/// A vault: the catalogue, grants, counsel, staff and log records, and the encrypted content,
/// held by a `VaultStore` (today the vault folder, `SQLiteStore`). Opening a vault needs no
/// secret; reading or changing documents needs a `StaffSession`.
public final class Vault: @unchecked Sendable {
    /// Where the vault is, as the user named it.
    public var path: String { store.location }
    let store: any VaultStore
    var blobs: any ContentStore { store.content }
    let clock: any TimeSource
    let random: any RandomSource
    /// Where this machine keeps the newest log entry it verified of this vault; nil: no memory
    /// (a decision then cannot tell a log cut back from an older one). Set by the CLI.
    public var logHead: LogHeadMemory?

    /// The organisation's public facts.
    public struct Organisation: Sendable, Codable {
        public let name: String
        public let publicKey: String
        public let fingerprint: String
    }

    private init(store: any VaultStore, clock: any TimeSource, random: any RandomSource) {
        self.store = store
        self.clock = clock
        self.random = random
    }

    /// How long, by default, removing replaced secrets after a rotation or a removal waits for
    /// other processes reading the vault, in seconds.
    public static let defaultPurgeWait: TimeInterval = SQLiteStore.busyTimeout
    /// The longest wait `purgeWait` may ask for (longer ones are cut to it).
    public static let longestPurgeWait: TimeInterval = SQLiteStore.longestPurgeWait

    /// How long, by default, a change waits for another process's change to finish before the
    /// vault is reported busy, in seconds.
    public static let defaultBusyWait: TimeInterval = SQLiteStore.busyTimeout

    /// Whether `location` names a vault in PostgreSQL (a `postgresql://` URI) rather than a folder.
    public static func isDatabaseURI(_ location: String) -> Bool { PostgresStore.isURI(location) }

    /// Refuses, before anything connects or asks for a passphrase, a location that looks like
    /// a PostgreSQL URI but is not a valid one, or one that holds a password.
    public static func checkLocation(_ location: String) throws(DossierError) {
        if PostgresStore.isURI(location) { try PostgresStore.validate(location) }
    }

    /// Opens an existing vault: a folder, or a database named by a `postgresql://` URI. After a
    /// rotation or a removal commits, the clean-up of the old keys waits up to `purgeWait` seconds for other readers, then fails with `purgeBlocked`.
    /// A change waits up to `busyWait` seconds for another process's change, then fails with
    /// `vaultBusy`. Both are cut to `longestPurgeWait`.
    public static func open(at path: String, clock: any TimeSource = SystemClock(), random: any RandomSource = SystemRandom(),
                            purgeWait: TimeInterval = defaultPurgeWait, busyWait: TimeInterval = defaultBusyWait) throws(DossierError) -> Vault {
        // A PostgreSQL URI is never taken for a folder (PostgresStore.isURI).
        if PostgresStore.isURI(path) {
            return Vault(store: try PostgresStore.open(uri: path, random: random, purgeWait: purgeWait, busyWait: busyWait), clock: clock, random: random)
        }
        return Vault(store: try SQLiteStore.open(at: path, random: random, purgeWait: purgeWait, busyWait: busyWait), clock: clock, random: random)
    }

    /// Creates a vault at `path` (a new or empty folder, or a `postgresql://` URI naming a
    /// database without a vault), with a fresh vault key and `founder` as its first staff member.
    ///
    /// With `root`, the vault records only the root's public key as the organisation key and
    /// the founder's certificate by it, valid for `certificateValidity` seconds: nobody can sign
    /// as the organisation with what is in the vault. Without it (the format before the root was
    /// kept apart, still made for tests of old vaults and of `org migrate-root`), a fresh
    /// organisation signing key is sealed inside the vault.
    public static func create(
        at path: String, organisation: String, founder: SecretIdentity, founderName: String,
        root: OrganisationRoot? = nil, certificateValidity: TimeInterval = Certificate.defaultValidity,
        clock: any TimeSource = SystemClock(), random: any RandomSource = SystemRandom()
    ) throws(DossierError) -> Vault {
        let org = organisation.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !org.isEmpty, !org.contains(where: \.isNewline) else {
            throw .invalidArgument("the organisation name must be one non-empty line", hint: "give it with --org NAME")
        }
        guard OrganisationName.isValid(org) else {
            throw .invalidArgument("the organisation name is used in signed notes: use printable ASCII without spaces or '+', e.g. example.org/dossier")
        }
        if root != nil {
            guard certificateValidity > 0, certificateValidity <= Certificate.longestValidity else {
                throw .invalidArgument("a certificate is valid for between a second and \(Int(Certificate.longestValidity / 86400)) days")
            }
        }
        if PostgresStore.isURI(path) {
            // A database that holds no vault yet: the schema, then the first records; on failure
            // the schema is dropped again.
            let store = try PostgresStore.create(uri: path, random: random)
            do throws(DossierError) {
                let vault = Vault(store: store, clock: clock, random: random)
                if let root {
                    try vault.initialise(organisation: org, founder: founder, founderName: founderName, root: root, certificateValidity: certificateValidity)
                } else {
                    try vault.initialise(organisation: org, founder: founder, founderName: founderName)
                }
                return vault
            } catch {
                store.discard()
                throw error
            }
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
            let vault = Vault(store: try SQLiteStore.create(at: path, random: random), clock: clock, random: random)
            if let root {
                try vault.initialise(organisation: org, founder: founder, founderName: founderName, root: root, certificateValidity: certificateValidity)
            } else {
                try vault.initialise(organisation: org, founder: founder, founderName: founderName)
            }
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
        let org = try OrganisationKey(signingKey: orgKey.publicKey)
        let orgSealed = try Sealing.seal(orgKey.seed, purpose: .organisationKey, id: "", vaultKey: vaultKey, random: random)
        let intake = try IntakeKeys.make(vaultKey: vaultKey, random: IntakeKeys.random)
        try write { tx in
            try tx.setSetting(.formatVersion, text: String(SQLiteStore.formatVersion))
            try tx.setSetting(.organisationName, text: organisation)
            try tx.setSetting(.organisationKey, text: org.line)
            try tx.setSetting(.organisationSecretSealed, data: orgSealed)
            try IntakeKeys.store(tx, key: intake.key, sealed: intake.sealed)
            try IntakeKeys.storeCertificate(tx, IntakeCertificate.issue(by: OrganisationRoot(signing: orgKey), organisation: organisation,
                                                                        intake: intake.key, notBefore: now))
            try tx.setSetting(.createdAt, text: Timestamp.format(now))
            try StaffRoster.insert(tx, identity: founderPublic, name: founderName, vaultKey: vaultKey, at: now, random: random)
            try AuditLog.append(tx, signer: founder, action: .initialise, at: now,
                                subjects: ["org:" + org.fingerprint, "staff:" + founderPublic.fingerprint],
                                details: [.init("organisation-key", org.line), .init("identity", founderPublic.line),
                                          .init("policy-sha256", Hash.sha256(Data(DefaultPolicy.text.utf8)).hex),
                                          .init("policy-approvals", String(try Policy.parse(DefaultPolicy.text, source: "the default policy").strictestApprovals)),
                                          .init("intake-key", intake.key.line)])
        }
    }

    /// Initialises a vault whose organisation key is `root`'s public half, kept outside it: the
    /// founder's certificate is issued and logged with the `init` entry.
    private func initialise(organisation: String, founder: SecretIdentity, founderName: String, root: OrganisationRoot,
                            certificateValidity: TimeInterval) throws(DossierError) {
        let vaultKey = SecureBytes(randomCount: AEAD.keyBytes, using: random)
        let now = clock.now()
        let founderPublic = founder.publicIdentity
        let org = root.key
        let certificate = Certificate.issue(by: root, organisation: organisation, subject: founderPublic, role: .staff, notBefore: now,
                                            validity: certificateValidity, random: random)
        let intake = try IntakeKeys.make(vaultKey: vaultKey, random: IntakeKeys.random)
        try write { tx in
            try tx.setSetting(.formatVersion, text: String(SQLiteStore.formatVersion))
            try tx.setSetting(.organisationName, text: organisation)
            try tx.setSetting(.organisationKey, text: org.line)
            try IntakeKeys.store(tx, key: intake.key, sealed: intake.sealed)
            try IntakeKeys.storeCertificate(tx, IntakeCertificate.issue(by: root, organisation: organisation, intake: intake.key, notBefore: now))
            try tx.setSetting(.createdAt, text: Timestamp.format(now))
            try StaffRoster.insert(tx, identity: founderPublic, name: founderName, vaultKey: vaultKey, at: now, random: random)
            try AuditLog.append(tx, signer: founder, action: .initialise, at: now,
                                subjects: ["org:" + org.fingerprint, "staff:" + founderPublic.fingerprint],
                                details: [.init("organisation-key", org.line), .init("identity", founderPublic.line),
                                          .init("intake-key", intake.key.line)])
            try Certification.record(tx, certificate, signer: founder, at: now)
        }
    }

    /// The organisation's name and public key.
    public func organisation() throws(DossierError) -> Organisation {
        try read { tx in
            let name = try tx.settingText(.organisationName) ?? ""
            let key = try OrganisationKey(line: try tx.settingText(.organisationKey) ?? "")
            return Organisation(name: name, publicKey: key.line, fingerprint: key.fingerprint)
        }
    }

    /// Unlocks the vault with a staff identity; refuses anyone who is not (or no longer) staff.
    /// The key-release service's identity unlocks only with `forService` (`dossier serve`), and
    /// `forService` only with it.
    public func unlock(_ identity: SecretIdentity, forService: Bool = false) throws(DossierError) -> StaffSession {
        let fp = identity.publicIdentity.fingerprint
        // The sealed key and the key generation are read in one snapshot.
        let (sealed, generation): (Data?, Int64) = try read { tx in
            (try tx.sealedVaultKey(fingerprint: fp, publicLine: identity.publicIdentity.line), try Vault.keyGeneration(tx))
        }
        guard let sealed else { throw .notStaff(fingerprint: fp) }
        let isService = try isServiceIdentity(fp)
        if isService && !forService { throw .serviceIdentity(fingerprint: fp) }
        if forService && !isService { throw .notServiceIdentity(fingerprint: fp) }
        let key: SecureBytes
        do {
            key = try SealedBox.open(sealed, with: identity.encryption)
        } catch {
            throw .notStaff(fingerprint: fp)
        }
        return StaffSession(vault: self, identity: identity, vaultKey: key, generation: generation)
    }

    /// Whether the signed entry that made `fingerprint` staff made them the key-release service.
    /// (A convenience check at unlock; what decides is that `SignedFacts` refuses any entry but
    /// an opening signed by the service.)
    func isServiceIdentity(_ fingerprint: String) throws(DossierError) -> Bool {
        let entries = try read { tx in try tx.logEntries(mentioning: "\nsubject staff:" + fingerprint + "\n") }
        for bytes in entries {
            guard let e = try? AuditEntry.parse(bytes), e.kind == .staffAdd, e.subjects(ofType: "staff") == [fingerprint] else { continue }
            return e.detail("role") == SignedFacts.Role.service.rawValue
        }
        return false
    }

    /// Incremented by every rotation of the vault key (absent: 0).
    static func keyGeneration(_ tx: any StoreTransaction) throws -> Int64 {
        try tx.settingText(.vaultKeyGeneration).flatMap { Int64($0) } ?? 0
    }

    // MARK: Transactions

    /// Runs `body` in a write transaction: all of it commits, or none of it.
    @discardableResult
    func write<T>(_ body: (any StoreTransaction) throws -> T) throws(DossierError) -> T {
        try store.write(body)
    }

    /// Runs `body` in a read transaction (one snapshot).
    func read<T>(_ body: (any StoreTransaction) throws -> T) throws(DossierError) -> T {
        try store.read(body)
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

    /// The signed facts, read once for the session and then only the entries appended since.
    private let facts = SignedFacts.SessionReader()

    /// What the signed log says as of `tx` (SignedFacts): the first call verifies the log, a
    /// later one only what was appended since, so a command that decides and then shows what it
    /// decided reads the log once.
    func signedFacts(_ tx: any StoreTransaction) throws -> SignedFacts {
        try facts.read(tx, memory: vault.logHead)
    }

    /// The size and Merkle root of the log, verified as `signedFacts` verifies it.
    func verifiedLogHead(_ tx: any StoreTransaction) throws -> (size: Int, root: Digest32) {
        try facts.verifiedHead(tx, memory: vault.logHead)
    }

    /// A write transaction that first checks that the vault key this session holds is still
    /// the current one: another process may have rotated it since this session unlocked the
    /// vault, and anything sealed under the old key would be lost.
    @discardableResult
    func write<T>(_ body: (any StoreTransaction) throws -> T) throws(DossierError) -> T {
        try vault.write { tx in
            try checkGeneration(tx)
            return try body(tx)
        }
    }

    /// A write with the same check, for a change that replaces secrets: after it commits (and
    /// `committed` has run), the replaced values are purged from the vault's files, or this
    /// throws `purgeBlocked` with the change committed (`VaultStore.writeReplacingSecrets`).
    @discardableResult
    func writeReplacingSecrets<T>(_ body: (any StoreTransaction) throws -> T,
                                  committed: (T) -> Void = { _ in }) throws(DossierError) -> T {
        try vault.store.writeReplacingSecrets({ tx in
            try checkGeneration(tx)
            return try body(tx)
        }, committed: committed)
    }

    /// A read transaction with the same check, so that sealed values are opened with the right key.
    func read<T>(_ body: (any StoreTransaction) throws -> T) throws(DossierError) -> T {
        try vault.read { tx in
            try checkGeneration(tx)
            return try body(tx)
        }
    }

    func checkGeneration(_ tx: any StoreTransaction) throws {
        if try Vault.keyGeneration(tx) != generation { throw DossierError.vaultKeyRotated(path: vault.path) }
    }

    /// The acting staff member's fingerprint.
    public var actor: String { identity.publicIdentity.fingerprint }

    /// The organisation's signing key (never leaves the vault).
    func organisationSigningKey() throws(DossierError) -> SigningKeyPair {
        let sealed: Data? = try read { tx in try tx.settingData(.organisationSecretSealed) }
        guard let sealed else { throw .integrity("the organisation key is missing from the vault") }
        let seed = try Sealing.open(sealed, purpose: .organisationKey, id: "", vaultKey: vaultKey)
        do { return try SigningKeyPair(seed: seed) } catch { throw .crypto(context: "the organisation key", error) }
    }
}

// MARK: What staff do, one part each

extension StaffSession {
    /// Depositing, finding, retrieving and removing documents (Catalogue.swift).
    public struct Documents: SessionPart { public let session: StaffSession }
    /// Counsel, the policy, grants, approvals, revocations and packages (Sharing/).
    public struct Sharing: SessionPart { public let session: StaffSession }
    /// Staff members and the vault key (StaffRoster.swift).
    public struct Staff: SessionPart { public let session: StaffSession }
    /// Checkpoints of the log, and staff's view of it (Audit/).
    public struct Audit: SessionPart { public let session: StaffSession }

    /// Depositing, finding, retrieving and removing documents.
    public var documents: Documents { Documents(session: self) }
    /// Counsel, the policy, grants, approvals, revocations and packages.
    public var sharing: Sharing { Sharing(session: self) }
    /// Staff members and the vault key.
    public var staff: Staff { Staff(session: self) }
    /// Checkpoints of the log, and staff's view of it.
    public var audit: Audit { Audit(session: self) }
}

/// One part of a staff session: it acts with the session's identity and vault key.
public protocol SessionPart: Sendable {
    /// The unlocked session this part acts for.
    var session: StaffSession { get }
}

extension SessionPart {
    var vault: Vault { session.vault }
    var identity: SecretIdentity { session.identity }
    var vaultKey: SecureBytes { session.vaultKey }
    var actor: String { session.actor }

    @discardableResult
    func write<T>(_ body: (any StoreTransaction) throws -> T) throws(DossierError) -> T { try session.write(body) }
    func read<T>(_ body: (any StoreTransaction) throws -> T) throws(DossierError) -> T { try session.read(body) }
    func signedFacts(_ tx: any StoreTransaction) throws -> SignedFacts { try session.signedFacts(tx) }

    func sealJSON<T: Encodable>(_ value: T, purpose: Sealing.Purpose, id: String) throws(DossierError) -> Data {
        try session.sealJSON(value, purpose: purpose, id: id)
    }
    func openJSON<T: Decodable>(_ sealed: Data, purpose: Sealing.Purpose, id: String) throws(DossierError) -> T {
        try session.openJSON(sealed, purpose: purpose, id: id)
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
        case intakeKey = "intake-key"
        case request
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
