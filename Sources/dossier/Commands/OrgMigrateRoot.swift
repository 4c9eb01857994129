import ArgumentParser
import DossierCore
import Foundation

/// `dossier org migrate-root`.
struct OrgMigrateRootCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate-root",
        abstract: "Move the organisation key of an older vault out of it, into a new root file.",
        discussion: """
        A vault made before `init --root-out` keeps the organisation's signing key inside it, where every present and former staff member can use it. This command makes a new organisation root, writes it to --root-out (mode 0600, its passphrase from --root-passphrase-file or the terminal), makes its public half the vault's organisation key, deletes the old key from the vault and purges it from the vault's files (as `staff remove` purges an old vault key), certifies every current staff member for 30 days (--certify-for), and logs all of it (`root-migrate`, then `certify` per member). It prints the new fingerprint: counsel must `dossier trust add` the new key and auditors use the new --org-fingerprint. Packages signed with the old key keep opening for counsel who still trust it; remove it from their trust store once the old packages are no longer needed. The key-release service's identity needs `dossier org certify --role service` afterwards.

        Example:
          dossier org migrate-root --vault /srv/dossier --identity staff.key --root-out /media/usb/org-root.key
        """
    )
    @OptionGroup var staff: StaffOptions
    @OptionGroup var root: RootOutputOptions
    @Option(name: .customLong("certify-for"), help: ArgumentHelp("How long the staff certificates are valid (d, h, m or s; default 30d, at most 366d).", valueName: "DURATION"))
    var certifyFor: String?

    func validate() throws { _ = try CertificateValidityOption.seconds(certifyFor) }

    func run() throws {
        try root.checkFree()
        let session = try staff.session()
        guard try session.vault.organisationKeyInVault() else { throw DossierError.rootAlreadyOffline }
        let validity = try CertificateValidityOption.seconds(certifyFor)
        let newRoot = OrganisationRoot.generate()
        try newRoot.write(to: root.rootOut, protection: try root.protection(for: root.rootOut))
        let done: RootMigration
        do {
            done = try session.staff.migrateRoot(to: newRoot, validity: validity)
        } catch DossierError.purgeBlocked(let path) {
            Terminal.note("wrote the new organisation root to \(root.rootOut); the migration is committed")
            throw DossierError.purgeBlocked(path: path)
        } catch {
            unlink(root.rootOut)
            throw error
        }
        Terminal.note("wrote the new organisation root to \(root.rootOut) (mode 0600): keep it offline, away from the vault")
        Terminal.note("certified \(done.certificates.count) staff member(s); the old organisation key \(done.previous.fingerprint) is gone from the vault")
        Terminal.note("counsel and auditors must now pin the new fingerprint below (dossier trust add, audit verify --org-fingerprint)")
        let org = try session.vault.organisation()
        print("organisation: \(org.name)")
        print("public key:   \(org.publicKey)")
        print("fingerprint:  \(org.fingerprint)")
    }
}
