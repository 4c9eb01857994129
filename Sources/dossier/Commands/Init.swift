import ArgumentParser
import DossierCore
import Foundation

/// `dossier init`.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a vault, with you as its first staff member.",
        discussion: """
        Creates the folder (which must not exist, or be empty): a SQLite catalogue, a folder of encrypted blobs, a fresh organisation signing key and a random vault key sealed to your identity. With a postgresql:// URI instead, creates the same records as tables in that database, which must hold no vault (docs/deployment.md). Afterwards, compare `dossier org show` with counsel and auditors by phone.

        Examples:
          dossier init --vault /srv/dossier --org example.org/dossier --identity staff.key --name "A. Staff"
          dossier init --vault "postgresql://alice@db.example.org/dossier?sslmode=verify-full" --org example.org/dossier --identity staff.key
        """
    )

    @OptionGroup var vault: VaultOptions
    @Option(help: ArgumentHelp("The organisation's name, as it appears in signed checkpoints (printable ASCII, no spaces, e.g. example.org/dossier).", valueName: "NAME"))
    var org: String
    @Option(help: ArgumentHelp("Your name as staff (stored encrypted).", valueName: "NAME"))
    var name: String = "founding staff"
    @OptionGroup var identity: IdentityOptions

    func run() throws {
        let path = try vault.resolvedPath()
        let founder = try identity.load()
        let created = try Vault.create(at: path, organisation: org, founder: founder, founderName: name)
        let organisation = try created.organisation()
        Terminal.note("created the vault \(path)")
        print("organisation: \(organisation.name)")
        print("public key:   \(organisation.publicKey)")
        print("fingerprint:  \(organisation.fingerprint)")
    }
}
