import DossierCrypto
import DossierServer
import Foundation
import Logging
import XCTest

@testable import DossierCore

/// A vault with an organisation root, a service identity certified by it, and the real service
/// (key release and request intake) on a loopback port.
final class IntakeWorld {
    let root: String
    let clock: MovableClock
    let organisationRoot = OrganisationRoot.generate(using: DeterministicRandom(seed: "intake-server/root"))
    let staff = SecretIdentity.generate(using: DeterministicRandom(seed: "intake-server/staff"))
    let service = SecretIdentity.generate(using: DeterministicRandom(seed: "intake-server/service"))
    let vault: Vault
    let session: StaffSession
    let intake: IntakeKey
    let trust: TrustStore
    let reports = Reports()
    private(set) var port = 0
    private var task: Task<Void, any Error>?
    private var counter = 0

    init(_ name: String, limits: RequestIntakeLimits = RequestIntakeLimits(), clock: MovableClock = MovableClock(OnlineWorld.start)) throws {
        let base = (NSTemporaryDirectory() as NSString).appendingPathComponent("dossier-intake-\(name).XXXXXX")
        var template = Array(base.utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else { throw POSIXError(.EIO) }
        root = String(cString: made)
        self.clock = clock
        vault = try Vault.create(at: root + "/vault", organisation: "example.org/dossier", founder: staff, founderName: "Staff",
                                 root: organisationRoot, clock: clock)
        session = try vault.unlock(staff)
        _ = try session.staff.add(service.publicIdentity, name: "Service", service: true)
        _ = try session.staff.certify(service.publicIdentity.fingerprint, root: organisationRoot, rootPath: "root", role: .service)
        intake = try XCTUnwrap(try vault.intakeKey())
        trust = TrustStore(path: root + "/trusted")
        _ = try trust.add(organisationRoot.key, name: "Example")
        let serviceSession = try vault.unlock(service, forService: true)
        let reports = self.reports
        let report: @Sendable (String) -> Void = { reports.append($0) }
        let server = KeyReleaseServer(service: KeyReleaseService(session: serviceSession, report: report),
                                      intake: RequestIntakeService(session: serviceSession, limits: limits, report: report),
                                      host: "127.0.0.1", port: 0)
        try start(server)
    }

    deinit {
        if let task {
            task.cancel()
            let done = DispatchSemaphore(value: 0)
            Task { _ = try? await task.value; done.signal() }
            _ = done.wait(timeout: .now() + 10)
        }
        try? FileManager.default.removeItem(atPath: root)
    }

    var url: String { "http://127.0.0.1:\(port)" }

    private final class PortBox: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func set(_ p: Int) { lock.withLock { value = p } }
        var port: Int { lock.withLock { value } }
    }

    private func start(_ server: KeyReleaseServer) throws {
        let box = PortBox()
        task = Task {
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            try await server.run(logger: logger, stopOnSignals: false) { _, port in box.set(port) }
        }
        for _ in 0..<400 {
            if box.port != 0 { port = box.port; return }
            usleep(25_000)
        }
        throw DossierError.invalidArgument("the test server did not start within 10 s")
    }

    func path(_ name: String) -> String {
        counter += 1
        return root + "/\(counter)-" + name
    }

    /// A request from `sender` to this organisation (or to `to`), with attachments of these sizes.
    func request(from sender: SecretIdentity, to: IntakeKey? = nil, attachmentBytes: [Int] = [], message: String = "Please send the reports.\n") throws -> String {
        var attachments: [String] = []
        for (i, n) in attachmentBytes.enumerated() {
            let p = path("attachment-\(i).bin")
            try DeterministicRandom(seed: "intake-server/attachment/\(counter)").bytes(n).write(to: URL(fileURLWithPath: p))
            attachments.append(p)
        }
        let out = path("request.drq")
        let draft = RequestDraft(to: to ?? intake, need: .reports, languages: ["en"], message: SecureBytes(copying: Data(message.utf8)), attachments: attachments)
        _ = try RequestWriter(clock: clock).write(draft, identity: sender, to: out)
        return out
    }

    func counsel(_ name: String) -> SecretIdentity { SecretIdentity.generate(using: DeterministicRandom(seed: "intake-server/counsel/" + name)) }

    /// Posts raw bytes; the status and the JSON object answered.
    func post(_ endpoint: String = "/v1/requests", body: Data) throws -> (status: Int, json: [String: Any]) {
        let (status, data) = try URLSessionTransport().post(url + endpoint, body: body, contentType: "application/octet-stream", timeout: 30)
        return (status, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
    }

    func send(_ path: String) throws -> (status: Int, json: [String: Any]) {
        try post(body: try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    var inboxCount: Int { (try? session.requests.list().count) ?? -1 }
    var logLength: Int { (try? vault.auditEntries().count) ?? -1 }
    /// The files kept in the vault's blob folder for requests.
    var keptRequestFiles: [String] {
        let walker = FileManager.default.enumerator(atPath: root + "/vault/blobs")
        var out: [String] = []
        while let p = walker?.nextObject() as? String { if (p as NSString).lastPathComponent.hasPrefix("req-") { out.append(p) } }
        return out
    }
}

/// `POST /v1/requests` and `POST /v1/requests/status` on the real service: what is accepted,
/// what is refused and with which answer, and that a refusal stores nothing.
final class RequestIntakeServerTests: XCTestCase {
    /// Posts `body` and checks the refusal: status, error code, and nothing stored or logged.
    private func assertRefused(_ w: IntakeWorld, _ body: Data, endpoint: String = "/v1/requests", status: Int, error: String,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let inbox = w.inboxCount, log = w.logLength
        let answer = try w.post(endpoint, body: body)
        XCTAssertEqual(answer.status, status, "\(answer.json)", file: file, line: line)
        XCTAssertEqual(answer.json["error"] as? String, error, "\(answer.json)", file: file, line: line)
        XCTAssertFalse((answer.json["message"] as? String ?? "").isEmpty, "no message", file: file, line: line)
        XCTAssertEqual(w.inboxCount, inbox, "a refused request reached the inbox", file: file, line: line)
        XCTAssertEqual(w.logLength, log, "a refused request was logged", file: file, line: line)
        XCTAssertEqual(w.keptRequestFiles.count, inbox, "a refused request left a file in the vault", file: file, line: line)
    }

    func testAnAcceptedRequestIsInTheInboxLoggedByTheServiceAndItsReceiptVerifies() throws {
        let w = try IntakeWorld("accept")
        let ana = w.counsel("ana")
        let path = try w.request(from: ana, attachmentBytes: [100, 70_000])
        let sent = try RequestClient(clock: w.clock).send(path: path, to: w.url, trust: w.trust)
        let id = try RequestReader.header(path: path).requestID
        XCTAssertEqual(sent.receipt.requestID, id)
        XCTAssertEqual(sent.receipt.sha256, Hash.sha256(try Data(contentsOf: URL(fileURLWithPath: path))).hex)
        XCTAssertEqual(sent.receipt.organisation, "example.org/dossier")
        XCTAssertEqual(sent.receipt.certificate.fingerprint, w.service.publicIdentity.fingerprint)
        XCTAssertEqual(sent.organisation.name, "Example")

        let inbox = try w.session.requests.list()
        XCTAssertEqual(inbox.map(\.id), [id])
        XCTAssertEqual(inbox.first?.senderFingerprint, ana.publicIdentity.fingerprint)
        XCTAssertEqual(inbox.first?.receivedBy, w.service.publicIdentity.fingerprint)
        XCTAssertNil(inbox.first?.counsel, "an unregistered sender is shown as registered")
        let shown = try w.session.requests.show(id)
        XCTAssertEqual(shown.message, "Please send the reports.\n")
        XCTAssertEqual(shown.attachments.map(\.size), [100, 70_000])

        let entry = try XCTUnwrap(try w.vault.auditEntries().last { $0.action == "request-receive" })
        XCTAssertEqual(entry.actor, w.service.publicIdentity.fingerprint)
        XCTAssertEqual(entry.seq, sent.receipt.logSeq)
        XCTAssertEqual(entry.time, sent.receipt.received)
        XCTAssertEqual(entry.detail("sha256"), sent.receipt.sha256)
        // The log, with an entry of the service's that is neither an opening nor a refusal, verifies.
        XCTAssertNoThrow(try AuditVerifier.verify(try w.vault.logSnapshot()))
        XCTAssertTrue(try w.vault.doctor().isHealthy)
        XCTAssertTrue(w.reports.all.contains { $0.hasPrefix("received request \(id) from \(ana.publicIdentity.fingerprint) (not registered counsel)") }, "\(w.reports.all)")
    }

    func testGarbageAndUnsignedBodiesAreRefusedAsMalformed() throws {
        let w = try IntakeWorld("garbage")
        try assertRefused(w, Data("hello".utf8), status: 400, error: "malformed")
        try assertRefused(w, Data(), status: 400, error: "malformed")
        // A request's framing with its signature zeroed: it does not authenticate.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: try w.request(from: w.counsel("ben"))))
        bytes.replaceSubrange(bytes.count - 104..<bytes.count, with: Data(count: 104))
        try assertRefused(w, bytes, status: 401, error: "tampered")
        XCTAssertTrue(w.reports.all.contains { $0.hasPrefix("refused request malformed:") }, "\(w.reports.all)")
    }

    func testARequestSignedByAnotherKeyThanTheOneInsideIsRefused() throws {
        let w = try IntakeWorld("resigned")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: try w.request(from: w.counsel("carla"))))
        // Re-signed by mallory over the very same bytes, sealed as the format says (with the
        // request key, which the organisation's intake secret opens): the signature is valid,
        // but not by the sender named inside.
        let (_, secret) = try w.session.intakeSecret()
        let m = Int(bytes[4]) << 24 | Int(bytes[5]) << 16 | Int(bytes[6]) << 8 | Int(bytes[7])
        let k = try SealedBox.open(bytes.subdata(in: 8 + m..<8 + m + 80), with: try BoxKeyPair(secretKey: secret))
        let signed = bytes.prefix(bytes.count - 104)
        let signature = w.counsel("mallory").signing.sign(RequestLayout.signedMessage(digest: Hash.blake2b(Data(signed), length: 64)))
        let sealed = try AEAD.seal(signature, key: try RequestLayout.signatureKey(k), additionalData: RequestLayout.signatureAssociatedData)
        bytes = Data(signed) + sealed
        try assertRefused(w, bytes, status: 401, error: "tampered")
        XCTAssertTrue(w.reports.all.contains { $0.contains("tampered") && $0.contains("the signature does not verify under the sender key") }, "\(w.reports.all)")
    }

    func testARequestSealedToAnotherOrganisationIsRefused() throws {
        let w = try IntakeWorld("other-org")
        let other = try IntakeKey(encryptionKey: BoxKeyPair.generate(using: DeterministicRandom(seed: "intake-server/other")).publicKey)
        try assertRefused(w, try Data(contentsOf: URL(fileURLWithPath: try w.request(from: w.counsel("dan"), to: other))),
                          status: 403, error: "not-for-this-intake")
    }

    func testTruncatedAndExtendedRequestsAreRefused() throws {
        let w = try IntakeWorld("truncated")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: try w.request(from: w.counsel("eve"), attachmentBytes: [5000])))
        try assertRefused(w, bytes.prefix(bytes.count - 1), status: 400, error: "malformed")
        try assertRefused(w, bytes.prefix(200), status: 400, error: "malformed")
        try assertRefused(w, bytes + Data([0]), status: 400, error: "malformed")
        // The whole file is then accepted: nothing of the refusals stood in its way.
        XCTAssertEqual(try w.post(body: bytes).status, 200)
        XCTAssertEqual(w.inboxCount, 1)
    }

    func testAnOversizeRequestIsRefusedBeforeItIsRead() throws {
        var limits = RequestIntakeLimits()
        limits.maximumBytes = 4096
        let w = try IntakeWorld("oversize", limits: limits)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: try w.request(from: w.counsel("fay"), attachmentBytes: [10_000])))
        try assertRefused(w, bytes, status: 413, error: "too-large")
        XCTAssertTrue(w.reports.all.contains { $0.contains("announced \(bytes.count) bytes") }, "Content-Length was not checked first: \(w.reports.all)")
        // Without a Content-Length (chunked), the stream is cut at the limit.
        let chunked = try rawHTTP(w.port, head: "POST /v1/requests HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
                                  chunks: [bytes.prefix(3000), bytes.dropFirst(3000)])
        XCTAssertTrue(chunked.hasPrefix("HTTP/1.1 413"), chunked)
        XCTAssertTrue(chunked.contains("\"too-large\""), chunked)
        XCTAssertEqual(w.inboxCount, 0)
        XCTAssertEqual(w.keptRequestFiles, [])
    }

    func testAReplayedRequestIsRefusedAndStoresNothingMore() throws {
        let w = try IntakeWorld("replay")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: try w.request(from: w.counsel("gil"))))
        XCTAssertEqual(try w.post(body: bytes).status, 200)
        try assertRefused(w, bytes, status: 409, error: "replay")
        // The same file imported by staff is refused too: one inbox, one rule.
        let path = w.path("again.drq")
        try bytes.write(to: URL(fileURLWithPath: path))
        guard case .requestAlreadyReceived? = caught({ _ = try w.session.requests.importRequest(path: path) }) else { return XCTFail("imported twice") }
        XCTAssertEqual(w.inboxCount, 1)
    }

    func testAnUnknownSenderHasAStricterQuotaThanRegisteredCounsel() throws {
        var limits = RequestIntakeLimits()
        limits.perUnknownSender = .init(count: 1, bytes: 1 << 20)
        limits.perCounsel = .init(count: 2, bytes: 1 << 20)
        let w = try IntakeWorld("sender-quota", limits: limits)
        let stranger = w.counsel("stranger"), known = w.counsel("known")
        _ = try w.session.sharing.addCounsel(known.publicIdentity, details: .init(name: "Known"))
        XCTAssertEqual(try w.send(try w.request(from: stranger)).status, 200)
        try assertRefused(w, try Data(contentsOf: URL(fileURLWithPath: try w.request(from: stranger))), status: 429, error: "sender-quota")
        XCTAssertTrue(w.reports.all.contains { $0.contains("(not registered counsel) sent 1 request(s)") }, "\(w.reports.all)")
        XCTAssertEqual(try w.send(try w.request(from: known)).status, 200)
        XCTAssertEqual(try w.send(try w.request(from: known)).status, 200)
        try assertRefused(w, try Data(contentsOf: URL(fileURLWithPath: try w.request(from: known))), status: 429, error: "sender-quota")
        // The window rolls: a day later the stranger may send again.
        w.clock.advance(86400 + 1)
        XCTAssertEqual(try w.send(try w.request(from: stranger)).status, 200)
        XCTAssertEqual(w.inboxCount, 4)
    }

    func testTheGlobalQuotaCountsRequestsAndBytes() throws {
        var limits = RequestIntakeLimits()
        limits.total = .init(count: 2, bytes: 1 << 30)
        let w = try IntakeWorld("global-quota", limits: limits)
        XCTAssertEqual(try w.send(try w.request(from: w.counsel("a"))).status, 200)
        XCTAssertEqual(try w.send(try w.request(from: w.counsel("b"))).status, 200)
        try assertRefused(w, try Data(contentsOf: URL(fileURLWithPath: try w.request(from: w.counsel("c")))), status: 429, error: "service-quota")

        var bytesOnly = RequestIntakeLimits()
        bytesOnly.total = .init(count: 100, bytes: 20_000)
        let v = try IntakeWorld("global-bytes", limits: bytesOnly)
        XCTAssertEqual(try v.send(try v.request(from: v.counsel("a"), attachmentBytes: [15_000])).status, 200)
        try assertRefused(v, try Data(contentsOf: URL(fileURLWithPath: try v.request(from: v.counsel("b"), attachmentBytes: [6_000]))),
                          status: 429, error: "service-quota")
        XCTAssertEqual(try v.send(try v.request(from: v.counsel("c"))).status, 200, "a small request still fits")
    }

    func testStatusAnswersOnlyTheSenderAndSaysNothingToOthers() throws {
        let w = try IntakeWorld("status")
        let ana = w.counsel("ana"), mallory = w.counsel("mallory")
        let path = try w.request(from: ana)
        _ = try RequestClient(clock: w.clock).send(path: path, to: w.url, trust: w.trust)
        let id = try RequestReader.header(path: path).requestID
        let client = RequestClient(clock: w.clock)
        XCTAssertEqual(try client.status(of: id, intake: w.intake, identity: ana, url: w.url), RequestStatus(request: id, state: .new, grant: nil))

        // Someone else asking about it, and anyone asking about an id the vault never saw, get
        // the same answer, byte for byte.
        let other = try w.post("/v1/requests/status", body: RequestStatusQuery.make(intake: w.intake, requestID: id, identity: mallory, at: w.clock.now()).body)
        let unknown = try w.post("/v1/requests/status", body: RequestStatusQuery.make(intake: w.intake, requestID: "req-aaaaaaaaaaaaa", identity: ana, at: w.clock.now()).body)
        XCTAssertEqual(other.status, 404)
        XCTAssertEqual(other.json["error"] as? String, "unknown-request")
        XCTAssertEqual(NSDictionary(dictionary: other.json), NSDictionary(dictionary: unknown.json))
        let elsewhere = try IntakeKey(encryptionKey: BoxKeyPair.generate(using: DeterministicRandom(seed: "intake-server/other")).publicKey)
        XCTAssertEqual(try w.post("/v1/requests/status", body: RequestStatusQuery.make(intake: elsewhere, requestID: id, identity: ana, at: w.clock.now()).body).status, 404)

        // Staff answer it with a grant: the sender sees the grant id.
        let c = try w.session.sharing.addCounsel(ana.publicIdentity, details: .init(name: "Ana"))
        _ = try w.session.sharing.vetCounsel(c.id, until: w.clock.now().addingTimeInterval(30 * 86400), note: nil)
        let doc = w.path("report.txt")
        try Data("a report\n".utf8).write(to: URL(fileURLWithPath: doc))
        let d = try w.session.documents.deposit(DepositRequest(files: [doc], kind: .expertReport, title: "Report", language: "en"))[0]
        let g = try w.session.sharing.grant(GrantRequest(documents: [d.id], counsel: [c.id], window: .duration(seconds: 86400)))
        _ = try w.session.requests.answer(id, grant: g.id)
        XCTAssertEqual(try client.status(of: id, intake: w.intake, identity: ana, url: w.url), RequestStatus(request: id, state: .answered, grant: g.id))
    }

    func testMalformedAndStaleStatusQueriesAreRefused() throws {
        let w = try IntakeWorld("status-bad")
        let ana = w.counsel("ana")
        let log = w.logLength
        for body in [Data("{".utf8), Data("[]".utf8), Data(#"{"query":"x","signature":"y"}"#.utf8),
                     Data(#"{"query":"dossier-request-status/1\n","signature":"AA==","query":"again"}"#.utf8)] {
            try assertRefused(w, body, endpoint: "/v1/requests/status", status: 400, error: "malformed")
        }
        let good = RequestStatusQuery.make(intake: w.intake, requestID: "req-aaaaaaaaaaaaa", identity: ana, at: w.clock.now())
        // A repeated member, once its escape is decoded, is refused.
        let text = String(decoding: good.body, as: UTF8.self).replacingOccurrences(of: #"{"query""#, with: #"{"\u0071uery":"x","query""#)
        try assertRefused(w, Data(text.utf8), endpoint: "/v1/requests/status", status: 400, error: "malformed")
        let stale = RequestStatusQuery.make(intake: w.intake, requestID: "req-aaaaaaaaaaaaa", identity: ana, at: w.clock.now().addingTimeInterval(-301))
        try assertRefused(w, stale.body, endpoint: "/v1/requests/status", status: 401, error: "stale-request")
        try assertRefused(w, Data(count: RequestStatusQuery.maximumBodyBytes + 1), endpoint: "/v1/requests/status", status: 413, error: "too-large")
        // A header that does not read: the HTTP layer answers, in JSON, and the service is untouched.
        let raw = try rawHTTP(w.port, head: "POST /v1/requests/status HTTP/1.1\r\nHost: x\r\nContent-Length: nine\r\nConnection: close\r\n\r\n", chunks: [])
        XCTAssertTrue(raw.hasPrefix("HTTP/1.1 4"), raw)
        XCTAssertEqual(w.logLength, log)
    }

    func testWithoutACurrentServiceCertificateNothingIsAccepted() throws {
        let w = try IntakeWorld("no-certificate")
        w.clock.advance(31 * 86400)   // the certificate was issued for 30 days
        try assertRefused(w, try Data(contentsOf: URL(fileURLWithPath: try w.request(from: w.counsel("hal")))), status: 503, error: "unavailable")
        XCTAssertTrue(w.reports.all.contains { $0.contains("error: request intake:") && $0.contains("certificate") }, "\(w.reports.all)")
    }
}

/// Sends `head`, then each chunk in chunked encoding (if any) on a raw socket; what came back.
func rawHTTP(_ port: Int, head: String, chunks: [Data]) throws -> String {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EIO) }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
    var out = Data(head.utf8)
    for chunk in chunks { out += Data((String(chunk.count, radix: 16) + "\r\n").utf8) + chunk + Data("\r\n".utf8) }
    if !chunks.isEmpty { out += Data("0\r\n\r\n".utf8) }
    _ = out.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var answer = Data()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = recv(fd, &buffer, buffer.count, 0)
        if n <= 0 { break }
        answer.append(contentsOf: buffer[0..<n])
    }
    return String(decoding: answer, as: UTF8.self)
}
