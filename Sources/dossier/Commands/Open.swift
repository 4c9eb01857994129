import ArgumentParser
import DossierCore
import Foundation

/// `dossier open`.
struct OpenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "open",
        abstract: Localizer.current.string("help.open.abstract"),
        discussion: Localizer.current.string("help.open.discussion")
    )
    @Argument(help: ArgumentHelp(Localizer.current.string("help.package"), valueName: "PACKAGE")) var package: String
    @OptionGroup var identity: IdentityOptions
    @Option(name: .shortAndLong, help: ArgumentHelp(Localizer.current.string("help.open.output"), valueName: "DIR")) var output: String = "."
    @Flag(help: ArgumentHelp(Localizer.current.string("help.open.force"))) var force = false
    @OptionGroup var sync: SyncOption
    @Flag(help: ArgumentHelp(Localizer.current.string("help.open.json"))) var json = false
    @OptionGroup var progress: ProgressOption

    func run() throws {
        let l = Localizer.current
        let reader = PackageReader(path: package)
        let trust = TrustStore.standard()
        // Every check that needs no secret comes before the passphrase prompt.
        let inspection = try reader.checkWithoutSecret(trust: trust, recipient: try identity.publicHalf().fingerprint, into: output)
        let reporter = try progress.reporter()
        let me = try identity.load()
        let docs = try reader.open(identity: me, trust: trust, into: output, overwrite: force, durability: sync.durability,
                                   keyRelease: KeyReleaseClient(), progress: reporter) { release in
            Terminal.note(release.maxOpens > 0
                ? l.text("open.released.limited", release.opening, release.maxOpens, release.logSeq)
                : l.text("open.released", release.opening, release.logSeq))
        } answers: { requests in
            for r in requests { Terminal.note(l.text("open.answers", r.id, r.sha256)) }
        }
        if json { JSONOutput.print(docs); return }
        for d in docs { print(d.path) }
        Terminal.note(l.text("open.opened", l.count(docs.count), inspection.manifest.organisation))
    }
}
