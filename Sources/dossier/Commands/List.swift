import ArgumentParser
import DossierCore
import Foundation

/// `dossier list`.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List documents (titles are decrypted with your staff identity).",
        discussion: """
        In deposit order: oldest first, the files of one deposit in the order they were given. A table on a terminal; tab-separated lines, without the heading, for a pipe or a file. Control characters and bidirectional controls in a title are shown escaped (\\x1b, \\u{202e}; a backslash as \\\\), so each document is one line; --json gives the exact text.

        Example: dossier list --kind witness-testimony --case EXT-2026-014 --json
        """
    )
    @OptionGroup var staff: StaffOptions
    @Option(help: ArgumentHelp("Only this kind.", valueName: "KIND")) var kind: String?
    @Option(name: .customLong("case"), help: ArgumentHelp("Only this case reference.", valueName: "REF")) var caseReference: String?
    @Option(help: ArgumentHelp("Only this language (a BCP 47 tag, in any case).", valueName: "TAG")) var lang: String?
    @Flag(name: .customLong("include-removed"), help: "Also list removed documents (tombstones).") var includeRemoved = false
    @Flag(help: "Print a JSON array of objects, each with its id.") var json = false

    func validate() throws {
        if let kind { _ = try usageCheck { () throws(DossierError) in try DocumentKind(parsing: kind) } }
    }

    func run() throws {
        let k = try kind.map { k throws(DossierError) in try DocumentKind(parsing: k) }
        let filter = DocumentFilter(kind: k, caseReference: caseReference, language: lang, includeRemoved: includeRemoved)
        if json || Terminal.stdoutIsTerminal {
            // The session (and its vault key) is released before the exit below, which runs no deinitialisers.
            let docs = try staff.session().documents.list(filter)
            printDocuments(docs, json: json)
            exitKeepingMemory(docs)
        }
        // For pipes, each core formats the lines of the rows it reads: no Document per row.
        try staff.session().documents.listLines(filter).forEach(StandardOutput.write)
    }
}
