import Foundation

/// The answer to "this counsel's key may be compromised: what did it ever receive?",
/// computed from the log alone (no secret needed).
public struct Exposure: Codable, Sendable {
    public struct PackageRecord: Codable, Sendable {
        public let package: String
        public let grant: String
        public let time: String
        public let documents: [String]
        public let notAfter: String?
    }

    public struct GrantRecord: Codable, Sendable {
        public let grant: String
        public let time: String
        public let documents: [String]
        public let notAfter: String?
        public let revoked: String?
    }

    public struct DocumentRecord: Codable, Sendable {
        public let document: String
        public let grants: [String]
        public let packages: [String]
        /// Openings through the key-release service, with the first and the last.
        public let openings: Int
        public let firstOpened: String?
        public let lastOpened: String?
    }

    public let fingerprint: String?
    public let counsel: [String]
    public let documents: [DocumentRecord]
    public let grants: [GrantRecord]
    public let packages: [PackageRecord]
    /// Openings recorded by the key-release service (online packages only).
    public let openings: [AuditRecord]
}

extension LogSnapshot {
    /// Everything sealed to a counsel, by counsel id or key fingerprint, since `since`.
    public func exposure(of who: String, since: Date? = nil) throws(DossierError) -> Exposure {
        var entries: [AuditEntry] = []
        for bytes in self.entries { entries.append(try AuditEntry.parse(bytes)) }
        let wantedFP = Fingerprint.normalise(who)
        var counselIDs = Set<String>()
        var fingerprint = wantedFP
        for e in entries where e.kind == .counselAdd {
            let ids = e.subjects(ofType: "counsel")
            if let fp = e.detail("fingerprint"), fp == wantedFP || ids.contains(who) {
                counselIDs.formUnion(ids)
                fingerprint = fp
            }
        }
        guard !counselIDs.isEmpty || wantedFP != nil else {
            throw .unknownCounsel(id: who)
        }
        func concerns(_ e: AuditEntry) -> Bool {
            if !counselIDs.isDisjoint(with: e.subjects(ofType: "counsel")) { return true }
            if let fp = fingerprint, e.details.contains(where: { $0.key == "recipient" && $0.value == fp }) { return true }
            return false
        }
        var revoked: [String: String] = [:]
        for e in entries where e.kind == .revoke { for g in e.subjects(ofType: "grant") { revoked[g] = e.time } }
        var grants: [Exposure.GrantRecord] = []
        var packages: [Exposure.PackageRecord] = []
        var openings: [AuditRecord] = []
        var byDocument: [String: (grants: [String], packages: [String], opened: [String])] = [:]
        var order: [String] = []
        for e in entries {
            if let since, let d = e.date, d < since { continue }
            guard concerns(e) else { continue }
            let docs = e.subjects(ofType: "doc")
            for d in docs where byDocument[d] == nil { byDocument[d] = ([], [], []); order.append(d) }
            switch e.kind {
            case .grant?:
                for g in e.subjects(ofType: "grant") {
                    grants.append(.init(grant: g, time: e.time, documents: docs, notAfter: e.detail("not-after"), revoked: revoked[g]))
                    for d in docs { byDocument[d]?.grants.append(g) }
                }
            case .package?:
                let g = e.subjects(ofType: "grant").first ?? ""
                for p in e.subjects(ofType: "package") {
                    packages.append(.init(package: p, grant: g, time: e.time, documents: docs, notAfter: e.detail("not-after")))
                    for d in docs { byDocument[d]?.packages.append(p) }
                }
            case .open?:
                openings.append(AuditRecord(e))
                for d in docs { byDocument[d]?.opened.append(e.time) }
            default:
                break
            }
        }
        // Documents only denied (never granted) were not exposed.
        let exposed = order.filter { !(byDocument[$0]?.grants.isEmpty ?? true) || !(byDocument[$0]?.packages.isEmpty ?? true) }
        return Exposure(fingerprint: fingerprint, counsel: counselIDs.sorted(),
                        documents: exposed.map {
                            let r = byDocument[$0]!
                            return .init(document: $0, grants: r.grants, packages: r.packages, openings: r.opened.count,
                                         firstOpened: r.opened.first, lastOpened: r.opened.last)
                        },
                        grants: grants, packages: packages, openings: openings)
    }
}
