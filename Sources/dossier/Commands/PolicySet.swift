import ArgumentParser
import DossierCore
import Foundation

/// `dossier policy set`.
struct PolicySetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "set", abstract: "Replace the vault's policy with a validated file (logged).")
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("The policy file.", valueName: "FILE")) var file: String

    func run() throws {
        let text = try FileAccess.readSmallText(path: file, limit: 1 << 20)
        _ = try Policy.parse(text, source: file)
        _ = try staff.session().sharing.setPolicy(text, source: file)
        Terminal.note("the vault's policy is now \(file)")
    }
}
