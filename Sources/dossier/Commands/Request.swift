import ArgumentParser

/// `dossier request`: lists its subcommands.
struct RequestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "request",
        abstract: Localizer.current.string("help.request.abstract"),
        subcommands: [RequestNewCommand.self, RequestStatusCommand.self]
    )
}
