import DossierCrypto
import Foundation

/// Every failure the domain reports. `message` says what went wrong and which file or id it
/// concerns; `hint`, where there is one, says what to do about it. Neither contains a secret, a
/// passphrase, a title or document content.
public enum DossierError: Error, Sendable, CustomStringConvertible {
    // Files
    case fileNotFound(path: String)
    case notARegularFile(path: String)
    case fileUnreadable(path: String, reason: String)
    case fileExists(path: String)
    case writeFailed(path: String, reason: String)
    case insecurePermissions(path: String, mode: UInt16)

    // Identities and keys
    case malformedIdentityFile(path: String, reason: String)
    case malformedPublicIdentity(reason: String)
    case malformedOrganisationKey(reason: String)
    case wrongPassphrase(path: String)
    case passphraseRequired(path: String)
    case emptyPassphrase
    case weakPassphrase(minimumCharacters: Int)
    case passphraseMismatch

    // Vault
    case vaultExists(path: String)
    case notAVault(path: String)
    case vaultBusy(path: String)
    /// The database server holding the vault cannot be reached (refused, lost, a standby that
    /// was not promoted), after retrying.
    case vaultUnreachable(location: String, reason: String)
    /// The connection to the database was lost while a change was committing: it may or may
    /// not have been recorded.
    case commitUnknown(location: String)
    case vaultKeyRotated(path: String)
    /// A change that replaced secrets (a rotation, a removal) committed, but the replaced
    /// values could not be purged from the database's files: another process holds it open.
    case purgeBlocked(path: String)
    case unsupportedVaultVersion(found: Int, supported: Int)
    /// `vault copy` was given a destination that holds something.
    case copyTargetNotEmpty(location: String)
    /// The copy `vault copy` made differs from its source (it was removed again).
    case copyMismatch(destination: String, what: String)
    case notStaff(fingerprint: String)
    case staffAlreadyPresent(fingerprint: String)
    case lastStaffMember
    case unknownStaff(id: String)
    case unknownDocument(id: String)
    case documentRemoved(id: String)
    /// An argument the operation refuses: what is wrong with it, and what to give instead.
    case invalidArgument(String, hint: String? = nil)
    /// A required option is missing (no vault, no identity): a usage error.
    case missingOption(String, hint: String? = nil)
    case unknownKind(String)
    case invalidLanguageTag(String)
    case database(String)
    case integrity(String)
    /// A row the decision reads differs from what the signed log records: edited outside dossier.
    case altered(String)
    /// The log is shorter than, or differs from, what this machine verified before.
    case rolledBack(String, memory: String)
    /// The identity is the key-release service's, which may sign openings, refusals and received requests only.
    case serviceIdentity(fingerprint: String)
    /// `dossier serve` was given a staff identity that is not the service's.
    case notServiceIdentity(fingerprint: String)

    // Policy and sharing
    case policyInvalid(source: String, line: Int?, message: String)
    case policyDenied(rule: String, message: String, hint: String? = nil)
    case unknownCounsel(id: String)
    case counselAlreadyRegistered(fingerprint: String, id: String)
    case unknownGrant(id: String)
    case grantNotActive(id: String, state: String)
    case selfApproval(grant: String)
    case alreadyApproved(grant: String)
    case malformedPackage(path: String, reason: String)
    case untrustedSigner(fingerprint: String)
    case alreadyTrusted(fingerprint: String, name: String, requested: String)
    case notARecipient(fingerprint: String)
    case packageNotYetValid(notBefore: String)
    case packageExpired(notAfter: String)
    case packageTampered(path: String, reason: String)
    case onlinePackage(url: String)
    case keyReleaseRefused(url: String, reason: String, message: String)
    case keyReleaseUnavailable(url: String, reason: String)

    // Requests from counsel (docs/formats/request.md)
    case malformedIntakeKey(reason: String)
    case malformedRequest(path: String, reason: String)
    case requestTampered(path: String, reason: String)
    case requestNotForThisIntake(path: String, sealedTo: String, intake: String)
    /// The vault has no intake key yet (made before intake keys; `org intake-key --create`).
    case noIntakeKey
    /// The intake certificate counsel hold (or were given) is expired or not yet valid.
    case intakeCertificateNotCurrent(organisation: String, notBefore: String, notAfter: String, expired: Bool)
    /// The organisation's service holds no request of this id from the identity that asked
    /// (`request status`): the same answer whether it exists for someone else or not at all.
    case unknownRequestAtService(id: String, url: String)
    /// Counsel named a trusted organisation whose intake certificate they do not hold.
    case noIntakeCertificate(organisation: String)
    /// An intake certificate (or an organisation named for a request) whose root counsel do not trust.
    case untrustedOrganisation(fingerprint: String, what: String)
    /// `org intake-key --create` on a vault that has one.
    case intakeKeyExists(fingerprint: String)
    /// No request with this id in the inbox.
    case unknownRequest(id: String)
    /// `requests import` of a request whose id is already in the inbox (a replay, or the same
    /// file imported twice).
    case requestAlreadyReceived(id: String, receivedAt: String)
    /// Assigning, answering or declining a request that was answered or declined already.
    case requestClosed(id: String, state: String)
    /// The organisation's service refused a request or a status query (`request new --send`,
    /// `request status`): its error code and message.
    case requestRefused(url: String, reason: String, message: String)
    /// The organisation's service could not be reached, or its answer was unusable.
    case requestServiceUnavailable(url: String, reason: String)
    /// A receipt for a request that does not verify (formats/request.md, section 11).
    case receiptInvalid(context: String, reason: String)

    // Audit
    case malformedCheckpoint(reason: String)
    case checkpointSignatureInvalid(name: String)
    case malformedExport(path: String, reason: String)
    /// A verification state file (`audit verify --from-state`) that does not parse.
    case malformedState(path: String, reason: String)
    case wrongOrganisation(expected: String, found: String)
    case logVerificationFailed(String)

    // The organisation root and its certificates (docs/formats/identity.md, sections 6 and 7)
    case malformedRootFile(path: String, reason: String)
    /// A root file whose key is not the organisation key of the vault it is used with.
    case wrongRoot(path: String, expected: String, found: String)
    case malformedCertificate(reason: String)
    /// A certificate that is not what it claims: another root, a bad signature, another
    /// organisation or role, or a signature by a key it does not certify.
    case certificateInvalid(context: String, reason: String)
    case certificateNotCurrent(fingerprint: String, serial: String, notBefore: String, notAfter: String, expired: Bool)
    /// The acting staff member has no certificate valid now, so cannot sign for the organisation.
    case noCurrentCertificate(fingerprint: String)
    /// The vault still keeps the organisation key inside it (made before the root was kept apart).
    case organisationKeyInVault
    /// The vault's organisation key is already kept outside it.
    case rootAlreadyOffline

    // Crypto, wrapped with context
    case crypto(context: String, CryptoError)

    /// What went wrong, naming the file or id it concerns.
    public var message: String { parts.message }

    /// What to do about it, when there is something to do.
    public var hint: String? { parts.hint }

    /// The message and the hint as one sentence, as a log line or an HTTP error carries them.
    public var description: String {
        guard let hint = parts.hint else { return parts.message }
        return parts.message + parts.joiner + hint
    }

    /// Message, hint, and what joins them in `description`.
    private var parts: (message: String, hint: String?, joiner: String) {
        switch self {
        case let .fileNotFound(path):
            return ("\(path): no such file", nil, "")
        case let .notARegularFile(path):
            return ("\(path) is not a regular file (a folder or a device?)", "give the path of a file", "; ")
        case let .fileUnreadable(path, reason):
            return ("cannot read \(path): \(reason)", nil, "")
        case let .fileExists(path):
            return ("\(path) already exists", "choose another path or remove it first (nothing was overwritten)", "; ")
        case let .writeFailed(path, reason):
            return ("cannot write \(path): \(reason)", nil, "")
        case let .insecurePermissions(path, mode):
            return ("\(path) is readable by other users (mode \(String(mode, radix: 8)))",
                    "a secret file must be private: run chmod 600 \(path)", "; ")
        case let .malformedIdentityFile(path, reason):
            return ("\(path) is not a valid Dossier identity file: \(reason)", nil, "")
        case let .malformedPublicIdentity(reason):
            return ("not a valid public identity: \(reason)", nil, "")
        case let .malformedOrganisationKey(reason):
            return ("not a valid organisation key: \(reason)", nil, "")
        case let .wrongPassphrase(path):
            return ("wrong passphrase for \(path), or the file was altered", nil, "")
        case let .passphraseRequired(path):
            return ("\(path) is protected by a passphrase, and there is no terminal to ask for it", "pass --passphrase-file FILE", "; ")
        case .emptyPassphrase:
            return ("the passphrase is empty", "choose one, or use --no-passphrase deliberately", "; ")
        case let .alreadyTrusted(fingerprint, name, requested):
            return ("the organisation key \(fingerprint) is already trusted as '\(name)'; nothing was changed",
                    "to call it '\(requested)' instead, run `dossier trust add` again with --rename", "; ")
        case let .weakPassphrase(minimum):
            return ("the passphrase is too short to protect a new identity: it needs at least \(minimum) characters",
                    "choose a longer one, such as four or more random words; or use --no-passphrase deliberately, for a throwaway identity", "; ")
        case .passphraseMismatch:
            return ("the two passphrases differ; nothing was written", nil, "")
        case let .vaultExists(path):
            return ("\(path) already holds a vault (or is not empty); refusing to initialise over it", nil, "")
        case let .notAVault(path):
            return ("\(path) is not a Dossier vault", "create one with `dossier init --vault \(path)`, or set DOSSIER_VAULT", "; ")
        case let .vaultBusy(path):
            return ("the vault \(path) is busy with another operation", "retry in a moment", "; ")
        case let .vaultUnreachable(location, reason):
            return ("cannot reach the database of the vault \(location): \(reason); nothing was changed",
                    "check that the server is running and reachable (PG* variables, ~/.pgpass, the service file), then retry", "; ")
        case let .commitUnknown(location):
            return ("the connection to the database of the vault \(location) was lost while the change was committing: it may or may not have been recorded",
                    "look for it with `dossier audit log` (or `dossier list`) before running the command again", "; ")
        case let .vaultKeyRotated(path):
            return ("the vault key of \(path) was rotated by another staff member while this command ran; nothing was changed",
                    "run it again", ": ")
        case let .purgeBlocked(path) where PostgresStore.isURI(path):
            return ("the change is committed, but old row versions holding the retired keys are still in the tables of \(path): VACUUM could not remove them (another transaction still sees them, or this database role does not own the tables)",
                    "have the role that owns the vault's tables run `dossier doctor --fix` on the same database, with that role in the URI (docs/deployment.md)", "; ")
        case let .purgeBlocked(path):
            return ("the change is committed, but the old keys are still in the write-ahead log of \(path) because another process holds the database open",
                    "close the other reader (a sqlite3 shell, a backup, `dossier serve`), then run `dossier doctor --fix --vault \(path)`", "; ")
        case let .copyTargetNotEmpty(location):
            return ("\(location) is not empty: `vault copy` writes only into a new or empty folder, or a database without any table; nothing was written",
                    "give a new folder, or create an empty database (CREATE DATABASE …) and give its URI", "; ")
        case let .copyMismatch(destination, what):
            return ("the copy in \(destination) does not match its source: \(what); the copy was removed",
                    "make sure nothing changes the source while it is copied (stop `dossier serve` and staff's commands), then run `dossier vault copy` again", "; ")
        case let .unsupportedVaultVersion(found, supported):
            return ("this vault has format version \(found), newer than this program understands (\(supported))", "upgrade dossier", "; ")
        case let .notStaff(fingerprint):
            return ("the identity \(fingerprint) is not staff of this vault (or was removed)", "ask a staff member to run `dossier staff add`", "; ")
        case let .staffAlreadyPresent(fingerprint):
            return ("\(fingerprint) is already staff of this vault", nil, "")
        case .lastStaffMember:
            return ("refusing to remove the last staff member: nobody could unlock the vault afterwards", nil, "")
        case let .unknownStaff(id):
            return ("no staff member \(id)", "see `dossier staff list`", "; ")
        case let .unknownDocument(id):
            return ("no document \(id)", "see `dossier list`", "; ")
        case let .documentRemoved(id):
            return ("document \(id) was removed (crypto-shredded); its content no longer exists", nil, "")
        case let .invalidArgument(message, hint):
            return (message, hint, "; ")
        case let .missingOption(message, hint):
            return (message, hint, "; ")
        case let .unknownKind(kind):
            return ("unknown document kind '\(kind)'", "use one of: \(DocumentKind.allCases.map(\.rawValue).joined(separator: ", "))", "; ")
        case let .invalidLanguageTag(tag):
            return ("'\(tag)' is not a BCP 47 language tag (RFC 5646)", "give a tag such as en, fr, ar, zh-Hans-CN, es-419 or en-US-u-ca-gregory", "; ")
        case let .database(message):
            return ("vault database error: \(message)", nil, "")
        case let .integrity(message):
            return ("integrity check failed: \(message)", nil, "")
        case let .altered(message):
            return ("the vault was edited outside dossier: \(message); nothing was done",
                    "keep a copy of the vault folder as it is, check it with `dossier audit verify` and `dossier doctor`, and restore it from a backup you trust", "; ")
        case let .rolledBack(what, memory):
            return ("the vault's log was cut back or replaced: \(what); nothing was done",
                    "keep a copy of the vault as it is and compare it with your backups and the auditors' checkpoints; if the vault was restored from a backup on purpose, check it with `dossier audit verify --checkpoint`, then remove \(memory)", "; ")
        case let .notServiceIdentity(fingerprint):
            return ("\(fingerprint) is a staff identity, not the key-release service's: the service runs with an identity that can sign openings, refusals and received requests, nothing else",
                    "create one with `dossier identity new`, add it with `dossier staff add --service`, and give it to `dossier serve --identity`", "; ")
        case let .serviceIdentity(fingerprint):
            return ("\(fingerprint) is the key-release service's identity: it can sign openings, refusals and received requests, nothing else",
                    "use your own staff identity; the service's identity is only for `dossier serve`", "; ")
        case let .policyInvalid(source, line, message):
            return ("\(source)\(line.map { ":\($0)" } ?? ""): \(message)", nil, "")
        case let .policyDenied(rule, message, hint):
            return ("refused by the policy (rule \(rule)): \(message); nothing was granted", hint, "; ")
        case let .unknownCounsel(id):
            return ("no counsel \(id)", "see `dossier counsel list`", "; ")
        case let .counselAlreadyRegistered(fingerprint, id):
            return ("the identity \(fingerprint) is already registered as counsel \(id)", nil, "")
        case let .unknownGrant(id):
            return ("no grant \(id)", "see `dossier grants`", "; ")
        case let .grantNotActive(id, state):
            return ("grant \(id) is \(state); only an active grant can be packaged or approved", nil, "")
        case let .selfApproval(grant):
            return ("you created grant \(grant)", "another staff member must approve it (two-person rule)", "; ")
        case let .alreadyApproved(grant):
            return ("you have already approved grant \(grant)", "another staff member must approve it", "; ")
        case let .malformedPackage(path, reason):
            return ("\(path) is not a valid Dossier package: \(reason)", nil, "")
        case let .untrustedSigner(fingerprint):
            return ("the package is signed by organisation key \(fingerprint), which you do not trust",
                    "compare the fingerprint with the organisation by phone, then `dossier trust add`", "; ")
        case let .notARecipient(fingerprint):
            return ("this package was not sealed to your identity \(fingerprint)", "ask the organisation to grant you access", "; ")
        case let .packageNotYetValid(notBefore):
            return ("this package is not valid before \(notBefore)", "try again then", "; ")
        case let .packageExpired(notAfter):
            return ("this package expired at \(notAfter)", "ask the organisation for a new grant", "; ")
        case let .packageTampered(path, reason):
            return ("\(path) was corrupted or tampered with (\(reason)); nothing was written", nil, "")
        case let .onlinePackage(url):
            return ("this package can only be opened with the organisation's key-release service at \(url)", nil, "")
        case let .keyReleaseRefused(url, reason, message):
            return ("the key-release service at \(url) refused to release the key (\(reason)): \(message); nothing was written", nil, "")
        case let .keyReleaseUnavailable(url, reason):
            return ("cannot get the key from the key-release service at \(url): \(reason)",
                    "check the network and retry, nothing was written", "; ")
        case let .malformedIntakeKey(reason):
            return ("not a valid intake key: \(reason)", nil, "")
        case let .malformedRequest(path, reason):
            return ("\(path) is not a valid Dossier request: \(reason)", nil, "")
        case let .requestTampered(path, reason):
            return ("\(path) was corrupted, forged or tampered with (\(reason)); nothing was written", nil, "")
        case let .requestNotForThisIntake(path, sealedTo, intake):
            return ("\(path) is sealed to the intake key \(sealedTo), not to this one (\(intake))",
                    "it was written for another organisation, or with an intake key since replaced; ask its sender to check the intake line they used", "; ")
        case .noIntakeKey:
            return ("this vault has no intake key, so it cannot receive requests",
                    "a staff member creates one with `dossier org intake-key --create`, then publishes it (`dossier org show`)", "; ")
        case let .intakeCertificateNotCurrent(organisation, notBefore, notAfter, expired):
            return (expired ? "the intake certificate of \(organisation) expired at \(notAfter)" : "the intake certificate of \(organisation) is not valid before \(notBefore)",
                    expired ? "ask the organisation for its current intake certificate (`dossier org show --intake-certificate`), then `dossier trust intake FILE`" : "check your computer's clock", "; ")
        case let .noIntakeCertificate(organisation):
            return ("you hold no intake certificate of \(organisation), so there is no key to seal a request to",
                    "ask the organisation for it (`dossier org show --intake-certificate` writes it), then run `dossier trust intake FILE`", "; ")
        case let .untrustedOrganisation(fingerprint, what):
            return ("\(what) is by the organisation key \(fingerprint), which you do not trust",
                    "compare the fingerprint with the organisation by phone, then `dossier trust add KEY --name NAME`", "; ")
        case let .intakeKeyExists(fingerprint):
            return ("this vault already has an intake key (\(fingerprint)); nothing was changed", "`dossier org show` prints it", "; ")
        case let .unknownRequest(id):
            return ("no request \(id) in the inbox", "`dossier requests` lists them", "; ")
        case let .unknownRequestAtService(id, url):
            return ("no request \(id) from you at \(url)",
                    "check the request id, that you ask with the identity that signed the request, and that it went to this organisation (sent with --send, or imported by its staff)", "; ")
        case let .requestAlreadyReceived(id, receivedAt):
            return ("request \(id) is already in the inbox (received \(receivedAt)); nothing was stored",
                    "the same request sent twice, or replayed: see it with `dossier requests show \(id)`", "; ")
        case let .requestClosed(id, state):
            return ("request \(id) is \(state) already; nothing was changed", "an answered or declined request stays so; see `dossier requests show \(id)`", "; ")
        case let .requestRefused(url, reason, message):
            return ("the service at \(url) refused it (\(reason)): \(message)", nil, "")
        case let .requestServiceUnavailable(url, reason):
            return ("cannot reach the organisation's service at \(url): \(reason)", "check the URL and the network and retry, or send the request file by another channel", "; ")
        case let .receiptInvalid(context, reason):
            return ("the receipt \(context) does not verify: \(reason)",
                    "do not rely on it: the organisation may or may not hold your request; ask them, giving its id", "; ")
        case let .malformedCheckpoint(reason):
            return ("not a valid checkpoint: \(reason)", nil, "")
        case let .checkpointSignatureInvalid(name):
            return ("the checkpoint carries no valid signature by the organisation key '\(name)': forged or altered", nil, "")
        case let .malformedExport(path, reason):
            return ("\(path) is not a valid Dossier log export: \(reason)", nil, "")
        case let .malformedState(path, reason):
            return ("\(path) is not a valid Dossier verification state: \(reason)", nil, "")
        case let .wrongOrganisation(expected, found):
            return ("the organisation key has fingerprint \(found), not \(expected) as you expected", "do not trust this log", ": ")
        case let .logVerificationFailed(message):
            return ("log verification FAILED: \(message)", nil, "")
        case let .malformedRootFile(path, reason):
            return ("\(path) is not a valid Dossier organisation root file: \(reason)",
                    "give the file `dossier init --root-out` or `dossier org migrate-root --root-out` wrote", "; ")
        case let .wrongRoot(path, expected, found):
            return ("\(path) holds the organisation root \(found), but this vault's organisation key is \(expected)",
                    "use the root file made for this vault (`dossier org show` prints its fingerprint)", "; ")
        case let .malformedCertificate(reason):
            return ("not a valid Dossier certificate: \(reason)", "the file or vault holding it was corrupted or altered", "; ")
        case let .certificateInvalid(context, reason):
            return ("the certificate in \(context) is not valid: \(reason)", "do not trust it: it was forged or altered; ask the organisation", "; ")
        case let .certificateNotCurrent(fingerprint, serial, notBefore, notAfter, expired):
            return (expired ? "the certificate \(serial) of \(fingerprint) expired at \(notAfter)" : "the certificate \(serial) of \(fingerprint) is not valid before \(notBefore)",
                    expired ? "a package or checkpoint signed under it is no longer accepted: ask the organisation for a new one" : "check your computer's clock", "; ")
        case let .noCurrentCertificate(fingerprint):
            return ("you (\(fingerprint)) have no certificate from the organisation root that is valid now, so you cannot sign for the organisation",
                    "ask the holder of the root file to run `dossier org certify --root ROOT \(fingerprint)`", "; ")
        case .organisationKeyInVault:
            return ("this vault keeps the organisation key inside it, where every present and former member can use it",
                    "move it out: `dossier org migrate-root --root-out FILE`, then have counsel and auditors pin the new fingerprint", "; ")
        case .rootAlreadyOffline:
            return ("this vault's organisation root is already kept outside it", "nothing to migrate; `dossier org show` prints its fingerprint", "; ")
        case let .crypto(context, error):
            return ("\(context): \(error)", nil, "")
        }
    }
}
