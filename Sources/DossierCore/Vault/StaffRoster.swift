import DossierCrypto
import Foundation

/// A staff member as listed to other staff.
public struct StaffMember: Codable, Sendable {
    public let id: String
    public let name: String
    public let publicIdentity: String
    public let addedAt: String
    public let removedAt: String?
}

enum StaffRoster {
    static func insert(_ tx: any StoreTransaction, identity: PublicIdentity, name: String, vaultKey: SecureBytes,
                       at time: Date, random: any RandomSource) throws {
        let fp = identity.fingerprint
        let sealedKey = try SealedBox.seal(vaultKey, to: identity.encryptionKey)
        let sealedName = try Sealing.seal(Data(name.utf8), purpose: .staffName, id: fp, vaultKey: vaultKey, random: random)
        try tx.insertStaff(StaffRecord(fingerprint: fp, publicLine: identity.line, nameSealed: sealedName, vaultKeySealed: sealedKey,
                                       addedAt: Timestamp.format(time), removedAt: nil))
    }
}

extension StaffSession.Staff {
    /// Adds a staff member: one sealed copy of the vault key for them.
    /// With `service`, the member is the key-release service: its identity can sign openings (and refusals and received requests)
    /// and nothing else (`SignedFacts.Role`), and it unlocks the vault only for `dossier serve`.
    public func add(_ member: PublicIdentity, name: String, service: Bool = false) throws(DossierError) -> StaffMember {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw .invalidArgument("a staff member needs a name", hint: "give one with --name NAME") }
        let fp = member.fingerprint
        let now = vault.clock.now()
        try write { tx in
            if let existing = try tx.staffMember(fp) {
                if existing.removedAt == nil { throw DossierError.staffAlreadyPresent(fingerprint: fp) }
                throw DossierError.invalidArgument("\(fp) was staff and was removed; a removed identity cannot return: ask them to create a new identity")
            }
            try StaffRoster.insert(tx, identity: member, name: trimmed, vaultKey: vaultKey, at: now, random: vault.random)
            try AuditLog.append(tx, signer: identity, action: .staffAdd, at: now,
                                subjects: ["staff:" + fp], details: [.init("identity", member.line)] + (service ? [.init("role", "service")] : []))
        }
        return StaffMember(id: fp, name: trimmed, publicIdentity: member.line, addedAt: Timestamp.format(now), removedAt: nil)
    }

    /// Every staff member, current and removed.
    public func list() throws(DossierError) -> [StaffMember] {
        let rows = try read { tx in try tx.allStaff() }
        var out: [StaffMember] = []
        for row in rows {
            let fp = row.fingerprint
            let name = try Sealing.open(row.nameSealed, purpose: .staffName, id: fp, vaultKey: vaultKey)
            out.append(StaffMember(id: fp, name: String(decoding: name.unsafeCopyToData(), as: UTF8.self),
                                   publicIdentity: row.publicLine, addedAt: row.addedAt, removedAt: row.removedAt))
        }
        return out
    }

    /// Removes a staff member and rotates the vault key, so the removed identity can no longer
    /// unlock the vault. Returns the number of document keys re-wrapped.
    @discardableResult
    public func remove(_ id: String) throws(DossierError) -> Int {
        guard let fp = Fingerprint.normalise(id) else { throw .unknownStaff(id: id) }
        return try rotate(removing: fp)
    }

    /// Replaces the vault key: every document key, sealed metadata and staff name is re-sealed
    /// under a new key, which is sealed to each remaining staff member; the old key is gone,
    /// from the vault's files too. Throws `purgeBlocked`, with the rotation committed, when
    /// another process's reader keeps the old sealed values in the files.
    @discardableResult
    public func rotate(removing removed: String? = nil) throws(DossierError) -> Int {
        let newKey = SecureBytes(randomCount: AEAD.keyBytes, using: vault.random)
        let now = vault.clock.now()
        // Once it commits the session carries on under the new key, even if the purge of the
        // old sealed values is then blocked.
        return try session.writeReplacingSecrets({ tx in
            if let removed {
                guard let member = try tx.staffMember(removed), member.removedAt == nil else { throw DossierError.unknownStaff(id: removed) }
                guard try tx.countCurrentStaff(excluding: removed) > 0 else { throw DossierError.lastStaffMember }
                try tx.retireStaff(removed, at: Timestamp.format(now))
                try Certification.revokeAll(tx, fingerprint: removed, signer: identity, at: now, reason: "staff-removed")
            }
            let rewrapped = try reseal(tx, newKey: newKey)
            try tx.setSetting(.vaultKeyGeneration, text: String(session.generation + 1))
            var details: [AuditEntry.Detail] = [.init("rewrapped-keys", String(rewrapped))]
            if removed != nil { details.append(.init("reason", "staff-removed")) }
            if let removed {
                try AuditLog.append(tx, signer: identity, action: .staffRemove, at: now, subjects: ["staff:" + removed], details: details)
            } else {
                try AuditLog.append(tx, signer: identity, action: .rotate, at: now, subjects: [], details: details)
            }
            return rewrapped
        }, committed: { _ in session.adopt(vaultKey: newKey, generation: session.generation + 1) })
    }

    /// Re-seals everything sealed under the vault key. Runs inside the rotation's transaction.
    private func reseal(_ tx: any StoreTransaction, newKey: SecureBytes) throws -> Int {
        let random = vault.random
        func move(_ sealed: Data, _ purpose: Sealing.Purpose, _ id: String) throws -> Data {
            let plain = try Sealing.open(sealed, purpose: purpose, id: id, vaultKey: vaultKey)
            return try Sealing.seal(plain, purpose: purpose, id: id, vaultKey: newKey, random: random)
        }
        var count = 0
        for d in try tx.allDocumentSeals() {
            try tx.resealDocument(DocumentSeals(id: d.id,
                                                keySealed: try d.keySealed.map { try move($0, .documentKey, d.id) },
                                                metadataSealed: try d.metadataSealed.map { try move($0, .metadata, d.id) },
                                                reasonSealed: try d.reasonSealed.map { try move($0, .reason, d.id) }))
            if d.keySealed != nil { count += 1 }
        }
        for member in try tx.allStaff() {
            let name = try move(member.nameSealed, .staffName, member.fingerprint)
            let key = member.removedAt == nil ? try SealedBox.seal(newKey, to: try PublicIdentity(line: member.publicLine).encryptionKey) : nil
            try tx.resealStaff(member.fingerprint, nameSealed: name, vaultKeySealed: key)
        }
        if let sealed = try tx.settingData(.organisationSecretSealed) {
            try tx.setSetting(.organisationSecretSealed, data: try move(sealed, .organisationKey, ""))
        }
        if let sealed = try tx.settingData(.intakeSecretSealed) {
            try tx.setSetting(.intakeSecretSealed, data: try move(sealed, .intakeKey, ""))
        }
        for c in try tx.allCounsel() {
            try tx.resealCounsel(id: c.id, detailsSealed: try move(c.detailsSealed, .counsel, c.id),
                                 vettingNoteSealed: try c.vettingNoteSealed.map { try move($0, .counsel, c.id + "/vetting") },
                                 suspensionReasonSealed: try c.suspensionReasonSealed.map { try move($0, .counsel, c.id + "/suspension") })
        }
        for g in try tx.allGrantSeals() {
            try tx.resealGrant(id: g.id, detailsSealed: try move(g.detailsSealed, .grant, g.id),
                               reasonSealed: try g.reasonSealed.map { try move($0, .grant, g.id + "/revocation") })
        }
        for r in try tx.allRequestSeals() {
            try tx.resealRequest(id: r.id, summarySealed: try move(r.summarySealed, .request, r.id),
                                 reasonSealed: try r.reasonSealed.map { try move($0, .request, r.id + "/decline") })
        }
        for s in try tx.allOnlineShares() {
            try tx.resealOnlineShare(package: s.packageID, fingerprint: s.fingerprint,
                                     shareSealed: try move(s.shareSealed, .onlineShare, s.packageID + "/" + s.fingerprint))
        }
        return count
    }
}
