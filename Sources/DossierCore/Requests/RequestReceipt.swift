import DossierCrypto
import Foundation

/// The organisation's receipt for a request it received through its service
/// (docs/formats/request.md, section 11): "we hold the request with this id and this file
/// hash, received at this time, recorded as this entry of our log". Signed by the service's
/// identity and carrying its certificate, so that counsel check it against the organisation
/// root they trust, as they check a package.
///
/// ```
/// dossier-request-receipt/1
/// organisation example.org/dossier
/// request req-…
/// sha256 <SHA-256 of the request file, lowercase hex>
/// received 2027-01-01T00:00:00.000Z
/// log 42
/// certificate <base64 of the service's certificate>
/// signature <base64 of the Ed25519 signature by the certified key over every line above>
/// ```
public struct RequestReceipt: Sendable, Equatable {
    public static let header = "dossier-request-receipt/1"
    /// Largest receipt accepted (a real one is about 1 100 bytes).
    public static let maximumBytes = 8192

    public let organisation: String
    public let requestID: String
    /// SHA-256 of the whole request file, lowercase hex.
    public let sha256: String
    /// When the service received it, by its clock.
    public let received: String
    /// The sequence number of the `request-receive` entry that recorded it.
    public let logSeq: UInt64
    public let certificate: Certificate
    public let signature: Data

    /// The bytes the service signs: every line but `signature`.
    static func body(organisation: String, requestID: String, sha256: String, received: String, logSeq: UInt64,
                     certificate: Certificate) -> Data {
        Data("""
            \(header)
            organisation \(organisation)
            request \(requestID)
            sha256 \(sha256)
            received \(received)
            log \(logSeq)
            certificate \(certificate.line)

            """.utf8)
    }

    public var body: Data {
        Self.body(organisation: organisation, requestID: requestID, sha256: sha256, received: received, logSeq: logSeq, certificate: certificate)
    }

    /// The whole receipt, signature line included: what `FILE.receipt` holds.
    public var bytes: Data { body + Data("signature \(signature.base64EncodedString())\n".utf8) }

    /// Signs a receipt with `key`, the key `certificate` certifies.
    static func sign(requestID: String, sha256: String, received: String, logSeq: UInt64, certificate: Certificate,
                     key: SigningKeyPair) -> RequestReceipt {
        let body = Self.body(organisation: certificate.organisation, requestID: requestID, sha256: sha256, received: received,
                             logSeq: logSeq, certificate: certificate)
        return RequestReceipt(organisation: certificate.organisation, requestID: requestID, sha256: sha256, received: received,
                              logSeq: logSeq, certificate: certificate, signature: key.sign(body))
    }

    /// Parses strictly: the bytes must be exactly what `bytes` gives for the values read. Checks
    /// no signature (`verify` does). `context` names the receipt in errors.
    public static func parse(_ data: Data, context: String) throws(DossierError) -> RequestReceipt {
        func bad(_ why: String) -> DossierError { .receiptInvalid(context: context, reason: why) }
        guard data.count <= maximumBytes else { throw bad("it is longer than \(maximumBytes) bytes") }
        guard let text = String(data: data, encoding: .utf8), var lines = KeyedLines(text) else { throw bad("it is not UTF-8 text ending in a newline") }
        func take(_ name: String) throws(DossierError) -> String {
            guard let value = lines.take(name) else { throw bad("line \(lines.lineNumber): expected '\(name)'") }
            return value
        }
        guard lines.header(header) else {
            if let first = lines.next, first.hasPrefix("dossier-request-receipt/") { throw bad("receipt version '\(first.prefix(40))' is not supported; upgrade dossier") }
            throw bad("it does not start with '\(header)'")
        }
        let organisation = try take("organisation")
        guard OrganisationName.isValid(organisation) else { throw bad("bad organisation name") }
        let requestID = try take("request")
        guard Identifier.isWellFormed(requestID, prefix: "req") else { throw bad("bad request id") }
        let sha256 = try take("sha256")
        guard sha256.utf8.count == 64, Data(hex: sha256)?.hex == sha256 else { throw bad("the file hash is not 64 lowercase hex digits") }
        let received = try take("received")
        guard Timestamp.parse(received) != nil else { throw bad("bad received time") }
        let seqText = try take("log")
        guard let logSeq = UInt64(seqText), logSeq > 0, String(logSeq) == seqText else { throw bad("bad log sequence number") }
        let certificate: Certificate
        do { certificate = try Certificate.parse(line: try take("certificate")) } catch {
            if case .receiptInvalid = error { throw error }
            throw bad("its certificate: \(error.message)")
        }
        let sig = try take("signature")
        guard let signature = Data(base64Encoded: sig), signature.count == SigningKeyPair.signatureBytes else { throw bad("bad signature") }
        guard lines.isEmpty else { throw bad("unexpected line \(lines.lineNumber)") }
        let r = RequestReceipt(organisation: organisation, requestID: requestID, sha256: sha256, received: received, logSeq: logSeq,
                               certificate: certificate, signature: signature)
        guard r.bytes == data else { throw bad("not in canonical form") }
        return r
    }

    /// Everything counsel check before they rely on a receipt, in this order: the certificate is
    /// by `root` (the organisation key they pinned), signed by it, for the receipt's
    /// organisation, of role `service`, and valid at the received time; the signature verifies
    /// under the key it certifies; the receipt names `requestID` and `sha256` (the request file
    /// counsel hold). Every failure is `receiptInvalid`, naming what is wrong.
    public func verify(root: OrganisationKey, requestID expectedID: String, sha256 expectedHash: String, context: String) throws(DossierError) {
        func bad(_ why: String) -> DossierError { .receiptInvalid(context: context, reason: why) }
        do {
            try certificate.check(root: root, organisation: organisation, role: .service, at: Timestamp.parse(received), context: context)
        } catch {
            switch error {
            case let .certificateInvalid(_, reason): throw bad("its certificate: \(reason)")
            case .certificateNotCurrent: throw bad("its certificate \(certificate.serial) was not valid at the received time \(received)")
            default: throw bad("its certificate: \(error.message)")
            }
        }
        guard Signature.verify(signature, of: body, publicKey: certificate.subject.signingKey) else {
            throw bad("its signature does not verify under the certified key \(certificate.fingerprint)")
        }
        guard requestID == expectedID else { throw bad("it is for request \(requestID), not \(expectedID)") }
        guard sha256 == expectedHash else { throw bad("it is for another file (SHA-256 \(sha256.prefix(16))…, yours is \(expectedHash.prefix(16))…)") }
    }

    /// `verify` against the organisation keys counsel trust: the certificate's root must be one
    /// of them. Returns the trusted entry (its name is what counsel call the organisation).
    public func verify(trust: TrustStore, requestID: String, sha256: String, context: String) throws(DossierError) -> TrustStore.Entry {
        guard let entry = try trust.entry(for: certificate.root) else {
            throw .receiptInvalid(context: context, reason: "it is signed under the organisation key \(certificate.root.fingerprint), which you do not trust (`dossier trust add`)")
        }
        try verify(root: certificate.root, requestID: requestID, sha256: sha256, context: context)
        return entry
    }
}
