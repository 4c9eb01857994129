import ArgumentParser
import DossierCore
import Foundation

/// `dossier requests show`.
struct RequestsShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one request: who, what, for which court and hearing, the message, the attachments.",
        discussion: """
        The request file kept in the vault is verified again before anything is shown. Text from counsel (the message included) is shown with control and bidirectional characters made visible. Save an attachment with `dossier requests save R ATTACHMENT -o FILE`.
        """
    )
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("The request id (req-...).", valueName: "REQUEST")) var id: String
    @Flag(help: "Print a JSON object: the summary, `message`, and `attachmentList` (name and size of each).") var json = false

    struct Output: Encodable {
        let request: InboxRequest
        let message: String
        let attachmentList: [RequestAttachment]
    }

    func run() throws {
        let c = try staff.session().requests.show(id)
        if json { JSONOutput.print(Output(request: c.request, message: c.message, attachmentList: c.attachments)); return }
        let r = c.request
        func field(_ label: String, _ value: String) { printField(label, value, width: 14) }
        field("id", r.id)
        field("state", r.state.rawValue)
        field("received", r.receivedAt)
        field("written", r.created)
        field("sender", r.senderFingerprint)
        field("counsel", r.counsel.map { "\($0.name) (\($0.counselID))" } ?? "not registered")
        field("identity", r.senderIdentity)
        field("need", r.need.rawValue)
        field("languages", r.languages.joined(separator: ", "))
        if let j = r.jurisdiction { field("jurisdiction", j) }
        if let court = r.court { field("court", court) }
        if let k = r.caseReference { field("case", k) }
        if let h = r.hearing { field("hearing", h) }
        if let a = r.assignedTo { field("assigned to", a) }
        if let g = r.grant { field("answered by", g) }
        if let reason = r.declineReason { field("declined", reason) }
        if let t = r.closedAt { field("closed", t) }
        if c.attachments.isEmpty {
            field("attachments", "none")
        } else {
            for (i, a) in c.attachments.enumerated() { field(i == 0 ? "attachments" : "", "\(i + 1). \(a.name) (\(Table.size(a.size)))") }
        }
        print("message:")
        // "\r\n" is one Character in Swift: split on both line ends, or a CRLF message shows as one line.
        var lines = c.message.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
        if lines.last == "" { lines.removeLast() }
        for line in lines { print("  " + Terminal.visible(String(line))) }
    }
}
