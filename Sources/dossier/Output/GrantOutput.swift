import DossierCore

/// `URL (at most N openings)`, or `-` for an offline grant.
func onlineText(_ g: Grant) -> String {
    guard let url = g.onlineURL else { return "-" }
    return g.maxOpens > 0 ? "\(url) (at most \(g.maxOpens) openings)" : url
}

func printGrant(_ g: Grant) {
    func field(_ label: String, _ value: String) { printField(label, value, width: 12) }
    field("id", g.id)
    field("state", "\(g.state.rawValue)\(g.state == .pending ? " (\(g.approvedBy.count) of \(g.approvalsNeeded) sign-offs)" : "")")
    field("window", "\(g.notBefore) to \(g.notAfter)")
    field("documents", g.documents.joined(separator: ", "))
    field("counsel", g.recipients.joined(separator: ", "))
    field("created by", "\(g.createdBy) at \(g.createdAt)")
    if g.approvedBy.count > 1 { field("approved", g.approvedBy.dropFirst().joined(separator: ", ")) }
    if let c = g.caseReference { field("case", c) }
    if let p = g.purpose { field("purpose", p) }
    if let r = g.revokedAt { field("revoked", r) }
    if g.onlineURL != nil { field("online", "\(onlineText(g)) per counsel") }
}
