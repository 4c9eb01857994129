import ArgumentParser
import DossierCore
import Foundation

/// `dossier requests list` (also plain `dossier requests`).
struct RequestsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the requests in the inbox, oldest first.",
        discussion: """
        Columns: id, when received, the sender's fingerprint, the sender's name if they are registered counsel, what they need, the languages, the hearing date, and the state (new, assigned, answered, declined). Names and other text from outside are shown with control and bidirectional characters made visible.

        Examples:
          dossier requests --state new
          dossier requests --lang fr --hearing-before 2027-04-01
        """
    )
    @OptionGroup var staff: StaffOptions
    @Option(help: ArgumentHelp("Only requests in this state: new, assigned, answered or declined.", valueName: "STATE"))
    var state: String?
    @Option(name: .customLong("lang"), help: ArgumentHelp("Only requests needing this language (a BCP 47 tag; fr also matches fr-CA).", valueName: "TAG"))
    var language: String?
    @Option(name: .customLong("hearing-before"), help: ArgumentHelp("Only requests whose hearing is before this day, YYYY-MM-DD.", valueName: "DATE"))
    var hearingBefore: String?
    @Flag(help: "Print a JSON array of objects, each with its id (the opened summary: for staff only).") var json = false

    func filter() throws(DossierError) -> RequestFilter {
        try RequestFilter(state: try state.map { s throws(DossierError) in try RequestState(parsing: s) }, language: language,
                          hearingBefore: hearingBefore).checked()
    }

    func validate() throws { _ = try usageCheck { () throws(DossierError) in try filter() } }

    func run() throws {
        let all = try staff.session().requests.list(try filter())
        if json { JSONOutput.print(all); return }
        Table.print(headers: ["ID", "RECEIVED", "SENDER", "NAME", "NEED", "LANGUAGES", "HEARING", "STATE"], rows: all.map {
            [$0.id, String($0.receivedAt.prefix(10)), $0.senderFingerprint, $0.counsel?.name ?? "(not registered)", $0.need.rawValue,
             $0.languages.joined(separator: ","), $0.hearing ?? "-", $0.state.rawValue]
        })
    }
}
