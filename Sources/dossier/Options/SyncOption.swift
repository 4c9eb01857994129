import ArgumentParser
import DossierCore

/// `--sync`, for commands that write a copy (retrieve, open, package, grant -o).
struct SyncOption: ParsableArguments {
    @Flag(help: "Flush the output to disk before reporting success, so that it survives a power cut whole. Without it, the file appears only when complete, and the system writes it to disk within seconds, as cp and age leave theirs.")
    var sync = false

    var durability: Durability { sync ? .durable : .system }
}
