import ArgumentParser

/// `dossier trust`: lists its subcommands.
struct TrustCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust",
        abstract: Localizer.current.string("help.trust.abstract"),
        subcommands: [TrustAddCommand.self, TrustListCommand.self, TrustIntakeCommand.self]
    )
}
