import ArgumentParser
import DossierCore
import DossierServer
import Foundation
import Logging

/// `dossier serve`.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the key-release service for online packages (HTTP).",
        discussion: """
        Counsel's `dossier open` asks this service for the vault's half of an online package's key. Each request is signed by the counsel; the service checks the signature, the time (at most 5 minutes off), that the nonce is new, that the grant is active and the counsel still vetted, and the open limit. It logs the opening, with the counsel's signed request as a receipt, in the same transaction as the decision, and only then answers with the share sealed to the counsel's key. Every refusal is a 4xx JSON error and a `deny` entry.

        It also takes requests from counsel (`dossier request new --send`, POST /v1/requests): it reads the organisation's intake secret from the vault, accepts only a request that verifies completely, keeps it in the staff inbox as `requests import` does, logs it (`request-receive`, signed by the service's identity) and answers with a receipt signed under the service's certificate (`dossier org certify --role service`; without a current one, requests are answered 503). Limits, per rolling 24 hours, counted in the vault's database: --request-quota per registered counsel, --request-quota-unknown per sender who is not registered counsel, --request-quota-total for everyone; and --request-max-size per request. Counsel ask where a request stands with `dossier request status` (POST /v1/requests/status).

        Run it with its own identity, added with `dossier staff add --service`: its key signs the log entries of openings and can sign nothing else (it cannot grant, approve, deposit or retrieve, and a staff identity is refused here). Run it behind a TLS-terminating reverse proxy; see docs/key-release.md for the protocol, a systemd unit and a proxy configuration. Stops cleanly on SIGTERM/SIGINT.

        Example: dossier serve --vault /srv/dossier --identity /etc/dossier/service.key --listen 127.0.0.1:8700
        """
    )
    @OptionGroup var staff: StaffOptions
    @Option(help: ArgumentHelp("Address and port to listen on; port 0 picks a free one.", valueName: "HOST:PORT")) var listen: String = "127.0.0.1:8700"
    @Flag(help: "Log every decision to stderr (ids and reasons, never a secret).") var verbose = false
    @Option(name: .customLong("request-max-size"), help: ArgumentHelp(
        "Largest request file accepted from counsel: bytes, or with KiB, MiB, GiB (at most 64MiB).", valueName: "SIZE"))
    var requestMaxSize = "64MiB"
    @Option(name: .customLong("request-quota"), help: ArgumentHelp(
        "Requests and bytes accepted per registered counsel per 24 hours.", valueName: "COUNT/SIZE"))
    var requestQuota = "20/256MiB"
    @Option(name: .customLong("request-quota-unknown"), help: ArgumentHelp(
        "Requests and bytes accepted per sender who is not registered counsel per 24 hours.", valueName: "COUNT/SIZE"))
    var requestQuotaUnknown = "3/64MiB"
    @Option(name: .customLong("request-quota-total"), help: ArgumentHelp(
        "Requests and bytes accepted from everyone per 24 hours.", valueName: "COUNT/SIZE"))
    var requestQuotaTotal = "200/2GiB"

    func validate() throws {
        guard Self.parse(listen) != nil else { throw ValidationError("--listen \(listen) is not HOST:PORT (e.g. 127.0.0.1:8700)") }
        _ = try usageCheck { () throws(DossierError) in try limits() }
    }

    /// The request intake's limits, from the options.
    func limits() throws(DossierError) -> RequestIntakeLimits {
        var limits = RequestIntakeLimits()
        guard let size = RequestIntakeLimits.size(requestMaxSize), size > 0, size <= RequestLimits.maximumFileBytes else {
            throw .invalidArgument("--request-max-size \(requestMaxSize) is not a size from 1 byte to 64MiB", hint: "give, for example, --request-max-size 16MiB")
        }
        limits.maximumBytes = size
        limits.perCounsel = try RequestIntakeLimits.quota(requestQuota, option: "--request-quota")
        limits.perUnknownSender = try RequestIntakeLimits.quota(requestQuotaUnknown, option: "--request-quota-unknown")
        limits.total = try RequestIntakeLimits.quota(requestQuotaTotal, option: "--request-quota-total")
        return limits
    }

    static func parse(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        return (host, port)
    }

    func run() async throws {
        let session = try staff.session(forService: true)
        let verbose = self.verbose
        // Errors of the vault itself (the cause of a 503) are always shown; decisions with --verbose.
        let report: @Sendable (String) -> Void = { line in
            if verbose || line.hasPrefix("error:") { Terminal.note(line) }
        }
        let service = KeyReleaseService(session: session, report: report)
        let intake = RequestIntakeService(session: session, limits: try limits(), report: report)
        let (host, port) = Self.parse(listen)!
        var logger = Logger(label: "dossier-serve")
        logger.logLevel = verbose ? .info : .warning
        let org = try session.vault.organisation()
        do {
            try await KeyReleaseServer(service: service, intake: intake, host: host, port: port).run(logger: logger) { host, port in
                Terminal.note("key-release service for \(org.name) listening on http://\(host.contains(":") ? "[\(host)]" : host):\(port)/v1/open")
            }
        } catch {
            throw DossierError.invalidArgument("cannot run the service on \(listen): \(error)")
        }
        Terminal.note("stopped")
    }
}
