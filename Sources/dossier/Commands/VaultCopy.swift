import ArgumentParser
import DossierCore
import Foundation

/// `dossier vault copy SRC DST`.
struct VaultCopyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy a vault whole: a folder into PostgreSQL, or back, verifying the copy.",
        discussion: """
        SRC and DST are each a folder or a postgresql:// URI (credentials from ~/.pgpass, a service file or the PG* variables, as for --vault). DST must be new: a folder that does not exist or is empty, or a database without any table (CREATE DATABASE …); anything else is refused (exit 73) and left alone.

        Every record is copied as it is stored, sealed values included, and every document's encrypted content byte for byte, streamed: no key is needed and nothing is decrypted. Before copying, SRC's log must verify and its rows agree with it. Afterwards the copy is read back and checked: its log verifies with SRC's size and Merkle root, every table holds exactly SRC's rows, the rows agree with the signed log, and every document's ciphertext is there, of the right size, identical to SRC's. With --identity (a staff identity; or --deep and DOSSIER_IDENTITY), every document of the copy is also decrypted to nowhere and checked against the hash recorded at deposit, as `doctor --deep` does. If a check fails, the copy is removed (exit 3).

        Run it while nothing changes SRC (stop `dossier serve` and staff's commands): a change during the copy makes the checks fail. A purge owed in SRC (doctor) is not carried over: the copy holds no replaced value.
        """
    )

    @Argument(help: ArgumentHelp("The vault to copy: a folder or a postgresql:// URI.", valueName: "SRC")) var source: String
    @Argument(help: ArgumentHelp("Where to copy it: a new or empty folder, or a postgresql:// URI of a database without any table.", valueName: "DST"))
    var destination: String
    @OptionGroup var identity: IdentityOptions
    @Flag(help: "Decrypt every document of the copy to nowhere and check its recorded hash (needs a staff identity; implied by --identity).")
    var deep = false
    @Flag(help: "Print the report as JSON.") var json = false
    @OptionGroup var progress: ProgressOption

    func validate() throws {
        try Vault.checkLocation(source)
        try Vault.checkLocation(destination)
    }

    func run() throws {
        let reporter = try progress.reporter()
        let vault = try VaultOptions(vault: source).open()
        let staff = deep || identity.identity != nil ? try identity.load() : nil
        let report = try vault.copy(to: destination, identity: staff, progress: reporter)
        if json {
            JSONOutput.print(report)
            return
        }
        print("copied:        \(report.source) -> \(report.destination)")
        print("documents:     \(report.documents) (and \(report.removedDocuments) removed)")
        print("content:       \(ByteCount.format(report.contentBytes)) of ciphertext, identical")
        print("rows:          \(report.rows), identical")
        print("log entries:   \(report.logEntries)")
        print("log root:      \(report.root)")
        if let n = report.authenticated { print("authenticated: \(n) (decrypted to nowhere; every recorded hash matches)") }
        print("copy verified")
    }
}
