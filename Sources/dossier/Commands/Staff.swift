import ArgumentParser

/// `dossier staff`: lists its subcommands.
struct StaffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "staff",
        abstract: "Add, list and remove staff (people who can unlock the vault).",
        subcommands: [StaffAddCommand.self, StaffListCommand.self, StaffRemoveCommand.self]
    )
}
