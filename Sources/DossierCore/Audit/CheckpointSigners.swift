import DossierCrypto
import Foundation

// Checkpoints signed by a certified member (docs/formats/log.md, section 3.1). The organisation
// root is not in the vault, so `audit checkpoint` signs with the acting member's own key, under
// the organisation's name; the member's certificate is in the log itself (the `certificate`
// detail of a `certify` entry), so a log or an export carries everything a verifier needs.

extension AuditVerifier {
    /// A certificate found in the log, checked against the organisation key, with where it was
    /// logged and, if it was, revoked.
    struct CertifiedSigner {
        let certificate: Certificate
        let certifiedAt: Int
        var revokedAt: Int?
    }

    /// Every certificate by `snapshot.organisationKey` logged in the entries read, with its
    /// revocation. Entries that do not parse, and certificates that fail the root's signature,
    /// are skipped here: the walk over the entries refuses the former, and the latter certify
    /// nothing.
    static func certifiedSigners(_ snapshot: LogSnapshot, carried: [String] = []) -> [CertifiedSigner] {
        var out: [CertifiedSigner] = []
        // Certificates a state carries were logged before the entries read (position 0).
        for line in carried {
            guard let c = try? Certificate.parse(line: line),
                  (try? c.check(root: snapshot.organisationKey, organisation: snapshot.organisation, role: nil, at: nil, context: "the state")) != nil
            else { continue }
            out.append(CertifiedSigner(certificate: c, certifiedAt: 0, revokedAt: nil))
        }
        let certify = Data("\naction certify\n".utf8), revoke = Data("\naction certificate-revoke\n".utf8)
        for (i, bytes) in snapshot.entries.enumerated() where i >= snapshot.firstLoaded {
            let isCertify = bytes.range(of: certify) != nil
            guard isCertify || bytes.range(of: revoke) != nil, let entry = try? AuditEntry.parse(bytes) else { continue }
            if isCertify {
                guard let line = entry.detail("certificate"), let c = try? Certificate.parse(line: line),
                      (try? c.check(root: snapshot.organisationKey, organisation: snapshot.organisation, role: nil, at: nil, context: "the log")) != nil
                else { continue }
                out.append(CertifiedSigner(certificate: c, certifiedAt: i + 1, revokedAt: nil))
            } else if let serial = entry.detail("serial") {
                for k in out.indices where out[k].certificate.serial == serial && out[k].revokedAt == nil { out[k].revokedAt = i + 1 }
            }
        }
        return out
    }

    /// The checkpoint text of `note` if it is signed by the organisation key (a vault whose
    /// key was kept inside it, and old exports), or by a member whose certificate by that key
    /// was logged among the first `size` entries, not revoked among them, and valid at the time
    /// of entry `size`. `signers` is computed at most once per verification by the caller.
    static func checkpointText(_ note: String, snapshot: LogSnapshot, signers: () -> [CertifiedSigner]) throws(DossierError) -> String {
        let name = snapshot.organisation, rootKey = snapshot.organisationKey.signingKey
        let (text, sigs) = try SignedNote.split(note)
        let rootID = SignedNote.keyID(name: name, publicKey: rootKey)
        if sigs.contains(where: { $0.name == name && $0.keyID == rootID }) {
            return try SignedNote.verify(note, name: name, publicKey: rootKey)
        }
        // The signature is checked before the body is parsed, as for the organisation key: a
        // note nobody certified is refused as unsigned, whatever its body.
        let size = (try? Checkpoint.parse(text))?.size
        // Before a migration, the previous organisation key signed the checkpoints (section 3.2).
        for previous in previousOrganisationKeys(snapshot) where size.map({ $0 < UInt64(previous.before) }) ?? false {
            let id = SignedNote.keyID(name: name, publicKey: previous.key.signingKey)
            if sigs.contains(where: { $0.name == name && $0.keyID == id }) {
                return try SignedNote.verify(note, name: name, publicKey: previous.key.signingKey)
            }
        }
        for s in sigs where s.name == name {
            for signer in signers() {
                let key = signer.certificate.subject.signingKey
                guard SignedNote.keyID(name: name, publicKey: key) == s.keyID else { continue }
                guard s.signature.count == 64, Signature.verify(Data(s.signature), of: Data(text.utf8), publicKey: key) else {
                    throw .checkpointSignatureInvalid(name: name)
                }
                let fp = signer.certificate.fingerprint
                let n = Int(clamping: try Checkpoint.parse(text).size)
                // A checkpoint beyond the log, or below the entries read, is judged by the caller.
                guard n >= 1, n <= snapshot.entries.count, n - 1 >= snapshot.firstLoaded else { return text }
                guard signer.certifiedAt <= n else {
                    throw .logVerificationFailed("the checkpoint of size \(n) is signed by \(fp), whose certificate was logged only at entry \(signer.certifiedAt)")
                }
                if let r = signer.revokedAt, r <= n {
                    throw .logVerificationFailed("the checkpoint of size \(n) is signed by \(fp), whose certificate \(signer.certificate.serial) was revoked at entry \(r)")
                }
                guard let time = (try? AuditEntry.parse(snapshot.entries[n - 1]))?.date, signer.certificate.validity(at: time) == .valid else {
                    throw .logVerificationFailed("the checkpoint of size \(n) is signed by \(fp) under certificate \(signer.certificate.serial), which was not valid at the time of entry \(n)")
                }
                return text
            }
        }
        throw .checkpointSignatureInvalid(name: name)
    }
}

extension AuditVerifier {
    /// The organisation key a log names as current: the `organisation-key` of its last
    /// `root-migrate` entry, or else of entry 1 (vault.md section 6.3). Nil if entry 1 does not read.
    static func currentOrganisationKeyLine(_ entries: [Data]) -> String? {
        let migrate = Data("\naction root-migrate\n".utf8)
        for bytes in entries.reversed() where bytes.range(of: migrate) != nil {
            if let e = try? AuditEntry.parse(bytes), e.action == AuditAction.rootMigrate.rawValue, let key = e.detail("organisation-key") { return key }
        }
        return entries.first.flatMap { try? AuditEntry.parse($0) }?.detail("organisation-key")
    }

    /// The organisation keys a log replaced (`previous-organisation-key` of each `root-migrate`),
    /// with the position of that entry: a checkpoint smaller than that position may be signed by
    /// the previous key (docs/formats/log.md, section 3.2).
    static func previousOrganisationKeys(_ snapshot: LogSnapshot) -> [(key: OrganisationKey, before: Int)] {
        let migrate = Data("\naction root-migrate\n".utf8)
        var out: [(OrganisationKey, Int)] = []
        for (i, bytes) in snapshot.entries.enumerated() where i >= snapshot.firstLoaded && bytes.range(of: migrate) != nil {
            if let e = try? AuditEntry.parse(bytes), e.action == AuditAction.rootMigrate.rawValue,
               let line = e.detail("previous-organisation-key"), let key = try? OrganisationKey(line: line) { out.append((key, i + 1)) }
        }
        return out
    }
}

extension StaffSession {
    /// The key `audit checkpoint` signs with: the organisation key in a vault that still keeps
    /// it, otherwise the acting member's own key, who must hold a certificate valid now.
    func checkpointSigningKey() throws(DossierError) -> SigningKeyPair {
        if try vault.organisationKeyInVault() { return try organisationSigningKey() }
        _ = try currentCertificate()
        return identity.signing
    }
}

extension Checkpoint {
    /// As `verified(_:source:name:publicKey:)`, but a note without a signature by the
    /// organisation key may instead be signed by the subject of one of `certificates`, each
    /// checked against that key and name first (docs/formats/log.md, section 3.1). Without the
    /// log, the certificate's validity at the checkpoint's time is not checked.
    public static func verified(_ note: String, source: String, name: String, publicKey: Data,
                                certificates: [Certificate]) throws(DossierError) -> Checkpoint {
        let (_, sigs) = try SignedNote.split(note)
        let rootID = SignedNote.keyID(name: name, publicKey: publicKey)
        if certificates.isEmpty || sigs.contains(where: { $0.name == name && $0.keyID == rootID }) {
            return try verified(note, source: source, name: name, publicKey: publicKey)
        }
        let root = try OrganisationKey(signingKey: publicKey)
        for c in certificates {
            try c.check(root: root, organisation: name, role: nil, at: nil, context: source)
            let key = c.subject.signingKey
            let id = SignedNote.keyID(name: name, publicKey: key)
            if sigs.contains(where: { $0.name == name && $0.keyID == id }) {
                return try verified(note, source: source, name: name, publicKey: key)
            }
        }
        throw .checkpointSignatureInvalid(name: name)
    }
}
