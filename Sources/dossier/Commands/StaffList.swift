import ArgumentParser
import DossierCore
import Foundation

/// `dossier staff list`.
struct StaffListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List staff, current and removed.")
    @OptionGroup var staff: StaffOptions
    @Flag(help: "Print a JSON array of objects, each with its id (the fingerprint).") var json = false

    func run() throws {
        let members = try staff.session().staff.list()
        if json { JSONOutput.print(members); return }
        Table.print(headers: ["ID", "NAME", "ADDED", "STATUS"], rows: members.map {
            [$0.id, $0.name, String($0.addedAt.prefix(10)), $0.removedAt.map { "removed \($0.prefix(10))" } ?? "active"]
        })
    }
}
