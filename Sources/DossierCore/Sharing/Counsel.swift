import DossierCrypto
import Foundation

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

/// Dates and times given on the command line: a day (`2026-12-31`, UTC), or an RFC 3339 time
/// (`2026-12-31T18:00:00Z`, `2026-12-31T19:00:00.5+01:00`), taken as is.
public enum CalendarDate {
    /// `2026-12-31` means the end of that day, UTC.
    public static func endOfDay(_ text: String) throws(DossierError) -> Date {
        if let exact = Timestamp.parseRFC3339(text) { return exact }
        return try day(text).addingTimeInterval(86400 - 0.001)
    }

    /// `2026-12-01` means the start of that day, UTC.
    public static func startOfDay(_ text: String) throws(DossierError) -> Date {
        if let exact = Timestamp.parseRFC3339(text) { return exact }
        return try day(text)
    }

    /// The start of the day `YYYY-MM-DD`, UTC.
    private static func day(_ text: String) throws(DossierError) -> Date {
        guard text.utf8.count == 10, let start = Timestamp.parse(text + "T00:00:00.000Z") else {
            throw .invalidArgument("'\(text)' is not a date or a time",
                                   hint: "write YYYY-MM-DD (a day, UTC) or an RFC 3339 time such as 2026-12-04T23:00:49Z or 2026-12-04T23:00:49.5+01:00")
        }
        return start
    }
}

extension StaffSession.Sharing {
    /// Registers counsel by their public identity.
    public func addCounsel(_ identity: PublicIdentity, details: Counsel.Details) throws(DossierError) -> Counsel {
        let name = details.name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { throw .invalidArgument("counsel need a name", hint: "give one with --name NAME") }
        var d = details
        d.name = name
        let id = Identifier.make(prefix: "counsel", random: vault.random)
        let now = vault.clock.now()
        let sealed = try sealJSON(d, purpose: .counsel, id: id)
        try write { tx in
            if let existing = try tx.counsel(id: identity.fingerprint, orFingerprint: identity.fingerprint) {
                throw DossierError.counselAlreadyRegistered(fingerprint: identity.fingerprint, id: existing.id)
            }
            try tx.insertCounsel(CounselRecord(id: id, fingerprint: identity.fingerprint, publicLine: identity.line, detailsSealed: sealed,
                                               addedAt: Timestamp.format(now)))
            try AuditLog.append(tx, signer: self.identity, action: .counselAdd, at: now,
                                subjects: ["counsel:" + id], details: [.init("fingerprint", identity.fingerprint)])
        }
        return try counsel(id)
    }

    /// Marks counsel as vetted until the given date.
    public func vetCounsel(_ id: String, until: Date, note: String?) throws(DossierError) -> Counsel {
        let now = vault.clock.now()
        guard until > now else { throw .invalidArgument("the vetting date \(Timestamp.format(until)) is in the past") }
        let noteSealed = try note.map { n throws(DossierError) in try Sealing.seal(Data(n.utf8), purpose: .counsel, id: id + "/vetting", vaultKey: vaultKey, random: vault.random) }
        try write { tx in
            guard try tx.counsel(ids: [id]).isEmpty == false else { throw DossierError.unknownCounsel(id: id) }
            try tx.setVetting(counsel: id, until: Timestamp.format(until), noteSealed: noteSealed)
            try AuditLog.append(tx, signer: identity, action: .counselVet, at: now,
                                subjects: ["counsel:" + id], details: [.init("until", Timestamp.format(until))])
        }
        return try counsel(id)
    }

    /// Suspends counsel: no new grants or packages name them until vetted again.
    public func suspendCounsel(_ id: String, reason: String) throws(DossierError) -> Counsel {
        let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw .invalidArgument("a suspension needs a reason", hint: "say why with --reason TEXT (stored sealed, for staff)") }
        let now = vault.clock.now()
        let sealed = try Sealing.seal(Data(trimmed.utf8), purpose: .counsel, id: id + "/suspension", vaultKey: vaultKey, random: vault.random)
        try write { tx in
            guard try tx.counsel(ids: [id]).isEmpty == false else { throw DossierError.unknownCounsel(id: id) }
            try tx.setSuspension(counsel: id, at: Timestamp.format(now), reasonSealed: sealed)
            try AuditLog.append(tx, signer: identity, action: .counselSuspend, at: now, subjects: ["counsel:" + id])
        }
        return try counsel(id)
    }

    /// One counsel, by id or fingerprint.
    public func counsel(_ idOrFingerprint: String) throws(DossierError) -> Counsel {
        let fp = Fingerprint.normalise(idOrFingerprint) ?? ""
        guard let row = try read({ tx in try tx.counsel(id: idOrFingerprint, orFingerprint: fp) }) else {
            throw .unknownCounsel(id: idOrFingerprint)
        }
        return try makeCounsel(row)
    }

    /// Several counsel by id, in the order given, read in one transaction.
    func counsel(ids: [String]) throws(DossierError) -> [Counsel] {
        let rows = try read { tx in try tx.counsel(ids: ids) }
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
        let rows = try read { tx in try tx.allCounsel() }
        var out: [Counsel] = []
        for row in rows { out.append(try makeCounsel(row)) }
        return out
    }

    func makeCounsel(_ row: CounselRecord) throws(DossierError) -> Counsel {
        let id = row.id
        let details: Counsel.Details = try openJSON(row.detailsSealed, purpose: .counsel, id: id)
        func text(_ sealed: Data?, _ suffix: String) throws(DossierError) -> String? {
            guard let sealed else { return nil }
            return String(decoding: try Sealing.open(sealed, purpose: .counsel, id: id + suffix, vaultKey: vaultKey).unsafeCopyToData(), as: UTF8.self)
        }
        return Counsel(id: id, fingerprint: row.fingerprint, publicIdentity: row.publicLine, details: details,
                       addedAt: row.addedAt, vettedUntil: row.vettedUntil, vettingNote: try text(row.vettingNoteSealed, "/vetting"),
                       suspendedAt: row.suspendedAt, suspensionReason: try text(row.suspensionReasonSealed, "/suspension"))
    }
}

extension StaffSession {
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
