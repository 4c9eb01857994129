import ArgumentParser
import DossierCore
import Foundation

/// `dossier org intake-key`.
struct OrgIntakeKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intake-key",
        abstract: "Print the organisation's intake key, create it in a vault made before intake keys, or certify it with the root.",
        discussion: """
        Counsel seal requests to the intake key (an X25519 key, `dossierintake1...`); its secret is kept sealed in the vault, so that every current staff member can read requests, and is re-sealed by every rotation. Vaults made by `dossier init` since intake keys exist have one, certified by the organisation root for a year and a day; for an older vault a staff member runs `dossier org intake-key --create` once (logged: intake-key).

        The certificate (`dossier org show --intake-certificate`) is what counsel add with `dossier trust intake FILE`, so that `dossier request new --org NAME` seals to a key the organisation they trust vouches for. Renew it before it expires, and certify the key of an older vault, with --certify and the root file (--root; not needed for a vault that still holds its organisation key).

        Without --create or --certify, prints the line (no secret needed).

        Examples:
          dossier org intake-key
          dossier org intake-key --certify --root /media/usb/org-root.key --for 366d
        """
    )
    @OptionGroup var vault: VaultOptions
    @OptionGroup var identity: IdentityOptions
    @Flag(help: "Create the intake key (staff; refused with exit 73 if the vault has one).") var create = false
    @Flag(help: "Certify the intake key with the organisation root (staff; replaces the certificate kept in the vault).") var certify = false
    @Option(help: ArgumentHelp("The organisation root file (`init --root-out` wrote it), for --certify.", valueName: "FILE"))
    var root: String?
    @OptionGroup var rootPassphrase: RootPassphraseOptions
    @Option(name: .customLong("for"), help: ArgumentHelp("How long the intake certificate is valid from now (d, h, m or s; default and most 366d).", valueName: "DURATION"))
    var duration: String?

    func validate() throws {
        if root != nil || duration != nil, !certify { throw ValidationError("--root and --for go with --certify") }
        if let duration { _ = try CertificateValidityOption.seconds(duration) }
    }

    func run() throws {
        if create || certify {
            let session = try vault.open().unlock(try identity.load())
            if create {
                let key = try session.staff.createIntakeKey()
                print(key.line)
                Terminal.note("created the intake key \(key.fingerprint); publish the line and its fingerprint (`dossier org show`)")
            }
            if certify {
                let organisationRoot = try root.map { path throws(DossierError) in try rootPassphrase.load(path) }
                let c = try session.staff.certifyIntakeKey(root: organisationRoot, rootPath: root ?? "the organisation key in the vault",
                                                           validity: duration == nil ? IntakeCertificate.defaultValidity : try CertificateValidityOption.seconds(duration))
                Terminal.note("certified the intake key \(c.intake.fingerprint) until \(c.notAfter); publish the certificate (`dossier org show --intake-certificate`)")
            }
            return
        }
        guard let key = try vault.open().intakeKey() else { throw DossierError.noIntakeKey }
        print(key.line)
        Terminal.note("fingerprint \(key.fingerprint)")
    }
}
