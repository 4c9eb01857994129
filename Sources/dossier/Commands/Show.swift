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
        if json { JSONOutput.print(DocumentOutput(d)); return }
        print("id:           \(d.id)")
        print("kind:         \(d.kind.rawValue)")
        print("language:     \(Language.displayName(d.language))")
        print("size:         \(d.size) bytes (\(Table.size(d.size)))")
        print("deposited:    \(d.depositedAt) by \(d.depositedBy)")
        if let m = d.metadata {
            print("title:        \(m.title)")
            print("file name:    \(m.fileName)")
            if !m.tags.isEmpty { print("tags:         \(m.tags.joined(separator: ", "))") }
            if let j = m.jurisdiction { print("jurisdiction: \(j)") }
            if let c = m.caseReference { print("case:         \(c)") }
        }
        if let r = d.removedAt { print("removed:      \(r) by \(d.removedBy ?? "?") (content destroyed)") }
    }
}
