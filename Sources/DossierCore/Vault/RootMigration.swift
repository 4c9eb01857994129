import DossierCrypto
import Foundation

/// What `org migrate-root` did.
public struct RootMigration: Sendable {
    public let previous: OrganisationKey
    public let root: OrganisationKey
    /// The certificates issued to current staff.
    public let certificates: [Certificate]
}

extension StaffSession.Staff {
    /// Moves a vault that keeps its organisation key inside it (made before the root was kept
    /// apart) to a root kept outside: the vault's organisation key becomes `root`'s public half,
    /// the sealed organisation secret is deleted and purged from the vault's files (as a
    /// rotation purges the old vault key, vault.md section 8.5), every current staff member is
    /// certified by the new root for `validity`, the intake key is certified by it (a year and a
    /// day), and all of it is logged (`root-migrate`, then
    /// one `certify` per member) in one transaction. Counsel and auditors must pin the new
    /// root's fingerprint; packages and checkpoints signed by the old key remain what they were.
    public func migrateRoot(to root: OrganisationRoot, validity: TimeInterval = Certificate.defaultValidity) throws(DossierError) -> RootMigration {
        guard try vault.organisationKeyInVault() else { throw .rootAlreadyOffline }
        guard validity > 0, validity <= Certificate.longestValidity else {
            throw .invalidArgument("a certificate is valid for between a second and \(Int(Certificate.longestValidity / 86400)) days")
        }
        let org = try vault.organisation()
        let previous = try OrganisationKey(line: org.publicKey)
        guard previous != root.key else { throw .invalidArgument("the new root must be a new key") }
        let now = vault.clock.now()
        let random = vault.random
        return try session.writeReplacingSecrets { tx in
            try tx.setSetting(.organisationKey, text: root.key.line)
            try tx.deleteSetting(.organisationSecretSealed)
            try AuditLog.append(tx, signer: identity, action: .rootMigrate, at: now, subjects: ["org:" + root.key.fingerprint],
                                details: [.init("organisation-key", root.key.line), .init("previous-organisation-key", previous.line)])
            // The intake key, if any, is certified by the new root (the old certificate no longer checks).
            if let line = try tx.settingText(.intakeKey) {
                try IntakeKeys.storeCertificate(tx, IntakeCertificate.issue(by: root, organisation: org.name, intake: try IntakeKey(line: line), notBefore: now))
            }
            var issued: [Certificate] = []
            for member in try tx.allStaff() where member.removedAt == nil {
                let c = Certificate.issue(by: root, organisation: org.name, subject: try PublicIdentity(line: member.publicLine), role: .staff,
                                          notBefore: now, validity: validity, random: random)
                try Certification.record(tx, c, signer: identity, at: now)
                issued.append(c)
            }
            return RootMigration(previous: previous, root: root.key, certificates: issued)
        }
    }
}
