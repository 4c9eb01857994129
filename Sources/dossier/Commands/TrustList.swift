import ArgumentParser
import DossierCore
import Foundation

/// `dossier trust list`.
struct TrustListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List trusted organisations.")
    @Flag(help: "Print a JSON array.") var json = false

    func run() throws {
        let entries = try TrustStore.standard().entries()
        if json { JSONOutput.print(entries); return }
        Table.print(headers: ["NAME", "FINGERPRINT", "KEY"], rows: entries.map { [$0.name, $0.fingerprint, $0.publicKey] })
    }
}
