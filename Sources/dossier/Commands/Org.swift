import ArgumentParser

/// `dossier org`: lists its subcommands.
struct OrgCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "org",
        abstract: "The organisation's root key and the certificates it issues.",
        subcommands: [OrgShowCommand.self, OrgCertifyCommand.self, OrgCertificatesCommand.self, OrgMigrateRootCommand.self, OrgIntakeKeyCommand.self]
    )
}
