// Load test of the key-release service: N concurrent open requests on loopback, each on its
// own connection from its own thread, all released at once. Prints requests per second and
// latency percentiles, then checks the log: every release has exactly one `open` entry, every
// refusal one `deny` entry, no opening beyond the limit, and the whole log verifies.
//
// With --postgres URI (an empty database) and --dossier PATH, the vault is made in that
// database and the service runs as REPLICAS separate `dossier serve` processes on it (default
// 2), each with its own connections; the requests go to the replicas in turn.
//
//   swift run -c release KeyReleaseLoad [REQUESTS] [--postgres URI --dossier PATH [--replicas N]]
//   (scripts/load-test.sh; default 200 requests)
import DossierCore
import DossierCrypto
import DossierServer
import Foundation
import Logging

/// The `dossier serve` replicas started, stopped on every way out.
final class Replicas: @unchecked Sendable {
    private let lock = NSLock()
    private var processes: [Process] = []
    func add(_ p: Process) { lock.withLock { processes.append(p) } }
    func stopAll() {
        for p in lock.withLock({ processes }) where p.isRunning { p.terminate(); p.waitUntilExit() }
    }
}
let replicas = Replicas()

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("load: \(message)\n".utf8))
    replicas.stopAll()
    exit(1)
}

var requests = 200, postgres: String?, dossierPath: String?, replicaCount = 2
do {
    var rest = CommandLine.arguments.dropFirst()
    while let a = rest.popFirst() {
        switch a {
        case "--postgres": postgres = rest.popFirst()
        case "--dossier": dossierPath = rest.popFirst()
        case "--replicas": replicaCount = rest.popFirst().flatMap { Int($0) } ?? 0
        default:
            guard let n = Int(a), n > 0 else { fail("usage: KeyReleaseLoad [REQUESTS] [--postgres URI --dossier PATH [--replicas N]]") }
            requests = n
        }
    }
    if (postgres == nil) != (dossierPath == nil) || replicaCount < 1 { fail("--postgres and --dossier go together; --replicas needs a positive number") }
}

/// A `dossier serve` process on a free loopback port, for the vault `vault`, as `identity`;
/// returns it and its port once it says it listens.
func startReplica(dossier: String, vault: String, identity: String, home: String) -> (Process, Int) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: dossier)
    p.arguments = ["serve", "--listen", "127.0.0.1:0", "--vault", vault, "--identity", identity]
    var environment = ProcessInfo.processInfo.environment
    environment["XDG_STATE_HOME"] = home + "/state"
    environment["XDG_CONFIG_HOME"] = home + "/config"
    environment.removeValue(forKey: "DOSSIER_PASSPHRASE_FILE")
    p.environment = environment
    let errors = Pipe()
    p.standardError = errors
    p.standardOutput = FileHandle.nullDevice
    do { try p.run() } catch { fail("cannot start \(dossier) serve: \(error)") }
    replicas.add(p)
    var said = ""
    let deadline = Date().addingTimeInterval(30)
    while Date() < deadline {
        let chunk = errors.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        said += String(decoding: chunk, as: UTF8.self)
        if let r = said.range(of: #"listening on http://127\.0\.0\.1:(\d+)/"#, options: .regularExpression) {
            let port = Int(said[r].split(separator: ":").last!.dropLast()) ?? 0
            // Keep draining what it says, so that a full pipe never blocks it.
            Thread.detachNewThread { while !errors.fileHandleForReading.availableData.isEmpty {} }
            return (p, port)
        }
    }
    fail("the replica did not start: \(said)")
}

func tempFolder() -> String {
    var template = Array((NSTemporaryDirectory() + "/dossier-load.XXXXXX").utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else { fail("mkdtemp") }
    return String(cString: made)
}

// A minimal blocking HTTP/1.1 client: one connection per request, Connection: close.
func post(port: Int, body: Data, path: String = "/v1/open") -> (status: Int, seconds: Double) {
    let start = DispatchTime.now()
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { return (-1, 0) }
    var message = Data("POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n".utf8)
    message.append(body)
    let sent = message.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    guard sent == message.count else { return (-2, 0) }
    var response = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(fd, &buffer, buffer.count)
        if n <= 0 { break }
        response += buffer[0..<n]
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    let head = String(decoding: response.prefix(12), as: UTF8.self) // "HTTP/1.1 200"
    return (Int(head.dropFirst(9).prefix(3)) ?? -3, seconds)
}

/// Fires all bodies at once from their own threads; returns statuses and latencies.
func burst(ports: [Int], bodies: [Data], path: String = "/v1/open") -> (statuses: [Int], latencies: [Double], seconds: Double) {
    final class Results: @unchecked Sendable {
        let lock = NSLock()
        var statuses: [Int]
        var latencies: [Double]
        init(_ n: Int) { statuses = Array(repeating: 0, count: n); latencies = Array(repeating: 0, count: n) }
    }
    let results = Results(bodies.count)
    let ready = DispatchGroup(), done = DispatchGroup()
    let go = DispatchSemaphore(value: 0)
    for (i, body) in bodies.enumerated() {
        ready.enter(); done.enter()
        let thread = Thread {
            ready.leave()
            go.wait()
            let (status, seconds) = post(port: ports[i % ports.count], body: body, path: path)
            results.lock.withLock { results.statuses[i] = status; results.latencies[i] = seconds }
            done.leave()
        }
        thread.stackSize = 256 * 1024
        thread.start()
    }
    ready.wait()
    let start = DispatchTime.now()
    for _ in bodies { go.signal() }
    done.wait()
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    return (results.statuses, results.latencies, seconds)
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1)]
}

do {
    let root = tempFolder()
    defer { try? FileManager.default.removeItem(atPath: root) }
    let staff = SecretIdentity.generate()
    let vault = try Vault.create(at: postgres ?? root + "/vault", organisation: "example.org/load", founder: staff, founderName: "Service")
    let session = try vault.unlock(staff)
    let counsel = SecretIdentity.generate()
    var c = try session.sharing.addCounsel(counsel.publicIdentity, details: .init(name: "Load"))
    c = try session.sharing.vetCounsel(c.id, until: Date().addingTimeInterval(30 * 86400), note: nil)
    let input = root + "/report.txt"
    guard FileManager.default.createFile(atPath: input, contents: Data(repeating: 0x61, count: 4096)) else { fail("cannot write \(input)") }
    let doc = try session.documents.deposit(DepositRequest(files: [input], kind: .expertReport, title: "Load", language: "en"))[0]

    let service = KeyReleaseService(session: session)
    var ports: [Int] = []
    var task: Task<Void, any Error>?
    if let postgres, let dossierPath {
        // The service's own identity, added as a service member, shared by every replica.
        let serviceIdentity = SecretIdentity.generate()
        try serviceIdentity.write(to: root + "/service.key", protection: .none)
        _ = try session.staff.add(serviceIdentity.publicIdentity, name: "Key-release service", service: true)
        for _ in 0..<replicaCount {
            ports.append(startReplica(dossier: dossierPath, vault: postgres, identity: root + "/service.key", home: root).1)
        }
    } else {
        let server = KeyReleaseServer(service: service, host: "127.0.0.1", port: 0)
        final class PortBox: @unchecked Sendable { let lock = NSLock(); var port = 0 }
        let box = PortBox()
        task = Task.detached {
            var logger = Logger(label: "load")
            logger.logLevel = .critical
            try await server.run(logger: logger, stopOnSignals: false) { _, port in box.lock.withLock { box.port = port } }
        }
        var port = 0
        for _ in 0..<400 where port == 0 { usleep(25_000); port = box.lock.withLock { box.port } }
        guard port != 0 else { fail("the service did not start") }
        ports = [port]
    }
    defer { replicas.stopAll() }
    let port = ports[0]
    let url = "http://127.0.0.1:\(port)"

    func onlinePackage(maxOpens: Int?) throws -> PackageManifest {
        let g = try session.sharing.grant(GrantRequest(documents: [doc.id], counsel: [c.id], window: .duration(seconds: 86400), online: url, maxOpens: maxOpens))
        let path = root + "/\(g.id).dpkg"
        _ = try session.sharing.makePackage(grant: g.id, to: path)
        return try PackageReader(path: path).inspect(trust: TrustStore(path: root + "/trust")).manifest
    }
    func bodies(_ manifest: PackageManifest, _ n: Int) -> [Data] {
        (0..<n).map { _ in SignedReleaseRequest.make(for: manifest, identity: counsel, at: Date()).body }
    }

    // Warm up the server and the database.
    let warm = try onlinePackage(maxOpens: nil)
    for (i, body) in bodies(warm, 10).enumerated() where post(port: ports[i % ports.count], body: body).status != 200 { fail("warm-up request refused") }

    if postgres != nil {
        print("Key-release service under load: \(requests) concurrent requests on loopback, one connection each, in turn to \(ports.count) `dossier serve` replicas on one PostgreSQL database")
        print("(\(ProcessInfo.processInfo.activeProcessorCount) cores; client threads, replicas and the PostgreSQL server share them)")
    } else {
        print("Key-release service under load: \(requests) concurrent requests on loopback, one connection each")
        print("(\(ProcessInfo.processInfo.activeProcessorCount) cores; client threads, server and SQLite share them)")
    }
    print("")
    print("| scenario                  | requests | released | refused | seconds |  req/s | p50 ms | p90 ms | p99 ms | max ms |")
    print("|---------------------------|----------|----------|---------|---------|--------|--------|--------|--------|--------|")
    var problems: [String] = []
    func row(_ label: String, _ ok: Int, _ refused: Int, _ r: (statuses: [Int], latencies: [Double], seconds: Double)) {
        let sorted = r.latencies.sorted()
        func ms(_ v: Double) -> String { String(format: "%6.1f", v * 1000) }
        print(String(format: "| %@ | %8d | %8d | %7d | %7.3f | %6.0f | %@ | %@ | %@ | %@ |",
                     label.padding(toLength: 25, withPad: " ", startingAt: 0), r.statuses.count, ok, refused, r.seconds, Double(r.statuses.count) / r.seconds,
                     ms(percentile(sorted, 50)), ms(percentile(sorted, 90)), ms(percentile(sorted, 99)), ms(sorted.last ?? 0)))
    }
    // The cost of the connections alone: the same burst to an unknown path (a JSON 404, no decision).
    let bare = burst(ports: ports, bodies: Array(repeating: Data("{}".utf8), count: requests), path: "/v1/none")
    row("HTTP only (404)", 0, bare.statuses.filter { $0 == 404 }.count, bare)
    for (label, limit) in [("no open limit", nil), ("--max-opens 50", 50)] as [(String, Int?)] {
        let manifest = try onlinePackage(maxOpens: limit)
        let r = burst(ports: ports, bodies: bodies(manifest, requests))
        let ok = r.statuses.filter { $0 == 200 }.count
        let refused = r.statuses.filter { (400..<500).contains($0) }.count
        row(label, ok, refused, r)
        // The log must hold exactly one entry per request of this grant.
        let entries = try vault.auditEntries().filter { $0.subjects.contains("grant:" + manifest.grantID) }
        let opens = entries.filter { $0.action == "open" }
        let denies = entries.filter { $0.action == "deny" }
        let expected = limit.map { min($0, requests) } ?? requests
        if ok != expected { problems.append("\(label): \(ok) released, expected \(expected)") }
        if ok + refused != requests { problems.append("\(label): \(requests - ok - refused) requests got no 2xx/4xx answer: \(Set(r.statuses))") }
        if opens.count != ok { problems.append("\(label): \(opens.count) open entries for \(ok) releases") }
        if denies.count != refused { problems.append("\(label): \(denies.count) deny entries for \(refused) refusals") }
        let receipts = Set(opens.compactMap { $0.detail("receipt") })
        if receipts.count != opens.count { problems.append("\(label): an opening was logged twice") }
        let numbers = opens.compactMap { $0.detail("opening")?.split(separator: "/").first.flatMap { Int($0) } }.sorted()
        if numbers != Array(stride(from: 1, through: opens.count, by: 1)) { problems.append("\(label): opening numbers are not 1…\(opens.count)") }
    }
    // The same decisions without HTTP: one batch straight into the service, to separate the
    // cost of deciding and logging from the cost of the connections.
    let direct = try onlinePackage(maxOpens: nil)
    let directBodies = bodies(direct, requests)
    let t0 = DispatchTime.now()
    let answers = service.decide(directBodies)
    let directSeconds = Double(DispatchTime.now().uptimeNanoseconds - t0.uptimeNanoseconds) / 1e9
    let directOK = answers.filter { $0.status == 200 }.count
    print(String(format: "| %@ | %8d | %8d | %7d | %7.3f | %6.0f | (one transaction, no HTTP)         |",
                 "decisions only".padding(toLength: 25, withPad: " ", startingAt: 0), requests, directOK, requests - directOK, directSeconds, Double(requests) / directSeconds))
    if directOK != requests { problems.append("decisions only: \(directOK) released of \(requests)") }
    let report = try AuditVerifier.verify(try vault.logSnapshot())
    print("")
    print("log: \(report.entries) entries, chain and signatures verified")
    task?.cancel()
    if !problems.isEmpty { fail(problems.joined(separator: "; ")) }
    print("every release has exactly one open entry, every refusal one deny entry; nothing lost or counted twice")
} catch {
    fail("\(error)")
}
