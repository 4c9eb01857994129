import DossierCore

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
