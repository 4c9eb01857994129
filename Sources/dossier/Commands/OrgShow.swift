import ArgumentParser
import DossierCore
import Foundation

/// `dossier org show`.
struct OrgShowCommand: ParsableCommand {
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
        if try v.organisationKeyInVault() {
            let e = DossierError.organisationKeyInVault
            Terminal.warn("\(e.message); \(e.hint ?? "")")
        }
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
