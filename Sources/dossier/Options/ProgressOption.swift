import ArgumentParser
import DossierCore
import Foundation

/// `--quiet`, for the commands whose work can run long (deposit, retrieve, package, open, vault copy,
/// audit verify): without it, they show progress on a terminal (`ProgressDisplay`).
struct ProgressOption: ParsableArguments {
    @Flag(help: ArgumentHelp(Localizer.current.string("help.option.quiet")))
    var quiet = false

    /// Where the command reports its progress: nil with --quiet or when standard error is not a
    /// terminal, so that nothing changes in a pipe or a file. Call it before any passphrase
    /// prompt: it checks DOSSIER_PROGRESS_AFTER.
    func reporter() throws(DossierError) -> ProgressDisplay? {
        guard !quiet, Terminal.stderrIsTerminal else { return nil }
        return ProgressDisplay(after: try ProgressDisplay.delay())
    }
}
