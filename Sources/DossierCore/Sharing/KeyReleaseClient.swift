import DossierCrypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Sends one HTTP POST and returns the status and body. The standard transport is
/// `URLSessionTransport`; tests may pass their own.
public protocol KeyReleaseTransport: Sendable {
    func post(_ url: String, body: Data, timeout: TimeInterval) throws(DossierError) -> (status: Int, body: Data)
    /// The same, with the body's `Content-Type` (a request file is `application/octet-stream`).
    func post(_ url: String, body: Data, contentType: String, timeout: TimeInterval) throws(DossierError) -> (status: Int, body: Data)
}

extension KeyReleaseTransport {
    /// A transport that knows only JSON bodies ignores the type.
    public func post(_ url: String, body: Data, contentType: String, timeout: TimeInterval) throws(DossierError) -> (status: Int, body: Data) {
        try post(url, body: body, timeout: timeout)
    }
}

/// Counsel's side of the key-release protocol: asks the service named in an online package's
/// manifest for the vault's share of the package key.
public struct KeyReleaseClient: Sendable {
    public let transport: any KeyReleaseTransport
    public let clock: any TimeSource
    public let random: any RandomSource
    public let timeout: TimeInterval
    /// Largest answer read from the service.
    static let maximumResponseBytes = 16384

    public init(transport: any KeyReleaseTransport = URLSessionTransport(), clock: any TimeSource = SystemClock(),
                random: any RandomSource = SystemRandom(), timeout: TimeInterval = 30) {
        self.transport = transport
        self.clock = clock
        self.random = random
        self.timeout = timeout
    }

    /// What the service said when it released a share.
    public struct Release: Sendable {
        /// The vault's share, opened with counsel's key.
        public let share: SecureBytes
        /// This opening's number, and the grant's limit (0: none).
        public let opening: Int
        public let maxOpens: Int
        /// The sequence number of the `open` entry in the organisation's log.
        public let logSeq: Int
    }

    /// Signs a fresh request for `manifest`'s package and asks the service at `manifest.online`.
    public func requestShare(for manifest: PackageManifest, identity: SecretIdentity) throws(DossierError) -> Release {
        guard let base = manifest.online else { throw .invalidArgument("this package does not use a key-release service") }
        let signed = SignedReleaseRequest.make(for: manifest, identity: identity, at: clock.now(), random: random)
        let status: Int, body: Data
        do {
            (status, body) = try transport.post(OnlineURL.openEndpoint(base), body: signed.body, timeout: timeout)
        } catch let .keyReleaseUnavailable(_, reason) {
            // Name the service as the package (and `inspect`) does, whatever URL the transport used.
            throw .keyReleaseUnavailable(url: base, reason: reason)
        }
        // An answer that repeats a member is not used, whatever its status: nil below.
        let object = StrictJSON.object(body.prefix(Self.maximumResponseBytes))
        guard status == 200 else {
            if (400..<500).contains(status), let code = object?["error"] as? String {
                let known = ReleaseRefusal(rawValue: code)
                throw .keyReleaseRefused(url: base, reason: code, message: known?.message ?? Self.printable(object?["message"] as? String ?? ""))
            }
            let message = (object?["message"] as? String).map(Self.printable) ?? "HTTP status \(status)"
            throw .keyReleaseUnavailable(url: base, reason: message)
        }
        guard let object, object["status"] as? String == "released", object["package"] as? String == manifest.packageID,
              let shareText = object["share"] as? String, let sealed = Data(base64Encoded: shareText) else {
            throw .keyReleaseUnavailable(url: base, reason: "the service's answer is not a well-formed release")
        }
        let share: SecureBytes
        do { share = try SealedBox.open(sealed, with: identity.encryption) } catch {
            throw .keyReleaseUnavailable(url: base, reason: "the released share is not sealed to your identity")
        }
        guard share.count == KeyDerivation.keyBytes else { throw .keyReleaseUnavailable(url: base, reason: "the released share has the wrong length") }
        return Release(share: share, opening: object["opening"] as? Int ?? 0, maxOpens: object["maxOpens"] as? Int ?? 0,
                       logSeq: object["logSeq"] as? Int ?? 0)
    }

    /// Text from the network, made safe to print: printable ASCII, at most 200 characters.
    static func printable(_ text: String) -> String {
        String(String(text.unicodeScalars.filter { (0x20...0x7e).contains($0.value) }).prefix(200))
    }
}

/// HTTP through Foundation's URLSession (libcurl on Linux): http and https, proxies from the
/// usual environment variables.
public struct URLSessionTransport: KeyReleaseTransport {
    public init() {}

    public func post(_ url: String, body: Data, timeout: TimeInterval) throws(DossierError) -> (status: Int, body: Data) {
        try post(url, body: body, contentType: "application/json", timeout: timeout)
    }

    public func post(_ url: String, body: Data, contentType: String, timeout: TimeInterval) throws(DossierError) -> (status: Int, body: Data) {
        guard let target = URL(string: url) else { throw .keyReleaseUnavailable(url: url, reason: "not a valid URL") }
        // Foundation on Linux creates (empty) cache and cookie folders in the user's home on
        // first use, whatever the configuration says; remove the ones that were not there before.
        let traces = FoundationTraces()
        defer { traces.removeNew() }
        var request = URLRequest(url: target, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        request.setValue("dossier", forHTTPHeaderField: "User-Agent")
        let configuration = URLSessionConfiguration.ephemeral
        // Nothing on disk: no cache, no cookies, no stored credentials.
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        configuration.urlCredentialStorage = nil
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }
        let box = ResultBox()
        let done = DispatchSemaphore(value: 0)
        session.dataTask(with: request) { data, response, error in
            box.set(data: data, status: (response as? HTTPURLResponse)?.statusCode, error: error)
            done.signal()
        }.resume()
        done.wait()
        let (data, status, error) = box.get()
        if let error { throw .keyReleaseUnavailable(url: url, reason: error.localizedDescription) }
        guard let status else { throw .keyReleaseUnavailable(url: url, reason: "no HTTP answer") }
        return (status, data ?? Data())
    }

    private final class ResultBox: @unchecked Sendable {
        private let lock = NSLock()
        private var data: Data?
        private var status: Int?
        private var error: (any Error)?
        func set(data: Data?, status: Int?, error: (any Error)?) {
            lock.lock(); defer { lock.unlock() }
            self.data = data; self.status = status; self.error = error
        }
        func get() -> (Data?, Int?, (any Error)?) {
            lock.lock(); defer { lock.unlock() }
            return (data, status, error)
        }
    }
}

/// The folders swift-corelibs-foundation's URLSession creates on first use: the shared
/// URLCache's (`$XDG_CACHE_HOME` or `~/.cache`, then `org.swift.foundation.URLCache/PROCESS`) and
/// the shared cookie storage's (`$XDG_DATA_HOME` or `~/.local/share`, then the name of the folder
/// holding the executable). Those that did not exist before are removed afterwards if empty
/// (rmdir never removes anything that holds a file).
struct FoundationTraces {
    private let created: [String]

    init() {
        let env = ProcessInfo.processInfo.environment
        let home = env["HOME"] ?? NSHomeDirectory()
        let cache = env["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.cache"
        let dataHome = env["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
        let data = dataHome ?? home + "/.local/share"
        let bundle = URL(fileURLWithPath: CommandLine.arguments.first ?? "dossier").resolvingSymlinksInPath()
            .deletingLastPathComponent().lastPathComponent
        // Deepest first, so that parents are empty by the time their turn comes.
        var candidates = [cache + "/org.swift.foundation.URLCache/" + ProcessInfo.processInfo.processName,
                          cache + "/org.swift.foundation.URLCache", cache, data + "/" + bundle, data]
        if dataHome == nil { candidates.append(home + "/.local") }
        created = candidates.filter { !FileManager.default.fileExists(atPath: $0) }
    }

    func removeNew() {
        for path in created { _ = rmdir(path) }
    }
}
