import ArgumentParser
import DossierCore
import Foundation

/// `dossier org show`.
struct OrgShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print the organisation's public key, its intake key and their fingerprints (no secret needed).",
        discussion: "Counsel and auditors compare the fingerprint by phone before trusting the key. Counsel seal requests to the intake key: publish its certificate by the organisation root (`--intake-certificate` prints it), which counsel keep with `dossier trust intake FILE` and then name the organisation in `dossier request new --org NAME`; or they give the intake line itself and check its fingerprint by phone. The intake key printed is the one the signed log names: a vault whose stored intake key was changed outside dossier is refused (exit 3)."
    )
    @OptionGroup var vault: VaultOptions
    @Flag(help: "Print a JSON object with the fields name, publicKey, fingerprint, noteKey (the C2SP note verifier key), intakeKey and intakeFingerprint (null for a vault without an intake key), and intakeCertificate (base64 of the certificate, null when the key is not certified).")
    var json = false
    @Flag(name: .customLong("intake-certificate"), help: "Print only the intake key's certificate by the organisation root, to publish for counsel (`dossier trust intake FILE`).")
    var intakeCertificate = false

    struct Output: Encodable {
        let name, publicKey, fingerprint, noteKey: String
        let intakeKey, intakeFingerprint, intakeCertificate: String?

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(publicKey, forKey: .publicKey)
            try c.encode(fingerprint, forKey: .fingerprint)
            try c.encode(noteKey, forKey: .noteKey)
            try c.encode(intakeKey, forKey: .intakeKey)
            try c.encode(intakeFingerprint, forKey: .intakeFingerprint)
            try c.encode(intakeCertificate, forKey: .intakeCertificate)
        }
        enum CodingKeys: String, CodingKey { case name, publicKey, fingerprint, noteKey, intakeKey, intakeFingerprint, intakeCertificate }
    }

    func run() throws {
        let v = try vault.open()
        let org = try v.organisation()
        let noteKey = try v.noteKey()
        let intake = try v.intakeKey()
        let certificate = try v.intakeCertificate()
        if intakeCertificate {
            guard let certificate else {
                throw DossierError.invalidArgument("the intake key is not certified by the organisation root",
                                                   hint: "certify it with `dossier org intake-key --certify --root FILE`")
            }
            FileHandle.standardOutput.write(certificate.bytes)
            return
        }
        if try v.organisationKeyInVault() {
            let e = DossierError.organisationKeyInVault
            Terminal.warn("\(e.message); \(e.hint ?? "")")
        }
        if json {
            JSONOutput.print(Output(name: org.name, publicKey: org.publicKey, fingerprint: org.fingerprint, noteKey: noteKey,
                                    intakeKey: intake?.line, intakeFingerprint: intake?.fingerprint,
                                    intakeCertificate: certificate?.bytes.base64EncodedString()))
        } else {
            print("organisation: \(org.name)")
            print("public key:   \(org.publicKey)")
            print("fingerprint:  \(org.fingerprint)")
            print("note key:     \(noteKey)")
            if let intake {
                print("intake key:   \(intake.line)")
                print("intake fp:    \(intake.fingerprint)")
                if let certificate {
                    let state = (Timestamp.parse(certificate.notAfter) ?? .distantPast) < Date() ? "EXPIRED" : "valid now"
                    print("intake cert:  by the organisation root, \(certificate.notBefore) to \(certificate.notAfter) (\(state))")
                } else {
                    print("intake cert:  none (certify it with `dossier org intake-key --certify --root FILE`)")
                }
            } else {
                print("intake key:   none (a staff member creates one with `dossier org intake-key --create`)")
            }
        }
    }
}
