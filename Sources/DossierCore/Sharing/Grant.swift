import DossierCrypto
import Foundation

/// Time-limited access to documents for named counsel.
public struct Grant: Codable, Sendable {
    public enum State: String, Codable, Sendable {
        case pending, active, revoked, expired
    }

    public let id: String
    public let createdAt: String
    public let createdBy: String
    public let notBefore: String
    public let notAfter: String
    public let state: State
    public let approvalsNeeded: Int
    /// Staff who signed off, the grantor first.
    public let approvedBy: [String]
    public let documents: [String]
    public let recipients: [String]
    public let caseReference: String?
    public let purpose: String?
    public let revokedAt: String?
    /// The key-release service its packages use by default (`grant --online`), if any.
    public let onlineURL: String?
    /// Most openings per recipient through the key-release service; 0 = no limit.
    public let maxOpens: Int
}

/// What a grant asks for.
public struct GrantRequest: Sendable {
    public enum Window: Sendable {
        case policyDefault
        case duration(seconds: Int)
        case until(Date)
    }

    public var documents: [String]
    public var counsel: [String]
    public var window: Window
    public var caseReference: String?
    public var purpose: String?
    /// The key-release service for its packages: they cannot be opened without it.
    public var online: String?
    /// Most openings per recipient through the service (at most what the policy allows).
    public var maxOpens: Int?
    /// The request from counsel this grant answers (`grant --answer`): recorded in the same
    /// transaction as the grant (`request-answer`), so that its packages name the request.
    public var answering: String?

    public init(documents: [String], counsel: [String], window: Window = .policyDefault, caseReference: String? = nil, purpose: String? = nil,
                online: String? = nil, maxOpens: Int? = nil, answering: String? = nil) {
        self.answering = answering
        self.documents = documents
        self.counsel = counsel
        self.window = window
        self.caseReference = caseReference
        self.purpose = purpose
        self.online = online
        self.maxOpens = maxOpens
    }
}

struct GrantDetails: Codable {
    var caseReference: String?
    var purpose: String?
}

extension StaffSession.Sharing {
    /// Checks the policy and records a grant: active at once, or pending until enough other
    /// staff approve. A denial is logged, then thrown as `.policyDenied` naming the rule.
    public func grant(_ request: GrantRequest) throws(DossierError) -> Grant {
        guard !request.documents.isEmpty else { throw .invalidArgument("name at least one document to grant") }
        try request.checkWithoutVault()
        try OnlineURL.check(request.online)
        if let n = request.maxOpens {
            guard (1...1_000_000).contains(n) else { throw .invalidArgument("an open limit of \(n) is out of range", hint: "give --max-opens between 1 and 1000000") }
        }
        let now = vault.clock.now()
        var docs: [Document] = []
        for id in request.documents {
            let d = try session.documents.document(id)
            if !docs.contains(where: { $0.id == d.id }) { docs.append(d) }
        }
        var recipients: [Counsel] = []
        for id in request.counsel {
            let c = try counsel(id)
            if !recipients.contains(where: { $0.id == c.id }) { recipients.append(c) }
        }
        let subjects = docs.map { "doc:" + $0.id } + recipients.map { "counsel:" + $0.id }
        // The documents' kinds, the counsel's standing and the policy are those the log signed.
        let policy = try signedState("grant", subjects: subjects, documents: docs.map(\.id), counsel: recipients.map(\.id)).policy
        let notAfter: Date
        switch request.window {
        case .policyDefault:
            let seconds = docs.map { policy.rule(for: $0.kind).defaultWindow }.min() ?? 86400
            notAfter = now.addingTimeInterval(Double(seconds))
        case let .duration(seconds):
            notAfter = now.addingTimeInterval(Double(seconds))
        case let .until(date):
            guard date > now else { throw .invalidArgument("the end of the window, \(Timestamp.format(date)), is in the past") }
            notAfter = date
        }
        try authorise(.grant(now: now, policy: policy, documents: docs.map(\.accessFacts), recipients: recipients.map(\.accessFacts),
                             notAfter: notAfter, online: request.online, maxOpens: request.maxOpens), subjects: subjects)

        let needed = docs.map { policy.rule(for: $0.kind).approvals }.max() ?? 1
        // The strictest limit of the policy's, unless the grant asks for a lower one.
        let policyLimit = policy.openLimit(for: docs.map(\.kind))
        let maxOpens = request.online == nil ? 0 : (request.maxOpens ?? policyLimit)
        let id = Identifier.make(prefix: "grant", random: vault.random)
        let details = try sealJSON(GrantDetails(caseReference: request.caseReference, purpose: request.purpose), purpose: .grant, id: id)
        let stamp = Timestamp.format(now)
        if let r = request.answering {
            // Refused before anything is written: a request that is not open, or whose sender is not a recipient.
            _ = try session.requests.request(r)
        }
        try write { tx in
            let answering = try request.answering.map { r throws(DossierError) in (r, try session.requests.openFact(tx, request: r)) }
            try tx.insertGrant(GrantRecord(
                id: id, createdAt: stamp, createdBy: actor, notBefore: stamp, notAfter: Timestamp.format(notAfter), approvalsNeeded: needed,
                state: needed > 1 ? "pending" : "active", detailsSealed: details, onlineURL: request.online, maxOpens: maxOpens,
                documents: docs.map(\.id), recipients: recipients.map(\.id), approvers: []))
            try AuditLog.append(tx, signer: identity, action: .grant, at: now, subjects: ["grant:" + id] + subjects,
                                details: [.init("not-before", stamp), .init("not-after", Timestamp.format(notAfter)),
                                          .init("approvals-needed", String(needed))]
                                    + (request.online.map { [.init("online", $0), .init("max-opens", String(maxOpens))] } ?? []))
            if let (r, fact) = answering {
                try session.requests.recordAnswer(tx, request: r, fact: fact, grant: id, recipients: recipients.map(\.fingerprint), at: now)
            }
        }
        return try grant(id)
    }

    /// Approves a pending grant; the grantor cannot approve their own. A refusal is logged.
    public func approve(_ id: String) throws(DossierError) -> Grant {
        let g = try storedGrant(id)
        let now = vault.clock.now()
        let state = try signedState("approve", subjects: ["grant:" + id], grant: id)
        guard let signed = state.facts.grants[id] else { throw .unknownGrant(id: id) }
        if state.facts.members[actor]?.role != .staff { throw .serviceIdentity(fingerprint: actor) }
        try authorise(.approve(now: now, grant: state.facts.accessFacts(grant: signed), actor: actor), subjects: ["grant:" + id])
        try write { tx in
            try tx.insertApproval(grant: id, staff: actor, at: Timestamp.format(now))
            let count = 1 + (try tx.grant(id)?.approvers.count ?? 0)
            let done = count >= g.approvalsNeeded
            if done { try tx.activateGrant(id) }
            // The approval signs the grant's exact terms: the hash of the entry that made it.
            try AuditLog.append(tx, signer: identity, action: .approve, at: now, subjects: ["grant:" + id],
                                details: [.init("approvals", "\(count)/\(g.approvalsNeeded)"), .init("grant-sha256", signed.termsHash)])
        }
        return try grant(id)
    }

    /// Revokes a grant: no package can be made from it any more.
    public func revoke(_ id: String, reason: String) throws(DossierError) -> Grant {
        let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw .invalidArgument("a revocation needs a reason", hint: "say why with --reason TEXT (stored sealed, for staff)") }
        // Whether it stands is the log's to say; revoking is allowed even when its row was
        // edited (the safe direction), and the edit stays for `doctor` to report.
        let fact: SignedFacts.GrantFact? = try read { tx in try signedFacts(tx).grants[id] }
        guard let fact else { throw .unknownGrant(id: id) }
        if fact.revoked { throw .grantNotActive(id: id, state: "already revoked") }
        let now = vault.clock.now()
        let sealed = try Sealing.seal(Data(trimmed.utf8), purpose: .grant, id: id + "/revocation", vaultKey: vaultKey, random: vault.random)
        try write { tx in
            try tx.revokeGrant(id, at: Timestamp.format(now), by: actor, reasonSealed: sealed)
            try AuditLog.append(tx, signer: identity, action: .revoke, at: now, subjects: ["grant:" + id])
        }
        if let shown = try? grant(id) { return shown }
        return try storedGrant(id)
    }

    /// One grant, as the signed log has it: its state and sign-offs are the log's (an approval
    /// counts while its signer is staff, as decisions count it); a row that differs from the
    /// log is refused (`altered`).
    public func grant(_ id: String) throws(DossierError) -> Grant {
        let (row, facts): (GrantRecord?, SignedFacts) = try read { tx in (try tx.grant(id), try signedFacts(tx)) }
        try facts.check(grant: id, row)
        guard let row, let fact = facts.grants[id] else { throw .unknownGrant(id: id) }
        return try makeGrant(row, signed: facts.accessFacts(grant: fact))
    }

    /// Grants, newest first; optionally only active ones, or only those naming a counsel. Each
    /// row is checked against the signed log, as `grant` does.
    public func listGrants(activeOnly: Bool = false, counsel: String? = nil) throws(DossierError) -> [Grant] {
        let counselID = try counsel.map { c throws(DossierError) in try self.counsel(c).id }
        let (rows, all, facts): ([GrantRecord], [GrantRecord], SignedFacts) = try read { tx in
            (try tx.grants(naming: counselID), try tx.grants(naming: nil), try signedFacts(tx))
        }
        // Every grant the log made has its row, and every row its entry.
        var ids = Set(facts.grants.keys)
        for r in all { ids.insert(r.id) }
        for id in ids.sorted() { try facts.check(grant: id, all.first { $0.id == id }) }
        var out: [Grant] = []
        for row in rows {
            guard let fact = facts.grants[row.id] else { throw .altered("grant \(row.id) is in the vault but no signed entry made it") }
            let g = try makeGrant(row, signed: facts.accessFacts(grant: fact))
            if !activeOnly || g.state == .active { out.append(g) }
        }
        return out
    }

    /// The grant's row as stored, unchecked: what a decision reads before `signedState` compares
    /// it with the log (and logs the refusal when they differ). Never shown as the grant's state.
    func storedGrant(_ id: String) throws(DossierError) -> Grant {
        guard let row = try read({ tx in try tx.grant(id) }) else { throw .unknownGrant(id: id) }
        let signed = AccessRequest.GrantFacts(id: id, state: row.state, createdBy: row.createdBy, notBefore: row.notBefore, notAfter: row.notAfter,
                                              approvalsNeeded: row.approvalsNeeded, approvedBy: [row.createdBy] + row.approvers,
                                              onlineURL: row.onlineURL, maxOpens: row.maxOpens)
        return try makeGrant(row, signed: signed)
    }

    /// A grant's row with its state and sign-offs from the signed log (`signed`).
    func makeGrant(_ row: GrantRecord, signed: AccessRequest.GrantFacts) throws(DossierError) -> Grant {
        let id = row.id
        let details: GrantDetails = try openJSON(row.detailsSealed, purpose: .grant, id: id)
        var state = Grant.State(rawValue: signed.state) ?? .revoked
        if state != .revoked, let end = Timestamp.parse(signed.notAfter), end < vault.clock.now() { state = .expired }
        return Grant(id: id, createdAt: row.createdAt, createdBy: row.createdBy, notBefore: row.notBefore,
                     notAfter: row.notAfter, state: state, approvalsNeeded: row.approvalsNeeded,
                     approvedBy: signed.approvedBy ?? [row.createdBy], documents: row.documents, recipients: row.recipients,
                     caseReference: details.caseReference, purpose: details.purpose, revokedAt: row.revokedAt,
                     onlineURL: row.onlineURL, maxOpens: row.maxOpens)
    }
}
