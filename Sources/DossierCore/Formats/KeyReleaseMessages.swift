import DossierCrypto
import Foundation

// The key-release protocol (docs/formats/key-release.md): what counsel's `dossier open` sends
// to the organisation's service for an online package, and what comes back. The service side is
// KeyReleaseService, the client side KeyReleaseClient.

/// The address of a key-release service, as `grant --online` and the manifest's `online` line
/// carry it: an absolute http or https URL without credentials, query or fragment.
public enum OnlineURL {
    public static let maximumLength = 512

    /// nil if `text` is acceptable, else why not.
    public static func problem(_ text: String) -> String? {
        guard !text.isEmpty, text.utf8.count <= maximumLength else { return "it must be 1 to \(maximumLength) characters" }
        guard text.unicodeScalars.allSatisfy({ (0x21...0x7e).contains($0.value) }) else {
            return "it may contain only printable ASCII without spaces"
        }
        guard text.hasPrefix("https://") || text.hasPrefix("http://") else { return "it must start with https:// (or http:// on a trusted network)" }
        guard !text.contains("?"), !text.contains("#") else { return "it must not have a query (?) or fragment (#)" }
        let rest = text.dropFirst(text.hasPrefix("https://") ? 8 : 7)
        let authority = rest.prefix { $0 != "/" }
        let path = rest.dropFirst(authority.count)
        guard !authority.contains("@") else { return "it must not carry a user name or password" }
        if let problem = authorityProblem(authority) { return problem }
        guard isURIText(path, extra: "/:@") else { return "its path has a character a URL (RFC 3986) does not allow, or a bad %-escape" }
        return nil
    }

    /// RFC 3986 section 3.2.2 and 3.2.3: a host (a name, an IPv4 address, or an IPv6 address in
    /// brackets) and an optional port from 1 to 65535.
    private static func authorityProblem(_ authority: Substring) -> String? {
        var host = authority, port: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return "its IPv6 host has no closing ]" }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            guard host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }), host.contains(":") else { return "its IPv6 host is not an IPv6 address" }
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return "it has characters after its IPv6 host" }
                port = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            port = authority[authority.index(after: colon)...]
            guard isURIText(host, extra: "") else { return "its host has a character a URL (RFC 3986) does not allow, or a bad %-escape" }
        } else {
            guard isURIText(host, extra: "") else { return "its host has a character a URL (RFC 3986) does not allow, or a bad %-escape" }
        }
        guard !host.isEmpty else { return "it has no host" }
        if let port {
            guard (1...5).contains(port.count), port.allSatisfy(\.isASCII), port.allSatisfy(\.isNumber),
                  let n = Int(port), (1...65535).contains(n) else { return "its port must be a number from 1 to 65535" }
        }
        return nil
    }

    /// Whether `text` is made only of RFC 3986's unreserved and sub-delims characters, the
    /// characters in `extra`, and well-formed %-escapes (% and two hexadecimal digits).
    private static func isURIText(_ text: Substring, extra: String) -> Bool {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=" + extra)
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            if c == "%" {
                let a = text.index(after: i)
                guard a < text.endIndex, text[a].isHexDigit, text.index(after: a) < text.endIndex, text[text.index(after: a)].isHexDigit else { return false }
                i = text.index(a, offsetBy: 2)
                continue
            }
            guard allowed.contains(c) else { return false }
            i = text.index(after: i)
        }
        return true
    }

    /// Refuses a URL given on the command line (`--online`), saying why.
    static func check(_ text: String?) throws(DossierError) {
        if let text, let problem = problem(text) { throw .invalidArgument("the key-release service URL \(text) is not usable: \(problem)", hint: "give --online an https URL (http only on a network you trust)") }
    }

    /// The endpoint counsel's client posts to: the service URL followed by `/v1/open`.
    public static func openEndpoint(_ base: String) -> String {
        (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/v1/open"
    }
}

/// What counsel sign to ask for the vault's share of a package key. Canonical text, one field
/// per line; the signature (Ed25519, counsel's identity key) covers exactly these bytes.
public struct ReleaseRequest: Sendable, Equatable {
    public static let header = "dossier-release-request/1"
    public static let nonceBytes = 16

    public var packageID: String
    public var grantID: String
    /// The recipient's identity fingerprint.
    public var recipient: String
    /// When the request was made, as a timestamp with milliseconds.
    public var time: String
    /// 16 random bytes, lowercase hex: makes every request unique, so none can be replayed.
    public var nonce: String

    public init(packageID: String, grantID: String, recipient: String, time: String, nonce: String) {
        self.packageID = packageID
        self.grantID = grantID
        self.recipient = recipient
        self.time = time
        self.nonce = nonce
    }

    public var bytes: Data {
        Data("\(Self.header)\npackage \(packageID)\ngrant \(grantID)\nrecipient \(recipient)\ntime \(time)\nnonce \(nonce)\n".utf8)
    }

    /// Parses strictly: the bytes must be exactly what `bytes` gives. nil if not.
    public static func parse(_ data: Data) -> ReleaseRequest? {
        guard data.count <= 512, let text = String(data: data, encoding: .utf8), var lines = KeyedLines(text), lines.header(header),
              let package = lines.take("package"), let grant = lines.take("grant"), let recipient = lines.take("recipient"),
              let time = lines.take("time"), let nonce = lines.take("nonce"), lines.isEmpty else { return nil }
        guard Identifier.isWellFormed(package, prefix: "pkg"), Identifier.isWellFormed(grant, prefix: "grant"),
              Fingerprint.normalise(recipient) == recipient, Timestamp.parse(time) != nil,
              nonce.count == 2 * nonceBytes, Data(hex: nonce)?.hex == nonce else { return nil }
        let r = ReleaseRequest(packageID: package, grantID: grant, recipient: recipient, time: time, nonce: nonce)
        return r.bytes == data ? r : nil
    }
}

/// A request with counsel's signature: the body of `POST …/v1/open`, as JSON
/// `{"request": TEXT, "signature": BASE64}`, and, in the log, the receipt of an opening.
public struct SignedReleaseRequest: Sendable, Equatable {
    public let request: ReleaseRequest
    public let signature: Data

    /// Signs a new request for `manifest`'s package now, with a fresh nonce.
    public static func make(for manifest: PackageManifest, identity: SecretIdentity, at time: Date,
                            random: any RandomSource = SystemRandom()) -> SignedReleaseRequest {
        var nonce = Data(count: ReleaseRequest.nonceBytes)
        nonce.withUnsafeMutableBytes { random.fill($0) }
        let request = ReleaseRequest(packageID: manifest.packageID, grantID: manifest.grantID,
                                     recipient: identity.publicIdentity.fingerprint, time: Timestamp.format(time), nonce: nonce.hex)
        return SignedReleaseRequest(request: request, signature: identity.signing.sign(request.bytes))
    }

    public init(request: ReleaseRequest, signature: Data) {
        self.request = request
        self.signature = signature
    }

    public func verifies(with signingKey: Data) -> Bool {
        Signature.verify(signature, of: request.bytes, publicKey: signingKey)
    }

    /// The HTTP body.
    public var body: Data {
        let object: [String: String] = ["request": String(decoding: request.bytes, as: UTF8.self), "signature": signature.base64EncodedString()]
        // Two string values always serialise.
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
    }

    /// The receipt kept in the log entry: base64 of the request text followed by the 64-byte
    /// signature. Anyone with counsel's public identity can check it.
    public var receipt: String { (request.bytes + signature).base64EncodedString() }

    /// Reads a receipt back (for auditors checking an `open` entry).
    public static func parse(receipt: String) -> SignedReleaseRequest? {
        guard let data = Data(base64Encoded: receipt), data.count > SigningKeyPair.signatureBytes,
              let request = ReleaseRequest.parse(data.dropLast(SigningKeyPair.signatureBytes)) else { return nil }
        return SignedReleaseRequest(request: request, signature: Data(data.suffix(SigningKeyPair.signatureBytes)))
    }

    /// Parses an HTTP body: a JSON object with exactly the two string members, each once.
    public static func parse(body: Data) -> SignedReleaseRequest? {
        guard body.count <= KeyReleaseService.maximumBodyBytes,
              let object = StrictJSON.object(body),
              Set(object.keys) == ["request", "signature"],
              let text = object["request"] as? String, let sig = object["signature"] as? String,
              let signature = Data(base64Encoded: sig), signature.count == SigningKeyPair.signatureBytes,
              signature.base64EncodedString() == sig,
              let request = ReleaseRequest.parse(Data(text.utf8)) else { return nil }
        return SignedReleaseRequest(request: request, signature: signature)
    }
}

/// Why the service refuses to release a share. The raw value is the `error` member of the JSON
/// answer and the `rule` of the `deny` log entry (prefixed `online.`).
public enum ReleaseRefusal: String, Sendable, CaseIterable, Codable {
    case malformed
    case tooLarge = "too-large"
    case unknownPackage = "unknown-package"
    case notARecipient = "not-a-recipient"
    case badSignature = "bad-signature"
    case staleRequest = "stale-request"
    case replay
    case notYetValid = "not-yet-valid"
    case expired
    case revoked
    case notApproved = "not-approved"
    case suspended
    case notVetted = "not-vetted"
    case openLimitReached = "open-limit-reached"
    case timeout
    /// The package was made by someone who is no longer current staff, or under a certificate
    /// that was revoked (docs/formats/key-release.md, section 8.3).
    case issuerNotCurrent = "issuer-not-current"

    /// The HTTP status: 400 malformed, 401 not authenticated, 403 refused, 404 unknown,
    /// 408 too slow, 409 replay, 413 too large.
    public var status: Int {
        switch self {
        case .malformed: return 400
        case .badSignature, .staleRequest: return 401
        case .unknownPackage: return 404
        case .replay: return 409
        case .tooLarge: return 413
        case .timeout: return 408
        case .notARecipient, .notYetValid, .expired, .revoked, .notApproved, .suspended, .notVetted, .openLimitReached, .issuerNotCurrent: return 403
        }
    }

    /// What counsel should read and do.
    public var message: String {
        switch self {
        case .malformed: return "the request is not a well-formed signed release request; upgrade dossier"
        case .tooLarge: return "the request is larger than the service accepts (\(KeyReleaseService.maximumBodyBytes) bytes)"
        case .unknownPackage: return "the service holds no key share for this package; ask the organisation"
        case .notARecipient: return "this package was not sealed to your identity"
        case .badSignature: return "the request's signature does not verify with your registered identity"
        case .staleRequest: return "the request's time is more than \(Int(KeyReleaseService.maximumSkew / 60)) minutes from the service's clock; correct your computer's clock and retry"
        case .replay: return "this exact request was already used once; retry (a new request has a new nonce)"
        case .notYetValid: return "the grant's window has not started"
        case .expired: return "the grant's window has ended; ask the organisation for a new grant"
        case .revoked: return "the organisation revoked this grant"
        case .notApproved: return "the grant is still waiting for staff approval"
        case .suspended: return "your registration as counsel is suspended; contact the organisation"
        case .notVetted: return "your vetting has lapsed; contact the organisation"
        case .openLimitReached: return "you have opened this grant's documents as often as it allows"
        case .timeout: return "the request did not arrive in time; retry"
        case .issuerNotCurrent: return "the staff member who made this package is no longer with the organisation; ask the organisation for a new package"
        }
    }
}

/// The service's answer to a request: an HTTP status and a JSON body.
public struct ReleaseResponse: Sendable {
    public let status: Int
    public let body: Data

    static func json(_ status: Int, _ object: [String: Any]) -> ReleaseResponse {
        ReleaseResponse(status: status, body: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8))
    }

    static func refused(_ reason: ReleaseRefusal) -> ReleaseResponse { refusals[reason]! }

    /// Each refusal's answer, made once.
    private static let refusals: [ReleaseRefusal: ReleaseResponse] = Dictionary(uniqueKeysWithValues: ReleaseRefusal.allCases.map {
        ($0, json($0.status, ["error": $0.rawValue, "message": $0.message]))
    })

    /// The answer when the vault cannot decide. The same for every cause: the request is not
    /// authenticated, so the body names neither the vault's path nor any fingerprint; the
    /// cause goes only to the service's own report.
    static let unavailable = json(503, ["error": "unavailable", "message": "the key-release service cannot decide now; retry later"])
}
