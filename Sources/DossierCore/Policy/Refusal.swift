import Foundation

extension StaffSession.Sharing {
    /// Asks `AccessPolicy` about `request`; a denial is logged (a `deny` entry naming the rule,
    /// with `subjects` and what the denial concerns) and thrown. The one deny path of grant,
    /// approve and package; the key-release service logs in its own batch transaction.
    func authorise(_ request: AccessRequest, subjects: [String]) throws(DossierError) {
        guard case let .deny(denial) = AccessPolicy.decide(request) else { return }
        var all = subjects
        for s in denial.concerns where !all.contains(s) { all.append(s) }
        try write { tx in
            try AuditLog.append(tx, signer: identity, action: .deny, at: request.now, subjects: all,
                                details: [.init("rule", denial.rule.name), .init("request", request.operation.rawValue)])
        }
        throw denial.error
    }
}
