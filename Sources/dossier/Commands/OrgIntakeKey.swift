import ArgumentParser
import DossierCore
import Foundation

/// `dossier org intake-key`.
struct OrgIntakeKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intake-key",
        abstract: "Print the organisation's intake key, or create it in a vault made before intake keys.",
        discussion: """
        Counsel seal requests to the intake key (an X25519 key, `dossierintake1...`); its secret is kept sealed in the vault, so that every current staff member can read requests, and is re-sealed by every rotation. Vaults made by `dossier init` since intake keys exist have one; for an older vault a staff member runs `dossier org intake-key --create` once (logged: intake-key). Publish the line and its fingerprint as you publish the organisation key.

        Without --create, prints the line (no secret needed).
        """
    )
    @OptionGroup var vault: VaultOptions
    @OptionGroup var identity: IdentityOptions
    @Flag(help: "Create the intake key (staff; refused with exit 73 if the vault has one).") var create = false

    func run() throws {
        if create {
            let key = try vault.open().unlock(try identity.load()).staff.createIntakeKey()
            print(key.line)
            Terminal.note("created the intake key \(key.fingerprint); publish the line and its fingerprint (`dossier org show`)")
            return
        }
        guard let key = try vault.open().intakeKey() else { throw DossierError.noIntakeKey }
        print(key.line)
        Terminal.note("fingerprint \(key.fingerprint)")
    }
}
