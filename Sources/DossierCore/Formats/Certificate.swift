import DossierCrypto
import Foundation

/// A certificate by the organisation root (docs/formats/identity.md, section 7): "this
/// identity signs for the organisation, as staff or as the key-release service, from
/// not-before to not-after". Public, signed data: packages and checkpoint exports carry it, the
/// vault stores it, and every reader checks the root's signature again, since storage and
/// transport are hostile.
///
/// ```
/// dossier-certificate/1
/// organisation example.org/dossier
/// root dossierorg1…
/// serial cert-abcdefghijklm
/// subject dossier1…
/// role staff
/// not-before 2027-01-01T00:00:00.000Z
/// not-after 2027-01-31T00:00:00.000Z
/// signature <base64 of the 64-byte Ed25519 signature by the root over every line above>
/// ```
public struct Certificate: Sendable, Equatable {
    public static let header = "dossier-certificate/1"
    /// Largest certificate accepted (a real one is about 400 bytes).
    public static let maximumBytes = 4096
    /// Longest validity the root may give (a year and a day).
    public static let longestValidity: TimeInterval = 366 * 86400
    /// Validity when none is asked for.
    public static let defaultValidity: TimeInterval = 30 * 86400

    public enum Role: String, Sendable, CaseIterable, Codable {
        case staff
        case service
    }

    public let organisation: String
    public let root: OrganisationKey
    public let serial: String
    public let subject: PublicIdentity
    public let role: Role
    public let notBefore: String
    public let notAfter: String
    public let signature: Data

    /// The bytes the root signs: every line but `signature`.
    public static func body(organisation: String, root: OrganisationKey, serial: String, subject: PublicIdentity, role: Role,
                            notBefore: String, notAfter: String) -> Data {
        Data("""
            \(header)
            organisation \(organisation)
            root \(root.line)
            serial \(serial)
            subject \(subject.line)
            role \(role.rawValue)
            not-before \(notBefore)
            not-after \(notAfter)

            """.utf8)
    }

    public var body: Data {
        Self.body(organisation: organisation, root: root, serial: serial, subject: subject, role: role, notBefore: notBefore, notAfter: notAfter)
    }

    /// The whole certificate, signature line included.
    public var bytes: Data { body + Data("signature \(signature.base64EncodedString())\n".utf8) }

    /// SHA-256 of `bytes`, lowercase hex: how log entries and the vault name a certificate.
    public var sha256: String { Hash.sha256(bytes).hex }

    /// The subject's fingerprint.
    public var fingerprint: String { subject.fingerprint }

    /// Issues a certificate signed by `root`.
    public static func issue(by root: OrganisationRoot, organisation: String, subject: PublicIdentity, role: Role,
                             notBefore: Date, validity: TimeInterval, random: any RandomSource) -> Certificate {
        let serial = Identifier.make(prefix: "cert", random: random)
        let nb = Timestamp.format(notBefore), na = Timestamp.format(notBefore.addingTimeInterval(validity))
        let body = Self.body(organisation: organisation, root: root.key, serial: serial, subject: subject, role: role, notBefore: nb, notAfter: na)
        return Certificate(organisation: organisation, root: root.key, serial: serial, subject: subject, role: role,
                           notBefore: nb, notAfter: na, signature: root.signing.sign(body))
    }

    /// True if the root named in the certificate signed it. Says nothing about whether that
    /// root is trusted: compare `root` with the pinned key.
    public var signatureValid: Bool { Signature.verify(signature, of: body, publicKey: root.signingKey) }

    /// Where `date` lies relative to the validity period.
    public enum Validity: Equatable, Sendable {
        case notYetValid
        case valid
        case expired
    }

    public func validity(at date: Date) -> Validity {
        // Parsing guarantees both times read.
        let nb = Timestamp.parse(notBefore) ?? .distantFuture, na = Timestamp.parse(notAfter) ?? .distantPast
        if date < nb { return .notYetValid }
        if date > na { return .expired }
        return .valid
    }

    /// Checks everything a reader must before it believes a signature by the subject: the
    /// certificate is by `root` (the pinned key), for `organisation`, signed by that root, for
    /// `role`, and valid at `date`. The failures name what is wrong; `context` says what the
    /// certificate came with (a package path, a checkpoint).
    public func check(root pinned: OrganisationKey, organisation expected: String?, role expectedRole: Role?, at date: Date?,
                      context: String) throws(DossierError) {
        guard root == pinned else {
            throw .certificateInvalid(context: context, reason: "it was issued by the root \(root.fingerprint), not by \(pinned.fingerprint)")
        }
        guard signatureValid else { throw .certificateInvalid(context: context, reason: "the root's signature on it does not verify") }
        if let expected, organisation != expected {
            throw .certificateInvalid(context: context, reason: "it is for the organisation '\(organisation)', not '\(expected)'")
        }
        if let expectedRole, role != expectedRole {
            throw .certificateInvalid(context: context, reason: "it certifies a \(role.rawValue) key, not a \(expectedRole.rawValue) key")
        }
        if let date {
            switch validity(at: date) {
            case .valid: break
            case .notYetValid: throw .certificateNotCurrent(fingerprint: fingerprint, serial: serial, notBefore: notBefore, notAfter: notAfter, expired: false)
            case .expired: throw .certificateNotCurrent(fingerprint: fingerprint, serial: serial, notBefore: notBefore, notAfter: notAfter, expired: true)
            }
        }
    }

    /// Parses strictly: the bytes must be exactly what `bytes` produces. Does not check the
    /// signature (`check` does).
    public static func parse(_ data: Data) throws(DossierError) -> Certificate {
        func bad(_ why: String) -> DossierError { .malformedCertificate(reason: why) }
        var lines = try KeyedLines.signed(data, maximum: maximumBytes, header: header, bad: bad)
        func take(_ name: String) throws(DossierError) -> String { try lines.require(name, bad: bad) }
        let organisation = try take("organisation")
        guard OrganisationName.isValid(organisation) else { throw bad("bad organisation name") }
        let root: OrganisationKey
        do { root = try OrganisationKey(line: try take("root")) } catch { throw bad("bad root key (\(error.message))") }
        let serial = try take("serial")
        guard Identifier.isWellFormed(serial, prefix: "cert") else { throw bad("bad serial") }
        let subject: PublicIdentity
        do { subject = try PublicIdentity(line: try take("subject")) } catch { throw bad("bad subject identity (\(error.message))") }
        guard let role = Role(rawValue: try take("role")) else { throw bad("the role must be staff or service") }
        let notBefore = try take("not-before"), notAfter = try take("not-after")
        guard let nb = Timestamp.parse(notBefore), let na = Timestamp.parse(notAfter), nb <= na else { throw bad("bad validity period") }
        let sig = try take("signature")
        guard let signature = Data(base64Encoded: sig), signature.count == SigningKeyPair.signatureBytes else { throw bad("bad signature") }
        guard lines.isEmpty else { throw bad("unexpected line \(lines.lineNumber)") }
        let c = Certificate(organisation: organisation, root: root, serial: serial, subject: subject, role: role,
                            notBefore: notBefore, notAfter: notAfter, signature: signature)
        guard c.bytes == data else { throw bad("not in canonical form") }
        return c
    }

    /// The one-line form packages and exports carry: standard base64 of `bytes`.
    public var line: String { bytes.base64EncodedString() }

    /// Parses the one-line form strictly (canonical base64 of a canonical certificate).
    public static func parse(line: String) throws(DossierError) -> Certificate {
        guard let data = Data(base64Encoded: line), data.base64EncodedString() == line else {
            throw .malformedCertificate(reason: "not canonical base64")
        }
        return try parse(data)
    }
}
