import ArgumentParser
import DossierCore
import Foundation

/// `dossier show`.
struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one document's catalogue entry.",
        discussion: "Example: dossier show doc-k3j4m5n6p7q2r --json"
    )
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("The document id.", valueName: "ID")) var id: String
    @Flag(help: "Print a JSON object.") var json = false

    func run() throws {
        let d = try staff.session().documents.document(id)
        if json { JSONOutput.print(DocumentJSON(d)); return }
        func field(_ label: String, _ value: String) { printField(label, value, width: 14) }
        field("id", d.id)
        field("kind", d.kind.rawValue)
        field("language", Language.displayName(d.language))
        field("size", "\(d.size) bytes (\(Table.size(d.size)))")
        field("deposited", "\(d.depositedAt) by \(d.depositedBy)")
        if let m = d.metadata {
            field("title", m.title)
            field("file name", m.fileName)
            if !m.tags.isEmpty { field("tags", m.tags.joined(separator: ", ")) }
            if let j = m.jurisdiction { field("jurisdiction", j) }
            if let c = m.caseReference { field("case", c) }
        }
        if let r = d.removedAt { field("removed", "\(r) by \(d.removedBy ?? "?") (content destroyed)") }
    }
}
