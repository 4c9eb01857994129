import ArgumentParser

/// `dossier identity`: lists its subcommands.
struct IdentityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "identity",
        abstract: Localizer.current.string("help.identity.abstract"),
        subcommands: [IdentityNewCommand.self, IdentityShowCommand.self]
    )
}
