import ArgumentParser
import DossierCore
import Foundation

/// The vault: `--vault` or `DOSSIER_VAULT`, a folder or a PostgreSQL URI.
struct VaultOptions: ParsableArguments {
    static let help = ArgumentHelp(
        "The vault: a folder, or a PostgreSQL database as postgresql://[USER@]HOST[:PORT]/DATABASE (also: DOSSIER_VAULT).",
        discussion: "A URI never names a folder (write ./postgresql:x for a folder of that name). Credentials come from ~/.pgpass, a service file (?service=NAME) or the PG* variables, never from the URI; add ?sslmode=verify-full for TLS, and list several hosts with target_session_attrs=read-write for failover.",
        valueName: "DIR|URI")

    @Option(help: VaultOptions.help)
    var vault: String?

    init() {}
    init(vault: String?) { self.vault = vault }

    func resolvedPath() throws(DossierError) -> String {
        if let vault { try Vault.checkLocation(vault); return vault }
        if let env = ProcessInfo.processInfo.environment["DOSSIER_VAULT"], !env.isEmpty { try Vault.checkLocation(env); return env }
        throw .missingOption("no vault given", hint: "pass --vault DIR (or a postgresql:// URI) or set DOSSIER_VAULT")
    }

    func open() throws(DossierError) -> Vault {
        let path = try resolvedPath()
        let vault = try Vault.open(at: path, purgeWait: try seconds("DOSSIER_PURGE_WAIT", default: Vault.defaultPurgeWait),
                                   busyWait: try seconds("DOSSIER_BUSY_WAIT", default: Vault.defaultBusyWait))
        // Decisions check that the log still holds what this machine verified before.
        vault.logHead = LogHeadMemory.standard(vaultPath: path, organisationKey: try vault.organisation().publicKey)
        return vault
    }

    /// A wait in seconds from the environment: `DOSSIER_PURGE_WAIT`, how long the clean-up after
    /// `rotate`, `staff remove` and `remove` waits for other readers of the vault, and
    /// `DOSSIER_BUSY_WAIT`, how long a change waits for another process's change (tests
    /// shorten them).
    private func seconds(_ name: String, default value: TimeInterval) throws(DossierError) -> TimeInterval {
        guard let text = ProcessInfo.processInfo.environment[name], !text.isEmpty else { return value }
        guard let seconds = TimeInterval(text), (0...Vault.longestPurgeWait).contains(seconds) else {
            throw .invalidArgument("\(name) is '\(text)', not a number of seconds from 0 to \(Int(Vault.longestPurgeWait))",
                                   hint: "unset it to wait \(Int(value)) seconds")
        }
        return seconds
    }
}
