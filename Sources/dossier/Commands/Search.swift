import ArgumentParser
import DossierCore
import Foundation

/// `dossier search`.
struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Find documents whose decrypted metadata contains every word.",
        discussion: """
        Searches title, file name, tags, jurisdiction and case reference, ignoring case, accents and other marks, and width, in every script: refutation finds Réfutation, ПРОТОКОЛ finds протокол, е finds ё, Arabic short vowels and tatweel are ignored and أ إ آ ٱ read as ا, ＡＢＣ finds abc. The rule: docs/staff-guide.md, "How search compares text".

        Example: dossier search assurances Tashkent
        """
    )
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("Words that must all occur.", valueName: "WORD")) var words: [String]
    @Flag(help: "Print a JSON array of objects, each with its id.") var json = false

    func run() throws {
        let docs = try staff.session().documents.search(words)
        printDocuments(docs, json: json)
        exitKeepingMemory(docs)
    }
}
