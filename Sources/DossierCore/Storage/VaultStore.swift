import DossierCrypto
import Foundation

/// Where a vault lives. The domain reaches storage only through this protocol and the
/// transaction it hands out (`StoreTransaction`); SQL and the database library stay inside an
/// implementation (`SQLiteStore`, the vault folder). A second backend implements the same
/// protocols and keeps the same guarantees:
///
/// - `write` runs its body in one transaction that commits whole or not at all, so a change
///   and the log entry that records it are stored together or not at all;
/// - `read` sees one consistent snapshot;
/// - transactions that write are serialised, so log entries form one gap-free chain.
///
/// What is stored is what a thief of the storage may read: ids, kinds, sizes, dates, public
/// keys, and values sealed under the vault key. Nothing here decides who may do what.
protocol VaultStore: AnyObject, Sendable {
    /// The vault's location as the user named it (a folder), for messages.
    var location: String { get }
    /// The documents' encrypted content.
    var content: any ContentStore { get }

    /// Runs `body` in a read transaction (one snapshot).
    func read<T>(_ body: (any StoreTransaction) throws -> T) throws(DossierError) -> T
    /// Runs `body` in a write transaction: everything it changes commits together, or nothing.
    func write<T>(_ body: (any StoreTransaction) throws -> T) throws(DossierError) -> T

    /// The documents selected by `query`, in deposit order, each handed to a sink made by
    /// `sink` (one per part read in parallel); the sinks come back in order, and their
    /// concatenation is the listing. `opener` opens each row's sealed metadata; `check` runs
    /// first, in the listing's snapshot.
    func listDocuments<S: ListingSink>(_ query: ListingQuery, opener: MetadataOpener, connections: Int?, probe: ListingProbe?,
                                       check: (any StoreTransaction) throws -> Void, sink: () -> S) throws(DossierError) -> [S]

    /// Runs `body` as `write` does, for a change that replaces secrets (a rotation re-sealing
    /// everything under a new vault key, a shredded document key). Before the transaction
    /// commits, the store records durably that a purge is owed; after it commits, `committed`
    /// runs with the result, then the store removes every copy of the replaced data beyond what
    /// the current state holds, and only then clears the record. When that purge cannot finish
    /// in a bounded time (another process reads an older state), the change stays committed,
    /// the record stays, and this throws `purgeBlocked`. If the transaction rolls back, nothing
    /// was replaced and the record is dropped.
    func writeReplacingSecrets<T>(_ body: (any StoreTransaction) throws -> T,
                                  committed: (T) -> Void) throws(DossierError) -> T

    /// The records of purges still owed (names of marker files, for `doctor` to report); empty
    /// when every replaced secret is gone.
    func pendingPurges() -> [String]

    /// Finishes every owed purge and clears its record; throws `purgeBlocked` when another
    /// process still holds the replaced data in view. Run by `doctor --fix`.
    func purgeReplacedData() throws(DossierError)

    /// What a failure thrown by this store's transactions means, as a `DossierError` (`read`
    /// and `write` do this themselves; `vault copy` needs it for one store's failure inside the
    /// other store's transaction).
    func translate(_ error: any Error) -> DossierError
}

/// One transaction's access to the vault's records. Methods throw whatever the backend
/// throws; the store translates it into a `DossierError` when the transaction ends.
protocol StoreTransaction: SettingsRecords, StaffRecords, CatalogueRecords, CounselRecords, GrantRecords, OnlineRecords, LogRecords,
    CertificateRecords, RequestRecords, RawRecords {}

/// The vault's settings: public facts and the sealed organisation key.
enum SettingKey: String, Sendable {
    case formatVersion = "format_version"
    case organisationName = "organisation_name"
    case organisationKey = "organisation_key"
    case organisationSecretSealed = "organisation_secret_sealed"
    /// The organisation's intake key line (`dossierintake1…`), to which counsel seal requests.
    case intakeKey = "intake_key"
    /// Its X25519 secret key, sealed under the vault key (purpose `intake-key`).
    case intakeSecretSealed = "intake_secret_sealed"
    /// The organisation root's certificate of the intake key (text; request.md section 2.3).
    case intakeCertificate = "intake_certificate"
    case createdAt = "created_at"
    case vaultKeyGeneration = "vault_key_generation"
    case policy
    /// A policy change waiting for sign-offs (empty when none).
    case policyProposed = "policy_proposed"
}

protocol SettingsRecords {
    /// A setting as text (nil if absent).
    func settingText(_ key: SettingKey) throws -> String?
    /// A setting as bytes (nil if absent).
    func settingData(_ key: SettingKey) throws -> Data?
    func setSetting(_ key: SettingKey, text: String) throws
    func setSetting(_ key: SettingKey, data: Data) throws
}

/// A staff member's row.
struct StaffRecord: Sendable {
    var fingerprint: String
    var publicLine: String
    var nameSealed: Data
    /// The vault key sealed to the member; nil once removed.
    var vaultKeySealed: Data?
    var addedAt: String
    var removedAt: String?
}

protocol StaffRecords {
    func insertStaff(_ record: StaffRecord) throws
    func staffMember(_ fingerprint: String) throws -> StaffRecord?
    /// Every member, current and removed, in the order they were added.
    func allStaff() throws -> [StaffRecord]
    /// The vault key sealed to the member with this fingerprint and public line, if current.
    func sealedVaultKey(fingerprint: String, publicLine: String) throws -> Data?
    func countCurrentStaff(excluding fingerprint: String) throws -> Int
    /// Marks a member removed and drops the vault key sealed to them.
    func retireStaff(_ fingerprint: String, at time: String) throws
    /// Replaces a member's sealed name and (for a current member) sealed vault key.
    func resealStaff(_ fingerprint: String, nameSealed: Data, vaultKeySealed: Data?) throws
}

/// A document's catalogue row.
struct DocumentRecord: Sendable {
    var id: String
    var kind: String
    var language: String
    var size: UInt64
    var depositedAt: String
    var depositedBy: String
    var metadataSealed: Data?
    var keySealed: Data?
    var removedAt: String?
    var removedBy: String?
}

/// The values of a document sealed under the vault key (re-sealed by a rotation).
struct DocumentSeals: Sendable {
    var id: String
    var keySealed: Data?
    var metadataSealed: Data?
    var reasonSealed: Data?
}

protocol CatalogueRecords {
    func insertDocument(_ record: DocumentRecord) throws
    func document(_ id: String) throws -> DocumentRecord?
    /// The sealed key (and recorded hash) of a live document; nil once removed.
    func sealedDocumentKey(_ id: String) throws -> Data?
    /// Destroys a live document's key and metadata and records why and by whom.
    func markDocumentRemoved(_ id: String, at time: String, by actor: String, reasonSealed: Data) throws
    /// Id, size and sealed key of every live document.
    func liveDocuments() throws -> [(id: String, size: UInt64, keySealed: Data)]
    func removedDocumentIDs() throws -> [String]
    func allDocumentSeals() throws -> [DocumentSeals]
    func resealDocument(_ seals: DocumentSeals) throws
}

/// A counsel's row.
struct CounselRecord: Sendable {
    var id: String
    var fingerprint: String
    var publicLine: String
    var detailsSealed: Data
    var addedAt: String
    var vettedUntil: String?
    var vettingNoteSealed: Data?
    var suspendedAt: String?
    var suspensionReasonSealed: Data?
}

protocol CounselRecords {
    func insertCounsel(_ record: CounselRecord) throws
    /// By id, or by fingerprint.
    func counsel(id: String, orFingerprint fingerprint: String) throws -> CounselRecord?
    /// Those of `ids` that exist, in no particular order.
    func counsel(ids: [String]) throws -> [CounselRecord]
    /// Every counsel, in the order they were added.
    func allCounsel() throws -> [CounselRecord]
    /// Sets vetting (and lifts a suspension).
    func setVetting(counsel id: String, until: String, noteSealed: Data?) throws
    func setSuspension(counsel id: String, at time: String, reasonSealed: Data) throws
    /// Replaces every value of a counsel sealed under the vault key.
    func resealCounsel(id: String, detailsSealed: Data, vettingNoteSealed: Data?, suspensionReasonSealed: Data?) throws
}

/// A grant's row, with the documents, recipients and sign-offs that belong to it.
struct GrantRecord: Sendable {
    var id: String
    var createdAt: String
    var createdBy: String
    var notBefore: String
    var notAfter: String
    var approvalsNeeded: Int
    /// As stored: `pending`, `active` or `revoked`.
    var state: String
    var detailsSealed: Data
    var revokedAt: String?
    var revokedBy: String?
    var reasonSealed: Data?
    var onlineURL: String?
    var maxOpens: Int
    /// In the order granted.
    var documents: [String]
    /// Ordered by id.
    var recipients: [String]
    /// Staff other than the grantor who approved, in the order they did.
    var approvers: [String]
}

protocol GrantRecords {
    /// Records a grant with its documents and recipients (`approvers` is ignored).
    func insertGrant(_ record: GrantRecord) throws
    func grant(_ id: String) throws -> GrantRecord?
    /// Every grant, or those naming a counsel, newest first.
    func grants(naming counsel: String?) throws -> [GrantRecord]
    func insertApproval(grant: String, staff: String, at time: String) throws
    /// Sets a pending grant active.
    func activateGrant(_ id: String) throws
    func revokeGrant(_ id: String, at time: String, by actor: String, reasonSealed: Data) throws
    /// Sets an open limit on a grant that has none.
    func setOpenLimitIfUnset(grant: String, maxOpens: Int) throws
    /// Sealed values of every grant: details and revocation reason.
    func allGrantSeals() throws -> [(id: String, detailsSealed: Data, reasonSealed: Data?)]
    func resealGrant(id: String, detailsSealed: Data, reasonSealed: Data?) throws
}

/// A package as recorded when it was made.
struct PackageRecord: Sendable {
    var id: String
    var grantID: String
    var createdAt: String
    var createdBy: String
    var manifestSHA256: String
    var onlineURL: String?
}

/// The vault's share of one recipient's package key.
struct OnlineShareRecord: Sendable {
    var packageID: String
    var fingerprint: String
    var counselID: String
    var shareSealed: Data
}

protocol OnlineRecords {
    func insertPackage(_ record: PackageRecord) throws
    func package(_ id: String) throws -> PackageRecord?
    func insertOnlineShare(_ record: OnlineShareRecord) throws
    /// The share for the recipient with `fingerprint`, with that counsel's public line.
    func onlineShare(package: String, fingerprint: String) throws -> (share: OnlineShareRecord, publicLine: String)?
    func allOnlineShares() throws -> [OnlineShareRecord]
    func resealOnlineShare(package: String, fingerprint: String, shareSealed: Data) throws
    func isKnownNonce(_ nonce: String) throws -> Bool
    func insertNonce(_ nonce: String, seenAt time: String) throws
    /// Deletes nonces first seen before `time` (fixed-width UTC text).
    func deleteNonces(seenBefore time: String) throws
    func openCount(grant: String, counsel: String) throws -> Int
    func insertOpening(logSeq: UInt64, grant: String, package: String, counsel: String, at time: String) throws
}

protocol LogRecords {
    /// The newest entry's position and bytes.
    func lastLogEntry() throws -> (seq: UInt64, bytes: Data)?
    func insertLogEntry(seq: UInt64, bytes: Data) throws
    /// Every entry with its stored position, in order.
    func logEntries() throws -> [(seq: Int64, bytes: Data)]
    /// The entries after the first `skipped`, in order.
    func logEntries(after skipped: Int) throws -> [Data]
    /// At most `limit` entries whose stored position is above `position`, with it, in order: a
    /// long log read a part at a time, in bounded memory (`Int64.min` to start, to read every
    /// row; the number of entries already verified, to read on after them).
    func logEntries(afterPosition position: Int64, limit: Int) throws -> [(seq: Int64, bytes: Data)]
    /// The entries whose bytes contain `text`, in order.
    func logEntries(mentioning text: String) throws -> [Data]
    /// The largest stored position (0 for an empty log).
    func logSize() throws -> Int
    /// Checkpoint notes, oldest first.
    func checkpointNotes() throws -> [String]
    func newestCheckpointNote() throws -> String?
    /// Keeps a checkpoint note for a tree size (replacing one of the same size).
    func storeCheckpoint(size: UInt64, note: String, at time: String) throws
}

/// A request from counsel in the staff inbox. Its file is kept as received (already sealed to
/// the intake key) in the content store under the request id (`ContentStore.writeRequest`).
struct RequestRecord: Sendable {
    var id: String
    var receivedAt: String
    /// Fingerprint of the staff member who imported it.
    var receivedBy: String
    /// SHA-256 of the whole request file, lowercase hex (as the `request-receive` entry signs it).
    var sha256: String
    /// The file's size in bytes.
    var size: UInt64
    /// The sender's identity fingerprint.
    var sender: String
    /// As stored: `new`, `assigned`, `answered` or `declined`.
    var state: String
    /// Fingerprint of the staff member it is assigned to, if any.
    var assignedTo: String?
    /// The grant that answered it, once answered.
    var grantID: String?
    /// The summary (sender line, need, languages, jurisdiction, court, case, hearing), sealed
    /// under the vault key (purpose `request`, id = `id`).
    var summarySealed: Data
    /// The reason it was declined, sealed (purpose `request`, id = `id` + `/decline`).
    var reasonSealed: Data?
    /// When it was answered or declined.
    var closedAt: String?
}

protocol RequestRecords {
    func insertRequest(_ record: RequestRecord) throws
    func request(_ id: String) throws -> RequestRecord?
    /// Every request, in the order received.
    func allRequests() throws -> [RequestRecord]
    /// Sets an open request's state to `assigned`, to `staff`.
    func assignRequest(_ id: String, to staff: String) throws
    /// Sets a request `answered` (with its grant) or `declined` (with its sealed reason).
    func closeRequest(_ id: String, state: String, grant: String?, reasonSealed: Data?, at time: String) throws
    /// The sealed values of every request: summary and decline reason.
    func allRequestSeals() throws -> [(id: String, summarySealed: Data, reasonSealed: Data?)]
    func resealRequest(id: String, summarySealed: Data, reasonSealed: Data?) throws
    /// How many requests, and how many bytes, were received at or after `since` (a timestamp)
    /// by one of `receivedBy` (fingerprints), from `sender` if given: the service's quotas.
    func requestIntake(since: String, receivedBy: [String], sender: String?) throws -> (count: Int, bytes: UInt64)
}

/// A certificate by the organisation root, as stored (public, signed data: readers verify the
/// root's signature again, since storage is hostile).
struct CertificateRecord: Sendable {
    var serial: String
    var fingerprint: String
    var sha256: String
    var certificate: Data
    var issuedAt: String
    var revokedAt: String?
}

protocol CertificateRecords {
    func insertCertificate(_ record: CertificateRecord) throws
    /// Every certificate, oldest first.
    func allCertificates() throws -> [CertificateRecord]
    func certificates(of fingerprint: String) throws -> [CertificateRecord]
    func certificate(sha256: String) throws -> CertificateRecord?
    func revokeCertificate(serial: String, at time: String) throws
    /// Which certificate a package was signed under (packages of format 2).
    func setPackageCertificate(package: String, sha256: String) throws
    func packageCertificate(package: String) throws -> String?
    /// Deletes a setting (`org migrate-root` deletes the sealed organisation secret).
    func deleteSetting(_ key: SettingKey) throws
}
