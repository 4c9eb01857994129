import ArgumentParser
import DossierCore
import Foundation

/// `dossier inspect`.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a package's manifest and whether it is signed by a trusted organisation. No secret needed.",
        discussion: "File names and kinds are sealed inside the package and appear only when it is opened. A package of format 2 is signed by the staff member who made it, under a certificate from the organisation root: `signed by` shows that member's fingerprint and the certificate's validity (EXPIRED or NOT YET VALID when your clock is outside it, in which case `open` refuses the package)."
    )
    @Argument(help: ArgumentHelp("The package file.", valueName: "PACKAGE")) var package: String
    @Flag(help: "Print a JSON object.") var json = false

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

    static func state(_ v: Certificate.Validity) -> String {
        switch v {
        case .valid: return "valid now"
        case .expired: return "EXPIRED"
        case .notYetValid: return "NOT YET VALID"
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
            print("package:      \(m.packageID) (grant \(m.grantID))")
            print("issuer:       \(Terminal.visible(m.organisation)), key fingerprint \(m.issuer.fingerprint)")
            if let c = i.certificate {
                print("signed by:    staff \(c.fingerprint), certificate \(c.serial) valid \(c.notBefore) to \(c.notAfter) (\(i.certificateValidity.map(Self.state) ?? "?"))")
                if let problem = i.certificateProblem { print("certificate:  INVALID: \(Terminal.visible(problem))") }
            }
            print("signature:    \(i.signatureValid ? "valid" : "INVALID")\(i.trustedAs.map { ", trusted as \(Terminal.visible($0.name))" } ?? ", NOT from a trusted organisation")")
            print("window:       \(m.notBefore) to \(m.notAfter)")
            print("recipients:   \(Terminal.visible(m.recipients.joined(separator: ", ")))")
            print("documents:    \(m.contentSizes.count) (\(m.contentSizes.map { Table.size($0) }.joined(separator: ", ")))")
            if let url = m.online { print("online:       opens only through the key-release service at \(Terminal.visible(url))") }
        }
        if let problem = i.certificateProblem { throw DossierError.certificateInvalid(context: package, reason: problem) }
        if !i.signatureValid { throw DossierError.packageTampered(path: package, reason: "the signature does not verify") }
    }
}
