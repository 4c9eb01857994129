import ArgumentParser
import DossierCore
import Foundation

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a vault, with you as its first staff member.",
        discussion: """
        Creates the folder (which must not exist, or be empty): a SQLite catalogue, a folder of encrypted blobs, a fresh organisation signing key and a random vault key sealed to your identity. Afterwards, compare `dossier org show` with counsel and auditors by phone.

        Example:
          dossier init --vault /srv/dossier --org example.org/dossier --identity staff.key --name "A. Staff"
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
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir),
           !isDir.boolValue || !((try? FileManager.default.contentsOfDirectory(atPath: path))?.isEmpty ?? false) {
            throw DossierError.vaultExists(path: path)
        }
        let founder = try identity.load()
        let created = try Vault.create(at: path, organisation: org, founder: founder, founderName: name)
        let organisation = try created.organisation()
        Terminal.note("created the vault \(path)")
        print("organisation: \(organisation.name)")
        print("public key:   \(organisation.publicKey)")
        print("fingerprint:  \(organisation.fingerprint)")
    }
}

struct OrgCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "org",
        abstract: "The organisation's public key.",
        subcommands: [Show.self]
    )

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Print the organisation's public key and fingerprint (no secret needed).",
            discussion: "Counsel and auditors compare the fingerprint by phone before trusting the key."
        )
        @OptionGroup var vault: VaultOptions
        @Flag(help: "Print a JSON object with the fields name, publicKey, fingerprint and noteKey (the C2SP note verifier key).")
        var json = false

        struct Output: Encodable { let name, publicKey, fingerprint, noteKey: String }

        func run() throws {
            let v = try vault.open()
            let org = try v.organisation()
            let noteKey = try v.noteKey()
            if json {
                JSONOutput.print(Output(name: org.name, publicKey: org.publicKey, fingerprint: org.fingerprint, noteKey: noteKey))
            } else {
                print("organisation: \(org.name)")
                print("public key:   \(org.publicKey)")
                print("fingerprint:  \(org.fingerprint)")
                print("note key:     \(noteKey)")
            }
        }
    }
}
