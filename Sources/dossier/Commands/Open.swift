import ArgumentParser
import DossierCore
import Foundation

/// `dossier open`.
struct OpenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "open",
        abstract: "Open a package sealed to you: verify, check the window, decrypt every document.",
        discussion: """
        Refuses a package that is not signed by a trusted organisation, outside its window, not sealed to your identity, or altered in any way. Each document is written to a temporary file in DIR and renamed into place only after every document authenticates; on failure nothing is left.

        A package that answers a request you sent (`dossier request new`) names it: open prints the request id and the SHA-256 of the request file, the one in your receipt.

        An online package (`dossier inspect` shows its service) also needs the organisation's key-release service: after the checks above, open sends it a request signed with your identity and receives the other half of the key, sealed to you. The service refuses once the grant is revoked or expired, or its open limit is reached, and logs every opening. Exit 77 when it refuses, 69 when it cannot be reached.

        Example: dossier open bundle.dpkg --identity ~/dossier/counsel.key -o ~/cases/ext-014
        """
    )
    @Argument(help: ArgumentHelp("The package file.", valueName: "PACKAGE")) var package: String
    @OptionGroup var identity: IdentityOptions
    @Option(name: .shortAndLong, help: ArgumentHelp("Folder to write the documents into (default: the current folder).", valueName: "DIR")) var output: String = "."
    @Flag(help: "Replace files that exist.") var force = false
    @OptionGroup var sync: SyncOption
    @Flag(help: "Print a JSON array of the documents written.") var json = false
    @OptionGroup var progress: ProgressOption

    func run() throws {
        let reader = PackageReader(path: package)
        let trust = TrustStore.standard()
        // Every check that needs no secret comes before the passphrase prompt.
        let inspection = try reader.checkWithoutSecret(trust: trust, recipient: try identity.publicHalf().fingerprint, into: output)
        let reporter = try progress.reporter()
        let me = try identity.load()
        let docs = try reader.open(identity: me, trust: trust, into: output, overwrite: force, durability: sync.durability,
                                   keyRelease: KeyReleaseClient(), progress: reporter) { release in
            Terminal.note("the key-release service released the key: opening \(release.opening)\(release.maxOpens > 0 ? " of \(release.maxOpens)" : ""), logged as entry \(release.logSeq)")
        } answers: { requests in
            for r in requests { Terminal.note("this package answers your request \(r.id) (request file SHA-256 \(r.sha256))") }
        }
        if json { JSONOutput.print(docs); return }
        for d in docs { print(d.path) }
        Terminal.note("opened \(docs.count) document(s) from \(inspection.manifest.organisation)")
    }
}
