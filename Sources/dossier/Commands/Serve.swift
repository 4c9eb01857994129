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

        Run it with its own identity, added with `dossier staff add --service`: its key signs the log entries of openings and can sign nothing else (it cannot grant, approve, deposit or retrieve, and a staff identity is refused here). Run it behind a TLS-terminating reverse proxy; see docs/key-release.md for the protocol, a systemd unit and a proxy configuration. Stops cleanly on SIGTERM/SIGINT.

        Example: dossier serve --vault /srv/dossier --identity /etc/dossier/service.key --listen 127.0.0.1:8700
        """
    )
    @OptionGroup var staff: StaffOptions
    @Option(help: ArgumentHelp("Address and port to listen on; port 0 picks a free one.", valueName: "HOST:PORT")) var listen: String = "127.0.0.1:8700"
    @Flag(help: "Log every decision to stderr (ids and reasons, never a secret).") var verbose = false

    func validate() throws {
        guard Self.parse(listen) != nil else { throw ValidationError("--listen \(listen) is not HOST:PORT (e.g. 127.0.0.1:8700)") }
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
        let service = KeyReleaseService(session: session) { line in
            if verbose || line.hasPrefix("error:") { Terminal.note(line) }
        }
        let (host, port) = Self.parse(listen)!
        var logger = Logger(label: "dossier-serve")
        logger.logLevel = verbose ? .info : .warning
        let org = try session.vault.organisation()
        do {
            try await KeyReleaseServer(service: service, host: host, port: port).run(logger: logger) { host, port in
                Terminal.note("key-release service for \(org.name) listening on http://\(host.contains(":") ? "[\(host)]" : host):\(port)/v1/open")
            }
        } catch {
            throw DossierError.invalidArgument("cannot run the service on \(listen): \(error)")
        }
        Terminal.note("stopped")
    }
}
