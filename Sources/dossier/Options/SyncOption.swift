import ArgumentParser
import DossierCore

/// `--sync`, for commands that write a copy (retrieve, open, package, grant -o).
struct SyncOption: ParsableArguments {
    @Flag(help: ArgumentHelp(Localizer.current.string("help.option.sync")))
    var sync = false

    var durability: Durability { sync ? .durable : .system }
}
