import Foundation

/// The one access decision: may this grant, approval, package or key release happen now, and
/// if not, which rule refuses it. Pure: it reads only its `AccessRequest` (time included), so
/// grant, approve, package and the key-release service refuse the same fact with the same rule.
///
/// The rules are checked in this order, each only for the operations it concerns, and the
/// first that fails is the answer (docs/policy-reference.md, "The order of the rules"):
///
/// 1. the grant's state: `stored.unknown_state`, `grant.revoked`, `grant.active` (approve),
///    `grant.expired` (as `Grant` reports it), `grant.pending` (package, release; also an
///    active grant with fewer distinct sign-offs than it needs);
/// 2. stored times: `stored.unreadable_time` for the grant's not-before and not-after, then
///    each recipient's vetted-until and suspended-at;
/// 3. the window: `grant.not_yet_valid`, `grant.expired` (both ends are inside);
/// 4. approvals (approve): `approval.own_grant`, `approval.repeated`;
/// 5. the documents, in order: `document.removed`, `stored.unknown_kind`;
/// 6. `counsel.suspended`, recipients in order;
/// 7. for each document in order, its kind's `kinds.KIND.max_window`, `max_recipients`,
///    `require_online`, `max_opens` (grant), `require_online` (package) and `require_vetted`;
/// 8. `grant.max_opens` (release).
public enum AccessPolicy {
    /// Allows `request`, or names the first rule, in the order above, that refuses it.
    public static func decide(_ request: AccessRequest) -> AccessDecision {
        let r = request
        let checks: [(AccessRequest) -> AccessDenial?] = [grantState, storedTimes, window, approval, documents, suspension, kinds, openLimit]
        for check in checks {
            if let denial = check(r) { return .deny(denial) }
        }
        return .allow
    }

    // MARK: The rules, in order

    private static func grantState(_ r: AccessRequest) -> AccessDenial? {
        guard let g = r.grant else { return nil }
        switch (g.state, r.operation) {
        case ("revoked", _):
            return deny(.grantRevoked, "grant \(g.id) was revoked", hint: "make a new grant if access is still needed",
                        error: .grantNotActive(id: g.id, state: "revoked"))
        case ("active", .approve):
            return deny(.grantActive, "grant \(g.id) is already active", hint: "it needs no more approvals",
                        error: .grantNotActive(id: g.id, state: "already active"))
        case ("expired", _):
            return expired(g)
        case ("pending", .approve):
            return nil
        case ("pending", _):
            return pending(g)
        case ("active", _):
            if let approvers = g.approvedBy, Set(approvers).count < g.approvalsNeeded { return pending(g) }
            return nil
        default:
            return deny(.unknownState, "grant \(g.id) has a stored state this program does not know",
                        hint: "upgrade dossier, or check the vault with `dossier audit verify` and `dossier doctor`")
        }
    }

    private static func storedTimes(_ r: AccessRequest) -> AccessDenial? {
        let hint = "the vault may have been edited outside dossier: check it with `dossier audit verify` and `dossier doctor`"
        if let g = r.grant {
            for (field, text) in [(AccessRule.StoredTime.grantNotBefore, g.notBefore), (.grantNotAfter, g.notAfter)] where Timestamp.parse(text) == nil {
                return deny(.unreadableTime(field), "the stored \(field.rawValue) of grant \(g.id) does not read as a time", hint: hint)
            }
        }
        for c in r.recipients {
            for (field, text) in [(AccessRule.StoredTime.counselVettedUntil, c.vettedUntil), (.counselSuspendedAt, c.suspendedAt)] {
                if let text, Timestamp.parse(text) == nil {
                    return deny(.unreadableTime(field), "the stored \(field.rawValue) of counsel \(c.id) does not read as a time", hint: hint,
                                concerns: ["counsel:" + c.id])
                }
            }
        }
        return nil
    }

    private static func window(_ r: AccessRequest) -> AccessDenial? {
        guard let g = r.grant, let start = Timestamp.parse(g.notBefore), let end = Timestamp.parse(g.notAfter) else { return nil }
        if r.now < start {
            return deny(.grantNotYetValid, "grant \(g.id) is not valid before \(g.notBefore)", hint: "wait until its window starts",
                        error: .grantNotActive(id: g.id, state: "not valid before \(g.notBefore)"))
        }
        if r.now > end { return expired(g) }
        return nil
    }

    private static func approval(_ r: AccessRequest) -> AccessDenial? {
        guard r.operation == .approve, let g = r.grant, let actor = r.actor else { return nil }
        if g.createdBy == actor {
            return deny(.approvalOwnGrant, "you created grant \(g.id)", hint: "another staff member must approve it (two-person rule)",
                        error: .selfApproval(grant: g.id))
        }
        if g.approvedBy?.contains(actor) ?? false {
            return deny(.approvalRepeated, "you have already approved grant \(g.id)", hint: "another staff member must approve it",
                        error: .alreadyApproved(grant: g.id))
        }
        return nil
    }

    private static func documents(_ r: AccessRequest) -> AccessDenial? {
        for d in r.documents {
            if d.isRemoved, let id = d.id {
                return deny(.documentRemoved, "document \(id) was removed (crypto-shredded)", hint: "grant the other documents in a new grant",
                            concerns: ["doc:" + id], error: .documentRemoved(id: id))
            }
            if d.kind == nil {
                return deny(.unknownKind, "document \(d.id ?? "of the grant") has a stored kind this program does not know",
                            hint: "upgrade dossier, or check the vault with `dossier doctor`", concerns: d.id.map { ["doc:" + $0] } ?? [])
            }
        }
        return nil
    }

    private static func suspension(_ r: AccessRequest) -> AccessDenial? {
        guard let c = r.recipients.first(where: { $0.suspendedAt != nil }) else { return nil }
        let since = c.suspendedAt.map { " since \($0.prefix(10))" } ?? ""
        return deny(.counselSuspended, "counsel \(c.id) is suspended\(since)",
                    hint: "vetting them again lifts the suspension: `dossier counsel vet \(c.id) --until DATE`", concerns: ["counsel:" + c.id])
    }

    private static func kinds(_ r: AccessRequest) -> AccessDenial? {
        guard let policy = r.policy, r.operation != .approve else { return nil }
        for d in r.documents {
            guard let kind = d.kind else { continue }
            let rule = policy.rule(for: kind)
            let doc = d.id.map { ["doc:" + $0] } ?? []
            let a = kind.rawValue
            if r.operation == .grant, let end = r.notAfter {
                let window = end.timeIntervalSince(r.now)
                // Half a second of slack: a window given as a date is not a whole number of seconds.
                if window > Double(rule.maxWindow) + 0.5 {
                    let limit = WindowDuration.format(rule.maxWindow)
                    return deny(.kind(kind, .maxWindow),
                                "a \(a) may be shared for at most \(limit); this grant asks for \(WindowDuration.format(Int(window.rounded(.up)) / 60 * 60))",
                                hint: "ask for \(limit) or less with --for or --until", concerns: doc)
                }
                if r.recipients.count > rule.maxRecipients {
                    return deny(.kind(kind, .maxRecipients), "a \(a) may go to at most \(rule.maxRecipients) counsel; this grant names \(r.recipients.count)",
                                hint: "make separate grants of at most \(rule.maxRecipients) counsel each", concerns: doc)
                }
            }
            if r.operation == .grant || r.operation == .package, rule.requireOnline, r.online == nil {
                return deny(.kind(kind, .requireOnline), "a \(a) may only be shared through the online key-release service",
                            hint: "give --online URL", concerns: doc)
            }
            if r.operation == .grant, rule.maxOpens > 0, r.online != nil, let n = r.maxOpens, n > rule.maxOpens {
                return deny(.kind(kind, .maxOpens), "a \(a) may be opened at most \(rule.maxOpens) times per counsel; this grant asks for \(n)",
                            hint: "give --max-opens \(rule.maxOpens) or less, or leave it out for the policy's limit", concerns: doc)
            }
            if rule.requireVetted, let denial = vetting(r, kind: kind, doc: doc) { return denial }
        }
        return nil
    }

    /// Counsel must be vetted until the end of what the operation hands out: the window's end for
    /// a grant or a package (which cannot be taken back), the moment of opening for a release.
    private static func vetting(_ r: AccessRequest, kind: DocumentKind, doc: [String]) -> AccessDenial? {
        let through: Date
        let when: String
        switch r.operation {
        case .grant:
            guard let end = r.notAfter else { return nil }
            (through, when) = (end, "until the window ends (\(Timestamp.format(end)))")
        case .package:
            guard let end = r.grant.flatMap({ Timestamp.parse($0.notAfter) }) else { return nil }
            (through, when) = (end, "until the window ends (\(Timestamp.format(end)))")
        case .release:
            (through, when) = (r.now, "when they open it")
        case .approve:
            return nil
        }
        for c in r.recipients {
            let until = c.vettedUntil.flatMap { Timestamp.parse($0) }
            if let until, until >= through { continue }
            let status: String
            if let until, let text = c.vettedUntil {
                status = until < r.now ? "vetting expired \(text.prefix(10))" : "vetted until \(text.prefix(10))"
            } else {
                status = "not vetted"
            }
            return deny(.kind(kind, .requireVetted), "counsel \(c.id) is \(status), and must be vetted \(when) to receive a \(kind.rawValue)",
                        hint: "vet them with `dossier counsel vet \(c.id) --until DATE`" + (r.operation == .release ? "" : ", or choose a shorter window"),
                        concerns: doc + ["counsel:" + c.id])
        }
        return nil
    }

    private static func openLimit(_ r: AccessRequest) -> AccessDenial? {
        guard r.operation == .release, let g = r.grant, g.maxOpens > 0, r.opened >= g.maxOpens else { return nil }
        let who = r.recipients.first.map { "counsel \($0.id)" } ?? "the counsel"
        return deny(.grantMaxOpens, "\(who) has opened grant \(g.id) \(r.opened) times, as often as it allows (\(g.maxOpens))",
                    hint: "make a new grant if they need more openings")
    }

    // MARK: Denials

    private static func expired(_ g: AccessRequest.GrantFacts) -> AccessDenial {
        deny(.grantExpired, "grant \(g.id) expired: its window ended \(g.notAfter)", hint: "make a new grant if access is still needed",
             error: .grantNotActive(id: g.id, state: "expired (its window ended \(g.notAfter))"))
    }

    private static func pending(_ g: AccessRequest.GrantFacts) -> AccessDenial {
        let have = Set(g.approvedBy ?? []).count
        let state = "pending approval (\(have) of \(g.approvalsNeeded) sign-offs; another staff member must run `dossier approve \(g.id)`)"
        return deny(.grantPending, "grant \(g.id) is \(state)", hint: "another staff member must run `dossier approve \(g.id)`",
                    error: .grantNotActive(id: g.id, state: state))
    }

    /// A denial; unless another error is given, the domain throws `.policyDenied` with the
    /// message and the hint.
    private static func deny(_ rule: AccessRule, _ message: String, hint: String, concerns: [String] = [],
                             error: DossierError? = nil) -> AccessDenial {
        AccessDenial(rule: rule, message: message, hint: hint, concerns: concerns,
                     error: error ?? .policyDenied(rule: rule.name, message: message, hint: hint))
    }
}
