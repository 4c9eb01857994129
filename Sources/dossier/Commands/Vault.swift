import ArgumentParser

/// `dossier vault`: lists its subcommands.
struct VaultCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vault",
        abstract: "The vault as a whole: copy it between a folder and PostgreSQL.",
        subcommands: [VaultCopyCommand.self]
    )
}
