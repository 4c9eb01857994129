import ArgumentParser
import DossierCore
import Foundation

/// `dossier policy show`.
struct PolicyShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Print the vault's policy (no secret needed).")
    @OptionGroup var vault: VaultOptions
    func run() throws { print(try vault.open().policy().text, terminator: "") }
}
