import DossierCrypto
import Foundation
import GRDB

/// A defence lawyer registered with the vault. Contact details are stored sealed.
public struct Counsel: Codable, Sendable {
    public struct Details: Codable, Sendable, Equatable {
        public var name: String
        public var email: String?
        public var jurisdiction: String?
        public var barId: String?
        public init(name: String, email: String? = nil, jurisdiction: String? = nil, barId: String? = nil) {
            self.name = name; self.email = email; self.jurisdiction = jurisdiction; self.barId = barId
        }
    }

    public let id: String
    public let fingerprint: String
    public let publicIdentity: String
    public let details: Details
    public let addedAt: String
    public let vettedUntil: String?
    public let vettingNote: String?
    public let suspendedAt: String?
    public let suspensionReason: String?

    /// Vetted through `date` and not suspended.
    public func isVetted(through date: Date) -> Bool {
        guard suspendedAt == nil, let until = vettedUntil.flatMap(Timestamp.parse) else { return false }
        return until >= date
    }

    /// `active`, `vetted until …`, `suspended`, `not vetted`, `vetting expired`.
    public func status(at now: Date) -> String {
        if suspendedAt != nil { return "suspended" }
        guard let until = vettedUntil else { return "not vetted" }
        return isVetted(through: now) ? "vetted until \(until.prefix(10))" : "vetting expired \(until.prefix(10))"
    }
}

/// Parsing of calendar dates given on the command line: `2026-12-31` means the end of that day, UTC.
public enum CalendarDate {
    public static func endOfDay(_ text: String) throws(DossierError) -> Date {
        if let exact = Timestamp.parse(text) { return exact }
        guard text.count == 10, let start = Timestamp.parse(text + "T00:00:00.000Z") else {
            throw .invalidArgument("'\(text)' is not a date; write YYYY-MM-DD (the end of that day, UTC) or 2026-12-31T18:00:00.000Z")
        }
        return start.addingTimeInterval(86400 - 0.001)
    }

    /// `2026-12-01` means the start of that day, UTC; a full RFC 3339 time is taken as is.
    public static func startOfDay(_ text: String) throws(DossierError) -> Date {
        if let exact = Timestamp.parse(text) { return exact }
        return try endOfDay(text).addingTimeInterval(-86400 + 0.001)
    }
}

extension StaffSession {
    /// Registers counsel by their public identity.
    public func addCounsel(_ identity: PublicIdentity, details: Counsel.Details) throws(DossierError) -> Counsel {
        let name = details.name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { throw .invalidArgument("counsel need a name (--name NAME)") }
        var d = details
        d.name = name
        let id = Identifier.make(prefix: "counsel", random: vault.random)
        let now = vault.clock.now()
        let sealed = try sealJSON(d, purpose: .counsel, id: id)
        try write { db in
            if let existing = try String.fetchOne(db, sql: "SELECT id FROM counsel WHERE fingerprint = ?", arguments: [identity.fingerprint]) {
                throw DossierError.counselAlreadyRegistered(fingerprint: identity.fingerprint, id: existing)
            }
            try db.execute(sql: "INSERT INTO counsel(id, fingerprint, public_line, details_sealed, added_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [id, identity.fingerprint, identity.line, sealed, Timestamp.format(now)])
            try AuditLog.append(db, signer: self.identity, action: .counselAdd, at: now,
                                subjects: ["counsel:" + id], details: [.init("fingerprint", identity.fingerprint)])
        }
        return try counsel(id)
    }

    /// Marks counsel as vetted until the given date.
    public func vetCounsel(_ id: String, until: Date, note: String?) throws(DossierError) -> Counsel {
        let now = vault.clock.now()
        guard until > now else { throw .invalidArgument("the vetting date \(Timestamp.format(until)) is in the past") }
        let noteSealed = try note.map { n throws(DossierError) in try Sealing.seal(Data(n.utf8), purpose: .counsel, id: id + "/vetting", vaultKey: vaultKey, random: vault.random) }
        try write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM counsel WHERE id = ?", arguments: [id]) != nil else { throw DossierError.unknownCounsel(id: id) }
            try db.execute(sql: "UPDATE counsel SET vetted_until = ?, vetting_note_sealed = ?, suspended_at = NULL, suspension_reason_sealed = NULL WHERE id = ?",
                           arguments: [Timestamp.format(until), noteSealed, id])
            try AuditLog.append(db, signer: identity, action: .counselVet, at: now,
                                subjects: ["counsel:" + id], details: [.init("until", Timestamp.format(until))])
        }
        return try counsel(id)
    }

    /// Suspends counsel: no new grants or packages name them until vetted again.
    public func suspendCounsel(_ id: String, reason: String) throws(DossierError) -> Counsel {
        let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw .invalidArgument("say why with --reason TEXT (stored sealed, for staff)") }
        let now = vault.clock.now()
        let sealed = try Sealing.seal(Data(trimmed.utf8), purpose: .counsel, id: id + "/suspension", vaultKey: vaultKey, random: vault.random)
        try write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM counsel WHERE id = ?", arguments: [id]) != nil else { throw DossierError.unknownCounsel(id: id) }
            try db.execute(sql: "UPDATE counsel SET suspended_at = ?, suspension_reason_sealed = ? WHERE id = ?",
                           arguments: [Timestamp.format(now), sealed, id])
            try AuditLog.append(db, signer: identity, action: .counselSuspend, at: now, subjects: ["counsel:" + id])
        }
        return try counsel(id)
    }

    /// One counsel, by id or fingerprint.
    public func counsel(_ idOrFingerprint: String) throws(DossierError) -> Counsel {
        let fp = Fingerprint.normalise(idOrFingerprint) ?? ""
        guard let row = try read({ db in
            try Row.fetchOne(db, sql: "SELECT * FROM counsel WHERE id = ? OR fingerprint = ?", arguments: [idOrFingerprint, fp])
        }) else { throw .unknownCounsel(id: idOrFingerprint) }
        return try makeCounsel(row)
    }

    /// Several counsel by id, in the order given, read in one transaction.
    func counsel(ids: [String]) throws(DossierError) -> [Counsel] {
        let rows = try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM counsel WHERE id IN (SELECT value FROM json_each(?))",
                             arguments: [String(decoding: try JSONEncoder().encode(ids), as: UTF8.self)])
        }
        var byID: [String: Counsel] = [:]
        for row in rows {
            let c = try makeCounsel(row)
            byID[c.id] = c
        }
        var out: [Counsel] = []
        for id in ids {
            guard let c = byID[id] else { throw .unknownCounsel(id: id) }
            out.append(c)
        }
        return out
    }

    /// All counsel.
    public func listCounsel() throws(DossierError) -> [Counsel] {
        let rows = try read { db in try Row.fetchAll(db, sql: "SELECT * FROM counsel ORDER BY added_at, id") }
        var out: [Counsel] = []
        for row in rows { out.append(try makeCounsel(row)) }
        return out
    }

    func makeCounsel(_ row: Row) throws(DossierError) -> Counsel {
        let id: String = row["id"]
        let details: Counsel.Details = try openJSON(row["details_sealed"], purpose: .counsel, id: id)
        func text(_ column: String, _ suffix: String) throws(DossierError) -> String? {
            guard let sealed = row[column] as Data? else { return nil }
            return String(decoding: try Sealing.open(sealed, purpose: .counsel, id: id + suffix, vaultKey: vaultKey).unsafeCopyToData(), as: UTF8.self)
        }
        return Counsel(id: id, fingerprint: row["fingerprint"], publicIdentity: row["public_line"], details: details,
                       addedAt: row["added_at"], vettedUntil: row["vetted_until"], vettingNote: try text("vetting_note_sealed", "/vetting"),
                       suspendedAt: row["suspended_at"], suspensionReason: try text("suspension_reason_sealed", "/suspension"))
    }

    func sealJSON<T: Encodable>(_ value: T, purpose: Sealing.Purpose, id: String) throws(DossierError) -> Data {
        var json: Data
        do { json = try JSONEncoder().encode(value) } catch { throw .invalidArgument("cannot encode \(purpose.rawValue)") }
        defer { secureZero(&json) }
        return try Sealing.seal(json, purpose: purpose, id: id, vaultKey: vaultKey, random: vault.random)
    }

    func openJSON<T: Decodable>(_ sealed: Data, purpose: Sealing.Purpose, id: String) throws(DossierError) -> T {
        let plain = try Sealing.open(sealed, purpose: purpose, id: id, vaultKey: vaultKey)
        do {
            return try plain.withUnsafeBytes { b in try JSONDecoder().decode(T.self, from: Data(b)) }
        } catch {
            throw .integrity("the sealed \(purpose.rawValue) record of \(id) is unreadable")
        }
    }
}
