import Foundation

extension KeyReleaseService {
    /// Whether the key-release service must refuse a package because of who made it
    /// (docs/formats/key-release.md, section 8.3): nil if the maker is current staff and the
    /// certificate the package was signed under (format 2) is not revoked; otherwise the rule
    /// name logged with the `deny` entry, `issuer.not-staff` or `issuer.certificate-revoked`.
    ///
    /// An offline reader cannot know that a member was removed and accepts their packages
    /// until the certificate expires; the service knows, and releases nothing more for them.
    static func issuerRefusal(_ tx: any StoreTransaction, package id: String) throws -> String? {
        guard let package = try tx.package(id) else { return nil }   // the caller refuses unknown packages
        guard let maker = try tx.staffMember(package.createdBy), maker.removedAt == nil else { return "issuer.not-staff" }
        if let hash = try tx.packageCertificate(package: id) {
            guard let certificate = try tx.certificate(sha256: hash), certificate.fingerprint == package.createdBy,
                  certificate.revokedAt == nil else { return "issuer.certificate-revoked" }
        }
        return nil
    }
}
