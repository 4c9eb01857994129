import DossierCrypto
import Foundation

/// The public, signed part of a package (docs/formats/package.md). Everything an interceptor
/// may see: who issued it, for which grant, to which recipients' fingerprints, the window, and
/// the content sizes. File names, kinds, languages and hashes are in the sealed document list.
public struct PackageManifest: Sendable, Equatable {
    public static let header = "dossier-package/1"
    /// Format 2: signed by a certified member's key, whose certificate the manifest carries.
    public static let header2 = "dossier-package/2"

    public var organisation: String
    /// The organisation key counsel pins: in format 1 it made the signature; in format 2 it is
    /// the root that issued `certificate`.
    public var issuer: OrganisationKey
    /// Format 2 only: the certificate of the member whose key made the signature.
    public var certificate: Certificate? = nil
    public var packageID: String
    public var grantID: String
    public var created: String
    public var notBefore: String
    public var notAfter: String
    /// Key-release service URL; present only for online packages (key-release.md).
    public var online: String?
    /// Recipient fingerprints; stanza i belongs to recipient i.
    public var recipients: [String]
    /// Plaintext sizes, in document order.
    public var contentSizes: [UInt64]

    /// 1, or 2 when the manifest carries a certificate.
    public var version: UInt8 { certificate == nil ? 1 : 2 }

    public var bytes: Data {
        var t = "\(certificate == nil ? Self.header : Self.header2)\norganisation \(organisation)\nissuer \(issuer.line)\n"
        if let certificate { t += "certificate \(certificate.line)\n" }
        t += "package \(packageID)\ngrant \(grantID)\n"
        t += "created \(created)\nnot-before \(notBefore)\nnot-after \(notAfter)\n"
        if let online { t += "online \(online)\n" }
        for r in recipients { t += "recipient \(r)\n" }
        for s in contentSizes { t += "content \(s)\n" }
        return Data(t.utf8)
    }

    public static let maximumRecipients = 1000
    public static let maximumDocuments = 10000

    /// Parses strictly: the bytes must be exactly what `bytes` produces.
    public static func parse(_ data: Data, path: String) throws(DossierError) -> PackageManifest {
        func bad(_ why: String) -> DossierError { .malformedPackage(path: path, reason: "manifest: \(why)") }
        guard let text = String(data: data, encoding: .utf8), var lines = KeyedLines(text) else { throw bad("not UTF-8 text ending in a newline") }
        func take(_ name: String) throws(DossierError) -> String {
            guard let value = lines.take(name) else { throw bad("expected '\(name)'") }
            return value
        }
        let version2 = lines.next == Substring(header2)
        guard lines.header(version2 ? header2 : header) else {
            if let first = lines.next, first.hasPrefix("dossier-package/") { throw bad("unsupported version '\(first.prefix(40))'; upgrade dossier") }
            throw bad("unknown header")
        }
        let organisation = try take("organisation")
        // The same grammar the writer obeys: printable ASCII, so that no name can carry control
        // characters into a terminal before the signature is checked.
        guard OrganisationName.isValid(organisation) else { throw bad("bad organisation name") }
        let issuerLine = try take("issuer")
        let issuer: OrganisationKey
        do { issuer = try OrganisationKey(line: issuerLine) } catch { throw bad("bad issuer key (\(error))") }
        var certificate: Certificate?
        if version2 {
            let line = try take("certificate")
            do { certificate = try Certificate.parse(line: line) } catch { throw bad("bad certificate line (\(error.message))") }
        }
        let packageID = try take("package")
        let grantID = try take("grant")
        guard Identifier.isWellFormed(packageID, prefix: "pkg"), Identifier.isWellFormed(grantID, prefix: "grant") else { throw bad("bad ids") }
        let created = try take("created"), notBefore = try take("not-before"), notAfter = try take("not-after")
        guard let nb = Timestamp.parse(notBefore), let na = Timestamp.parse(notAfter), Timestamp.parse(created) != nil, nb <= na else {
            throw bad("bad times")
        }
        var online: String?
        if lines.nextIs("online") {
            let url = try take("online")
            if let problem = OnlineURL.problem(url) { throw bad("bad online URL: \(problem)") }
            online = url
        }
        var recipients: [String] = []
        while lines.nextIs("recipient") {
            let fp = try take("recipient")
            guard Fingerprint.normalise(fp) == fp else { throw bad("bad recipient fingerprint") }
            recipients.append(fp)
        }
        var sizes: [UInt64] = []
        while lines.nextIs("content") {
            let s = try take("content")
            guard let n = UInt64(s), String(n) == s, n <= 1 << 50 else { throw bad("bad content size") }
            sizes.append(n)
        }
        guard lines.isEmpty else { throw bad("unexpected line \(lines.lineNumber)") }
        guard (1...maximumRecipients).contains(recipients.count), Set(recipients).count == recipients.count else { throw bad("bad recipient list") }
        guard (1...maximumDocuments).contains(sizes.count) else { throw bad("bad document count") }
        let m = PackageManifest(organisation: organisation, issuer: issuer, certificate: certificate, packageID: packageID, grantID: grantID, created: created,
                                notBefore: notBefore, notAfter: notAfter, online: online, recipients: recipients, contentSizes: sizes)
        guard m.bytes == data else { throw bad("not in canonical form") }
        return m
    }
}

/// One entry of the sealed document list.
public struct PackagedDocument: Sendable, Equatable, Codable {
    public var id: String
    public var kind: String
    public var language: String
    public var size: UInt64
    /// BLAKE2b-256 of the plaintext.
    public var hash: Data
    public var fileName: String
}
