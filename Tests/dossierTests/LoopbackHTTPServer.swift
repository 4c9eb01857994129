import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A stand-in for a key-release service that answers wrongly: a tiny HTTP/1.1 server on
/// 127.0.0.1 (a free port), on a background thread, that reads each request and answers what
/// `answer` returns for its body, then closes the connection. Written on plain sockets because
/// dossierTests has neither Foundation's networking server side nor NIO.
final class LoopbackHTTPServer: @unchecked Sendable {
    /// What the server answers to a request body.
    typealias Answer = @Sendable (_ body: Data) -> (status: Int, body: Data)

    let port: UInt16
    private let listener: Int32
    private let answer: Answer
    private let lock = NSLock()
    private var stopping = false
    private var bodies: [Data] = []
    private let finished = DispatchSemaphore(value: 0)

    /// The base URL to write into a package.
    var url: String { "http://127.0.0.1:\(port)" }

    /// The bodies of the requests answered so far.
    var requests: [Data] { lock.withLock { bodies } }

    init(answer: @escaping Answer) throws {
        self.answer = answer
        (listener, port) = try Self.bind()
        guard listen(listener, 16) == 0 else {
            let e = errno
            close(listener)
            throw POSIXError(POSIXErrorCode(rawValue: e) ?? .EIO)
        }
        let thread = Thread { [self] in serve() }
        thread.name = "LoopbackHTTPServer"
        thread.start()
    }

    /// Stops accepting, waits for the thread, closes the socket. Call it once.
    func stop() {
        lock.withLock { stopping = true }
        finished.wait()
        close(listener)
    }

    /// A loopback port on which nothing listens (bound once, then released).
    static func closedPort() throws -> UInt16 {
        let (fd, port) = try bind()
        close(fd)
        return port
    }

    private static func bind() throws -> (Int32, UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, length) }
        }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard bound == 0, named == 0 else {
            let e = errno
            close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: e) ?? .EIO)
        }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    private func serve() {
        defer { finished.signal() }
        while !lock.withLock({ stopping }) {
            // Wake every 50 ms to notice stop().
            var p = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 50) > 0 else { continue }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { continue }
            handle(connection)
            close(connection)
        }
    }

    /// Reads one request (headers, then Content-Length bytes of body) within 5 seconds, and answers.
    private func handle(_ connection: Int32) {
        let deadline = Date().addingTimeInterval(5)
        var received = Data()
        var body: Data?
        let separator = Data("\r\n\r\n".utf8)
        var sentContinue = false
        while body == nil, Date() < deadline {
            var p = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 50) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = read(connection, &buffer, buffer.count)
            guard n > 0 else { return }
            received.append(contentsOf: buffer[0..<n])
            guard let end = received.range(of: separator) else { continue }
            let head = String(decoding: received[..<end.lowerBound], as: UTF8.self).lowercased()
            let lines = head.split(separator: "\r\n")
            let length = lines.first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            if !sentContinue, lines.contains(where: { $0.hasPrefix("expect:") && $0.contains("100-continue") }) {
                write(connection, Data("HTTP/1.1 100 Continue\r\n\r\n".utf8))
                sentContinue = true
            }
            let rest = received[end.upperBound...]
            if rest.count >= length { body = Data(rest.prefix(length)) }
        }
        guard let body else { return }
        lock.withLock { bodies.append(body) }
        let (status, payload) = answer(body)
        let head = "HTTP/1.1 \(status) \(status == 200 ? "OK" : "Error")\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(payload.count)\r\nConnection: close\r\n\r\n"
        write(connection, Data(head.utf8) + payload)
    }

    private func write(_ connection: Int32, _ data: Data) {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = send(connection, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                guard n > 0 else { return }
                offset += n
            }
        }
    }
}
