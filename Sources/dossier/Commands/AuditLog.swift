import ArgumentParser
import DossierCore
import Foundation

/// `dossier audit log`.
struct AuditLogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Review the log, filtered; a table on a terminal, or JSON or CSV.",
        discussion: """
        Without an identity you see ids and fingerprints only. With --resolve and a staff identity, document titles and counsel names are added; a subject the vault does not know (in an export of another vault, say) is named in a warning.

        Example: dossier audit log --document doc-k3j4m5n6p7q2r --since 2026-11-01 --csv
        """
    )
    @OptionGroup var source: LogSourceOptions
    @Option(help: ArgumentHelp("Entries at or after this day (YYYY-MM-DD, UTC) or an RFC 3339 time (2026-12-04T23:00:49Z, 2026-12-04T23:00:49.5+01:00).", valueName: "DATE")) var since: String?
    @Option(help: ArgumentHelp("Entries up to the end of this day (YYYY-MM-DD, UTC) or an RFC 3339 time (2026-12-04T23:00:49Z, 2026-12-04T23:00:49.5+01:00).", valueName: "DATE")) var until: String?
    @Option(help: ArgumentHelp("Only this actor (fingerprint).", valueName: "FP")) var actor: String?
    @Option(help: ArgumentHelp("Only this action (deposit, retrieve, grant, deny, package, ...).", valueName: "ACTION")) var action: String?
    @Option(help: ArgumentHelp("Only entries about this document.", valueName: "ID")) var document: String?
    @Option(help: ArgumentHelp("Only entries about this counsel (id or fingerprint).", valueName: "ID")) var counsel: String?
    @Option(help: ArgumentHelp("Only entries about this grant.", valueName: "ID")) var grant: String?
    @Flag(help: "Add titles and names (needs a staff identity).") var resolve = false
    @OptionGroup var identity: IdentityOptions
    @Flag(help: "Print a JSON array of objects, each with its id (the sequence number).") var json = false
    @Flag(help: "Print CSV.") var csv = false

    func validate() throws {
        if json && csv { throw ValidationError("give --json or --csv, not both") }
    }

    func run() throws {
        let sinceDate = try since.map { s throws(DossierError) in try CalendarDate.startOfDay(s) }
        let filter = AuditFilter(since: sinceDate, until: try until.map { u throws(DossierError) in try CalendarDate.endOfDay(u) },
                                 actor: actor, action: action, document: document, counsel: counsel, grant: grant)
        var records = try source.snapshot().records(matching: filter)
        if resolve {
            let session = try VaultOptions(vault: source.vault).open().unlock(try identity.load())
            let resolution = try session.audit.resolveNames(in: records)
            for u in resolution.unresolved { Terminal.warn("cannot resolve \(u.subject): \(u.error.message)") }
            records = resolution.records
        }
        if json { JSONOutput.print(records); return }
        func describe(_ r: AuditRecord) -> String {
            r.subjects.map { s in r.resolved?[s].map { "\(s) (\($0))" } ?? s }.joined(separator: " ")
        }
        if csv {
            print("seq,time,actor,action,subjects,details")
            for r in records {
                let details = r.details.keys.sorted().flatMap { k in r.details[k]!.map { "\(k)=\($0)" } }.joined(separator: " ")
                print([String(r.seq), r.time, r.actor, r.action, describe(r), details].map(csvField).joined(separator: ","))
            }
            return
        }
        Table.print(headers: ["SEQ", "TIME", "ACTOR", "ACTION", "SUBJECTS"], rows: records.map {
            [String($0.seq), $0.time, $0.actor, $0.action, describe($0)]
        })
    }

    func csvField(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}
