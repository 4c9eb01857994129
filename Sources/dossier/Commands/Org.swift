import ArgumentParser

/// `dossier org`: lists its subcommands.
struct OrgCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "org",
        abstract: "The organisation's public key.",
        subcommands: [OrgShowCommand.self]
    )
}
