import DossierCrypto
import Foundation

/// Counsel's side of the service's request intake (docs/formats/request.md, section 11): sends a
/// request file and checks the receipt that comes back, and asks where a request stands. It
/// talks HTTP through the same transport as the key-release client (`URLSessionTransport`).
public struct RequestClient: Sendable {
    public let transport: any KeyReleaseTransport
    public let clock: any TimeSource
    /// How long to wait for an answer: a request file may be 64 MiB.
    public let timeout: TimeInterval
    /// Largest answer read from the service.
    static let maximumResponseBytes = 16384

    public init(transport: any KeyReleaseTransport = URLSessionTransport(), clock: any TimeSource = SystemClock(), timeout: TimeInterval = 300) {
        self.transport = transport
        self.clock = clock
        self.timeout = timeout
    }

    /// A request the organisation acknowledged.
    public struct Sent: Sendable {
        /// The receipt, verified.
        public let receipt: RequestReceipt
        /// The trusted organisation key the receipt's certificate chains to.
        public let organisation: TrustStore.Entry
    }

    /// The endpoint under the service's base URL: `/v1/requests` or `/v1/requests/status`.
    public static func endpoint(_ base: String, status: Bool = false) -> String {
        (base.hasSuffix("/") ? String(base.dropLast()) : base) + (status ? "/v1/requests/status" : "/v1/requests")
    }

    /// Posts the request file at `path` to the service at `url`, and verifies the receipt
    /// against the organisation keys in `trust`: it must name this request and this file's
    /// SHA-256 and be signed under a certificate of role `service` by a trusted root.
    public func send(path: String, to url: String, trust: TrustStore) throws(DossierError) -> Sent {
        try Self.checkURL(url)
        let requestID = try RequestReader.header(path: path).requestID
        let file = try FileAccess.readSmall(path: path, limit: Int(RequestLimits.maximumFileBytes))
        let sha256 = Hash.sha256(file).hex
        let (status, body) = try post(Self.endpoint(url), body: file, contentType: "application/octet-stream", base: url)
        let object = StrictJSON.object(body.prefix(Self.maximumResponseBytes))
        guard status == 200 else { throw Self.failure(url, status: status, object: object) }
        guard let object, object["status"] as? String == "received", let text = object["receipt"] as? String else {
            throw .receiptInvalid(context: "from \(url)", reason: "the service's answer holds no receipt")
        }
        let receipt = try RequestReceipt.parse(Data(text.utf8), context: "from \(url)")
        let entry = try receipt.verify(trust: trust, requestID: requestID, sha256: sha256, context: "from \(url)")
        return Sent(receipt: receipt, organisation: entry)
    }

    /// Asks the service at `url` where request `requestID`, sealed to `intake`, stands; signed
    /// with `identity`, which must be the request's sender.
    public func status(of requestID: String, intake: IntakeKey, identity: SecretIdentity, url: String) throws(DossierError) -> RequestStatus {
        try Self.checkURL(url)
        let query = RequestStatusQuery.make(intake: intake, requestID: requestID, identity: identity, at: clock.now())
        let (status, body) = try post(Self.endpoint(url, status: true), body: query.body, contentType: "application/json", base: url)
        let object = StrictJSON.object(body.prefix(Self.maximumResponseBytes))
        guard status == 200 else { throw Self.failure(url, status: status, object: object) }
        guard let object, object["request"] as? String == requestID, let state = (object["state"] as? String).flatMap(RequestState.init(rawValue:)) else {
            throw .requestServiceUnavailable(url: url, reason: "the service's answer is not a well-formed status")
        }
        let grant = object["grant"] as? String
        if let grant, !Identifier.isWellFormed(grant, prefix: "grant") {
            throw .requestServiceUnavailable(url: url, reason: "the service's answer names a malformed grant id")
        }
        return RequestStatus(request: requestID, state: state, grant: state == .answered ? grant : nil)
    }

    private func post(_ endpoint: String, body: Data, contentType: String, base: String) throws(DossierError) -> (Int, Data) {
        do {
            return try transport.post(endpoint, body: body, contentType: contentType, timeout: timeout)
        } catch let .keyReleaseUnavailable(_, reason) {
            throw .requestServiceUnavailable(url: base, reason: reason)
        }
    }

    /// A 4xx with an `error` member is a refusal, shown with the service's message; anything
    /// else means the service is not usable now.
    private static func failure(_ url: String, status: Int, object: [String: Any]?) -> DossierError {
        if (400..<500).contains(status), let code = object?["error"] as? String {
            let message = KeyReleaseClient.printable(object?["message"] as? String ?? "")
            return .requestRefused(url: url, reason: KeyReleaseClient.printable(code), message: message.isEmpty ? "HTTP status \(status)" : message)
        }
        let message = (object?["message"] as? String).map(KeyReleaseClient.printable) ?? "HTTP status \(status)"
        return .requestServiceUnavailable(url: url, reason: message)
    }

    private static func checkURL(_ url: String) throws(DossierError) {
        if let problem = OnlineURL.problem(url) {
            throw .invalidArgument("the service URL \(url) is not usable: \(problem)", hint: "give the organisation's service address, such as https://release.example.org")
        }
    }
}
