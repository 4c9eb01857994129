import ArgumentParser

/// `dossier policy`: lists its subcommands.
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Check, show, replace and sign off the sharing policy.",
        discussion: "See docs/policy-reference.md and policies/default.toml.",
        subcommands: [PolicyCheckCommand.self, PolicyShowCommand.self, PolicySetCommand.self, PolicyApproveCommand.self]
    )
}
