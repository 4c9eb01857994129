import ArgumentParser
import DossierCore
import Foundation

/// `dossier remove`.
struct RemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Crypto-shred a document: destroy its key and content, keep a tombstone.",
        discussion: "Irreversible. Afterwards no file of the vault holds the document's key. If another process holds the vault database open (a sqlite3 shell, a backup, `dossier serve` mid-request), the clean-up of the old keys waits up to DOSSIER_PURGE_WAIT seconds (default 15), then the command exits 75: the change is committed, but the old keys stay in the write-ahead log until that reader is closed and `dossier doctor --fix` is run. Example: dossier remove doc-k3j4m5n6p7q2r --reason \"withdrawn by the witness\""
    )
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("The document id.", valueName: "ID")) var id: String
    @Option(help: ArgumentHelp("Why (stored encrypted for staff; not in the log).", valueName: "TEXT")) var reason: String

    func run() throws {
        try staff.session().documents.remove(id, reason: reason)
        Terminal.note("removed \(id): its key and content are destroyed")
    }
}
