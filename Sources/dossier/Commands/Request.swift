import ArgumentParser

/// `dossier request`: lists its subcommands.
struct RequestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "request",
        abstract: "Write a request to an organisation, sealed to it and signed by you (counsel).",
        subcommands: [RequestNewCommand.self, RequestStatusCommand.self]
    )
}
