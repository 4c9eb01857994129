import DossierCrypto
import Foundation
import GRDB

/// A staff member as listed to other staff.
public struct StaffMember: Codable, Sendable {
    public let id: String
    public let name: String
    public let publicIdentity: String
    public let addedAt: String
    public let removedAt: String?
}

enum StaffRoster {
    static func insert(_ db: Database, identity: PublicIdentity, name: String, vaultKey: SecureBytes,
                       at time: Date, random: any RandomSource) throws {
        let fp = identity.fingerprint
        let sealedKey = try SealedBox.seal(vaultKey, to: identity.encryptionKey)
        let sealedName = try Sealing.seal(Data(name.utf8), purpose: .staffName, id: fp, vaultKey: vaultKey, random: random)
        try db.execute(sql: """
            INSERT INTO staff(fingerprint, public_line, name_sealed, vault_key_sealed, added_at) VALUES (?, ?, ?, ?, ?)
            """, arguments: [fp, identity.line, sealedName, sealedKey, Timestamp.format(time)])
    }
}

extension StaffSession {
    /// Adds a staff member: one sealed copy of the vault key for them.
    public func addStaff(_ member: PublicIdentity, name: String) throws(DossierError) -> StaffMember {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw .invalidArgument("a staff member needs a name (--name NAME)") }
        let fp = member.fingerprint
        let now = vault.clock.now()
        try write { db in
            if let removed = try Row.fetchOne(db, sql: "SELECT removed_at FROM staff WHERE fingerprint = ?", arguments: [fp]) {
                if (removed["removed_at"] as String?) == nil { throw DossierError.staffAlreadyPresent(fingerprint: fp) }
                throw DossierError.invalidArgument("\(fp) was staff and was removed; a removed identity cannot return: ask them to create a new identity")
            }
            try StaffRoster.insert(db, identity: member, name: trimmed, vaultKey: vaultKey, at: now, random: vault.random)
            try AuditLog.append(db, signer: identity, action: .staffAdd, at: now,
                                subjects: ["staff:" + fp], details: [.init("identity", member.line)])
        }
        return StaffMember(id: fp, name: trimmed, publicIdentity: member.line, addedAt: Timestamp.format(now), removedAt: nil)
    }

    /// Every staff member, current and removed.
    public func listStaff() throws(DossierError) -> [StaffMember] {
        let rows = try read { db in try Row.fetchAll(db, sql: "SELECT * FROM staff ORDER BY added_at, fingerprint") }
        var out: [StaffMember] = []
        for row in rows {
            let fp: String = row["fingerprint"]
            let name = try Sealing.open(row["name_sealed"], purpose: .staffName, id: fp, vaultKey: vaultKey)
            out.append(StaffMember(id: fp, name: String(decoding: name.unsafeCopyToData(), as: UTF8.self),
                                   publicIdentity: row["public_line"], addedAt: row["added_at"], removedAt: row["removed_at"]))
        }
        return out
    }

    /// Removes a staff member and rotates the vault key, so the removed identity can no longer
    /// unlock the vault. Returns the number of document keys re-wrapped.
    @discardableResult
    public func removeStaff(_ id: String) throws(DossierError) -> Int {
        guard let fp = Fingerprint.normalise(id) else { throw .unknownStaff(id: id) }
        return try rotate(removing: fp)
    }

    /// Replaces the vault key: every document key, sealed metadata and staff name is re-sealed
    /// under a new key, which is sealed to each remaining staff member; the old key is gone.
    @discardableResult
    public func rotate(removing removed: String? = nil) throws(DossierError) -> Int {
        let newKey = SecureBytes(randomCount: AEAD.keyBytes, using: vault.random)
        let now = vault.clock.now()
        let count: Int = try write { db in
            if let removed {
                guard let row = try Row.fetchOne(db, sql: "SELECT removed_at FROM staff WHERE fingerprint = ?", arguments: [removed]),
                      (row["removed_at"] as String?) == nil else { throw DossierError.unknownStaff(id: removed) }
                let remaining = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM staff WHERE removed_at IS NULL AND fingerprint != ?", arguments: [removed]) ?? 0
                guard remaining > 0 else { throw DossierError.lastStaffMember }
                try db.execute(sql: "UPDATE staff SET vault_key_sealed = NULL, removed_at = ? WHERE fingerprint = ?",
                               arguments: [Timestamp.format(now), removed])
            }
            let rewrapped = try reseal(db, newKey: newKey)
            try db.execute(sql: "INSERT OR REPLACE INTO settings(key, value) VALUES ('vault_key_generation', ?)",
                           arguments: [String(generation + 1)])
            var details: [AuditEntry.Detail] = [.init("rewrapped-keys", String(rewrapped))]
            if removed != nil { details.append(.init("reason", "staff-removed")) }
            if let removed {
                try AuditLog.append(db, signer: identity, action: .staffRemove, at: now, subjects: ["staff:" + removed], details: details)
            } else {
                try AuditLog.append(db, signer: identity, action: .rotate, at: now, subjects: [], details: details)
            }
            return rewrapped
        }
        adopt(vaultKey: newKey, generation: generation + 1)
        vault.checkpointAndTruncateWAL()
        return count
    }

    /// Re-seals everything sealed under the vault key. Runs inside the rotation's transaction.
    private func reseal(_ db: Database, newKey: SecureBytes) throws -> Int {
        let random = vault.random
        func move(_ sealed: Data, _ purpose: Sealing.Purpose, _ id: String) throws -> Data {
            let plain = try Sealing.open(sealed, purpose: purpose, id: id, vaultKey: vaultKey)
            return try Sealing.seal(plain, purpose: purpose, id: id, vaultKey: newKey, random: random)
        }
        var count = 0
        for row in try Row.fetchAll(db, sql: "SELECT id, metadata_sealed, key_sealed, reason_sealed FROM documents") {
            let id: String = row["id"]
            let key: Data? = row["key_sealed"]
            let meta: Data? = row["metadata_sealed"]
            let reason: Data? = row["reason_sealed"]
            try db.execute(sql: "UPDATE documents SET key_sealed = ?, metadata_sealed = ?, reason_sealed = ? WHERE id = ?", arguments: [
                try key.map { try move($0, .documentKey, id) },
                try meta.map { try move($0, .metadata, id) },
                try reason.map { try move($0, .reason, id) },
                id,
            ])
            if key != nil { count += 1 }
        }
        for row in try Row.fetchAll(db, sql: "SELECT fingerprint, public_line, name_sealed, removed_at FROM staff") {
            let fp: String = row["fingerprint"]
            let name = try move(row["name_sealed"], .staffName, fp)
            if (row["removed_at"] as String?) == nil {
                let pub = try PublicIdentity(line: row["public_line"])
                try db.execute(sql: "UPDATE staff SET name_sealed = ?, vault_key_sealed = ? WHERE fingerprint = ?",
                               arguments: [name, try SealedBox.seal(newKey, to: pub.encryptionKey), fp])
            } else {
                try db.execute(sql: "UPDATE staff SET name_sealed = ? WHERE fingerprint = ?", arguments: [name, fp])
            }
        }
        let orgSealed = try Data.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'organisation_secret_sealed'") ?? Data()
        try db.execute(sql: "UPDATE settings SET value = ? WHERE key = 'organisation_secret_sealed'",
                       arguments: [try move(orgSealed, .organisationKey, "")])
        try ResealHooks.resealExtra(db, move: move)
        return count
    }
}

/// The sharing tables' sealed columns, moved to a new vault key during rotation.
enum ResealHooks {
    static func resealExtra(_ db: Database, move: (Data, Sealing.Purpose, String) throws -> Data) throws {
        for row in try Row.fetchAll(db, sql: "SELECT id, details_sealed, vetting_note_sealed, suspension_reason_sealed FROM counsel") {
            let id: String = row["id"]
            try db.execute(sql: "UPDATE counsel SET details_sealed = ?, vetting_note_sealed = ?, suspension_reason_sealed = ? WHERE id = ?", arguments: [
                try move(row["details_sealed"], .counsel, id),
                try (row["vetting_note_sealed"] as Data?).map { try move($0, .counsel, id + "/vetting") },
                try (row["suspension_reason_sealed"] as Data?).map { try move($0, .counsel, id + "/suspension") },
                id,
            ])
        }
        for row in try Row.fetchAll(db, sql: "SELECT id, details_sealed, reason_sealed FROM grants") {
            let id: String = row["id"]
            try db.execute(sql: "UPDATE grants SET details_sealed = ?, reason_sealed = ? WHERE id = ?", arguments: [
                try move(row["details_sealed"], .grant, id),
                try (row["reason_sealed"] as Data?).map { try move($0, .grant, id + "/revocation") },
                id,
            ])
        }
        for row in try Row.fetchAll(db, sql: "SELECT package_id, fingerprint, share_sealed FROM online_shares") {
            let package: String = row["package_id"], fingerprint: String = row["fingerprint"]
            try db.execute(sql: "UPDATE online_shares SET share_sealed = ? WHERE package_id = ? AND fingerprint = ?", arguments: [
                try move(row["share_sealed"], .onlineShare, package + "/" + fingerprint), package, fingerprint,
            ])
        }
    }
}
