import DossierCrypto
import Foundation

extension Vault {
    /// The vault's current policy, as stored (for showing it; decisions read it through
    /// `SignedState`, which checks it against the log).
    public func policy() throws(DossierError) -> Policy {
        let text: String? = try read { tx in try tx.settingText(.policy) }
        guard let text else { throw .integrity("the vault has no policy; install one with `dossier policy set FILE`") }
        return try Policy.parse(text, source: "the vault's policy")
    }
}

/// What `policy set` and `policy approve` did.
public enum PolicyChange: Sendable {
    /// The policy is in force.
    case inForce(Policy)
    /// The change waits for more sign-offs: `have` of `needed`, under this SHA-256 (hex).
    case proposed(Policy, sha256: String, have: Int, needed: Int)
}

extension StaffSession.Sharing {
    /// Replaces the vault's policy after validating it. A change needs as many sign-offs as the
    /// strictest rule of the policy in force: with one, it takes effect at once (`policy-set`);
    /// otherwise it is proposed (`policy-propose`) and takes effect when enough other staff
    /// approve it (`policy approve`). Each step is logged with the text's SHA-256.
    public func setPolicy(_ text: String, source: String) throws(DossierError) -> PolicyChange {
        let policy = try Policy.parse(text, source: source)
        let state = try signedState("policy-set", subjects: [])
        try requireStaffRole(state)
        let sha = Hash.sha256(Data(text.utf8)).hex
        let needed = state.facts.policySignOffs(inForce: state.policyText)
        let now = vault.clock.now()
        let details: [AuditEntry.Detail] = [.init("sha256", sha), .init("approvals", String(policy.strictestApprovals))]
        if needed <= 1 {
            try write { tx in
                try tx.setSetting(.policy, text: text)
                try tx.setSetting(.policyProposed, text: "")
                try AuditLog.append(tx, signer: identity, action: .policySet, at: now, subjects: [], details: details)
            }
            return .inForce(policy)
        }
        try write { tx in
            try tx.setSetting(.policyProposed, text: text)
            try AuditLog.append(tx, signer: identity, action: .policyPropose, at: now, subjects: [],
                                details: details + [.init("approvals-needed", String(needed))])
        }
        return .proposed(policy, sha256: sha, have: 1, needed: needed)
    }

    /// The policy change waiting for sign-offs, if any: its text, SHA-256, who proposed it and
    /// the sign-offs it has and needs.
    public func proposedPolicy() throws(DossierError) -> (text: String, sha256: String, proposer: String, have: Int, needed: Int)? {
        try proposedPolicy(in: try signedState("policy-approve", subjects: []))
    }

    private func proposedPolicy(in state: SignedState) throws(DossierError) -> (text: String, sha256: String, proposer: String, have: Int, needed: Int)? {
        guard let p = state.facts.proposal else { return nil }
        let text: String = try read { tx in try tx.settingText(.policyProposed) ?? "" }
        guard Hash.sha256(Data(text.utf8)).hex == p.policy.sha256 else {
            throw .altered("the proposed policy's text is not the one proposed in the signed log (sha256 \(p.policy.sha256.prefix(16))…)")
        }
        return (text, p.policy.sha256, p.proposer, 1 + p.approvers.count, p.needed)
    }

    /// Signs off the proposed policy whose SHA-256 starts with `sha256` (at least 8 hex
    /// digits). The proposer cannot approve their own proposal, nor anyone twice.
    public func approvePolicy(_ sha256: String) throws(DossierError) -> PolicyChange {
        let prefix = sha256.lowercased()
        guard prefix.count >= 8, prefix.allSatisfy({ $0.isHexDigit }) else {
            throw .invalidArgument("'\(sha256)' is not a policy's SHA-256", hint: "give at least 8 hex digits, as `dossier policy show --proposed` prints them")
        }
        let state = try signedState("policy-approve", subjects: [])
        try requireStaffRole(state)
        guard let p = state.facts.proposal, p.policy.sha256.hasPrefix(prefix) else {
            throw .invalidArgument("no policy change \(sha256) is waiting for sign-offs", hint: "see `dossier policy show --proposed`")
        }
        if p.proposer == actor { throw .selfApproval(grant: "policy " + p.policy.sha256.prefix(16)) }
        if p.approvers.contains(actor) { throw .alreadyApproved(grant: "policy " + p.policy.sha256.prefix(16)) }
        guard let proposal = try proposedPolicy(in: state) else { throw .invalidArgument("no policy change is waiting for sign-offs") }
        let policy = try Policy.parse(proposal.text, source: "the proposed policy")
        let have = proposal.have + 1
        let now = vault.clock.now()
        try write { tx in
            if have >= p.needed {
                try tx.setSetting(.policy, text: proposal.text)
                try tx.setSetting(.policyProposed, text: "")
            }
            try AuditLog.append(tx, signer: identity, action: .policyApprove, at: now, subjects: [],
                                details: [.init("sha256", p.policy.sha256), .init("approvals", "\(have)/\(p.needed)")])
        }
        return have >= p.needed ? .inForce(policy) : .proposed(policy, sha256: p.policy.sha256, have: have, needed: p.needed)
    }

    func requireStaffRole(_ state: SignedState) throws(DossierError) {
        if state.facts.members[actor]?.role != .staff { throw .serviceIdentity(fingerprint: actor) }
    }
}
