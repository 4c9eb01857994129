import Foundation
import GRDB

/// The records of a vault folder, read and written inside one SQLite transaction
/// (docs/formats/vault.md, section 2, has the tables).
struct SQLiteTransaction: StoreTransaction {
    let db: Database

    // MARK: Settings

    func settingText(_ key: SettingKey) throws -> String? {
        try String.fetchOne(db, sql: "SELECT CAST(value AS TEXT) FROM settings WHERE key = ?", arguments: [key.rawValue])
    }

    func settingData(_ key: SettingKey) throws -> Data? {
        try Data.fetchOne(db, sql: "SELECT value FROM settings WHERE key = ?", arguments: [key.rawValue])
    }

    func setSetting(_ key: SettingKey, text: String) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO settings(key, value) VALUES (?, ?)", arguments: [key.rawValue, text])
    }

    func setSetting(_ key: SettingKey, data: Data) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO settings(key, value) VALUES (?, ?)", arguments: [key.rawValue, data])
    }

    // MARK: Staff

    func insertStaff(_ r: StaffRecord) throws {
        try db.execute(sql: """
            INSERT INTO staff(fingerprint, public_line, name_sealed, vault_key_sealed, added_at, removed_at) VALUES (?, ?, ?, ?, ?, ?)
            """, arguments: [r.fingerprint, r.publicLine, r.nameSealed, r.vaultKeySealed, r.addedAt, r.removedAt])
    }

    private static func staff(_ row: Row) -> StaffRecord {
        StaffRecord(fingerprint: row["fingerprint"], publicLine: row["public_line"], nameSealed: row["name_sealed"],
                    vaultKeySealed: row["vault_key_sealed"], addedAt: row["added_at"], removedAt: row["removed_at"])
    }

    func staffMember(_ fingerprint: String) throws -> StaffRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM staff WHERE fingerprint = ?", arguments: [fingerprint]).map(Self.staff)
    }

    func allStaff() throws -> [StaffRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM staff ORDER BY added_at, fingerprint").map(Self.staff)
    }

    func sealedVaultKey(fingerprint: String, publicLine: String) throws -> Data? {
        try Data.fetchOne(db, sql: "SELECT vault_key_sealed FROM staff WHERE fingerprint = ? AND public_line = ?",
                          arguments: [fingerprint, publicLine])
    }

    func countCurrentStaff(excluding fingerprint: String) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM staff WHERE removed_at IS NULL AND fingerprint != ?", arguments: [fingerprint]) ?? 0
    }

    func retireStaff(_ fingerprint: String, at time: String) throws {
        try db.execute(sql: "UPDATE staff SET vault_key_sealed = NULL, removed_at = ? WHERE fingerprint = ?", arguments: [time, fingerprint])
    }

    func resealStaff(_ fingerprint: String, nameSealed: Data, vaultKeySealed: Data?) throws {
        if let vaultKeySealed {
            try db.execute(sql: "UPDATE staff SET name_sealed = ?, vault_key_sealed = ? WHERE fingerprint = ?",
                           arguments: [nameSealed, vaultKeySealed, fingerprint])
        } else {
            try db.execute(sql: "UPDATE staff SET name_sealed = ? WHERE fingerprint = ?", arguments: [nameSealed, fingerprint])
        }
    }

    // MARK: Catalogue

    func insertDocument(_ r: DocumentRecord) throws {
        try db.cachedStatement(sql: """
            INSERT INTO documents(id, kind, language, size, deposited_at, deposited_by, metadata_sealed, key_sealed)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [r.id, r.kind, r.language, Int64(r.size), r.depositedAt, r.depositedBy, r.metadataSealed, r.keySealed])
    }

    func document(_ id: String) throws -> DocumentRecord? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM documents WHERE id = ?", arguments: [id]) else { return nil }
        return DocumentRecord(id: row["id"], kind: row["kind"], language: row["language"], size: UInt64(clamping: row["size"] as Int64),
                              depositedAt: row["deposited_at"], depositedBy: row["deposited_by"], metadataSealed: row["metadata_sealed"],
                              keySealed: row["key_sealed"], removedAt: row["removed_at"], removedBy: row["removed_by"])
    }

    func sealedDocumentKey(_ id: String) throws -> Data? {
        try Data.fetchOne(db, sql: "SELECT key_sealed FROM documents WHERE id = ?", arguments: [id])
    }

    func markDocumentRemoved(_ id: String, at time: String, by actor: String, reasonSealed: Data) throws {
        try db.execute(sql: """
            UPDATE documents SET key_sealed = NULL, metadata_sealed = NULL, removed_at = ?, removed_by = ?, reason_sealed = ?
            WHERE id = ? AND removed_at IS NULL
            """, arguments: [time, actor, reasonSealed, id])
    }

    func liveDocuments() throws -> [(id: String, size: UInt64, keySealed: Data)] {
        try Row.fetchAll(db, sql: "SELECT id, size, key_sealed FROM documents WHERE removed_at IS NULL").map {
            ($0["id"], UInt64(clamping: $0["size"] as Int64), $0["key_sealed"])
        }
    }

    func removedDocumentIDs() throws -> [String] {
        try String.fetchAll(db, sql: "SELECT id FROM documents WHERE removed_at IS NOT NULL")
    }

    func allDocumentSeals() throws -> [DocumentSeals] {
        try Row.fetchAll(db, sql: "SELECT id, metadata_sealed, key_sealed, reason_sealed FROM documents").map {
            DocumentSeals(id: $0["id"], keySealed: $0["key_sealed"], metadataSealed: $0["metadata_sealed"], reasonSealed: $0["reason_sealed"])
        }
    }

    func resealDocument(_ s: DocumentSeals) throws {
        try db.execute(sql: "UPDATE documents SET key_sealed = ?, metadata_sealed = ?, reason_sealed = ? WHERE id = ?",
                       arguments: [s.keySealed, s.metadataSealed, s.reasonSealed, s.id])
    }

    // MARK: Counsel

    func insertCounsel(_ r: CounselRecord) throws {
        try db.execute(sql: """
            INSERT INTO counsel(id, fingerprint, public_line, details_sealed, added_at, vetted_until, vetting_note_sealed,
                                suspended_at, suspension_reason_sealed)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [r.id, r.fingerprint, r.publicLine, r.detailsSealed, r.addedAt, r.vettedUntil, r.vettingNoteSealed,
                             r.suspendedAt, r.suspensionReasonSealed])
    }

    private static func counsel(_ row: Row) -> CounselRecord {
        CounselRecord(id: row["id"], fingerprint: row["fingerprint"], publicLine: row["public_line"], detailsSealed: row["details_sealed"],
                      addedAt: row["added_at"], vettedUntil: row["vetted_until"], vettingNoteSealed: row["vetting_note_sealed"],
                      suspendedAt: row["suspended_at"], suspensionReasonSealed: row["suspension_reason_sealed"])
    }

    func counsel(id: String, orFingerprint fingerprint: String) throws -> CounselRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM counsel WHERE id = ? OR fingerprint = ?", arguments: [id, fingerprint]).map(Self.counsel)
    }

    func counsel(ids: [String]) throws -> [CounselRecord] {
        guard !ids.isEmpty else { return [] }
        let marks = Array(repeating: "?", count: ids.count).joined(separator: ", ")
        return try Row.fetchAll(db, sql: "SELECT * FROM counsel WHERE id IN (\(marks))", arguments: StatementArguments(ids)).map(Self.counsel)
    }

    func allCounsel() throws -> [CounselRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM counsel ORDER BY added_at, id").map(Self.counsel)
    }

    func setVetting(counsel id: String, until: String, noteSealed: Data?) throws {
        try db.execute(sql: """
            UPDATE counsel SET vetted_until = ?, vetting_note_sealed = ?, suspended_at = NULL, suspension_reason_sealed = NULL WHERE id = ?
            """, arguments: [until, noteSealed, id])
    }

    func setSuspension(counsel id: String, at time: String, reasonSealed: Data) throws {
        try db.execute(sql: "UPDATE counsel SET suspended_at = ?, suspension_reason_sealed = ? WHERE id = ?", arguments: [time, reasonSealed, id])
    }

    func resealCounsel(id: String, detailsSealed: Data, vettingNoteSealed: Data?, suspensionReasonSealed: Data?) throws {
        try db.execute(sql: "UPDATE counsel SET details_sealed = ?, vetting_note_sealed = ?, suspension_reason_sealed = ? WHERE id = ?",
                       arguments: [detailsSealed, vettingNoteSealed, suspensionReasonSealed, id])
    }

    // MARK: Grants

    func insertGrant(_ r: GrantRecord) throws {
        try db.execute(sql: """
            INSERT INTO grants(id, created_at, created_by, not_before, not_after, approvals_needed, state, details_sealed, online_url, max_opens)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [r.id, r.createdAt, r.createdBy, r.notBefore, r.notAfter, r.approvalsNeeded, r.state, r.detailsSealed,
                             r.onlineURL, r.maxOpens])
        for (i, d) in r.documents.enumerated() {
            try db.execute(sql: "INSERT INTO grant_documents(grant_id, position, document_id) VALUES (?, ?, ?)", arguments: [r.id, i, d])
        }
        for c in r.recipients {
            try db.execute(sql: "INSERT INTO grant_recipients(grant_id, counsel_id) VALUES (?, ?)", arguments: [r.id, c])
        }
    }

    private func grant(_ row: Row) throws -> GrantRecord {
        let id: String = row["id"]
        return GrantRecord(
            id: id, createdAt: row["created_at"], createdBy: row["created_by"], notBefore: row["not_before"], notAfter: row["not_after"],
            approvalsNeeded: row["approvals_needed"], state: row["state"], detailsSealed: row["details_sealed"],
            revokedAt: row["revoked_at"], revokedBy: row["revoked_by"], reasonSealed: row["reason_sealed"],
            onlineURL: row["online_url"], maxOpens: row["max_opens"] ?? 0,
            documents: try String.fetchAll(db, sql: "SELECT document_id FROM grant_documents WHERE grant_id = ? ORDER BY position", arguments: [id]),
            recipients: try String.fetchAll(db, sql: "SELECT counsel_id FROM grant_recipients WHERE grant_id = ? ORDER BY counsel_id", arguments: [id]),
            approvers: try String.fetchAll(db, sql: "SELECT staff FROM grant_approvals WHERE grant_id = ? ORDER BY approved_at", arguments: [id]))
    }

    func grant(_ id: String) throws -> GrantRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM grants WHERE id = ?", arguments: [id]).map(grant)
    }

    func grants(naming counsel: String?) throws -> [GrantRecord] {
        let rows: [Row]
        if let counsel {
            rows = try Row.fetchAll(db, sql: """
                SELECT g.* FROM grants g JOIN grant_recipients r ON r.grant_id = g.id WHERE r.counsel_id = ? ORDER BY g.created_at DESC, g.id
                """, arguments: [counsel])
        } else {
            rows = try Row.fetchAll(db, sql: "SELECT * FROM grants ORDER BY created_at DESC, id")
        }
        return try rows.map(grant)
    }

    func insertApproval(grant: String, staff: String, at time: String) throws {
        try db.execute(sql: "INSERT INTO grant_approvals(grant_id, staff, approved_at) VALUES (?, ?, ?)", arguments: [grant, staff, time])
    }

    func activateGrant(_ id: String) throws {
        try db.execute(sql: "UPDATE grants SET state = 'active' WHERE id = ? AND state = 'pending'", arguments: [id])
    }

    func revokeGrant(_ id: String, at time: String, by actor: String, reasonSealed: Data) throws {
        try db.execute(sql: "UPDATE grants SET state = 'revoked', revoked_at = ?, revoked_by = ?, reason_sealed = ? WHERE id = ?",
                       arguments: [time, actor, reasonSealed, id])
    }

    func setOpenLimitIfUnset(grant: String, maxOpens: Int) throws {
        try db.execute(sql: "UPDATE grants SET max_opens = ? WHERE id = ? AND COALESCE(max_opens, 0) = 0", arguments: [maxOpens, grant])
    }

    func allGrantSeals() throws -> [(id: String, detailsSealed: Data, reasonSealed: Data?)] {
        try Row.fetchAll(db, sql: "SELECT id, details_sealed, reason_sealed FROM grants").map { ($0["id"], $0["details_sealed"], $0["reason_sealed"]) }
    }

    func resealGrant(id: String, detailsSealed: Data, reasonSealed: Data?) throws {
        try db.execute(sql: "UPDATE grants SET details_sealed = ?, reason_sealed = ? WHERE id = ?", arguments: [detailsSealed, reasonSealed, id])
    }

    // MARK: Packages and online release

    func insertPackage(_ r: PackageRecord) throws {
        try db.execute(sql: "INSERT INTO packages(id, grant_id, created_at, created_by, manifest_sha256, online_url) VALUES (?, ?, ?, ?, ?, ?)",
                       arguments: [r.id, r.grantID, r.createdAt, r.createdBy, r.manifestSHA256, r.onlineURL])
    }

    func package(_ id: String) throws -> PackageRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM packages WHERE id = ?", arguments: [id]).map {
            PackageRecord(id: $0["id"], grantID: $0["grant_id"], createdAt: $0["created_at"], createdBy: $0["created_by"],
                          manifestSHA256: $0["manifest_sha256"], onlineURL: $0["online_url"])
        }
    }

    func insertOnlineShare(_ r: OnlineShareRecord) throws {
        try db.execute(sql: "INSERT INTO online_shares(package_id, fingerprint, counsel_id, share_sealed) VALUES (?, ?, ?, ?)",
                       arguments: [r.packageID, r.fingerprint, r.counselID, r.shareSealed])
    }

    func onlineShare(package: String, fingerprint: String) throws -> (share: OnlineShareRecord, publicLine: String)? {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT s.counsel_id, s.share_sealed, c.public_line FROM online_shares s JOIN counsel c ON c.id = s.counsel_id
            WHERE s.package_id = ? AND s.fingerprint = ?
            """, arguments: [package, fingerprint]) else { return nil }
        return (OnlineShareRecord(packageID: package, fingerprint: fingerprint, counselID: row["counsel_id"], shareSealed: row["share_sealed"]),
                row["public_line"])
    }

    func allOnlineShares() throws -> [OnlineShareRecord] {
        try Row.fetchAll(db, sql: "SELECT package_id, fingerprint, counsel_id, share_sealed FROM online_shares").map {
            OnlineShareRecord(packageID: $0["package_id"], fingerprint: $0["fingerprint"], counselID: $0["counsel_id"], shareSealed: $0["share_sealed"])
        }
    }

    func resealOnlineShare(package: String, fingerprint: String, shareSealed: Data) throws {
        try db.execute(sql: "UPDATE online_shares SET share_sealed = ? WHERE package_id = ? AND fingerprint = ?",
                       arguments: [shareSealed, package, fingerprint])
    }

    func isKnownNonce(_ nonce: String) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM online_nonces WHERE nonce = ?"), arguments: [nonce]) ?? false
    }

    func insertNonce(_ nonce: String, seenAt time: String) throws {
        try db.cachedStatement(sql: "INSERT INTO online_nonces(nonce, seen_at) VALUES (?, ?)").execute(arguments: [nonce, time])
    }

    func deleteNonces(seenBefore time: String) throws {
        try db.execute(sql: "DELETE FROM online_nonces WHERE seen_at < ?", arguments: [time])
    }

    func openCount(grant: String, counsel: String) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM online_opens WHERE grant_id = ? AND counsel_id = ?", arguments: [grant, counsel]) ?? 0
    }

    func insertOpening(logSeq: UInt64, grant: String, package: String, counsel: String, at time: String) throws {
        try db.cachedStatement(sql: "INSERT INTO online_opens(log_seq, grant_id, package_id, counsel_id, opened_at) VALUES (?, ?, ?, ?, ?)")
            .execute(arguments: [Int64(logSeq), grant, package, counsel, time])
    }

    // MARK: Log

    func lastLogEntry() throws -> (seq: UInt64, bytes: Data)? {
        try Row.fetchOne(db, sql: "SELECT seq, entry FROM audit_log ORDER BY seq DESC LIMIT 1").map { (UInt64(clamping: $0["seq"] as Int64), $0["entry"]) }
    }

    func insertLogEntry(seq: UInt64, bytes: Data) throws {
        try db.cachedStatement(sql: "INSERT INTO audit_log(seq, entry) VALUES (?, ?)").execute(arguments: [Int64(seq), bytes])
    }

    func logEntries() throws -> [(seq: Int64, bytes: Data)] {
        try Row.fetchAll(db, sql: "SELECT seq, entry FROM audit_log ORDER BY seq").map { ($0["seq"], $0["entry"]) }
    }

    func logEntries(after skipped: Int) throws -> [Data] {
        try Data.fetchAll(db, sql: "SELECT entry FROM audit_log WHERE seq > ? ORDER BY seq", arguments: [skipped])
    }

    func logEntries(afterPosition position: Int64, limit: Int) throws -> [(seq: Int64, bytes: Data)] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT seq, entry FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?"),
                         arguments: [position, limit]).map { ($0["seq"], $0["entry"]) }
    }

    func logEntries(mentioning text: String) throws -> [Data] {
        try Data.fetchAll(db, sql: "SELECT entry FROM audit_log WHERE instr(entry, ?) > 0 ORDER BY seq", arguments: [Data(text.utf8)])
    }

    func logSize() throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM audit_log") ?? 0
    }

    func checkpointNotes() throws -> [String] {
        try String.fetchAll(db, sql: "SELECT note FROM checkpoints ORDER BY size")
    }

    func newestCheckpointNote() throws -> String? {
        try String.fetchOne(db, sql: "SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1")
    }

    func storeCheckpoint(size: UInt64, note: String, at time: String) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO checkpoints(size, note, created_at) VALUES (?, ?, ?)", arguments: [Int64(size), note, time])
    }

    // MARK: Requests

    func insertRequest(_ r: RequestRecord) throws {
        try db.execute(sql: """
            INSERT INTO requests(id, received_at, received_by, sha256, size, sender, state, assigned_to, grant_id, summary_sealed,
                                 reason_sealed, closed_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [r.id, r.receivedAt, r.receivedBy, r.sha256, Int64(clamping: r.size), r.sender, r.state, r.assignedTo,
                             r.grantID, r.summarySealed, r.reasonSealed, r.closedAt])
    }

    private static func request(_ row: Row) -> RequestRecord {
        RequestRecord(id: row["id"], receivedAt: row["received_at"], receivedBy: row["received_by"], sha256: row["sha256"],
                      size: UInt64(clamping: row["size"] as Int64), sender: row["sender"], state: row["state"],
                      assignedTo: row["assigned_to"], grantID: row["grant_id"], summarySealed: row["summary_sealed"],
                      reasonSealed: row["reason_sealed"], closedAt: row["closed_at"])
    }

    func request(_ id: String) throws -> RequestRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM requests WHERE id = ?", arguments: [id]).map(Self.request)
    }

    func allRequests() throws -> [RequestRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM requests ORDER BY received_at, id").map(Self.request)
    }

    func assignRequest(_ id: String, to staff: String) throws {
        try db.execute(sql: "UPDATE requests SET state = 'assigned', assigned_to = ? WHERE id = ?", arguments: [staff, id])
    }

    func closeRequest(_ id: String, state: String, grant: String?, reasonSealed: Data?, at time: String) throws {
        try db.execute(sql: "UPDATE requests SET state = ?, grant_id = ?, reason_sealed = ?, closed_at = ? WHERE id = ?",
                       arguments: [state, grant, reasonSealed, time, id])
    }

    func allRequestSeals() throws -> [(id: String, summarySealed: Data, reasonSealed: Data?)] {
        try Row.fetchAll(db, sql: "SELECT id, summary_sealed, reason_sealed FROM requests").map { ($0["id"], $0["summary_sealed"], $0["reason_sealed"]) }
    }

    func requestIntake(since: String, receivedBy: [String], sender: String?) throws -> (count: Int, bytes: UInt64) {
        guard !receivedBy.isEmpty else { return (0, 0) }
        let marks = Array(repeating: "?", count: receivedBy.count).joined(separator: ", ")
        var sql = "SELECT count(*), coalesce(sum(size), 0) FROM requests WHERE received_at >= ? AND received_by IN (\(marks))"
        var arguments: [any DatabaseValueConvertible] = [since] + receivedBy
        if let sender {
            sql += " AND sender = ?"
            arguments.append(sender)
        }
        let row = try Row.fetchOne(db, sql: sql, arguments: StatementArguments(arguments))
        let count: Int64 = row?[0] ?? 0, bytes: Int64 = row?[1] ?? 0
        return (Int(count), UInt64(max(0, bytes)))
    }

    func resealRequest(id: String, summarySealed: Data, reasonSealed: Data?) throws {
        try db.execute(sql: "UPDATE requests SET summary_sealed = ?, reason_sealed = ? WHERE id = ?", arguments: [summarySealed, reasonSealed, id])
    }
}
