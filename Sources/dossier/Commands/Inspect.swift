import ArgumentParser
import DossierCore
import Foundation

/// `dossier inspect`.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: Localizer.current.string("help.inspect.abstract"),
        discussion: Localizer.current.string("help.inspect.discussion")
    )
    @Argument(help: ArgumentHelp(Localizer.current.string("help.package"), valueName: "PACKAGE")) var package: String
    @Flag(help: ArgumentHelp(Localizer.current.string("help.inspect.json"))) var json = false

    struct Output: Encodable {
        let package: String, grant: String, organisation: String, issuerFingerprint: String
        let signatureValid: Bool, trusted: Bool, trustedAs: String?
        let created: String, notBefore: String, notAfter: String
        let recipients: [String], documentSizes: [UInt64], fileSize: UInt64
        let online: String?
        /// Format 2: the member who signed, and their certificate.
        let format: Int
        let signedBy: String?, certificateSerial: String?, certificateNotBefore: String?, certificateNotAfter: String?
        let certificateState: String?, certificateProblem: String?
    }

    /// `certificateState` in `--json`: the same words in every language.
    static func state(_ v: Certificate.Validity) -> String {
        switch v {
        case .valid: return "valid now"
        case .expired: return "EXPIRED"
        case .notYetValid: return "NOT YET VALID"
        }
    }

    /// The manifest for people, a field per line, in the reader's language (`--json` is the same
    /// in every language and keeps the fields' names and RFC 3339 times).
    private func printManifest(_ i: PackageInspection) {
        let l = Localizer.current, m = i.manifest
        var lines: [(String, LocalizedText)] = []
        func add(_ label: String, _ value: LocalizedText) { lines.append((l.string(label), value)) }
        add("inspect.label.package", l.text("inspect.package", m.packageID, m.grantID))
        add("inspect.label.issuer", l.text("inspect.issuer", m.organisation, m.issuer.fingerprint))
        if let c = i.certificate {
            let state = i.certificateValidity.map { l.text(Self.stateKey($0)) } ?? LocalizedText("?")
            add("inspect.label.signedBy", l.text("inspect.signedBy", c.fingerprint, c.serial, l.time(c.notBefore), l.time(c.notAfter), state))
            if let problem = i.certificateProblem {
                add("inspect.label.certificate", l.text("inspect.certificateInvalid", ReasonText(localizer: l).localized(problem)))
            }
        }
        switch (i.signatureValid, i.trustedAs) {
        case let (true, entry?): add("inspect.label.signature", l.text("inspect.signature.validTrusted", entry.name))
        case (true, nil): add("inspect.label.signature", l.text("inspect.signature.validUntrusted"))
        case let (false, entry?): add("inspect.label.signature", l.text("inspect.signature.invalidTrusted", entry.name))
        case (false, nil): add("inspect.label.signature", l.text("inspect.signature.invalidUntrusted"))
        }
        add("inspect.label.window", l.text("inspect.window", l.time(m.notBefore), l.time(m.notAfter)))
        add("inspect.label.recipients", LocalizedText(m.recipients.map { $0.shown(by: l) }.joined(separator: l.string("list.separator"))))
        let sizes = m.contentSizes.map { l.size($0).shown(by: l) }.joined(separator: l.string("list.separator"))
        add("inspect.label.documents", l.text("inspect.documents", l.count(m.contentSizes.count), Formatted(sizes)))
        if let url = m.online { add("inspect.label.online", l.text("inspect.online", url)) }
        // One column for the values, whichever lines are shown: the widest label, a colon, two spaces.
        let width = Self.labels.map { l.string($0).count }.max() ?? 0
        for (label, value) in lines {
            print((label + ":").padding(toLength: width + 3, withPad: " ", startingAt: 0) + value.text)
        }
    }

    private static let labels = ["inspect.label.package", "inspect.label.issuer", "inspect.label.signedBy", "inspect.label.certificate",
                                 "inspect.label.signature", "inspect.label.window", "inspect.label.recipients",
                                 "inspect.label.documents", "inspect.label.online"]

    static func stateKey(_ v: Certificate.Validity) -> String {
        switch v {
        case .valid: return "inspect.state.valid"
        case .expired: return "inspect.state.expired"
        case .notYetValid: return "inspect.state.notYetValid"
        }
    }

    func run() throws {
        let i = try PackageReader(path: package).inspect(trust: TrustStore.standard())
        let m = i.manifest
        let out = Output(package: m.packageID, grant: m.grantID, organisation: m.organisation, issuerFingerprint: m.issuer.fingerprint,
                         signatureValid: i.signatureValid, trusted: i.trustedAs != nil, trustedAs: i.trustedAs?.name,
                         created: m.created, notBefore: m.notBefore, notAfter: m.notAfter,
                         recipients: m.recipients, documentSizes: m.contentSizes, fileSize: i.fileSize, online: m.online,
                         format: Int(m.version), signedBy: i.certificate?.fingerprint, certificateSerial: i.certificate?.serial,
                         certificateNotBefore: i.certificate?.notBefore, certificateNotAfter: i.certificate?.notAfter,
                         certificateState: i.certificateValidity.map(Self.state), certificateProblem: i.certificateProblem)
        if json {
            JSONOutput.print(out)
        } else {
            printManifest(i)
        }
        if let problem = i.certificateProblem { throw DossierError.certificateInvalid(context: package, reason: problem) }
        if !i.signatureValid { throw DossierError.packageTampered(path: package, reason: "the signature does not verify") }
    }
}
