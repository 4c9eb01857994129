import DossierCrypto
import Foundation

/// What counsel sign to ask the organisation's service where a request they sent stands
/// (docs/formats/request.md, section 12). Canonical text, one field per line:
///
/// ```
/// dossier-request-status/1
/// to dossierintake1…
/// request req-…
/// time 2027-01-01T00:00:00.000Z
/// ```
///
/// `to` is the intake key the request was sealed to (it names the organisation). The query
/// carries no key: the service checks the signature with the key of the request's sender, so
/// a query by anyone else, or about a request it does not hold, gets the same answer.
public struct RequestStatusQuery: Sendable, Equatable {
    public static let header = "dossier-request-status/1"
    /// Largest HTTP body accepted for a query.
    public static let maximumBodyBytes = 4096

    public let intake: IntakeKey
    public let requestID: String
    public let time: String
    public let signature: Data

    static func text(intake: IntakeKey, requestID: String, time: String) -> Data {
        Data("\(header)\nto \(intake.line)\nrequest \(requestID)\ntime \(time)\n".utf8)
    }

    /// The signed text.
    public var text: Data { Self.text(intake: intake, requestID: requestID, time: time) }

    /// Signs a query about `requestID` now.
    public static func make(intake: IntakeKey, requestID: String, identity: SecretIdentity, at time: Date) -> RequestStatusQuery {
        let stamp = Timestamp.format(time)
        return RequestStatusQuery(intake: intake, requestID: requestID, time: stamp,
                                  signature: identity.signing.sign(text(intake: intake, requestID: requestID, time: stamp)))
    }

    public func verifies(with signingKey: Data) -> Bool { Signature.verify(signature, of: text, publicKey: signingKey) }

    /// The HTTP body: `{"query": TEXT, "signature": BASE64}`.
    public var body: Data {
        let object = ["query": String(decoding: text, as: UTF8.self), "signature": signature.base64EncodedString()]
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
    }

    /// Parses an HTTP body strictly: a JSON object with exactly the two string members, each
    /// once; the text in canonical form; the signature canonical base64 of 64 bytes. nil if not.
    public static func parse(body: Data) -> RequestStatusQuery? {
        guard body.count <= maximumBodyBytes, let object = StrictJSON.object(body), Set(object.keys) == ["query", "signature"],
              let text = object["query"] as? String, let sig = object["signature"] as? String,
              let signature = Data(base64Encoded: sig), signature.count == SigningKeyPair.signatureBytes, signature.base64EncodedString() == sig,
              var lines = KeyedLines(text), lines.header(header),
              let to = lines.take("to"), let request = lines.take("request"), let time = lines.take("time"), lines.isEmpty,
              let intake = try? IntakeKey(line: to), Identifier.isWellFormed(request, prefix: "req"), Timestamp.parse(time) != nil else { return nil }
        let q = RequestStatusQuery(intake: intake, requestID: request, time: time, signature: signature)
        return q.text == Data(text.utf8) ? q : nil
    }
}

/// Where a request stands, as the service tells its sender.
public struct RequestStatus: Sendable, Equatable, Codable {
    public let request: String
    public let state: RequestState
    /// The grant that answered it, once answered.
    public let grant: String?

    public init(request: String, state: RequestState, grant: String?) {
        self.request = request
        self.state = state
        self.grant = grant
    }
}
