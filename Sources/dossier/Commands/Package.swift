import ArgumentParser
import DossierCore
import Foundation

/// `dossier package`.
struct PackageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "package",
        abstract: "Write the sealed package for an active grant (logged).",
        discussion: """
        An online grant's packages, or any package made with --online, open only through the key-release service at that URL (see docs/key-release.md).

        Examples:
          dossier package grant-k3j4m5n6p7q2r -o bundle.dpkg
          dossier package grant-k3j4m5n6p7q2r -o bundle.dpkg --online https://release.example.org
        """
    )
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("The grant id.", valueName: "GRANT")) var id: String
    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the package.", valueName: "FILE")) var output: String
    @Option(help: ArgumentHelp("Make it an online package served by the key-release service at URL (default: the grant's).", valueName: "URL")) var online: String?
    @Flag(help: "Replace FILE if it exists.") var force = false
    @OptionGroup var sync: SyncOption
    @OptionGroup var progress: ProgressOption

    func run() throws {
        if !force && FileManager.default.fileExists(atPath: output) { throw DossierError.fileExists(path: output) }
        let reporter = try progress.reporter()
        let p = try staff.session().sharing.makePackage(grant: id, to: output, overwrite: force, online: online, durability: sync.durability,
                                                        progress: reporter)
        print(p.packageID)
        Terminal.note("wrote \(output) for \(p.recipients.count) counsel; valid until \(p.notAfter)\(p.online.map { "; opens only through \($0)" } ?? "")")
    }
}
