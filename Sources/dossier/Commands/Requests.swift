import ArgumentParser

/// `dossier requests`: the staff inbox of requests from counsel; lists it by default.
struct RequestsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "requests",
        abstract: "The inbox of requests from counsel (staff): import, list, show, assign, answer, decline.",
        discussion: """
        A request is a file counsel wrote with `dossier request new`, sealed to the organisation's intake key and signed by them (docs/formats/request.md). Staff import it (`requests import FILE`), which verifies it completely and keeps it in the vault as received; then they read it (`requests show`, `requests save`), register the sender if new (`counsel add --from-request R`), assign it, and answer it with a grant or decline it. Every step is a signed log entry naming only ids, fingerprints and hashes; the state shown is the one the log records.

        Without a subcommand, lists the inbox (`requests list`).
        """,
        subcommands: [RequestsListCommand.self, RequestsImportCommand.self, RequestsShowCommand.self, RequestsSaveCommand.self,
                      RequestsAssignCommand.self, RequestsAnswerCommand.self, RequestsDeclineCommand.self],
        defaultSubcommand: RequestsListCommand.self
    )
}
