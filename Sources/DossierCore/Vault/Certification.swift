import DossierCrypto
import Foundation

/// A certificate as the vault holds it, with what a reader makes of it now.
public struct CertificateStatus: Sendable {
    public enum State: String, Sendable, Codable {
        case valid
        case notYetValid = "not-yet-valid"
        case expired
        case revoked
        /// The stored bytes do not parse, or are not signed by this vault's organisation root.
        case invalid
    }

    public let serial: String
    public let fingerprint: String
    public let sha256: String
    public let issuedAt: String
    public let revokedAt: String?
    /// Nil when the stored bytes do not parse.
    public let certificate: Certificate?
    public let state: State
}

/// Certificates by the organisation root: issuing (`org certify`, and `init` for the founder),
/// listing, revoking (`staff remove`), and finding the one a member signs under.
enum Certification {
    /// Stores `certificate` and logs a `certify` entry signed by `signer` (vault.md section 6.3).
    static func record(_ tx: any StoreTransaction, _ certificate: Certificate, signer: SecretIdentity, at now: Date) throws {
        try tx.insertCertificate(CertificateRecord(serial: certificate.serial, fingerprint: certificate.fingerprint, sha256: certificate.sha256,
                                                   certificate: certificate.bytes, issuedAt: Timestamp.format(now), revokedAt: nil))
        try AuditLog.append(tx, signer: signer, action: .certify, at: now, subjects: ["staff:" + certificate.fingerprint],
                            details: [.init("serial", certificate.serial), .init("role", certificate.role.rawValue),
                                      .init("not-before", certificate.notBefore), .init("not-after", certificate.notAfter),
                                      .init("certificate-sha256", certificate.sha256), .init("certificate", certificate.line)])
    }

    /// Revokes every certificate of `fingerprint` not yet revoked, one `certificate-revoke`
    /// entry each. Runs inside the removal's transaction.
    static func revokeAll(_ tx: any StoreTransaction, fingerprint: String, signer: SecretIdentity, at now: Date, reason: String) throws {
        for r in try tx.certificates(of: fingerprint) where r.revokedAt == nil {
            try tx.revokeCertificate(serial: r.serial, at: Timestamp.format(now))
            try AuditLog.append(tx, signer: signer, action: .certificateRevoke, at: now, subjects: ["staff:" + fingerprint],
                                details: [.init("serial", r.serial), .init("certificate-sha256", r.sha256), .init("reason", reason)])
        }
    }

    /// What `record` says, checked against the vault's organisation key: storage is hostile.
    static func status(_ r: CertificateRecord, root: OrganisationKey, organisation: String, at now: Date) -> CertificateStatus {
        guard let c = try? Certificate.parse(r.certificate), c.sha256 == r.sha256, c.serial == r.serial, c.fingerprint == r.fingerprint,
              (try? c.check(root: root, organisation: organisation, role: nil, at: nil, context: "the vault")) != nil else {
            return CertificateStatus(serial: r.serial, fingerprint: r.fingerprint, sha256: r.sha256, issuedAt: r.issuedAt, revokedAt: r.revokedAt,
                                     certificate: nil, state: .invalid)
        }
        let state: CertificateStatus.State
        if r.revokedAt != nil {
            state = .revoked
        } else {
            switch c.validity(at: now) {
            case .valid: state = .valid
            case .expired: state = .expired
            case .notYetValid: state = .notYetValid
            }
        }
        return CertificateStatus(serial: r.serial, fingerprint: r.fingerprint, sha256: r.sha256, issuedAt: r.issuedAt, revokedAt: r.revokedAt,
                                 certificate: c, state: state)
    }

    /// The certificate `fingerprint` signs under now with `role`: of those valid now and not
    /// revoked, the one valid longest. Nil if there is none.
    static func current(_ tx: any StoreTransaction, fingerprint: String, role: Certificate.Role, root: OrganisationKey, organisation: String,
                        at now: Date) throws -> Certificate? {
        try tx.certificates(of: fingerprint)
            .map { status($0, root: root, organisation: organisation, at: now) }
            .filter { $0.state == .valid && $0.certificate?.role == role }
            .compactMap(\.certificate)
            .max { $0.notAfter < $1.notAfter }
    }
}

extension Vault {
    /// Whether the vault still holds the organisation's signing key sealed inside it (a vault
    /// made before the root was kept apart, not yet migrated with `org migrate-root`).
    public func organisationKeyInVault() throws(DossierError) -> Bool {
        try read { tx in try tx.settingData(.organisationSecretSealed) != nil }
    }

    /// Refuses a root file whose key is not this vault's organisation key.
    func requireRoot(_ root: OrganisationRoot, path: String) throws(DossierError) {
        let org = try organisation()
        guard root.key.line == org.publicKey else {
            throw .wrongRoot(path: path, expected: org.fingerprint, found: root.key.fingerprint)
        }
    }
}

extension StaffSession.Staff {
    /// Certifies a current staff member's (or the key-release service's) identity with the
    /// organisation root for `validity` seconds from now; certifying again renews. Logged as a
    /// `certify` entry signed by the acting member. `rootPath` names the root file in errors.
    public func certify(_ id: String, root: OrganisationRoot, rootPath: String, role: Certificate.Role = .staff,
                        validity: TimeInterval = Certificate.defaultValidity) throws(DossierError) -> Certificate {
        guard let fp = Fingerprint.normalise(id) else { throw .unknownStaff(id: id) }
        guard validity > 0, validity <= Certificate.longestValidity else {
            throw .invalidArgument("a certificate is valid for between a second and \(Int(Certificate.longestValidity / 86400)) days",
                                   hint: "give e.g. --for 30d")
        }
        try vault.requireRoot(root, path: rootPath)
        let org = try vault.organisation()
        let now = vault.clock.now()
        return try write { tx in
            guard let member = try tx.staffMember(fp), member.removedAt == nil else { throw DossierError.unknownStaff(id: fp) }
            let subject = try PublicIdentity(line: member.publicLine)
            let c = Certificate.issue(by: root, organisation: org.name, subject: subject, role: role, notBefore: now, validity: validity,
                                      random: vault.random)
            try Certification.record(tx, c, signer: identity, at: now)
            return c
        }
    }

    /// Every certificate the vault holds, oldest first, each checked against the organisation
    /// root and the clock.
    public func certificates() throws(DossierError) -> [CertificateStatus] {
        try vault.certificates()
    }
}

extension Vault {
    /// Every certificate the vault holds, oldest first, each checked against the organisation
    /// key and the clock. Certificates are public: no secret is needed.
    public func certificates() throws(DossierError) -> [CertificateStatus] {
        let org = try organisation()
        let root = try OrganisationKey(line: org.publicKey)
        let now = clock.now()
        return try read { tx in try tx.allCertificates() }.map { Certification.status($0, root: root, organisation: org.name, at: now) }
    }
}

extension StaffSession {
    /// The acting member's certificate valid now, for signing packages and checkpoints as the
    /// organisation; `noCurrentCertificate` if there is none.
    func currentCertificate(role: Certificate.Role = .staff) throws(DossierError) -> Certificate {
        let org = try vault.organisation()
        let root = try OrganisationKey(line: org.publicKey)
        let now = vault.clock.now()
        let fp = actor
        guard let c = try read({ tx in try Certification.current(tx, fingerprint: fp, role: role, root: root, organisation: org.name, at: now) }) else {
            throw .noCurrentCertificate(fingerprint: fp)
        }
        return c
    }
}

/// What signs a package: the organisation key sealed in a vault not yet migrated (format 1),
/// or the acting member's own key under their current certificate (format 2).
struct PackageSigner {
    let key: SigningKeyPair
    let certificate: Certificate?
    var version: UInt8 { certificate == nil ? 1 : 2 }
}

extension StaffSession {
    func packageSigner() throws(DossierError) -> PackageSigner {
        if try vault.organisationKeyInVault() { return PackageSigner(key: try organisationSigningKey(), certificate: nil) }
        return PackageSigner(key: identity.signing, certificate: try currentCertificate())
    }
}
