import ArgumentParser
import DossierCore
import Foundation

/// `dossier request status`.
struct RequestStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: Localizer.current.string("help.request.status.abstract"),
        discussion: Localizer.current.string("help.request.status.discussion")
    )

    @OptionGroup var identity: IdentityOptions
    @Option(help: ArgumentHelp(Localizer.current.string("help.request.status.request"), valueName: "FILE_OR_ID"))
    var request: String
    @Option(name: .customLong("org"), help: ArgumentHelp(Localizer.current.string("help.request.status.org"), valueName: "ORG"))
    var org: String?
    @Option(help: ArgumentHelp(Localizer.current.string("help.request.status.send"), valueName: "URL"))
    var send: String
    @Flag(help: ArgumentHelp(Localizer.current.string("help.request.status.json"))) var json = false

    func run() throws {
        let (requestID, intake) = try target()
        let me = try identity.load()
        let status = try Self.ask(requestID, intake: intake, identity: me, url: send)
        if json { JSONOutput.print(status); return }
        print("\(status.request)\t\(status.state.rawValue)\(status.grant.map { "\t" + $0 } ?? "")")
        let l = Localizer.current
        switch status.state {
        case .new: Terminal.note(l.text("request.status.new"))
        case .assigned: Terminal.note(l.text("request.status.assigned"))
        case .answered: Terminal.note(l.text("request.status.answered", status.grant ?? "?"))
        case .declined: Terminal.note(l.text("request.status.declined"))
        }
    }

    /// The service's answer; a request it does not know from this sender is `unknownRequestAtService` (66).
    private static func ask(_ id: String, intake: IntakeKey, identity: SecretIdentity, url: String) throws(DossierError) -> RequestStatus {
        let result = Result { () throws(DossierError) in try RequestClient().status(of: id, intake: intake, identity: identity, url: url) }
        if case let .failure(.requestRefused(_, reason, message)) = result, reason == IntakeRefusal.unknownRequest.rawValue {
            // The service's own words, in the reader's language when they are this program's.
            let l = Localizer.current
            Terminal.note(l.text("request.status.service", url, ReasonText(localizer: l).localized(message)))
            throw .unknownRequestAtService(id: id, url: url)
        }
        return try result.get()
    }

    /// The request's id and the intake key it was sealed to: from the file, or from the id and --org.
    private func target() throws(DossierError) -> (String, IntakeKey) {
        if request.hasPrefix("req-") && !FileManager.default.fileExists(atPath: request) {
            guard Identifier.isWellFormed(request, prefix: "req") else {
                throw .invalidArgument("\(request) is not a request id", hint: "give the request file, or its id as `dossier request new` printed it")
            }
            guard let org else { throw .missingOption("with a request id, give the organisation's intake line", hint: "pass --org INTAKE (or give the request file instead)") }
            return (request, try RequestNewCommand.intakeKey(org))
        }
        let header = try RequestReader.header(path: request)
        if let org, try RequestNewCommand.intakeKey(org) != header.to {
            throw .invalidArgument("\(request) is sealed to the intake key \(header.to.fingerprint), not to the one given with --org")
        }
        return (header.requestID, header.to)
    }
}
