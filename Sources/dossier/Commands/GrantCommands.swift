import ArgumentParser
import DossierCore
import Foundation

/// `URL (at most N openings)`, or `-` for an offline grant.
func onlineText(_ g: Grant) -> String {
    guard let url = g.onlineURL else { return "-" }
    return g.maxOpens > 0 ? "\(url) (at most \(g.maxOpens) openings)" : url
}

func printGrant(_ g: Grant) {
    print("id:         \(g.id)")
    print("state:      \(g.state.rawValue)\(g.state == .pending ? " (\(g.approvedBy.count) of \(g.approvalsNeeded) sign-offs)" : "")")
    print("window:     \(g.notBefore) to \(g.notAfter)")
    print("documents:  \(g.documents.joined(separator: ", "))")
    print("counsel:    \(g.recipients.joined(separator: ", "))")
    print("created by: \(g.createdBy) at \(g.createdAt)")
    if g.approvedBy.count > 1 { print("approved:   \(g.approvedBy.dropFirst().joined(separator: ", "))") }
    if let c = g.caseReference { print("case:       \(c)") }
    if let p = g.purpose { print("purpose:    \(p)") }
    if let r = g.revokedAt { print("revoked:    \(r)") }
    if g.onlineURL != nil { print("online:     \(onlineText(g)) per counsel") }
}

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
        """
    )
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("Document ids.", valueName: "DOC")) var documents: [String]
    @Option(name: .customLong("to"), parsing: .upToNextOption, help: ArgumentHelp("Counsel ids or fingerprints.", valueName: "COUNSEL")) var counsel: [String] = []
    @Option(name: .customLong("for"), help: ArgumentHelp("Window length: 7d, 36h, 90m.", valueName: "DURATION")) var duration: String?
    @Option(help: ArgumentHelp("Window end: YYYY-MM-DD (end of that day, UTC) or an RFC 3339 time.", valueName: "DATE")) var until: String?
    @Option(name: .customLong("case"), help: ArgumentHelp("Case reference (stored encrypted).", valueName: "REF")) var caseReference: String?
    @Option(help: ArgumentHelp("Purpose (stored encrypted).", valueName: "TEXT")) var purpose: String?
    @Option(name: .shortAndLong, help: ArgumentHelp("Write the package here if the grant is active at once.", valueName: "FILE")) var output: String?
    @Option(help: ArgumentHelp("Make its packages online: they open only through the key-release service at URL (`dossier serve`), which enforces the window, revocation and the open limit.", valueName: "URL")) var online: String?
    @Option(help: ArgumentHelp("Most openings per counsel through the service (default: the policy's max_opens). Needs --online.", valueName: "N")) var maxOpens: Int?
    @OptionGroup var sync: SyncOption
    @Flag(help: "Print the grant as JSON.") var json = false

    func validate() throws {
        if documents.isEmpty { throw ValidationError("name at least one document id") }
        if counsel.isEmpty { throw ValidationError("name at least one counsel with --to COUNSEL") }
        if duration != nil && until != nil { throw ValidationError("give --for or --until, not both") }
        if let d = duration, WindowDuration.parse(d) == nil { throw ValidationError("--for \(d) is not a duration; write e.g. 7d, 36h or 90m") }
        if maxOpens != nil && online == nil { throw ValidationError("--max-opens counts openings through the key-release service; give --online URL too") }
    }

    func run() throws {
        var window = GrantRequest.Window.policyDefault
        if let d = duration, let s = WindowDuration.parse(d) { window = .duration(seconds: s) }
        if let u = until { window = .until(try CalendarDate.endOfDay(u)) }
        if let output, FileManager.default.fileExists(atPath: output) { throw DossierError.fileExists(path: output) }
        let session = try staff.session()
        let g = try session.grant(GrantRequest(documents: documents, counsel: counsel, window: window, caseReference: caseReference, purpose: purpose,
                                               online: online, maxOpens: maxOpens))
        if json { JSONOutput.print(g) } else { print(g.id) }
        if g.state == .pending {
            Terminal.note("grant \(g.id) is pending: it needs \(g.approvalsNeeded) sign-offs; another staff member must run `dossier approve \(g.id)`, then `dossier package \(g.id) -o FILE`")
        } else if let output {
            let p = try session.makePackage(grant: g.id, to: output, durability: sync.durability)
            Terminal.note("wrote the package \(p.packageID) to \(output); valid until \(p.notAfter)")
        } else {
            Terminal.note("grant \(g.id) is active until \(g.notAfter); write its package with `dossier package \(g.id) -o FILE`")
        }
    }
}

struct ApproveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approve another staff member's pending grant (two-person rule).",
        discussion: "Example: dossier approve grant-k3j4m5n6p7q2r --identity second-staff.key"
    )
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("The grant id.", valueName: "GRANT")) var id: String

    func run() throws {
        let g = try staff.session().approve(id)
        Terminal.note(g.state == .active ? "grant \(id) is now active" : "grant \(id) has \(g.approvedBy.count) of \(g.approvalsNeeded) sign-offs")
    }
}

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

    func run() throws {
        if !force && FileManager.default.fileExists(atPath: output) { throw DossierError.fileExists(path: output) }
        let p = try staff.session().makePackage(grant: id, to: output, overwrite: force, online: online, durability: sync.durability)
        print(p.packageID)
        Terminal.note("wrote \(output) for \(p.recipients.count) counsel; valid until \(p.notAfter)\(p.online.map { "; opens only through \($0)" } ?? "")")
    }
}

struct RevokeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke a grant: no further package can be made from it.",
        discussion: "An online package already sent can no longer be opened from now on (the key-release service refuses). An offline package already sent stays readable by an honest client until its window ends; see docs/threat-model.md."
    )
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("The grant id.", valueName: "GRANT")) var id: String
    @Option(help: ArgumentHelp("Why (stored encrypted).", valueName: "TEXT")) var reason: String

    func run() throws {
        _ = try staff.session().revoke(id, reason: reason)
        Terminal.note("grant \(id) is revoked")
    }
}

struct GrantsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grants", abstract: "List grants, newest first, or show one in full.",
        discussion: "Examples:\n  dossier grants --active\n  dossier grants grant-k3j4m5n6p7q2r"
    )
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("Show this grant in full instead of listing.", valueName: "GRANT")) var id: String?
    @Flag(help: "Only active grants.") var active = false
    @Option(help: ArgumentHelp("Only grants naming this counsel.", valueName: "ID")) var counsel: String?
    @Flag(help: "Print a JSON array of objects, each with its id.") var json = false

    func run() throws {
        if let id {
            let g = try staff.session().grant(id)
            if json { JSONOutput.print(g) } else { printGrant(g) }
            return
        }
        let grants = try staff.session().listGrants(activeOnly: active, counsel: counsel)
        if json { JSONOutput.print(grants); return }
        Table.print(headers: ["ID", "STATE", "UNTIL", "DOCS", "COUNSEL", "ONLINE"], rows: grants.map {
            [$0.id, $0.state.rawValue, String($0.notAfter.prefix(16)), String($0.documents.count), $0.recipients.joined(separator: ","),
             onlineText($0)]
        })
    }
}
