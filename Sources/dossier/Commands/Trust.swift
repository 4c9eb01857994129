import ArgumentParser

/// `dossier trust`: lists its subcommands.
struct TrustCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust",
        abstract: "Organisation keys whose packages you accept (kept in ~/.config/dossier).",
        subcommands: [TrustAddCommand.self, TrustListCommand.self, TrustIntakeCommand.self]
    )
}
