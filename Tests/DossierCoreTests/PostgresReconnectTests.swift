import Foundation
import XCTest
@testable import DossierCore

/// Opening a vault in PostgreSQL while no server accepts it yet (a standby being promoted):
/// the command waits with a bounded backoff, and fails at once only for what waiting cannot
/// cure. scripts/failover-test.sh shows the same end to end, with a real promotion.
final class PostgresReconnectTests: XCTestCase {
    /// The test server's host and port, from DOSSIER_TEST_POSTGRES.
    private func server() throws -> (host: String, port: Int) {
        let options = try PostgresConnectionInfo.parse(try PostgresTestServer.uri()).get()
        return (options["host"] ?? "127.0.0.1", Int(options["port"] ?? "5432") ?? 5432)
    }

    /// A vault in a new database, and the URI of that database through `port` on loopback.
    private func vault(through port: Int) throws -> String {
        let uri = try makePostgresDatabase()
        _ = try ShareWorld("reconnect", location: { _ in uri })
        let database = String(uri.split(separator: "/").last!.split(separator: "?")[0])
        return "postgresql://postgres@127.0.0.1:\(port)/\(database)"
    }

    func testOpeningWaitsForAServerThatComesUpWithinTheBusyWait() throws {
        let (host, port) = try server()
        let relay = try LoopbackRelay(to: host, port: port)
        defer { relay.stop() }
        let uri = try vault(through: relay.port)
        relay.start(after: 1.0)
        let start = Date()
        let vault = try Vault.open(at: uri, busyWait: 10)
        XCTAssertGreaterThan(Date().timeIntervalSince(start), 0.8, "the server was not up yet: opening must have waited")
        XCTAssertNoThrow(try vault.organisation())
    }

    func testOpeningGivesUpAsUnreachableOnceTheBusyWaitHasPassed() throws {
        let (host, port) = try server()
        let relay = try LoopbackRelay(to: host, port: port)   // never started: nothing listens
        defer { relay.stop() }
        let uri = try vault(through: relay.port)
        let start = Date()
        assertDossierError("vaultUnreachable") { try Vault.open(at: uri, busyWait: 1.5) }
        let waited = Date().timeIntervalSince(start)
        XCTAssertGreaterThan(waited, 1.0, "a refused connection must be retried")
        XCTAssertLessThan(waited, 6, "the backoff must be bounded by the busy wait")
    }

    func testAMissingDatabaseIsRefusedWithoutWaiting() throws {
        let (host, port) = try server()
        let start = Date()
        assertDossierError("vaultUnreachable") {
            try Vault.open(at: "postgresql://postgres@\(host):\(port)/dossier_no_such_database", busyWait: 10)
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 3, "no such database: waiting cannot cure it")
    }

    func testAMultiHostURIFindsTheServerThatAcceptsWrites() throws {
        let (host, port) = try server()
        let dead = try LoopbackRelay(to: host, port: port)   // a first host that refuses connections
        defer { dead.stop() }
        let uri = try vault(through: port)
        let multi = uri.replacingOccurrences(of: "127.0.0.1:\(port)", with: "127.0.0.1:\(dead.port),\(host):\(port)")
            + "?target_session_attrs=read-write"
        XCTAssertNoThrow(try Vault.open(at: multi, busyWait: 2).organisation())
    }
}

/// A TCP relay on a loopback port to another address, listening only once started: until then
/// the port refuses connections, as a server that is down does. The port is reserved (bound,
/// not listening) from the start, so nothing else takes it.
final class LoopbackRelay: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let target: (host: String, port: Int)
    private let lock = NSLock()
    private var stopped = false

    init(to host: String, port targetPort: Int) throws {
        target = (host, targetPort)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.address("127.0.0.1", 0)
        let bound = withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard fd >= 0, bound == 0 else { throw XCTSkip("cannot bind a loopback port") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Starts listening after `delay` seconds, relaying each connection on threads of its own.
    func start(after delay: TimeInterval) {
        Thread.detachNewThread { [self] in
            Thread.sleep(forTimeInterval: delay)
            guard listen(listener, 16) == 0 else { return }
            while true {
                let client = accept(listener, nil, nil)
                if client < 0 { return }
                if lock.withLock({ stopped }) { close(client); return }
                var address = Self.address(target.host, target.port)
                let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                let ok = withUnsafePointer(to: &address) { p in
                    p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
                guard ok == 0 else { close(client); close(upstream); continue }
                Thread.detachNewThread { Self.pump(client, upstream) }
                Thread.detachNewThread { Self.pump(upstream, client) }
            }
        }
    }

    func stop() {
        lock.withLock { stopped = true }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private static func pump(_ from: Int32, _ to: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(from, &buffer, buffer.count)
            if n <= 0 { break }
            if buffer.withUnsafeBytes({ send(to, $0.baseAddress, n, Int32(MSG_NOSIGNAL)) }) != n { break }
        }
        shutdown(to, Int32(SHUT_RDWR))
        shutdown(from, Int32(SHUT_RDWR))
    }

    private static func address(_ host: String, _ port: Int) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = in_port_t(UInt16(port).bigEndian)
        a.sin_addr.s_addr = inet_addr(host)
        return a
    }
}
