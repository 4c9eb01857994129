import DossierCore
import Foundation
import Hummingbird
import Logging
import NIOCore

/// The key-release service over HTTP/1.1 (docs/formats/key-release.md, docs/formats/request.md
/// section 11):
///
///     POST /v1/open             a signed release request; 200 with the sealed share, or 4xx JSON
///     POST /v1/requests         a request file from counsel; 200 with a signed receipt, or 4xx JSON
///     POST /v1/requests/status  a signed status query; 200 with the request's state, or 4xx JSON
///     GET  /v1/health           {"status":"ok"}
///
/// Decisions, logging and counting are KeyReleaseService's and RequestIntakeService's; this
/// layer only bounds what it reads (body size, time) and turns every HTTP-level failure into a
/// JSON error, never a 5xx for bad input.
public struct KeyReleaseServer: Sendable {
    public let service: KeyReleaseService
    /// The request intake; without it, the `/v1/requests` endpoints do not exist (404).
    public let intake: RequestIntakeService?
    public let host: String
    public let port: Int
    /// A connection that sends nothing for this long is closed (slow or idle clients).
    public var idleTimeout: TimeAmount = .seconds(10)
    /// The whole request body must arrive within this time.
    public var bodyTimeout: Duration = .seconds(10)
    /// The whole body of a request file (up to 64 MiB) must arrive within this time.
    public var requestBodyTimeout: Duration = .seconds(300)

    public init(service: KeyReleaseService, intake: RequestIntakeService? = nil, host: String, port: Int) {
        self.service = service
        self.intake = intake
        self.host = host
        self.port = port
    }

    /// Runs until SIGTERM or SIGINT (or the task is cancelled). `onRunning` receives the
    /// address actually bound (port 0 picks a free port).
    public func run(logger: Logger, stopOnSignals: Bool = true,
                    onRunning: @escaping @Sendable (String, Int) async -> Void = { _, _ in }) async throws {
        let app = Application(
            router: makeRouter(),
            server: .http1(configuration: .init(idleTimeout: idleTimeout)),
            configuration: .init(address: .hostname(host, port: port), serverName: "dossier"),
            onServerRunning: { channel in
                await onRunning(host, channel.localAddress?.port ?? port)
            },
            logger: logger
        )
        try await app.runService(gracefulShutdownSignals: stopOnSignals ? [.sigterm, .sigint] : [])
    }

    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: JSONErrors())
        let service = self.service
        let bodyTimeout = self.bodyTimeout
        router.post("v1/open") { request, _ -> Response in
            let input: KeyReleaseService.Input
            if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > KeyReleaseService.maximumBodyBytes {
                // Announced too large: refuse without reading it.
                let answer = await service.handle(.refused(.tooLarge))
                return jsonResponse(status: answer.status, body: answer.body)
            }
            do {
                let buffer = try await withDeadline(bodyTimeout) {
                    try await request.body.collect(upTo: KeyReleaseService.maximumBodyBytes)
                }
                input = .body(Data(buffer.readableBytesView))
            } catch is DeadlineExceeded {
                input = .refused(.timeout)
            } catch is NIOTooManyBytesError {
                input = .refused(.tooLarge)
            } catch {
                // The client went away or sent a broken body: nothing to answer well.
                input = .refused(.malformed)
            }
            let answer = await service.handle(input)
            return jsonResponse(status: answer.status, body: answer.body)
        }
        if let intake {
            let requestBodyTimeout = self.requestBodyTimeout
            router.post("v1/requests") { request, _ -> Response in
                let answer = await Self.receive(request, intake: intake, timeout: requestBodyTimeout)
                return jsonResponse(status: answer.status, body: answer.body)
            }
            router.post("v1/requests/status") { request, _ -> Response in
                let answer: ReleaseResponse
                let limit = RequestStatusQuery.maximumBodyBytes
                if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
                    answer = intake.refuse(.tooLarge, why: "a status query announced \(length) bytes, over \(limit)")
                } else {
                    do {
                        let buffer = try await withDeadline(bodyTimeout) { try await request.body.collect(upTo: limit) }
                        answer = await intake.status(Data(buffer.readableBytesView))
                    } catch is DeadlineExceeded {
                        answer = intake.refuse(.timeout, why: "a status query did not arrive within \(bodyTimeout)")
                    } catch is NIOTooManyBytesError {
                        answer = intake.refuse(.tooLarge, why: "a status query of more than \(limit) bytes")
                    } catch {
                        answer = intake.refuse(.malformed, why: "a status query whose body broke off")
                    }
                }
                return jsonResponse(status: answer.status, body: answer.body)
            }
        }
        router.get("v1/health") { _, _ -> Response in
            jsonResponse(status: 200, body: Data(#"{"status":"ok"}"#.utf8))
        }
        return router
    }
}

extension KeyReleaseServer {
    /// Streams a request file into a scratch file, refusing it as soon as it is known to be over
    /// the limit (announced by Content-Length, or arriving), then hands it to the intake.
    static func receive(_ request: Request, intake: RequestIntakeService, timeout: Duration) async -> ReleaseResponse {
        let limit = intake.limits.maximumBytes
        if let length = request.headers[.contentLength].flatMap({ UInt64($0) }), length > limit {
            // Announced too large: refuse without reading it.
            return intake.refuse(.tooLarge, why: "a request announced \(length) bytes, over the limit of \(limit)")
        }
        let file: ScratchFile
        do { file = try ScratchFile() } catch {
            return intake.unavailable("cannot keep a request's body: \(error.message)")
        }
        struct TooLarge: Error {}
        do {
            try await withDeadline(timeout) {
                for try await buffer in request.body {
                    guard file.size + UInt64(buffer.readableBytes) <= limit else { throw TooLarge() }
                    try buffer.withUnsafeReadableBytes { try file.write($0) }
                }
            }
        } catch is DeadlineExceeded {
            return intake.refuse(.timeout, why: "a request did not arrive within \(timeout) (\(file.size) bytes came)")
        } catch is TooLarge {
            return intake.refuse(.tooLarge, why: "a request of more than \(limit) bytes")
        } catch {
            return intake.refuse(.malformed, why: "a request whose body broke off after \(file.size) bytes")
        }
        return await intake.receive(file)
    }
}

func jsonResponse(status: Int, body: Data) -> Response {
    var buffer = ByteBuffer()
    buffer.writeBytes(body)
    return Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
}

/// Unknown paths, wrong methods and any other HTTP-level error: a JSON body like the
/// service's refusals.
struct JSONErrors<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            let code = error.status.code
            let name = code == 404 ? "not-found" : code == 405 ? "method-not-allowed" : "http-\(code)"
            let message = code == 404 ? "no such endpoint; counsel's dossier posts to /v1/open, /v1/requests and /v1/requests/status" : error.status.reasonPhrase
            let body = (try? JSONSerialization.data(withJSONObject: ["error": name, "message": message], options: [.sortedKeys])) ?? Data()
            return jsonResponse(status: (400..<600).contains(code) ? code : 500, body: body)
        } catch {
            let body = Data(#"{"error":"unavailable","message":"internal error"}"#.utf8)
            return jsonResponse(status: 503, body: body)
        }
    }
}

struct DeadlineExceeded: Error {}

/// `operation`'s result, or DeadlineExceeded after `limit`.
func withDeadline<T: Sendable>(_ limit: Duration, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw DeadlineExceeded()
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw DeadlineExceeded() }
        return first
    }
}
