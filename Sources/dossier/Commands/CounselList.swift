import ArgumentParser
import DossierCore
import Foundation

/// `dossier counsel list`.
struct CounselListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List counsel.")
    @OptionGroup var staff: StaffOptions
    @Flag(help: "Print a JSON array of objects, each with its id.") var json = false

    func run() throws {
        let all = try staff.session().sharing.listCounsel()
        if json { JSONOutput.print(all); return }
        let now = Date()
        Table.print(headers: ["ID", "NAME", "FINGERPRINT", "STATUS"], rows: all.map { [$0.id, $0.details.name, $0.fingerprint, $0.status(at: now)] })
    }
}
