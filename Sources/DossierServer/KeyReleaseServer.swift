import DossierCore
import Foundation
import Hummingbird
import Logging
import NIOCore

/// The key-release service over HTTP/1.1 (docs/formats/key-release.md):
///
///     POST /v1/open     a signed release request; 200 with the sealed share, or 4xx JSON
///     GET  /v1/health   {"status":"ok"}
///
/// Decisions, logging and counting are KeyReleaseService's; this layer only bounds what it
/// reads (body size, time) and turns every HTTP-level failure into a JSON error, never a 5xx
/// for bad input.
public struct KeyReleaseServer: Sendable {
    public let service: KeyReleaseService
    public let host: String
    public let port: Int
    /// A connection that sends nothing for this long is closed (slow or idle clients).
    public var idleTimeout: TimeAmount = .seconds(10)
    /// The whole request body must arrive within this time.
    public var bodyTimeout: Duration = .seconds(10)

    public init(service: KeyReleaseService, host: String, port: Int) {
        self.service = service
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
        router.get("v1/health") { _, _ -> Response in
            jsonResponse(status: 200, body: Data(#"{"status":"ok"}"#.utf8))
        }
        return router
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
            let message = code == 404 ? "no such endpoint; counsel's dossier posts to /v1/open" : error.status.reasonPhrase
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
