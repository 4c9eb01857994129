import ArgumentParser
import DossierCore
import DossierCrypto
import Foundation

/// How the organisation root file's passphrase is read: `--root-passphrase-file`,
/// `DOSSIER_ROOT_PASSPHRASE_FILE`, or the terminal. Separate from the staff identity's
/// passphrase (`--passphrase-file`), since a command that uses the root also acts as a member.
struct RootPassphraseOptions: ParsableArguments {
    @Option(name: .customLong("root-passphrase-file"), help: ArgumentHelp(
        "Read the organisation root's passphrase from the first line of FILE instead of asking on the terminal (also: DOSSIER_ROOT_PASSPHRASE_FILE).",
        valueName: "FILE"))
    var rootPassphraseFile: String?

    var resolvedFile: String? {
        rootPassphraseFile ?? ProcessInfo.processInfo.environment["DOSSIER_ROOT_PASSPHRASE_FILE"].flatMap { $0.isEmpty ? nil : $0 }
    }

    private var source: PassphraseSource { PassphraseSource(file: resolvedFile, noun: "the organisation root ") }

    func passphrase(for path: String) throws(DossierError) -> SecureBytes { try source.passphrase(for: path) }

    /// A new passphrase for a root file, asked twice on a terminal.
    func newPassphrase(for path: String) throws(DossierError) -> SecureBytes { try source.newPassphrase(for: path) }

    func load(_ path: String) throws(DossierError) -> OrganisationRoot {
        try OrganisationRoot.load(path: path) { () throws(DossierError) in try passphrase(for: path) }
    }
}

/// Where a new root file goes and how it is protected (`init`, `org migrate-root`).
struct RootOutputOptions: ParsableArguments {
    @Option(name: .customLong("root-out"), help: ArgumentHelp(
        "Where to write the organisation root (mode 0600, never over an existing file). Keep it offline, away from the vault: it certifies staff, and counsel and auditors pin its fingerprint.",
        valueName: "FILE"))
    var rootOut: String

    @Flag(name: .customLong("no-passphrase"), help: "Store the organisation root UNENCRYPTED (only for tests and demonstrations).")
    var noPassphrase = false

    @OptionGroup var rootPassphrase: RootPassphraseOptions

    func validate() throws {
        if noPassphrase && rootPassphrase.rootPassphraseFile != nil {
            throw ValidationError("--no-passphrase and --root-passphrase-file contradict each other; give one")
        }
    }

    /// Refuses an existing output before anything else is done.
    func checkFree() throws(DossierError) {
        if FileManager.default.fileExists(atPath: rootOut) { throw .fileExists(path: rootOut) }
    }

    func protection(for rootOut: String) throws(DossierError) -> SecretIdentity.Protection {
        if noPassphrase {
            Terminal.warn("\(rootOut) will hold the organisation root UNENCRYPTED; anyone who copies it can certify staff")
            return .none
        }
        return .passphrase(try rootPassphrase.newPassphrase(for: rootOut), .standard)
    }
}

/// A validity period given as `--for 30d` (d, h or m; s for demonstrations and tests of expiry).
enum CertificateValidityOption {
    static func seconds(_ text: String?) throws -> TimeInterval {
        guard let text else { return Certificate.defaultValidity }
        if text.hasSuffix("s"), let n = Int(text.dropLast()), n > 0, String(n) == String(text.dropLast()) { return TimeInterval(n) }
        guard let s = WindowDuration.parse(text) else { throw ValidationError("--for \(text) is not a duration; write e.g. 30d, 36h, 90m or 45s") }
        return TimeInterval(s)
    }
}
