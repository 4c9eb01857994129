import ArgumentParser
import DossierCore
import Foundation

/// `dossier audit exposure`.
struct AuditExposureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exposure",
        abstract: "Everything ever sealed to a counsel's key: documents, grants, packages, openings.",
        discussion: """
        For when a counsel's laptop is seized. Works from the log alone (no secret), by counsel id or key fingerprint.
        Example: dossier audit exposure ABCD-EFGH-JKLM-NPQR --since 2026-01-01 --json
        """
    )
    @OptionGroup var source: LogSourceOptions
    @Argument(help: ArgumentHelp("Counsel id or key fingerprint.", valueName: "COUNSEL")) var who: String
    @Option(help: ArgumentHelp("Only since this day (YYYY-MM-DD, UTC) or an RFC 3339 time (2026-12-04T23:00:49Z, 2026-12-04T23:00:49.5+01:00).", valueName: "DATE")) var since: String?
    @Flag(help: "Print a JSON object for incident tooling.") var json = false

    func run() throws {
        let sinceDate = try since.map { s throws(DossierError) in try CalendarDate.startOfDay(s) }
        let x = try source.snapshot().exposure(of: who, since: sinceDate)
        if json { JSONOutput.print(x); return }
        print("counsel:     \(x.counsel.isEmpty ? "(not registered in this log)" : Terminal.visible(x.counsel.joined(separator: ", ")))")
        print("fingerprint: \(x.fingerprint ?? "?")")
        print("documents sealed or granted: \(x.documents.count)")
        Table.print(headers: ["DOCUMENT", "GRANTS", "PACKAGES", "OPENINGS", "FIRST OPENED", "LAST OPENED"], rows: x.documents.map {
            [$0.document, $0.grants.joined(separator: ","), $0.packages.joined(separator: ","), String($0.openings), $0.firstOpened ?? "-", $0.lastOpened ?? "-"]
        })
        print("packages: \(x.packages.count)")
        Table.print(headers: ["PACKAGE", "GRANT", "TIME", "VALID UNTIL"], rows: x.packages.map { [$0.package, $0.grant, $0.time, $0.notAfter ?? "?"] })
        print("openings through the key-release service: \(x.openings.count) (offline packages leave no record of opening)")
        Table.print(headers: ["SEQ", "TIME", "PACKAGE", "OPENING"], rows: x.openings.map {
            [String($0.seq), $0.time, $0.subjects(ofType: "package").first ?? "?", $0.details["opening"]?.first ?? "?"]
        })
    }
}
