import DossierCrypto
import Foundation

/// The organisation root's statement "requests to this organisation are sealed to this intake
/// key, from not-before to not-after" (docs/formats/request.md, section 2.3). Public, signed
/// data: `org show --intake-certificate` publishes it, counsel keep it beside the organisation
/// key they trust (`dossier trust intake`), and `request new --org NAME` seals to the key it
/// certifies only after checking it against that trusted root.
///
/// ```
/// dossier-intake-certificate/1
/// organisation example.org/dossier
/// root dossierorg1…
/// intake dossierintake1…
/// not-before 2027-01-01T00:00:00.000Z
/// not-after 2028-01-02T00:00:00.000Z
/// signature <base64 of the 64-byte Ed25519 signature by the root over every line above>
/// ```
public struct IntakeCertificate: Sendable, Equatable {
    public static let header = "dossier-intake-certificate/1"
    /// Largest certificate accepted (a real one is about 330 bytes).
    public static let maximumBytes = 4096
    /// Validity when none is asked for: a year and a day, the longest a certificate may have.
    public static let defaultValidity: TimeInterval = Certificate.longestValidity

    public let organisation: String
    public let root: OrganisationKey
    public let intake: IntakeKey
    public let notBefore: String
    public let notAfter: String
    public let signature: Data

    /// The bytes the root signs: every line but `signature`.
    public static func body(organisation: String, root: OrganisationKey, intake: IntakeKey, notBefore: String, notAfter: String) -> Data {
        Data("""
            \(header)
            organisation \(organisation)
            root \(root.line)
            intake \(intake.line)
            not-before \(notBefore)
            not-after \(notAfter)

            """.utf8)
    }

    public var body: Data { Self.body(organisation: organisation, root: root, intake: intake, notBefore: notBefore, notAfter: notAfter) }

    /// The whole certificate, signature line included.
    public var bytes: Data { body + Data("signature \(signature.base64EncodedString())\n".utf8) }

    /// SHA-256 of `bytes`, lowercase hex.
    public var sha256: String { Hash.sha256(bytes).hex }

    /// Issues a certificate for `intake`, signed by `root`.
    public static func issue(by root: OrganisationRoot, organisation: String, intake: IntakeKey, notBefore: Date,
                             validity: TimeInterval = defaultValidity) -> IntakeCertificate {
        let nb = Timestamp.format(notBefore), na = Timestamp.format(notBefore.addingTimeInterval(validity))
        let body = Self.body(organisation: organisation, root: root.key, intake: intake, notBefore: nb, notAfter: na)
        return IntakeCertificate(organisation: organisation, root: root.key, intake: intake, notBefore: nb, notAfter: na,
                                 signature: root.signing.sign(body))
    }

    /// True if the root named in the certificate signed it (says nothing of whether that root is trusted).
    public var signatureValid: Bool { Signature.verify(signature, of: body, publicKey: root.signingKey) }

    /// Checks what a writer of requests must before sealing to `intake`: the certificate is by
    /// the pinned root, signed by it, for `organisation` when one is expected, and valid at
    /// `date`. `context` names where the certificate came from.
    public func check(root pinned: OrganisationKey, organisation expected: String? = nil, at date: Date?, context: String) throws(DossierError) {
        guard root == pinned else {
            throw .certificateInvalid(context: context, reason: "it was issued by the root \(root.fingerprint), not by \(pinned.fingerprint)")
        }
        guard signatureValid else { throw .certificateInvalid(context: context, reason: "the root's signature on it does not verify") }
        if let expected, organisation != expected {
            throw .certificateInvalid(context: context, reason: "it is for the organisation '\(organisation)', not '\(expected)'")
        }
        if let date {
            let nb = Timestamp.parse(notBefore) ?? .distantFuture, na = Timestamp.parse(notAfter) ?? .distantPast
            if date < nb || date > na {
                throw .intakeCertificateNotCurrent(organisation: organisation, notBefore: notBefore, notAfter: notAfter, expired: date > na)
            }
        }
    }

    /// Parses strictly: the bytes must be exactly what `bytes` produces. Does not check the
    /// signature (`check` does).
    public static func parse(_ data: Data) throws(DossierError) -> IntakeCertificate {
        func bad(_ why: String) -> DossierError { .malformedCertificate(reason: "intake certificate: " + why) }
        var lines = try KeyedLines.signed(data, maximum: maximumBytes, header: header, bad: bad)
        func take(_ name: String) throws(DossierError) -> String { try lines.require(name, bad: bad) }
        let organisation = try take("organisation")
        guard OrganisationName.isValid(organisation) else { throw bad("bad organisation name") }
        let root: OrganisationKey
        do { root = try OrganisationKey(line: try take("root")) } catch { throw bad("bad root key (\(error.message))") }
        let intake: IntakeKey
        do { intake = try IntakeKey(line: try take("intake")) } catch { throw bad("bad intake key (\(error.message))") }
        let notBefore = try take("not-before"), notAfter = try take("not-after")
        guard let nb = Timestamp.parse(notBefore), let na = Timestamp.parse(notAfter), nb <= na else { throw bad("bad validity period") }
        let sig = try take("signature")
        guard let signature = Data(base64Encoded: sig), signature.count == SigningKeyPair.signatureBytes else { throw bad("bad signature") }
        guard lines.isEmpty else { throw bad("unexpected line \(lines.lineNumber)") }
        let c = IntakeCertificate(organisation: organisation, root: root, intake: intake, notBefore: notBefore, notAfter: notAfter, signature: signature)
        guard c.bytes == data else { throw bad("not in canonical form") }
        return c
    }
}
