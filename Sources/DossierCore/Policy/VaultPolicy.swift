import DossierCrypto
import Foundation

extension Vault {
    /// The vault's current policy.
    public func policy() throws(DossierError) -> Policy {
        let text: String? = try read { tx in try tx.settingText(.policy) }
        guard let text else { throw .integrity("the vault has no policy; install one with `dossier policy set FILE`") }
        return try Policy.parse(text, source: "the vault's policy")
    }
}

extension StaffSession.Sharing {
    /// Replaces the vault's policy after validating it; the change is logged with the text's hash.
    public func setPolicy(_ text: String, source: String) throws(DossierError) -> Policy {
        let policy = try Policy.parse(text, source: source)
        let now = vault.clock.now()
        try write { tx in
            try tx.setSetting(.policy, text: text)
            try AuditLog.append(tx, signer: identity, action: .policySet, at: now, subjects: [],
                                details: [.init("sha256", Hash.sha256(Data(text.utf8)).hex)])
        }
        return policy
    }
}
