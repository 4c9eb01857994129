import ArgumentParser
import DossierCore
import Foundation

/// `dossier init`.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a vault, with you as its first staff member, and the organisation root in its own file.",
        discussion: """
        Creates the folder (which must not exist, or be empty): a SQLite catalogue, a folder of encrypted blobs and a random vault key sealed to your identity. With a postgresql:// URI instead, creates the same records as tables in that database, which must hold no vault (docs/deployment.md). The organisation's root key is written to the --root-out file only, protected by its own passphrase (--root-passphrase-file, or asked on the terminal); the vault keeps only its public half. The root certifies you for 30 days (--certify-for); packages and checkpoints are signed with your own key under that certificate. Keep the root file offline, away from the vault: it is needed only to certify staff (`dossier org certify`). Afterwards, compare `dossier org show` with counsel and auditors by phone.

        Examples:
          dossier init --vault /srv/dossier --org example.org/dossier --identity staff.key --name "A. Staff" --root-out /media/usb/org-root.key
          dossier init --vault "postgresql://alice@db.example.org/dossier?sslmode=verify-full" --org example.org/dossier --identity staff.key --root-out /media/usb/org-root.key
        """
    )

    @OptionGroup var vault: VaultOptions
    @Option(help: ArgumentHelp("The organisation's name, as it appears in signed checkpoints (printable ASCII, no spaces, e.g. example.org/dossier).", valueName: "NAME"))
    var org: String
    @Option(help: ArgumentHelp("Your name as staff (stored encrypted).", valueName: "NAME"))
    var name: String = "founding staff"
    @OptionGroup var identity: IdentityOptions
    @OptionGroup var root: RootOutputOptions
    @Option(name: .customLong("certify-for"), help: ArgumentHelp("How long your first certificate is valid (d, h, m or s; default 30d, at most 366d).", valueName: "DURATION"))
    var certifyFor: String?

    func validate() throws { _ = try CertificateValidityOption.seconds(certifyFor) }

    func run() throws {
        let path = try vault.resolvedPath()
        try root.checkFree()
        let founder = try identity.load()
        let validity = try CertificateValidityOption.seconds(certifyFor)
        let rootOut = root.rootOut
        let organisationRoot = OrganisationRoot.generate()
        try organisationRoot.write(to: rootOut, protection: try root.protection(for: rootOut))
        let created: Vault
        do {
            created = try Vault.create(at: path, organisation: org, founder: founder, founderName: name,
                                       root: organisationRoot, certificateValidity: validity)
        } catch {
            // The root certifies nothing yet: leave no orphan behind.
            unlink(rootOut)
            throw error
        }
        let organisation = try created.organisation()
        Terminal.note("created the vault \(path)")
        Terminal.note("wrote the organisation root to \(rootOut) (mode 0600): keep it offline, away from the vault")
        print("organisation: \(organisation.name)")
        print("public key:   \(organisation.publicKey)")
        print("fingerprint:  \(organisation.fingerprint)")
    }
}
