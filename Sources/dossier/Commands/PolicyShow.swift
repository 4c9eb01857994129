import ArgumentParser
import DossierCore
import Foundation

/// `dossier policy show`.
struct PolicyShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Print the vault's policy (no secret needed).")
    @OptionGroup var vault: VaultOptions
    @OptionGroup var identity: IdentityOptions
    @Flag(help: "Print the policy change waiting for sign-offs instead (needs your staff identity).") var proposed = false

    func run() throws {
        guard proposed else {
            print(try vault.open().policy().text, terminator: "")
            return
        }
        let session = try vault.open().unlock(try identity.load())
        guard let p = try session.sharing.proposedPolicy() else {
            Terminal.note("no policy change is waiting for sign-offs")
            return
        }
        Terminal.note("proposed by \(p.proposer), sha256 \(p.sha256), \(p.have) of \(p.needed) sign-offs")
        print(p.text, terminator: "")
    }
}
