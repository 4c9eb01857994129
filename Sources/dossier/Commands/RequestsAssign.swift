import ArgumentParser
import DossierCore
import Foundation

/// `dossier requests assign`.
struct RequestsAssignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assign",
        abstract: "Assign an open request to a staff member (logged: request-assign).",
        discussion: "STAFF is the member's fingerprint (`dossier staff list`). A request already assigned can be assigned again; an answered or declined one cannot (exit 77).\n\nExample: dossier requests assign req-zjqgy65hkj2gs --to OQWS-YT2Y-W4J4-KS4W"
    )
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("The request id (req-...).", valueName: "REQUEST")) var id: String
    @Option(help: ArgumentHelp("The staff member's fingerprint.", valueName: "STAFF")) var to: String

    func run() throws {
        let r = try staff.session().requests.assign(id, to: to)
        Terminal.note("\(r.id) is assigned to \(r.assignedTo ?? to)")
    }
}
