import ArgumentParser
import DossierCore
import Foundation

/// The vault folder: `--vault` or `DOSSIER_VAULT`.
struct VaultOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The vault folder (also: DOSSIER_VAULT).", valueName: "DIR"))
    var vault: String?

    init() {}
    init(vault: String?) { self.vault = vault }

    func resolvedPath() throws(DossierError) -> String {
        if let vault { return vault }
        if let env = ProcessInfo.processInfo.environment["DOSSIER_VAULT"], !env.isEmpty { return env }
        throw .missingOption("no vault given", hint: "pass --vault DIR or set DOSSIER_VAULT")
    }

    func open() throws(DossierError) -> Vault {
        try Vault.open(at: try resolvedPath())
    }
}
