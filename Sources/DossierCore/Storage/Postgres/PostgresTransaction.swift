import Foundation

/// The records of a vault in PostgreSQL, read and written inside one transaction on one
/// connection (PostgresStore opens and ends it). The statements mirror SQLiteTransaction's, so
/// that both backends hand the domain the same records in the same order.
struct PostgresTransaction: StoreTransaction {
    let connection: PostgresConnection

    func rows(_ sql: String, _ parameters: [PostgresValue] = []) throws -> PostgresRows {
        try connection.query(sql, parameters)
    }

    func run(_ sql: String, _ parameters: [PostgresValue] = []) throws {
        try connection.query(sql, parameters)
    }

    // MARK: Settings

    func settingText(_ key: SettingKey) throws -> String? {
        let r = try rows("SELECT value_text, value_data FROM settings WHERE key = $1", [.text(key.rawValue)])
        guard r.count == 1 else { return nil }
        // As SQLite's CAST(value AS TEXT): bytes read as UTF-8.
        return r.text(0, 0) ?? r.data(0, 1).map { String(decoding: $0, as: UTF8.self) }
    }

    func settingData(_ key: SettingKey) throws -> Data? {
        let r = try rows("SELECT value_text, value_data FROM settings WHERE key = $1", [.text(key.rawValue)])
        guard r.count == 1 else { return nil }
        return r.data(0, 1) ?? r.text(0, 0).map { Data($0.utf8) }
    }

    func setSetting(_ key: SettingKey, text: String) throws {
        try run("""
            INSERT INTO settings(key, value_text, value_data) VALUES ($1, $2, NULL)
            ON CONFLICT (key) DO UPDATE SET value_text = excluded.value_text, value_data = NULL
            """, [.text(key.rawValue), .text(text)])
    }

    func setSetting(_ key: SettingKey, data: Data) throws {
        try run("""
            INSERT INTO settings(key, value_text, value_data) VALUES ($1, NULL, $2)
            ON CONFLICT (key) DO UPDATE SET value_text = NULL, value_data = excluded.value_data
            """, [.text(key.rawValue), .bytes(data)])
    }

    // MARK: Staff

    private static let staffColumns = "fingerprint, public_line, name_sealed, vault_key_sealed, added_at, removed_at"

    private static func staff(_ r: PostgresRows, _ i: Int) -> StaffRecord {
        StaffRecord(fingerprint: r.text(i, 0) ?? "", publicLine: r.text(i, 1) ?? "", nameSealed: r.data(i, 2) ?? Data(),
                    vaultKeySealed: r.data(i, 3), addedAt: r.text(i, 4) ?? "", removedAt: r.text(i, 5))
    }

    func insertStaff(_ s: StaffRecord) throws {
        try run("INSERT INTO staff(\(Self.staffColumns)) VALUES ($1, $2, $3, $4, $5, $6)",
                [.text(s.fingerprint), .text(s.publicLine), .bytes(s.nameSealed), .bytes(s.vaultKeySealed), .text(s.addedAt), .text(s.removedAt)])
    }

    func staffMember(_ fingerprint: String) throws -> StaffRecord? {
        let r = try rows("SELECT \(Self.staffColumns) FROM staff WHERE fingerprint = $1", [.text(fingerprint)])
        return r.count == 1 ? Self.staff(r, 0) : nil
    }

    func allStaff() throws -> [StaffRecord] {
        let r = try rows("SELECT \(Self.staffColumns) FROM staff ORDER BY added_at COLLATE \"C\", fingerprint COLLATE \"C\"")
        return (0..<r.count).map { Self.staff(r, $0) }
    }

    func sealedVaultKey(fingerprint: String, publicLine: String) throws -> Data? {
        let r = try rows("SELECT vault_key_sealed FROM staff WHERE fingerprint = $1 AND public_line = $2", [.text(fingerprint), .text(publicLine)])
        return r.count == 1 ? r.data(0, 0) : nil
    }

    func countCurrentStaff(excluding fingerprint: String) throws -> Int {
        let r = try rows("SELECT count(*) FROM staff WHERE removed_at IS NULL AND fingerprint <> $1", [.text(fingerprint)])
        return Int(r.int(0, 0) ?? 0)
    }

    func retireStaff(_ fingerprint: String, at time: String) throws {
        try run("UPDATE staff SET vault_key_sealed = NULL, removed_at = $1 WHERE fingerprint = $2", [.text(time), .text(fingerprint)])
    }

    func resealStaff(_ fingerprint: String, nameSealed: Data, vaultKeySealed: Data?) throws {
        if let vaultKeySealed {
            try run("UPDATE staff SET name_sealed = $1, vault_key_sealed = $2 WHERE fingerprint = $3",
                    [.bytes(nameSealed), .bytes(vaultKeySealed), .text(fingerprint)])
        } else {
            try run("UPDATE staff SET name_sealed = $1 WHERE fingerprint = $2", [.bytes(nameSealed), .text(fingerprint)])
        }
    }

    // MARK: Catalogue

    func insertDocument(_ d: DocumentRecord) throws {
        try run("""
            INSERT INTO documents(id, kind, language, size, deposited_at, deposited_by, metadata_sealed, key_sealed)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            """, [.text(d.id), .text(d.kind), .text(d.language), .int(Int64(clamping: d.size)), .text(d.depositedAt), .text(d.depositedBy),
                  .bytes(d.metadataSealed), .bytes(d.keySealed)])
    }

    func document(_ id: String) throws -> DocumentRecord? {
        let r = try rows("""
            SELECT id, kind, language, size, deposited_at, deposited_by, metadata_sealed, key_sealed, removed_at, removed_by
            FROM documents WHERE id = $1
            """, [.text(id)])
        guard r.count == 1 else { return nil }
        return DocumentRecord(id: r.text(0, 0) ?? "", kind: r.text(0, 1) ?? "", language: r.text(0, 2) ?? "",
                              size: UInt64(clamping: r.int(0, 3) ?? 0), depositedAt: r.text(0, 4) ?? "", depositedBy: r.text(0, 5) ?? "",
                              metadataSealed: r.data(0, 6), keySealed: r.data(0, 7), removedAt: r.text(0, 8), removedBy: r.text(0, 9))
    }

    func sealedDocumentKey(_ id: String) throws -> Data? {
        let r = try rows("SELECT key_sealed FROM documents WHERE id = $1", [.text(id)])
        return r.count == 1 ? r.data(0, 0) : nil
    }

    /// Also deletes the document's content in the same transaction: the key that decrypts it is
    /// gone, and there is no file to unlink after the commit.
    func markDocumentRemoved(_ id: String, at time: String, by actor: String, reasonSealed: Data) throws {
        try run("""
            UPDATE documents SET key_sealed = NULL, metadata_sealed = NULL, removed_at = $1, removed_by = $2, reason_sealed = $3
            WHERE id = $4 AND removed_at IS NULL
            """, [.text(time), .text(actor), .bytes(reasonSealed), .text(id)])
        try run("DELETE FROM content_chunks WHERE document_id = $1", [.text(id)])
    }

    func liveDocuments() throws -> [(id: String, size: UInt64, keySealed: Data)] {
        let r = try rows("SELECT id, size, key_sealed FROM documents WHERE removed_at IS NULL ORDER BY position")
        return (0..<r.count).map { (r.text($0, 0) ?? "", UInt64(clamping: r.int($0, 1) ?? 0), r.data($0, 2) ?? Data()) }
    }

    func removedDocumentIDs() throws -> [String] {
        let r = try rows("SELECT id FROM documents WHERE removed_at IS NOT NULL ORDER BY position")
        return (0..<r.count).compactMap { r.text($0, 0) }
    }

    func allDocumentSeals() throws -> [DocumentSeals] {
        let r = try rows("SELECT id, metadata_sealed, key_sealed, reason_sealed FROM documents ORDER BY position")
        return (0..<r.count).map { DocumentSeals(id: r.text($0, 0) ?? "", keySealed: r.data($0, 2), metadataSealed: r.data($0, 1), reasonSealed: r.data($0, 3)) }
    }

    func resealDocument(_ s: DocumentSeals) throws {
        try run("UPDATE documents SET key_sealed = $1, metadata_sealed = $2, reason_sealed = $3 WHERE id = $4",
                [.bytes(s.keySealed), .bytes(s.metadataSealed), .bytes(s.reasonSealed), .text(s.id)])
    }

    // MARK: Counsel

    private static let counselColumns =
        "id, fingerprint, public_line, details_sealed, added_at, vetted_until, vetting_note_sealed, suspended_at, suspension_reason_sealed"

    private static func counsel(_ r: PostgresRows, _ i: Int) -> CounselRecord {
        CounselRecord(id: r.text(i, 0) ?? "", fingerprint: r.text(i, 1) ?? "", publicLine: r.text(i, 2) ?? "", detailsSealed: r.data(i, 3) ?? Data(),
                      addedAt: r.text(i, 4) ?? "", vettedUntil: r.text(i, 5), vettingNoteSealed: r.data(i, 6),
                      suspendedAt: r.text(i, 7), suspensionReasonSealed: r.data(i, 8))
    }

    func insertCounsel(_ c: CounselRecord) throws {
        try run("INSERT INTO counsel(\(Self.counselColumns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                [.text(c.id), .text(c.fingerprint), .text(c.publicLine), .bytes(c.detailsSealed), .text(c.addedAt), .text(c.vettedUntil),
                 .bytes(c.vettingNoteSealed), .text(c.suspendedAt), .bytes(c.suspensionReasonSealed)])
    }

    func counsel(id: String, orFingerprint fingerprint: String) throws -> CounselRecord? {
        // As SQLite without ORDER BY: the first row found; by id first, which is what callers mean.
        let r = try rows("SELECT \(Self.counselColumns) FROM counsel WHERE id = $1 OR fingerprint = $2 ORDER BY (id = $1) DESC LIMIT 1",
                         [.text(id), .text(fingerprint)])
        return r.count == 1 ? Self.counsel(r, 0) : nil
    }

    func counsel(ids: [String]) throws -> [CounselRecord] {
        guard !ids.isEmpty else { return [] }
        // One array parameter, as text: ids never contain a comma (docs/formats/vault.md 5.1).
        let r = try rows("SELECT \(Self.counselColumns) FROM counsel WHERE id = ANY(string_to_array($1, ','))",
                         [.text(ids.joined(separator: ","))])
        return (0..<r.count).map { Self.counsel(r, $0) }
    }

    func allCounsel() throws -> [CounselRecord] {
        let r = try rows("SELECT \(Self.counselColumns) FROM counsel ORDER BY added_at COLLATE \"C\", id COLLATE \"C\"")
        return (0..<r.count).map { Self.counsel(r, $0) }
    }

    func setVetting(counsel id: String, until: String, noteSealed: Data?) throws {
        try run("""
            UPDATE counsel SET vetted_until = $1, vetting_note_sealed = $2, suspended_at = NULL, suspension_reason_sealed = NULL WHERE id = $3
            """, [.text(until), .bytes(noteSealed), .text(id)])
    }

    func setSuspension(counsel id: String, at time: String, reasonSealed: Data) throws {
        try run("UPDATE counsel SET suspended_at = $1, suspension_reason_sealed = $2 WHERE id = $3", [.text(time), .bytes(reasonSealed), .text(id)])
    }

    func resealCounsel(id: String, detailsSealed: Data, vettingNoteSealed: Data?, suspensionReasonSealed: Data?) throws {
        try run("UPDATE counsel SET details_sealed = $1, vetting_note_sealed = $2, suspension_reason_sealed = $3 WHERE id = $4",
                [.bytes(detailsSealed), .bytes(vettingNoteSealed), .bytes(suspensionReasonSealed), .text(id)])
    }

    // MARK: Grants

    private static let grantColumns =
        "id, created_at, created_by, not_before, not_after, approvals_needed, state, details_sealed, revoked_at, revoked_by, reason_sealed, online_url, max_opens"

    func insertGrant(_ g: GrantRecord) throws {
        try run("""
            INSERT INTO grants(id, created_at, created_by, not_before, not_after, approvals_needed, state, details_sealed, online_url, max_opens)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            """, [.text(g.id), .text(g.createdAt), .text(g.createdBy), .text(g.notBefore), .text(g.notAfter), .int(Int64(g.approvalsNeeded)),
                  .text(g.state), .bytes(g.detailsSealed), .text(g.onlineURL), .int(Int64(g.maxOpens))])
        for (i, d) in g.documents.enumerated() {
            try run("INSERT INTO grant_documents(grant_id, position, document_id) VALUES ($1, $2, $3)", [.text(g.id), .int(Int64(i)), .text(d)])
        }
        for c in g.recipients {
            try run("INSERT INTO grant_recipients(grant_id, counsel_id) VALUES ($1, $2)", [.text(g.id), .text(c)])
        }
    }

    private func strings(_ sql: String, _ id: String) throws -> [String] {
        let r = try rows(sql, [.text(id)])
        return (0..<r.count).compactMap { r.text($0, 0) }
    }

    private func grant(_ r: PostgresRows, _ i: Int) throws -> GrantRecord {
        let id = r.text(i, 0) ?? ""
        return GrantRecord(
            id: id, createdAt: r.text(i, 1) ?? "", createdBy: r.text(i, 2) ?? "", notBefore: r.text(i, 3) ?? "", notAfter: r.text(i, 4) ?? "",
            approvalsNeeded: Int(r.int(i, 5) ?? 0), state: r.text(i, 6) ?? "", detailsSealed: r.data(i, 7) ?? Data(),
            revokedAt: r.text(i, 8), revokedBy: r.text(i, 9), reasonSealed: r.data(i, 10), onlineURL: r.text(i, 11),
            maxOpens: Int(r.int(i, 12) ?? 0),
            documents: try strings("SELECT document_id FROM grant_documents WHERE grant_id = $1 ORDER BY position", id),
            recipients: try strings("SELECT counsel_id FROM grant_recipients WHERE grant_id = $1 ORDER BY counsel_id COLLATE \"C\"", id),
            approvers: try strings("SELECT staff FROM grant_approvals WHERE grant_id = $1 ORDER BY approved_at COLLATE \"C\"", id))
    }

    func grant(_ id: String) throws -> GrantRecord? {
        let r = try rows("SELECT \(Self.grantColumns) FROM grants WHERE id = $1", [.text(id)])
        return r.count == 1 ? try grant(r, 0) : nil
    }

    func grants(naming counsel: String?) throws -> [GrantRecord] {
        let r: PostgresRows
        if let counsel {
            r = try rows("""
                SELECT \(Self.grantColumns.split(separator: ",").map { "g." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", "))
                FROM grants g JOIN grant_recipients r ON r.grant_id = g.id WHERE r.counsel_id = $1
                ORDER BY g.created_at COLLATE "C" DESC, g.id COLLATE "C"
                """, [.text(counsel)])
        } else {
            r = try rows("SELECT \(Self.grantColumns) FROM grants ORDER BY created_at COLLATE \"C\" DESC, id COLLATE \"C\"")
        }
        return try (0..<r.count).map { try grant(r, $0) }
    }

    func insertApproval(grant: String, staff: String, at time: String) throws {
        try run("INSERT INTO grant_approvals(grant_id, staff, approved_at) VALUES ($1, $2, $3)", [.text(grant), .text(staff), .text(time)])
    }

    func activateGrant(_ id: String) throws {
        try run("UPDATE grants SET state = 'active' WHERE id = $1 AND state = 'pending'", [.text(id)])
    }

    func revokeGrant(_ id: String, at time: String, by actor: String, reasonSealed: Data) throws {
        try run("UPDATE grants SET state = 'revoked', revoked_at = $1, revoked_by = $2, reason_sealed = $3 WHERE id = $4",
                [.text(time), .text(actor), .bytes(reasonSealed), .text(id)])
    }

    func setOpenLimitIfUnset(grant: String, maxOpens: Int) throws {
        try run("UPDATE grants SET max_opens = $1 WHERE id = $2 AND COALESCE(max_opens, 0) = 0", [.int(Int64(maxOpens)), .text(grant)])
    }

    func allGrantSeals() throws -> [(id: String, detailsSealed: Data, reasonSealed: Data?)] {
        let r = try rows("SELECT id, details_sealed, reason_sealed FROM grants ORDER BY id COLLATE \"C\"")
        return (0..<r.count).map { (r.text($0, 0) ?? "", r.data($0, 1) ?? Data(), r.data($0, 2)) }
    }

    func resealGrant(id: String, detailsSealed: Data, reasonSealed: Data?) throws {
        try run("UPDATE grants SET details_sealed = $1, reason_sealed = $2 WHERE id = $3", [.bytes(detailsSealed), .bytes(reasonSealed), .text(id)])
    }

    // MARK: Packages and online release

    func insertPackage(_ p: PackageRecord) throws {
        try run("INSERT INTO packages(id, grant_id, created_at, created_by, manifest_sha256, online_url) VALUES ($1, $2, $3, $4, $5, $6)",
                [.text(p.id), .text(p.grantID), .text(p.createdAt), .text(p.createdBy), .text(p.manifestSHA256), .text(p.onlineURL)])
    }

    func package(_ id: String) throws -> PackageRecord? {
        let r = try rows("SELECT id, grant_id, created_at, created_by, manifest_sha256, online_url FROM packages WHERE id = $1", [.text(id)])
        guard r.count == 1 else { return nil }
        return PackageRecord(id: r.text(0, 0) ?? "", grantID: r.text(0, 1) ?? "", createdAt: r.text(0, 2) ?? "", createdBy: r.text(0, 3) ?? "",
                             manifestSHA256: r.text(0, 4) ?? "", onlineURL: r.text(0, 5))
    }

    func insertOnlineShare(_ s: OnlineShareRecord) throws {
        try run("INSERT INTO online_shares(package_id, fingerprint, counsel_id, share_sealed) VALUES ($1, $2, $3, $4)",
                [.text(s.packageID), .text(s.fingerprint), .text(s.counselID), .bytes(s.shareSealed)])
    }

    func onlineShare(package: String, fingerprint: String) throws -> (share: OnlineShareRecord, publicLine: String)? {
        let r = try rows("""
            SELECT s.counsel_id, s.share_sealed, c.public_line FROM online_shares s JOIN counsel c ON c.id = s.counsel_id
            WHERE s.package_id = $1 AND s.fingerprint = $2
            """, [.text(package), .text(fingerprint)])
        guard r.count == 1 else { return nil }
        return (OnlineShareRecord(packageID: package, fingerprint: fingerprint, counselID: r.text(0, 0) ?? "", shareSealed: r.data(0, 1) ?? Data()),
                r.text(0, 2) ?? "")
    }

    func allOnlineShares() throws -> [OnlineShareRecord] {
        let r = try rows("SELECT package_id, fingerprint, counsel_id, share_sealed FROM online_shares ORDER BY package_id COLLATE \"C\", fingerprint COLLATE \"C\"")
        return (0..<r.count).map {
            OnlineShareRecord(packageID: r.text($0, 0) ?? "", fingerprint: r.text($0, 1) ?? "", counselID: r.text($0, 2) ?? "", shareSealed: r.data($0, 3) ?? Data())
        }
    }

    func resealOnlineShare(package: String, fingerprint: String, shareSealed: Data) throws {
        try run("UPDATE online_shares SET share_sealed = $1 WHERE package_id = $2 AND fingerprint = $3",
                [.bytes(shareSealed), .text(package), .text(fingerprint)])
    }

    func isKnownNonce(_ nonce: String) throws -> Bool {
        try rows("SELECT nonce FROM online_nonces WHERE nonce = $1", [.text(nonce)]).count > 0
    }

    func insertNonce(_ nonce: String, seenAt time: String) throws {
        try run("INSERT INTO online_nonces(nonce, seen_at) VALUES ($1, $2)", [.text(nonce), .text(time)])
    }

    func deleteNonces(seenBefore time: String) throws {
        try run("DELETE FROM online_nonces WHERE seen_at COLLATE \"C\" < $1", [.text(time)])
    }

    func openCount(grant: String, counsel: String) throws -> Int {
        Int(try rows("SELECT count(*) FROM online_opens WHERE grant_id = $1 AND counsel_id = $2", [.text(grant), .text(counsel)]).int(0, 0) ?? 0)
    }

    func insertOpening(logSeq: UInt64, grant: String, package: String, counsel: String, at time: String) throws {
        try run("INSERT INTO online_opens(log_seq, grant_id, package_id, counsel_id, opened_at) VALUES ($1, $2, $3, $4, $5)",
                [.int(Int64(clamping: logSeq)), .text(grant), .text(package), .text(counsel), .text(time)])
    }

    // MARK: Log

    func lastLogEntry() throws -> (seq: UInt64, bytes: Data)? {
        let r = try rows("SELECT seq, entry FROM audit_log ORDER BY seq DESC LIMIT 1")
        guard r.count == 1 else { return nil }
        return (UInt64(clamping: r.int(0, 0) ?? 0), r.data(0, 1) ?? Data())
    }

    func insertLogEntry(seq: UInt64, bytes: Data) throws {
        try run("INSERT INTO audit_log(seq, entry) VALUES ($1, $2)", [.int(Int64(clamping: seq)), .bytes(bytes)])
    }

    func logEntries() throws -> [(seq: Int64, bytes: Data)] {
        let r = try rows("SELECT seq, entry FROM audit_log ORDER BY seq")
        return (0..<r.count).map { (r.int($0, 0) ?? 0, r.data($0, 1) ?? Data()) }
    }

    func logEntries(after skipped: Int) throws -> [Data] {
        let r = try rows("SELECT entry FROM audit_log WHERE seq > $1 ORDER BY seq", [.int(Int64(skipped))])
        return (0..<r.count).map { r.data($0, 0) ?? Data() }
    }

    func logEntries(afterPosition position: Int64, limit: Int) throws -> [(seq: Int64, bytes: Data)] {
        let r = try rows("SELECT seq, entry FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2", [.int(position), .int(Int64(limit))])
        return (0..<r.count).map { (r.int($0, 0) ?? 0, r.data($0, 1) ?? Data()) }
    }

    func logEntries(mentioning text: String) throws -> [Data] {
        let r = try rows("SELECT entry FROM audit_log WHERE position($1 IN entry) > 0 ORDER BY seq", [.bytes(Data(text.utf8))])
        return (0..<r.count).map { r.data($0, 0) ?? Data() }
    }

    func logSize() throws -> Int {
        Int(try rows("SELECT COALESCE(max(seq), 0) FROM audit_log").int(0, 0) ?? 0)
    }

    func checkpointNotes() throws -> [String] {
        let r = try rows("SELECT note FROM checkpoints ORDER BY size")
        return (0..<r.count).compactMap { r.text($0, 0) }
    }

    func newestCheckpointNote() throws -> String? {
        let r = try rows("SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1")
        return r.count == 1 ? r.text(0, 0) : nil
    }

    func storeCheckpoint(size: UInt64, note: String, at time: String) throws {
        try run("""
            INSERT INTO checkpoints(size, note, created_at) VALUES ($1, $2, $3)
            ON CONFLICT (size) DO UPDATE SET note = excluded.note, created_at = excluded.created_at
            """, [.int(Int64(clamping: size)), .text(note), .text(time)])
    }
}
