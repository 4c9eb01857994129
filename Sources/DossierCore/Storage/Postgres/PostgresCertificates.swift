import Foundation

// The certificate tables (migration `v6-certificates`, as SQLiteCertificates.swift).
extension PostgresTransaction {
    func insertCertificate(_ r: CertificateRecord) throws {
        let parameters: [PostgresValue] = [.text(r.serial), .text(r.fingerprint), .text(r.sha256), .bytes(r.certificate), .text(r.issuedAt), .text(r.revokedAt)]
        try run("INSERT INTO certificates(serial, fingerprint, sha256, certificate, issued_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6)", parameters)
    }

    private func certificates(where clause: String, _ parameters: [PostgresValue]) throws -> [CertificateRecord] {
        let r = try rows("SELECT serial, fingerprint, sha256, certificate, issued_at, revoked_at FROM certificates \(clause)", parameters)
        return (0..<r.count).map { i in
            CertificateRecord(serial: r.text(i, 0) ?? "", fingerprint: r.text(i, 1) ?? "", sha256: r.text(i, 2) ?? "",
                              certificate: r.data(i, 3) ?? Data(), issuedAt: r.text(i, 4) ?? "", revokedAt: r.text(i, 5))
        }
    }

    func allCertificates() throws -> [CertificateRecord] {
        try certificates(where: "ORDER BY issued_at, ord", [])
    }

    func certificates(of fingerprint: String) throws -> [CertificateRecord] {
        try certificates(where: "WHERE fingerprint = $1 ORDER BY issued_at, ord", [.text(fingerprint)])
    }

    func certificate(sha256: String) throws -> CertificateRecord? {
        try certificates(where: "WHERE sha256 = $1", [.text(sha256)]).first
    }

    func revokeCertificate(serial: String, at time: String) throws {
        try run("UPDATE certificates SET revoked_at = $1 WHERE serial = $2 AND revoked_at IS NULL", [.text(time), .text(serial)])
    }

    func setPackageCertificate(package: String, sha256: String) throws {
        try run("INSERT INTO package_certificates(package_id, certificate_sha256) VALUES ($1, $2)", [.text(package), .text(sha256)])
    }

    func packageCertificate(package: String) throws -> String? {
        let r = try rows("SELECT certificate_sha256 FROM package_certificates WHERE package_id = $1", [.text(package)])
        return r.count == 1 ? r.text(0, 0) : nil
    }

    func deleteSetting(_ key: SettingKey) throws {
        try run("DELETE FROM settings WHERE key = $1", [.text(key.rawValue)])
    }
}
