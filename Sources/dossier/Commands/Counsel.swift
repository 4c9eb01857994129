import ArgumentParser

/// `dossier counsel`: lists its subcommands.
struct CounselCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "counsel",
        abstract: "Register and vet defence counsel.",
        subcommands: [CounselAddCommand.self, CounselVetCommand.self, CounselSuspendCommand.self, CounselListCommand.self, CounselShowCommand.self]
    )
}
