import ArgumentParser
import DossierCore
import Foundation

/// `dossier grants`.
struct GrantsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grants", abstract: "List grants, newest first, or show one in full.",
        discussion: "Examples:\n  dossier grants --active\n  dossier grants grant-k3j4m5n6p7q2r"
    )
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("Show this grant in full instead of listing.", valueName: "GRANT")) var id: String?
    @Flag(help: "Only active grants.") var active = false
    @Option(help: ArgumentHelp("Only grants naming this counsel.", valueName: "ID")) var counsel: String?
    @Flag(help: "Print a JSON array of objects, each with its id.") var json = false

    func run() throws {
        if let id {
            let g = try staff.session().sharing.grant(id)
            if json { JSONOutput.print(g) } else { printGrant(g) }
            return
        }
        let grants = try staff.session().sharing.listGrants(activeOnly: active, counsel: counsel)
        if json { JSONOutput.print(grants); return }
        Table.print(headers: ["ID", "STATE", "UNTIL", "DOCS", "COUNSEL", "ONLINE"], rows: grants.map {
            [$0.id, $0.state.rawValue, String($0.notAfter.prefix(16)), String($0.documents.count), $0.recipients.joined(separator: ","),
             onlineText($0)]
        })
    }
}
