import ArgumentParser

/// `dossier identity`: lists its subcommands.
struct IdentityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "identity",
        abstract: "Create and show identities (a key pair for decryption and one for signing).",
        subcommands: [IdentityNewCommand.self, IdentityShowCommand.self]
    )
}
