import ArgumentParser
import DossierCore
import Foundation

/// `dossier policy check`.
struct PolicyCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check", abstract: "Validate a policy file; errors name the line. Needs no vault.")
    @Argument(help: ArgumentHelp("The policy file.", valueName: "FILE")) var file: String

    func run() throws {
        let policy = try Policy.parse(try FileAccess.readSmallText(path: file, limit: 1 << 20), source: file)
        print("\(file): OK (\(policy.rules.count) kinds)")
    }
}
