import ArgumentParser
import DossierCore
import Foundation

/// `dossier doctor`.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the vault: blobs present and of the right size, orphans, leftovers, the log chain.",
        discussion: """
        Without an identity the check needs no secret. With --identity (or DOSSIER_IDENTITY) and --deep, every blob is also decrypted to nowhere, authenticating each chunk. Never prints content. Exits 0 when nothing is damaged (leftovers from a crash are reported, not failed), 3 otherwise. It also reports, as damage, an unfinished clean-up of retired keys after `rotate`, `staff remove` or `remove` that another process blocked. --fix removes orphan blobs and temporary files and finishes that clean-up: run it only while no other process uses the vault.
        """
    )
    @OptionGroup var vault: VaultOptions
    @OptionGroup var identity: IdentityOptions
    @Flag(help: "Decrypt every blob to check it authenticates (needs a staff identity).") var deep = false
    @Flag(help: "Remove orphan blobs and leftover temporary files; finish an interrupted clean-up of retired keys.") var fix = false
    @Flag(help: "Print the report as JSON.") var json = false

    func run() throws {
        let v = try vault.open()
        let session = deep ? try v.unlock(try identity.load()) : nil
        let report = try v.doctor(session: session, fix: fix)
        if json {
            JSONOutput.print(report)
        } else {
            print("documents checked:   \(report.documentsChecked)")
            if deep { print("blobs authenticated: \(report.blobsAuthenticated)") }
            print("log entries chained: \(report.logEntriesVerified)")
            for f in report.findings {
                print("\(f.severity == .damage ? "DAMAGE" : "leftover"): \(f.subject): \(f.message)\(f.fixed ? (f.severity == .damage ? " (repaired)" : " (removed)") : "")")
            }
            print(report.isHealthy ? "vault OK" : "vault DAMAGED")
        }
        if !report.isHealthy { throw ExitCode(3) }
    }
}
