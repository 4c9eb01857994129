import ArgumentParser
import DossierCore
import Foundation

/// `dossier trust list`.
struct TrustListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: Localizer.current.string("help.trust.list.abstract"))
    @Flag(help: ArgumentHelp(Localizer.current.string("help.trust.list.json"))) var json = false

    func run() throws {
        let entries = try TrustStore.standard().entries()
        if json { JSONOutput.print(entries); return }
        let l = Localizer.current
        Table.print(headers: [l.string("trust.list.name"), l.string("trust.list.fingerprint"), l.string("trust.list.key")],
                    rows: entries.map { [$0.name, $0.fingerprint, $0.publicKey] }, none: l.string("table.none"))
    }
}
