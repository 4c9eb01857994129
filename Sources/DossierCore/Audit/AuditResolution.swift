import Foundation

/// Document titles and counsel names for the subjects of log records, as a staff member sees
/// them (`audit log --resolve`). The log itself holds only ids; the names come from the vault.
public struct AuditResolution: Sendable {
    /// A subject that names something the vault does not know (an export of another vault, or
    /// a catalogue that lost a row), with the error that said so.
    public struct Unresolved: Sendable {
        public let subject: String
        public let error: DossierError
    }

    /// The records, each with `resolved` set to the names found for its subjects.
    public let records: [AuditRecord]
    /// Subjects that could not be resolved, each once, in the order first met.
    public let unresolved: [Unresolved]
}

extension AuditRecord {
    /// The subjects of one type, without the `type:` prefix (as `AuditEntry.subjects(ofType:)`).
    public func subjects(ofType type: String) -> [String] {
        subjects.compactMap { $0.hasPrefix(type + ":") ? String($0.dropFirst(type.count + 1)) : nil }
    }
}

extension StaffSession.Audit {
    /// Adds to each record the title of every document (`(removed)` for a crypto-shredded one)
    /// and the name of every counsel it names. A subject the vault does not know is reported in
    /// `unresolved`, not dropped in silence; any other failure of the vault is thrown, so that a
    /// review never shows a partial picture as if it were whole.
    public func resolveNames(in records: [AuditRecord]) throws(DossierError) -> AuditResolution {
        var names: [String: String] = [:]
        var unresolved: [AuditResolution.Unresolved] = []
        var tried: Set<String> = []
        func resolve(_ subject: String) throws(DossierError) {
            guard tried.insert(subject).inserted else { return }
            do throws(DossierError) {
                if subject.hasPrefix("doc:") {
                    names[subject] = try session.documents.document(String(subject.dropFirst(4))).metadata?.title ?? "(removed)"
                } else if subject.hasPrefix("counsel:") {
                    names[subject] = try session.sharing.counsel(String(subject.dropFirst(8))).details.name
                }
            } catch {
                switch error {
                case .unknownDocument, .unknownCounsel: unresolved.append(.init(subject: subject, error: error))
                default: throw error
                }
            }
        }
        var out: [AuditRecord] = []
        out.reserveCapacity(records.count)
        for record in records {
            var r = record
            var found: [String: String] = [:]
            for s in r.subjects {
                try resolve(s)
                if let name = names[s] { found[s] = name }
            }
            r.resolved = found
            out.append(r)
        }
        return AuditResolution(records: out, unresolved: unresolved)
    }
}
