import ArgumentParser
import DossierCore
import Foundation

/// `dossier remove`.
struct RemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Crypto-shred a document: destroy its key and content, keep a tombstone.",
        discussion: "Irreversible. Example: dossier remove doc-k3j4m5n6p7q2r --reason \"withdrawn by the witness\""
    )
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("The document id.", valueName: "ID")) var id: String
    @Option(help: ArgumentHelp("Why (stored encrypted for staff; not in the log).", valueName: "TEXT")) var reason: String

    func run() throws {
        try staff.session().documents.remove(id, reason: reason)
        Terminal.note("removed \(id): its key and content are destroyed")
    }
}
