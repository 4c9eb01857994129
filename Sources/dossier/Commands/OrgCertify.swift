import ArgumentParser
import DossierCore
import Foundation

/// `dossier org certify`.
struct OrgCertifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certify",
        abstract: "Certify a staff member's (or the key-release service's) key with the organisation root, or renew it.",
        discussion: """
        Needs the organisation root file (--root) and your staff identity: the certificate is signed by the root and stored in the vault, and the issuance is logged as a `certify` entry signed by you. A member signs packages and checkpoints only while a certificate of theirs is valid; certify again before it expires to renew (the default validity is 30 days). The member must be current staff.

        Examples:
          dossier org certify --root /media/usb/org-root.key OQWS-YT2Y-W4J4-KS4W
          dossier org certify --root /media/usb/org-root.key --role service --for 90d SERV-ICEF-INGE-RPRT
        """
    )
    @OptionGroup var staff: StaffOptions
    @Option(help: ArgumentHelp("The organisation root file (`init --root-out` wrote it).", valueName: "FILE"))
    var root: String
    @OptionGroup var rootPassphrase: RootPassphraseOptions
    @Option(name: .customLong("for"), help: ArgumentHelp("How long the certificate is valid from now (d, h, m or s; default 30d, at most 366d).", valueName: "DURATION"))
    var duration: String?
    @Option(help: ArgumentHelp("staff (signs packages and checkpoints) or service (the key-release service's identity).", valueName: "ROLE"))
    var role: String = "staff"
    @Argument(help: ArgumentHelp("The member's id (fingerprint).", valueName: "FINGERPRINT")) var id: String
    @Flag(help: "Print a JSON object.") var json = false

    func validate() throws {
        _ = try CertificateValidityOption.seconds(duration)
        guard Certificate.Role(rawValue: role) != nil else { throw ValidationError("--role must be staff or service") }
    }

    func run() throws {
        let session = try staff.session()
        let organisationRoot = try rootPassphrase.load(root)
        let c = try session.staff.certify(id, root: organisationRoot, rootPath: root, role: Certificate.Role(rawValue: role) ?? .staff,
                                          validity: try CertificateValidityOption.seconds(duration))
        if json {
            JSONOutput.print(CertificateOutput(c, state: "valid", issuedAt: c.notBefore, revokedAt: nil))
        } else {
            Terminal.note("certified \(c.fingerprint) as \(c.role.rawValue) until \(c.notAfter) (certificate \(c.serial))")
        }
    }
}

/// `dossier org certificates`.
struct OrgCertificatesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certificates",
        abstract: "List the certificates the organisation root issued, with their validity (no secret needed).",
        discussion: "Every certificate is checked against the organisation root's signature as it is read; one that fails is listed as INVALID. STATE is valid, expired, revoked, not-yet-valid or INVALID."
    )
    @OptionGroup var vault: VaultOptions
    @Flag(help: "Print a JSON array of objects.") var json = false
    @Option(help: ArgumentHelp("Print the certificate with this serial, as the root signed it (for `audit verify-proof --certificate`).", valueName: "SERIAL"))
    var show: String?

    func run() throws {
        let all = try vault.open().certificates()
        if let show {
            guard let c = all.first(where: { $0.serial == show })?.certificate else {
                throw DossierError.invalidArgument("no valid certificate \(show) in this vault", hint: "list them with `dossier org certificates`")
            }
            FileHandle.standardOutput.write(c.bytes)
            return
        }
        if json {
            JSONOutput.print(all.map { s in
                CertificateOutput(serial: s.serial, fingerprint: s.fingerprint, role: s.certificate?.role.rawValue, notBefore: s.certificate?.notBefore,
                                  notAfter: s.certificate?.notAfter, state: s.state.rawValue, sha256: s.sha256, issuedAt: s.issuedAt, revokedAt: s.revokedAt)
            })
            return
        }
        Table.print(headers: ["SERIAL", "MEMBER", "ROLE", "NOT BEFORE", "NOT AFTER", "STATE"], rows: all.map { s in
            [s.serial, s.fingerprint, s.certificate?.role.rawValue ?? "-", s.certificate?.notBefore ?? "-", s.certificate?.notAfter ?? "-",
             s.state == .invalid ? "INVALID" : s.state == .revoked ? "revoked \(s.revokedAt?.prefix(10) ?? "")" : s.state.rawValue]
        })
    }
}

struct CertificateOutput: Encodable {
    let serial: String, fingerprint: String
    let role: String?, notBefore: String?, notAfter: String?
    let state: String, sha256: String, issuedAt: String
    let revokedAt: String?

    init(serial: String, fingerprint: String, role: String?, notBefore: String?, notAfter: String?, state: String, sha256: String, issuedAt: String,
         revokedAt: String?) {
        self.serial = serial; self.fingerprint = fingerprint; self.role = role; self.notBefore = notBefore; self.notAfter = notAfter
        self.state = state; self.sha256 = sha256; self.issuedAt = issuedAt; self.revokedAt = revokedAt
    }

    init(_ c: Certificate, state: String, issuedAt: String, revokedAt: String?) {
        self.init(serial: c.serial, fingerprint: c.fingerprint, role: c.role.rawValue, notBefore: c.notBefore, notAfter: c.notAfter,
                  state: state, sha256: c.sha256, issuedAt: issuedAt, revokedAt: revokedAt)
    }
}
