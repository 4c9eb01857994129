import Foundation
import GRDB

// The certificate tables (migration `v6-certificates`, docs/formats/vault.md section 2.5).
extension SQLiteTransaction {
    func insertCertificate(_ r: CertificateRecord) throws {
        try db.execute(sql: "INSERT INTO certificates(serial, fingerprint, sha256, certificate, issued_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)",
                       arguments: [r.serial, r.fingerprint, r.sha256, r.certificate, r.issuedAt, r.revokedAt])
    }

    private static func certificate(_ row: Row) -> CertificateRecord {
        CertificateRecord(serial: row["serial"], fingerprint: row["fingerprint"], sha256: row["sha256"], certificate: row["certificate"],
                          issuedAt: row["issued_at"], revokedAt: row["revoked_at"])
    }

    func allCertificates() throws -> [CertificateRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM certificates ORDER BY issued_at, rowid").map(Self.certificate)
    }

    func certificates(of fingerprint: String) throws -> [CertificateRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM certificates WHERE fingerprint = ? ORDER BY issued_at, rowid", arguments: [fingerprint]).map(Self.certificate)
    }

    func certificate(sha256: String) throws -> CertificateRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM certificates WHERE sha256 = ?", arguments: [sha256]).map(Self.certificate)
    }

    func revokeCertificate(serial: String, at time: String) throws {
        try db.execute(sql: "UPDATE certificates SET revoked_at = ? WHERE serial = ? AND revoked_at IS NULL", arguments: [time, serial])
    }

    func setPackageCertificate(package: String, sha256: String) throws {
        try db.execute(sql: "INSERT INTO package_certificates(package_id, certificate_sha256) VALUES (?, ?)", arguments: [package, sha256])
    }

    func packageCertificate(package: String) throws -> String? {
        try String.fetchOne(db, sql: "SELECT certificate_sha256 FROM package_certificates WHERE package_id = ?", arguments: [package])
    }

    func deleteSetting(_ key: SettingKey) throws {
        try db.execute(sql: "DELETE FROM settings WHERE key = ?", arguments: [key.rawValue])
    }
}
