import ArgumentParser
import DossierCore
import Foundation

/// `dossier counsel show`.
struct CounselShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one counsel.")
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("The counsel id or fingerprint.", valueName: "ID")) var id: String
    @Flag(help: "Print a JSON object.") var json = false

    func run() throws {
        let c = try staff.session().sharing.counsel(id)
        if json { JSONOutput.print(c) } else { printCounsel(c) }
    }
}
