import ArgumentParser
import DossierCore
import Foundation

/// Where the log comes from: a vault folder, or an export file.
struct LogSourceOptions: ParsableArguments {
    @Option(help: VaultOptions.help) var vault: String?
    @Option(help: ArgumentHelp("A log export made by `dossier audit export`, instead of a vault.", valueName: "FILE")) var export: String?

    /// With `firstLoaded` n, the first n entries are not read (see `LogSnapshot.firstLoaded`).
    func snapshot(firstLoaded: Int = 0) throws(DossierError) -> LogSnapshot {
        if let export {
            if vault != nil { throw .invalidArgument("give --vault or --export, not both") }
            return try LogExport.parse(try FileAccess.readSmall(path: export, limit: 1 << 31), path: export, firstLoaded: firstLoaded)
        }
        return try VaultOptions(vault: vault).open().logSnapshot(firstLoaded: firstLoaded)
    }
}
