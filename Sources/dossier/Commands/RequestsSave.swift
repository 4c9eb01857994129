import ArgumentParser
import DossierCore
import Foundation

/// `dossier requests save`.
struct RequestsSaveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "save",
        abstract: "Decrypt one attachment of a request to a file.",
        discussion: """
        ATTACHMENT is its name as `requests show` lists it, or its number there (from 1). The file is decrypted to a temporary file next to FILE and given its name only once the whole attachment has authenticated; an existing FILE is never replaced (exit 73).

        Example: dossier requests save req-zjqgy65hkj2gs order.pdf -o ~/cases/order.pdf
        """
    )
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("The request id (req-...).", valueName: "REQUEST")) var id: String
    @Argument(help: ArgumentHelp("The attachment's name, or its number from 1.", valueName: "ATTACHMENT")) var attachment: String
    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write it (must not exist).", valueName: "FILE")) var output: String
    @OptionGroup var sync: SyncOption

    func run() throws {
        if FileManager.default.fileExists(atPath: output) { throw DossierError.fileExists(path: output) }
        try staff.session().requests.saveAttachment(id, attachment: attachment, to: output, durability: sync.durability)
        Terminal.note(Terminal.visible("wrote \(output)"))
    }
}
