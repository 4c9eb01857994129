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
    static func certifiedSigners(_ snapshot: LogSnapshot) -> [CertifiedSigner] {
        var out: [CertifiedSigner] = []
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
        let cp = try Checkpoint.parse(text)
        for s in sigs where s.name == name {
            for signer in signers() {
                let key = signer.certificate.subject.signingKey
                guard SignedNote.keyID(name: name, publicKey: key) == s.keyID else { continue }
                guard s.signature.count == 64, Signature.verify(Data(s.signature), of: Data(text.utf8), publicKey: key) else {
                    throw .checkpointSignatureInvalid(name: name)
                }
                let fp = signer.certificate.fingerprint
                let n = Int(clamping: cp.size)
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

extension StaffSession {
    /// The key `audit checkpoint` signs with: the organisation key in a vault that still keeps
    /// it, otherwise the acting member's own key, who must hold a certificate valid now.
    func checkpointSigningKey() throws(DossierError) -> SigningKeyPair {
        if try vault.organisationKeyInVault() { return try organisationSigningKey() }
        _ = try currentCertificate()
        return identity.signing
    }
}
