import ArgumentParser
import DossierCore
import Foundation

/// `dossier deposit`.
struct DepositCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deposit",
        abstract: "Encrypt files into the vault.",
        discussion: """
        Each file is encrypted while it streams into the vault (memory stays bounded whatever its size) under a fresh key; title, file name, tags, jurisdiction and case reference are stored encrypted. Several files share the metadata and are recorded in one transaction: all or none. Prints each new document id.

        Kinds: expert-report, witness-testimony, assurance-rebuttal, supporting-material.
        Languages: BCP 47 tags (ar, zh-Hans, en, fr, es, ru, pt-BR, ...).

        Example:
          dossier deposit report.pdf --kind expert-report --title "Prison conditions" --lang en --case EXT-2026-014
        """
    )

    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("Files to deposit.", valueName: "FILE"))
    var files: [String]
    @Option(help: ArgumentHelp("The document kind.", valueName: "KIND"))
    var kind: String
    @Option(help: ArgumentHelp("A title (stored encrypted).", valueName: "TEXT"))
    var title: String
    @Option(help: ArgumentHelp("Language, as a BCP 47 tag (RFC 5646: en, zh-Hans-CN, es-419, sgn-BE-FR, en-US-u-ca-gregory, x-private), in any case; stored in canonical case.", valueName: "TAG"))
    var lang: String = Language.undetermined
    @Option(name: .customLong("case"), help: ArgumentHelp("Case reference (stored encrypted).", valueName: "REF"))
    var caseReference: String?
    @Option(help: ArgumentHelp("Jurisdiction (stored encrypted).", valueName: "NAME"))
    var jurisdiction: String?
    @Option(name: .customLong("tag"), help: ArgumentHelp("A tag (repeatable; stored encrypted).", valueName: "TAG"))
    var tags: [String] = []
    @Flag(help: "Print a JSON array with an object per document.")
    var json = false
    @OptionGroup var progress: ProgressOption

    func validate() throws {
        _ = try usageCheck { () throws(DossierError) in try DocumentKind(parsing: kind) }
        try usageCheck { () throws(DossierError) in try DepositRequest.checkTitle(title) }
    }

    func run() throws {
        // Check the inputs before asking for a passphrase.
        let kind = try DocumentKind(parsing: kind)
        let language = try Language.canonical(lang)
        for f in files { close(try FileAccess.openForReading(path: f)) }
        let reporter = try progress.reporter()
        let session = try staff.session()
        let docs = try session.documents.deposit(DepositRequest(files: files, kind: kind, title: title, language: language,
                                                      tags: tags, jurisdiction: jurisdiction, caseReference: caseReference),
                                                 progress: reporter)
        if json { JSONOutput.print(docs.map(DocumentJSON.init)) } else { docs.forEach { print($0.id) } }
    }
}
