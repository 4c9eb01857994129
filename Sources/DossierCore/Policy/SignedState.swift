import DossierCrypto
import Foundation

/// The facts a decision rests on, as the signed log records them, with the rows it reads
/// checked against them in the same snapshot (docs/formats/vault.md, section 6.6).
struct SignedState {
    let facts: SignedFacts
    let policy: Policy
    /// The policy text in force (its SHA-256 is the one the log signed).
    let policyText: String

    /// Reads the log and the rows in one snapshot; throws `.altered` naming the first row that
    /// differs from the signed facts.
    static func read(_ tx: any StoreTransaction, documents: [String] = [], counsel: [String] = [], grant: String? = nil,
                     facts load: (any StoreTransaction) throws -> SignedFacts) throws -> SignedState {
        let facts = try load(tx)
        guard let text = try tx.settingText(.policy) else { throw DossierError.altered("the vault has no policy") }
        try facts.check(policyText: text)
        for id in documents { try facts.check(document: id, try tx.document(id)) }
        for id in counsel { try facts.check(counsel: id, try tx.counsel(ids: [id]).first) }
        if let grant { try facts.check(grant: grant, try tx.grant(grant)) }
        return SignedState(facts: facts, policy: try Policy.parse(text, source: "the vault's policy"), policyText: text)
    }
}

extension StaffSession.Sharing {
    /// `SignedState.read` for the acting staff member. A row that differs from the signed log
    /// is refused: the refusal is logged (`deny`, rule `stored.altered`, naming `subjects`),
    /// then thrown (exit 3).
    func signedState(_ request: String, subjects: [String], documents: [String] = [], counsel: [String] = [],
                     grant: String? = nil) throws(DossierError) -> SignedState {
        do {
            return try read { tx in try SignedState.read(tx, documents: documents, counsel: counsel, grant: grant, facts: signedFacts) }
        } catch .altered(let message) {
            try? write { tx in
                try AuditLog.append(tx, signer: identity, action: .deny, at: vault.clock.now(), subjects: subjects,
                                    details: [.init("rule", SignedFacts.alteredRule), .init("request", request)])
            }
            throw .altered(message)
        }
    }
}

extension SignedFacts {
    /// The rule a refusal names when a row differs from the signed log.
    static let alteredRule = "stored.altered"
}
