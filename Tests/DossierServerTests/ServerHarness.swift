import DossierCore
import DossierCrypto
import DossierServer
import Foundation
import Logging
import XCTest

/// A clock the test moves; shared by the vault (the service) and the counsel's client.
final class MovableClock: DossierCore.TimeSource, @unchecked Sendable {
    private let lock = NSLock()
    private var date: Date
    init(_ date: Date) { self.date = date }
    func now() -> Date { lock.lock(); defer { lock.unlock() }; return date }
    func advance(_ seconds: TimeInterval) { lock.lock(); date += seconds; lock.unlock() }
}

/// A vault with a staff member, counsel, documents, and the real key-release service running
/// on an ephemeral loopback port.
final class OnlineWorld {
    static let start = Date(timeIntervalSince1970: 1_798_761_600) // 2027-01-01T00:00:00Z
    let root: String
    let clock: MovableClock
    let staff: SecretIdentity
    let vault: Vault
    let session: StaffSession
    let trust: TrustStore
    let service: KeyReleaseService
    /// What the service reported to its own log.
    let reports = Reports()
    private(set) var port = 0
    private var task: Task<Void, any Error>?
    private var counter = 0

    init(_ name: String, clock: MovableClock = MovableClock(OnlineWorld.start)) throws {
        let base = (NSTemporaryDirectory() as NSString).appendingPathComponent("dossier-online-\(name).XXXXXX")
        var template = Array(base.utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else { throw POSIXError(.EIO) }
        root = String(cString: made)
        self.clock = clock
        staff = SecretIdentity.generate(using: DeterministicRandom(seed: "online/\(name)/staff"))
        vault = try Vault.create(at: root + "/vault", organisation: "example.org/dossier", founder: staff, founderName: "Staff",
                                 clock: clock)
        session = try vault.unlock(staff)
        trust = TrustStore(path: root + "/trusted")
        _ = try trust.add(try OrganisationKey(line: try vault.organisation().publicKey), name: "Example")
        let reports = self.reports
        service = KeyReleaseService(session: session) { reports.append($0) }
        try startServer()
    }

    deinit {
        stopServer()
        try? FileManager.default.removeItem(atPath: root)
    }

    var url: String { "http://127.0.0.1:\(port)" }

    private final class PortBox: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func set(_ p: Int) { lock.withLock { value = p } }
        var port: Int { lock.withLock { value } }
    }

    func startServer() throws {
        let box = PortBox()
        let server = KeyReleaseServer(service: service, host: "127.0.0.1", port: 0)
        task = Task {
            var logger = Logger(label: "test")
            logger.logLevel = .critical // cancelling the server at the end of a test logs a shutdown "error"
            try await server.run(logger: logger, stopOnSignals: false) { _, port in
                box.set(port)
            }
        }
        for _ in 0..<400 {
            let p = box.port
            if p != 0 { port = p; return }
            usleep(25_000)
        }
        throw DossierError.invalidArgument("the test server did not start within 10 s")
    }

    func stopServer() {
        guard let task else { return }
        task.cancel()
        let done = DispatchSemaphore(value: 0)
        Task { _ = try? await task.value; done.signal() }
        _ = done.wait(timeout: .now() + 10)
        self.task = nil
    }

    func folder() throws -> String {
        counter += 1
        let path = root + "/out-\(counter)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A document of `kind` with `content`, deposited from a file named `name`.
    func document(_ kind: DocumentKind = .expertReport, name: String = "report.txt", content: Data = Data("the report\n".utf8)) throws -> Document {
        let path = try folder() + "/" + name
        guard FileManager.default.createFile(atPath: path, contents: content) else { throw POSIXError(.EIO) }
        return try session.documents.deposit(DepositRequest(files: [path], kind: kind, title: "A document", language: "en"))[0]
    }

    /// Registered and vetted counsel.
    func counsel(_ name: String) throws -> (identity: SecretIdentity, counsel: Counsel) {
        let id = SecretIdentity.generate(using: DeterministicRandom(seed: "online/counsel/" + name))
        var c = try session.sharing.addCounsel(id.publicIdentity, details: .init(name: name))
        c = try session.sharing.vetCounsel(c.id, until: clock.now().addingTimeInterval(60 * 86400), note: nil)
        return (id, c)
    }

    /// An online grant and its package.
    func onlinePackage(_ docs: [Document], to counsel: [Counsel], days: Int = 3, maxOpens: Int? = nil) throws -> (grant: Grant, path: String) {
        let g = try session.sharing.grant(GrantRequest(documents: docs.map(\.id), counsel: counsel.map(\.id), window: .duration(seconds: days * 86400),
                                               online: url, maxOpens: maxOpens))
        counter += 1
        let path = root + "/package-\(counter).dpkg"
        _ = try session.sharing.makePackage(grant: g.id, to: path)
        return (g, path)
    }

    func client() -> KeyReleaseClient { KeyReleaseClient(clock: clock) }

    /// Opens a package as counsel through the real service.
    func open(_ path: String, as identity: SecretIdentity, into folder: String? = nil) throws -> [OpenedDocument] {
        try PackageReader(path: path, clock: clock).open(identity: identity, trust: trust, into: folder ?? self.folder(), keyRelease: client())
    }

    /// Posts raw bytes to a path of the service.
    func post(_ path: String = "/v1/open", body: Data) throws -> (status: Int, json: [String: Any]) {
        let (status, data) = try URLSessionTransport().post(url + path, body: body, timeout: 15)
        return (status, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
    }

    func entries(_ action: String) throws -> [AuditEntry] {
        try vault.auditEntries().filter { $0.action == action }
    }

    func manifest(_ path: String) throws -> PackageManifest {
        try PackageReader(path: path, clock: clock).inspect(trust: trust).manifest
    }
}

/// Lines a service reported, collected from any thread.
final class Reports: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}

/// The DossierError a body threw, or a test failure.
func caught(file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) -> DossierError? {
    do {
        try body()
        XCTFail("expected a DossierError, nothing was thrown", file: file, line: line)
    } catch let e as DossierError {
        return e
    } catch {
        XCTFail("expected a DossierError, got \(error)", file: file, line: line)
    }
    return nil
}

/// The refusal reason of a `.keyReleaseRefused` error.
func refusal(_ error: DossierError?) -> String? {
    if case let .keyReleaseRefused(_, reason, _)? = error { return reason }
    return nil
}
