import ArgumentParser
import DossierCore
import Foundation

/// `dossier counsel suspend`.
struct CounselSuspendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "suspend", abstract: "Suspend counsel: no new grants or packages name them.")
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("The counsel id or fingerprint.", valueName: "ID")) var id: String
    @Option(help: ArgumentHelp("Why (stored encrypted).", valueName: "TEXT")) var reason: String

    func run() throws {
        let c = try staff.session().sharing.suspendCounsel(id, reason: reason)
        Terminal.note("\(c.id) is suspended")
    }
}
