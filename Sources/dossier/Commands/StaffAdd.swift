import ArgumentParser
import DossierCore
import Foundation

/// `dossier staff add`.
struct StaffAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Give a new staff member access: the vault key is sealed to their public identity.",
        discussion: "Compare their fingerprint by phone first. Example: dossier staff add dossier1… --name \"B. Staff\""
    )
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("Their public line, or a file holding it.", valueName: "PUBLIC-IDENTITY")) var member: String
    @Option(help: ArgumentHelp("Their name (stored encrypted).", valueName: "NAME")) var name: String

    func run() throws {
        let pub = try PublicIdentity.resolve(member)
        let added = try staff.session().staff.add(pub, name: name)
        print(added.id)
    }
}
