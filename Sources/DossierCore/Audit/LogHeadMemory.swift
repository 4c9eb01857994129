import DossierCrypto
import Foundation

/// The newest log entry this machine has verified of one vault, kept outside the vault (in the
/// user's state folder), so that a vault whose log was cut back — the newest entries removed
/// together with the rows they changed, or an older copy put in its place — is refused instead
/// of being decided on (docs/formats/vault.md, section 6.6).
///
/// The file is `dossier-log-head/1`, `size N`, `sha256 HEX` (the entry hash of entry N), one
/// per line; it holds no secret. Its name is the SHA-256 of the vault's absolute path (or its
/// PostgreSQL URI) and its
/// organisation key, so a copy of the vault elsewhere, or a new vault at the same path, has
/// its own.
public struct LogHeadMemory: Sendable {
    /// The file.
    public let path: String

    public init(path: String) { self.path = path }

    /// `$XDG_STATE_HOME/dossier/log-heads/KEY`, or `~/.local/state/dossier/log-heads/KEY`; nil
    /// when neither variable is set.
    public static func standard(vaultPath: String, organisationKey: String,
                                environment: [String: String] = ProcessInfo.processInfo.environment) -> LogHeadMemory? {
        let base: String
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") {
            base = state
        } else if let home = environment["HOME"], home.hasPrefix("/") {
            base = home + "/.local/state"
        } else {
            return nil
        }
        // A folder by its absolute path; a PostgreSQL vault by its URI as given.
        let absolute = PostgresStore.isURI(vaultPath) ? vaultPath : URL(fileURLWithPath: vaultPath).standardizedFileURL.resolvingSymlinksInPath().path
        let key = Hash.sha256(Data((absolute + "\n" + organisationKey).utf8)).hex
        return LogHeadMemory(path: base + "/dossier/log-heads/" + key)
    }

    /// What the file says; nil if there is none. A file that does not read is an error.
    func read() throws(DossierError) -> (size: Int, hash: Data)? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let text = String(decoding: try FileAccess.readSmall(path: path, limit: 4096), as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count == 4, lines[0] == "dossier-log-head/1", lines[3].isEmpty,
              lines[1].hasPrefix("size "), let size = Int(lines[1].dropFirst(5)), size > 0,
              lines[2].hasPrefix("sha256 "), let hash = Data(hex: String(lines[2].dropFirst(7))), hash.count == 32 else {
            throw .integrity("\(path) is not a log head this program wrote")
        }
        return (size, hash)
    }

    /// Keeps `size` and the hash of that entry. Failing to write it only loses the check.
    func remember(size: Int, hash: Data) {
        guard size > 0 else { return }
        let folder = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let text = "dossier-log-head/1\nsize \(size)\nsha256 \(hash.hex)\n"
        try? FileAccess.writeAtomically(Data(text.utf8), to: path, mode: 0o600, overwrite: true)
    }

    /// The error when the log no longer holds what was seen.
    func rolledBack(_ what: String) -> DossierError {
        .rolledBack(what, memory: path)
    }
}
