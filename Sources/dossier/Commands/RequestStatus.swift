import ArgumentParser
import DossierCore
import Foundation

/// `dossier request status`.
struct RequestStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Ask the organisation's service where a request you sent stands.",
        discussion: """
        Signs a query with your identity (the request's id, the organisation's intake key and the time; your computer's clock must be within 5 minutes of the service's) and sends it to the organisation's service. The service answers only the sender of the request: for anyone else, and for a request it does not hold, the answer is the same ("no request with this id sent by you"), so nobody learns from it that a request exists.

        States: new (received, not yet taken up), assigned (a staff member is working on it), answered (the organisation made a grant for it: the grant id is shown, and the package comes by the usual channel), declined.

        --request takes the request file (its id and intake key are read from it) or the request id; with an id, give the organisation's intake line with --org.

        Exit codes: 66 no such request sent by you, 77 any other refusal, 69 the service cannot be reached.

        Examples:
          dossier request status -i counsel.key --request request.drq --send https://release.example.org
          dossier request status -i counsel.key --request req-zjqgy65hkj2gs --org intake.txt --send https://release.example.org --json
        """
    )

    @OptionGroup var identity: IdentityOptions
    @Option(help: ArgumentHelp("The request: its file, or its id (req-...).", valueName: "FILE_OR_ID"))
    var request: String
    @Option(name: .customLong("org"), help: ArgumentHelp("The organisation's intake line (dossierintake1...), or a file holding it; needed when --request is an id.", valueName: "ORG"))
    var org: String?
    @Option(help: ArgumentHelp("The organisation's service to ask.", valueName: "URL"))
    var send: String
    @Flag(help: "Print a JSON object: request, state, and grant once answered.") var json = false

    func run() throws {
        let (requestID, intake) = try target()
        let me = try identity.load()
        let status = try Self.ask(requestID, intake: intake, identity: me, url: send)
        if json { JSONOutput.print(status); return }
        print("\(status.request)\t\(status.state.rawValue)\(status.grant.map { "\t" + $0 } ?? "")")
        switch status.state {
        case .new: Terminal.note("received; no staff member has taken it up yet")
        case .assigned: Terminal.note("a staff member is working on it")
        case .answered: Terminal.note("answered with grant \(status.grant ?? "?"): the package comes from the organisation by the usual channel")
        case .declined: Terminal.note("declined; the organisation will tell you why")
        }
    }

    /// The service's answer; a request it does not know from this sender is `unknownRequest` (66).
    private static func ask(_ id: String, intake: IntakeKey, identity: SecretIdentity, url: String) throws(DossierError) -> RequestStatus {
        let result = Result { () throws(DossierError) in try RequestClient().status(of: id, intake: intake, identity: identity, url: url) }
        if case let .failure(.requestRefused(_, reason, message)) = result, reason == IntakeRefusal.unknownRequest.rawValue {
            Terminal.note("the service at \(url): \(message)")
            throw .unknownRequest(id: id)
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
