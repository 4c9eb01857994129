import ArgumentParser
import DossierCore
import DossierCrypto
import Foundation

/// JSON shape of a document in listings.
struct DocumentOutput: Encodable {
    let id: String
    let kind: String
    let language: String
    let languageName: String
    let size: UInt64
    let depositedAt: String
    let depositedBy: String
    let title: String?
    let fileName: String?
    let tags: [String]?
    let jurisdiction: String?
    let caseReference: String?
    let removedAt: String?

    init(_ d: Document) {
        id = d.id; kind = d.kind.rawValue; language = d.language; languageName = Language.displayName(d.language)
        size = d.size; depositedAt = d.depositedAt; depositedBy = d.depositedBy
        title = d.metadata?.title; fileName = d.metadata?.fileName; tags = d.metadata?.tags
        jurisdiction = d.metadata?.jurisdiction; caseReference = d.metadata?.caseReference; removedAt = d.removedAt
    }
}

func printDocuments(_ docs: [Document], json: Bool) {
    if json { JSONOutput.print(docs.map(DocumentOutput.init)); return }
    if Terminal.stdoutIsTerminal {
        Table.print(headers: ["ID", "KIND", "LANGUAGE", "SIZE", "DEPOSITED", "TITLE"], rows: docs.map { d in
            [d.id, d.kind.rawValue, Language.displayName(d.language), Table.size(d.size), String(d.depositedAt.prefix(10)),
             d.metadata?.title ?? "(removed)"]
        })
        return
    }
    StandardOutput.write(ListingLines(docs))
}

/// Ends a listing that succeeded without releasing its documents one by one: for 100,000
/// documents (a million strings) that took a fifth of the command's time, and the system
/// reclaims the memory at once. Output is already written; what C stdio holds is flushed first.
/// The documents are passed in so that they stay alive until then: a temporary would be
/// released, all of it, as soon as the printing returned.
func exitKeepingMemory(_ docs: [Document]) -> Never {
    withExtendedLifetime(docs) {
        StandardOutput.finish()
        Foundation.exit(0)
    }
}

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
    @Option(help: ArgumentHelp("Language, as a BCP 47 tag.", valueName: "TAG"))
    var lang: String = Language.undetermined
    @Option(name: .customLong("case"), help: ArgumentHelp("Case reference (stored encrypted).", valueName: "REF"))
    var caseReference: String?
    @Option(help: ArgumentHelp("Jurisdiction (stored encrypted).", valueName: "NAME"))
    var jurisdiction: String?
    @Option(name: .customLong("tag"), help: ArgumentHelp("A tag (repeatable; stored encrypted).", valueName: "TAG"))
    var tags: [String] = []
    @Flag(help: "Print a JSON array with an object per document.")
    var json = false

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one FILE to deposit") }
        if DocumentKind(rawValue: kind) == nil {
            throw ValidationError("unknown kind '\(kind)'; use one of: \(DocumentKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if title.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("the title is empty; give one with --title TEXT") }
    }

    func run() throws {
        // Check the inputs before asking for a passphrase.
        let kind = try DocumentKind(parsing: kind)
        let language = try Language.canonical(lang)
        for f in files { close(try FileAccess.openForReading(path: f)) }
        let session = try staff.session()
        let docs = try session.deposit(DepositRequest(files: files, kind: kind, title: title, language: language,
                                                      tags: tags, jurisdiction: jurisdiction, caseReference: caseReference))
        if json { JSONOutput.print(docs.map(DocumentOutput.init)) } else { docs.forEach { print($0.id) } }
    }
}

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List documents (titles are decrypted with your staff identity).",
        discussion: """
        In deposit order: oldest first, the files of one deposit in the order they were given. A table on a terminal; tab-separated lines, without the heading, for a pipe or a file.

        Example: dossier list --kind witness-testimony --case EXT-2026-014 --json
        """
    )
    @OptionGroup var staff: StaffOptions
    @Option(help: ArgumentHelp("Only this kind.", valueName: "KIND")) var kind: String?
    @Option(name: .customLong("case"), help: ArgumentHelp("Only this case reference.", valueName: "REF")) var caseReference: String?
    @Option(help: ArgumentHelp("Only this language.", valueName: "TAG")) var lang: String?
    @Flag(name: .customLong("include-removed"), help: "Also list removed documents (tombstones).") var includeRemoved = false
    @Flag(help: "Print a JSON array of objects, each with its id.") var json = false

    func validate() throws {
        if let kind, DocumentKind(rawValue: kind) == nil {
            throw ValidationError("unknown kind '\(kind)'; use one of: \(DocumentKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let k = try kind.map { k throws(DossierError) in try DocumentKind(parsing: k) }
        let filter = DocumentFilter(kind: k, caseReference: caseReference, language: lang, includeRemoved: includeRemoved)
        if json || Terminal.stdoutIsTerminal {
            // The session (and its vault key) is released before the exit below, which runs no deinitialisers.
            let docs = try staff.session().list(filter)
            printDocuments(docs, json: json)
            exitKeepingMemory(docs)
        }
        // For pipes, each core formats the lines of the rows it reads: no Document per row.
        try staff.session().listLines(filter).forEach(StandardOutput.write)
    }
}

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Find documents whose decrypted metadata contains every word.",
        discussion: "Searches title, file name, tags, jurisdiction and case reference, case-insensitively. Example: dossier search assurances Tashkent"
    )
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("Words that must all occur.", valueName: "WORD")) var words: [String]
    @Flag(help: "Print a JSON array of objects, each with its id.") var json = false

    func run() throws {
        let docs = try staff.session().search(words)
        printDocuments(docs, json: json)
        exitKeepingMemory(docs)
    }
}

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one document's catalogue entry.",
        discussion: "Example: dossier show doc-k3j4m5n6p7q2r --json"
    )
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("The document id.", valueName: "ID")) var id: String
    @Flag(help: "Print a JSON object.") var json = false

    func run() throws {
        let d = try staff.session().document(id)
        if json { JSONOutput.print(DocumentOutput(d)); return }
        print("id:           \(d.id)")
        print("kind:         \(d.kind.rawValue)")
        print("language:     \(Language.displayName(d.language))")
        print("size:         \(d.size) bytes (\(Table.size(d.size)))")
        print("deposited:    \(d.depositedAt) by \(d.depositedBy)")
        if let m = d.metadata {
            print("title:        \(m.title)")
            print("file name:    \(m.fileName)")
            if !m.tags.isEmpty { print("tags:         \(m.tags.joined(separator: ", "))") }
            if let j = m.jurisdiction { print("jurisdiction: \(j)") }
            if let c = m.caseReference { print("case:         \(c)") }
        }
        if let r = d.removedAt { print("removed:      \(r) by \(d.removedBy ?? "?") (content destroyed)") }
    }
}

struct RetrieveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retrieve",
        abstract: "Decrypt a document to a file (logged).",
        discussion: """
        Writes a temporary file next to FILE (mode 0600) and renames it into place only after the last chunk authenticates; on any failure nothing is left. The retrieval is logged before anything is decrypted.

        Example: dossier retrieve doc-k3j4m5n6p7q2r -o report.pdf
        """
    )
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("The document id.", valueName: "ID")) var id: String
    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the plaintext.", valueName: "FILE")) var output: String
    @Flag(help: "Replace FILE if it exists.") var force = false
    @OptionGroup var sync: SyncOption

    func run() throws {
        if !force && FileManager.default.fileExists(atPath: output) { throw DossierError.fileExists(path: output) }
        let d = try staff.session().retrieve(id, to: output, overwrite: force, durability: sync.durability)
        Terminal.note("wrote \(output) (\(d.size) bytes)")
    }
}

struct RemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Crypto-shred a document: destroy its key and content, keep a tombstone.",
        discussion: "Irreversible. Example: dossier remove doc-k3j4m5n6p7q2r --reason \"withdrawn by the witness\""
    )
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("The document id.", valueName: "ID")) var id: String
    @Option(help: ArgumentHelp("Why (stored encrypted for staff; not in the log).", valueName: "TEXT")) var reason: String

    func run() throws {
        try staff.session().remove(id, reason: reason)
        Terminal.note("removed \(id): its key and content are destroyed")
    }
}
