import ArgumentParser
import DossierCore
import Foundation

/// `dossier grant`.
struct GrantCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grant",
        abstract: "Grant counsel time-limited access to documents, as the policy allows.",
        discussion: """
        The policy is checked first; a refusal names the rule and is logged. Where the policy asks for more than one sign-off, the grant stays pending until other staff run `dossier approve`; otherwise -o writes the package at once.

        Examples:
          dossier grant doc-aaaa doc-bbbb --to counsel-cccc --for 5d --case EXT-2026-014 -o bundle.dpkg
          dossier grant doc-aaaa --to counsel-cccc --until 2026-12-24 --purpose "appeal hearing"
          dossier grant doc-aaaa --to counsel-cccc --for 3d --online https://release.example.org --max-opens 2 -o bundle.dpkg
          dossier grant doc-aaaa --to counsel-cccc --for 14d --answer req-dddd -o bundle.dpkg
        """
    )
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("Document ids.", valueName: "DOC")) var documents: [String]
    @Option(name: .customLong("to"), parsing: .upToNextOption, help: ArgumentHelp("Counsel ids or fingerprints.", valueName: "COUNSEL")) var counsel: [String] = []
    @Option(name: .customLong("for"), help: ArgumentHelp("Window length: 7d, 36h, 90m.", valueName: "DURATION")) var duration: String?
    @Option(help: ArgumentHelp("Window end: YYYY-MM-DD (end of that day, UTC) or an RFC 3339 time (2026-12-04T23:00:49Z, 2026-12-04T23:00:49.5+01:00).", valueName: "DATE")) var until: String?
    @Option(name: .customLong("case"), help: ArgumentHelp("Case reference (stored encrypted).", valueName: "REF")) var caseReference: String?
    @Option(help: ArgumentHelp("Purpose (stored encrypted).", valueName: "TEXT")) var purpose: String?
    @Option(name: .shortAndLong, help: ArgumentHelp("Write the package here if the grant is active at once.", valueName: "FILE")) var output: String?
    @Option(help: ArgumentHelp("Make its packages online: they open only through the key-release service at URL (`dossier serve`), which enforces the window, revocation and the open limit.", valueName: "URL")) var online: String?
    @Option(help: ArgumentHelp("Most openings per counsel through the service (default: the policy's max_opens). Needs --online.", valueName: "N")) var maxOpens: Int?
    @Option(name: .customLong("answer"), help: ArgumentHelp("Answer this request from counsel (`dossier requests`) with the grant: its packages name the request. The request's sender must be among the recipients.", valueName: "REQUEST")) var answering: String?
    @OptionGroup var sync: SyncOption
    @Flag(help: "Print the grant as JSON.") var json = false

    func validate() throws {
        if duration != nil && until != nil { throw ValidationError("give --for or --until, not both") }
        if let d = duration, WindowDuration.parse(d) == nil { throw ValidationError("--for \(d) is not a duration; write e.g. 7d, 36h or 90m") }
        try usageCheck { () throws(DossierError) in try request(window: .policyDefault).checkWithoutVault() }
    }

    func request(window: GrantRequest.Window) -> GrantRequest {
        GrantRequest(documents: documents, counsel: counsel, window: window, caseReference: caseReference, purpose: purpose,
                     online: online, maxOpens: maxOpens, answering: answering)
    }

    func run() throws {
        var window = GrantRequest.Window.policyDefault
        if let d = duration, let s = WindowDuration.parse(d) { window = .duration(seconds: s) }
        if let u = until { window = .until(try CalendarDate.endOfDay(u)) }
        if let output, FileManager.default.fileExists(atPath: output) { throw DossierError.fileExists(path: output) }
        let session = try staff.session()
        let g = try session.sharing.grant(request(window: window))
        if json { JSONOutput.print(g) } else { print(g.id) }
        if let answering { Terminal.note("request \(answering) is answered by grant \(g.id)") }
        if g.state == .pending {
            Terminal.note("grant \(g.id) is pending: it needs \(g.approvalsNeeded) sign-offs; another staff member must run `dossier approve \(g.id)`, then `dossier package \(g.id) -o FILE`")
        } else if let output {
            let p = try session.sharing.makePackage(grant: g.id, to: output, durability: sync.durability)
            Terminal.note("wrote the package \(p.packageID) to \(output); valid until \(p.notAfter)")
        } else {
            Terminal.note("grant \(g.id) is active until \(g.notAfter); write its package with `dossier package \(g.id) -o FILE`")
        }
    }
}
