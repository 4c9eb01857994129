import Foundation

extension KeyReleaseService {
    /// Whether the key-release service must refuse a package because of who made it
    /// (docs/formats/key-release.md, section 8.3): nil if the member whose signed `package`
    /// entry made it is current staff and the certificate it was signed under (format 2) is
    /// not revoked; otherwise the rule name logged with the `deny` entry, `issuer.not-staff` or
    /// `issuer.certificate-revoked`. Read from the signed log, never from the rows.
    ///
    /// An offline reader cannot know that a member was removed and accepts their packages
    /// until the certificate expires; the service knows, and releases nothing more for them.
    static func issuerRefusal(_ facts: SignedFacts, package id: String) -> String? {
        guard let made = facts.packageMakers[id] else { return nil }   // the caller refuses unknown packages
        guard facts.members[made.maker] != nil else { return "issuer.not-staff" }
        if let hash = made.certificate, facts.revokedCertificates.contains(hash) { return "issuer.certificate-revoked" }
        return nil
    }
}
