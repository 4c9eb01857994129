import DossierCrypto
import Foundation

/// Where a request stands in the inbox. Every change is a signed log entry; the state a
/// command acts on is the one the log gives (`SignedFacts.requests`), never the row alone.
public enum RequestState: String, CaseIterable, Sendable, Codable {
    case new, assigned, answered, declined

    /// New or assigned: it can still be assigned, answered or declined.
    public var isOpen: Bool { self == .new || self == .assigned }

    public init(parsing text: String) throws(DossierError) {
        guard let state = RequestState(rawValue: text) else {
            throw .invalidArgument("unknown request state '\(text)'", hint: "use one of: \(RequestState.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = state
    }
}

/// A request in the staff inbox, with its summary opened (for staff only).
public struct InboxRequest: Codable, Sendable {
    /// Registered counsel with the sender's fingerprint, if any.
    public struct Sender: Codable, Sendable {
        public let counselID: String
        public let name: String
    }

    public let id: String
    public let receivedAt: String
    public let receivedBy: String
    /// When counsel wrote it (the header's `created`, by their clock).
    public let created: String
    public let senderFingerprint: String
    public let senderIdentity: String
    public let counsel: Sender?
    public let need: RequestNeed
    public let languages: [String]
    public let jurisdiction: String?
    public let court: String?
    public let caseReference: String?
    public let hearing: String?
    public let attachments: Int
    public let state: RequestState
    public let assignedTo: String?
    public let grant: String?
    public let declineReason: String?
    public let closedAt: String?
    public let size: UInt64
    public let sha256: String
}

/// A request opened from the vault: its summary, message and attachment list.
public struct InboxRequestContent: Sendable {
    public let request: InboxRequest
    public let message: String
    public let attachments: [RequestAttachment]
}

/// Which requests `list` shows.
public struct RequestFilter: Sendable {
    public var state: RequestState?
    /// A BCP 47 tag: requests needing this language or a more specific one (`fr` matches `fr-CA`).
    public var language: String?
    /// `YYYY-MM-DD`: requests whose hearing is strictly before this day.
    public var hearingBefore: String?

    public init(state: RequestState? = nil, language: String? = nil, hearingBefore: String? = nil) {
        self.state = state
        self.language = language
        self.hearingBefore = hearingBefore
    }

    /// Checks the values as given on the command line; returns the filter in canonical form.
    public func checked() throws(DossierError) -> RequestFilter {
        var out = self
        if let language { out.language = try Language.canonical(language) }
        if let hearingBefore, !RequestText.isDate(hearingBefore) {
            throw .invalidArgument("'\(hearingBefore)' is not a date", hint: "write YYYY-MM-DD, for example 2027-04-01")
        }
        return out
    }

    func matches(_ r: InboxRequest) -> Bool {
        if let state, r.state != state { return false }
        if let language {
            let want = language.lowercased()
            guard r.languages.contains(where: { $0.lowercased() == want || $0.lowercased().hasPrefix(want + "-") }) else { return false }
        }
        if let hearingBefore {
            guard let hearing = r.hearing, hearing < hearingBefore else { return false }
        }
        return true
    }
}

/// What the inbox keeps sealed under the vault key for each request (purpose `request`, id =
/// the request id): everything `requests` lists except the public id, state and times.
struct InboxSummary: Codable {
    var from: String
    var need: String
    var languages: [String]
    var jurisdiction: String?
    var court: String?
    var caseReference: String?
    var hearing: String?
    var created: String
    var attachments: Int
}

extension StaffSession {
    /// The staff inbox of requests from counsel (Requests/Inbox.swift).
    public struct Requests: SessionPart { public let session: StaffSession }
    /// The staff inbox of requests from counsel.
    public var requests: Requests { Requests(session: self) }
}

extension StaffSession.Requests {
    // MARK: Import

    /// Verifies a request file with the organisation's intake secret (every check of
    /// formats/request.md, section 7), keeps it as received in the vault, and records it
    /// (`request-receive`, naming only its id, its file's SHA-256, the sender's fingerprint, what
    /// is needed and the languages: the figures of the audit report, never names, courts,
    /// cases or dates).
    /// Refuses a request id already in the inbox (`requestAlreadyReceived`): nothing is stored.
    public func importRequest(path: String) throws(DossierError) -> InboxRequest {
        let (_, secret) = try session.intakeSecret()
        // The framing alone (no secret) gives the id: a replay is refused before anything is copied.
        let id = try RequestReader.header(path: path).requestID
        if let existing = try read({ tx in try tx.request(id) }) { throw .requestAlreadyReceived(id: id, receivedAt: existing.receivedAt) }
        let content = vault.blobs
        // Copy first, then verify the copy: what is verified is exactly what is kept.
        let input = try FileAccess.openForReading(path: path)
        let written: (size: UInt64, sha256: Data)
        do {
            defer { close(input) }
            do {
                written = try content.writeRequest(id: id, from: input, sourcePath: path)
            } catch .fileExists {
                // A file without a row: left by an import interrupted before it committed.
                content.remove(id: id)
                guard lseek(input, 0, SEEK_SET) == 0 else { throw DossierError.fileUnreadable(path: path, reason: FileAccess.errnoText()) }
                written = try content.writeRequest(id: id, from: input, sourcePath: path)
            }
        }
        do {
            let opened = try RequestReader.open(fd: try content.openRequest(id: id), path: path, intakeSecret: secret)
            guard opened.header.requestID == id else {
                throw DossierError.malformedRequest(path: path, reason: "the file changed while it was read")
            }
            let d = opened.details
            let sealed = try sealedSummary(opened)
            try content.makeDurable(ids: [id])
            let now = vault.clock.now()
            let record = RequestRecord(id: id, receivedAt: Timestamp.format(now), receivedBy: actor, sha256: written.sha256.hex,
                                       size: written.size, sender: d.from.fingerprint, state: RequestState.new.rawValue,
                                       summarySealed: sealed)
            try write { tx in
                let facts = try signedFacts(tx)
                if let existing = try tx.request(id) { throw DossierError.requestAlreadyReceived(id: id, receivedAt: existing.receivedAt) }
                if facts.requests[id] != nil { throw DossierError.altered("request \(id) was received (signed log) but its row is gone") }
                try tx.insertRequest(record)
                try AuditLog.append(tx, signer: identity, action: .requestReceive, at: now, subjects: ["request:" + id],
                                    details: Self.receiveDetails(sha256: record.sha256, sender: record.sender, d))
            }
            return try makeRequest(record, counsel: try counselByFingerprint())
        } catch let error as DossierError {
            // Only a row names the kept file; without one it goes.
            if (try? read({ tx in try tx.request(id) })) == nil { content.remove(id: id) }
            throw error
        } catch {
            if (try? read({ tx in try tx.request(id) })) == nil { content.remove(id: id) }
            throw .database("\(error)")
        }
    }

    /// The summary of a verified request, sealed under the vault key as its row keeps it.
    func sealedSummary(_ opened: OpenedRequest) throws(DossierError) -> Data {
        let d = opened.details
        let summary = InboxSummary(from: d.from.line, need: d.need.rawValue, languages: d.languages, jurisdiction: d.jurisdiction,
                                   court: d.court, caseReference: d.caseReference, hearing: d.hearing,
                                   created: opened.header.created, attachments: d.attachments.count)
        return try sealJSON(summary, purpose: .request, id: opened.header.requestID)
    }

    /// The sender's public identity, from the row's sealed summary.
    func senderIdentity(_ row: RequestRecord) throws(DossierError) -> PublicIdentity {
        let s: InboxSummary = try openJSON(row.summarySealed, purpose: .request, id: row.id)
        return try PublicIdentity(line: s.from)
    }

    /// The details of a `request-receive` entry, whoever receives it (`requests import`, the
    /// key-release service): ids, hash and fingerprint, what is needed and the languages, for the
    /// audit report's figures; never names, courts, cases or dates.
    static func receiveDetails(sha256: String, sender: String, _ d: RequestDetails) -> [AuditEntry.Detail] {
        [.init("sha256", sha256), .init("sender", sender), .init("need", d.need.rawValue)] + d.languages.map { .init("language", $0) }
    }

    // MARK: Reading

    /// The inbox, in the order received, filtered; each row checked against the signed log (a row edited
    /// outside dossier is refused: `altered`).
    public func list(_ filter: RequestFilter = RequestFilter()) throws(DossierError) -> [InboxRequest] {
        let filter = try filter.checked()
        let rows: [RequestRecord] = try read { tx in
            let facts = try signedFacts(tx)
            let rows = try tx.allRequests()
            var ids = Set(facts.requests.keys)
            for r in rows { ids.insert(r.id) }
            for id in ids.sorted() { try facts.check(request: id, rows.first { $0.id == id }) }
            // In the order the log received them (every row has a signed entry: checked above).
            return rows.sorted { facts.requests[$0.id]!.received < facts.requests[$1.id]!.received }
        }
        let counsel = try counselByFingerprint()
        var out: [InboxRequest] = []
        for row in rows {
            let r = try makeRequest(row, counsel: counsel)
            if filter.matches(r) { out.append(r) }
        }
        return out
    }

    /// One request, its file verified again (intake key, every stream, the signature), with
    /// its message and the list of its attachments.
    public func show(_ id: String) throws(DossierError) -> InboxRequestContent {
        let (row, opened) = try open(id, reading: "message")
        let message = try opened.message()
        let text = String(decoding: message.unsafeCopyToData(), as: UTF8.self)
        return InboxRequestContent(request: try makeRequest(row, counsel: try counselByFingerprint()), message: text,
                                   attachments: opened.details.attachments)
    }

    /// Writes one attachment (by its name, or its number from 1) to `output`: decrypted to a
    /// temporary file in its folder, named only once the whole stream authenticated, never over
    /// an existing file.
    public func saveAttachment(_ id: String, attachment: String, to output: String, durability: Durability = .system) throws(DossierError) {
        let (_, opened) = try open(id, reading: "attachment")
        let names = opened.details.attachments.map(\.name)
        let index: Int
        if let i = names.firstIndex(of: attachment) {
            index = i
        } else if let n = Int(attachment), n >= 1, n <= names.count {
            index = n - 1
        } else {
            throw .invalidArgument("request \(id) has no attachment '\(attachment)'",
                                   hint: names.isEmpty ? "it has no attachments" : "`dossier requests show \(id)` lists them; give a name or a number from 1 to \(names.count)")
        }
        try opened.saveAttachment(index, to: output, overwrite: false, durability: durability)
    }

    /// The request's row (checked against the signed log) and its kept file, opened and verified.
    /// The reading is logged first (`request-read`, `part=message|attachment`), in the
    /// transaction that checks the row: nothing is decrypted that the log does not record.
    private func open(_ id: String, reading part: String) throws(DossierError) -> (RequestRecord, OpenedRequest) {
        let (_, secret) = try session.intakeSecret()
        let (row, fact): (RequestRecord, SignedFacts.RequestFact) = try write { tx in
            let facts = try signedFacts(tx)
            let row = try tx.request(id)
            try facts.check(request: id, row)
            guard let row, let fact = facts.requests[id] else { throw DossierError.unknownRequest(id: id) }
            try AuditLog.append(tx, signer: identity, action: .requestRead, at: vault.clock.now(), subjects: ["request:" + id],
                                details: [.init("part", part)])
            return (row, fact)
        }
        let fd = try vault.blobs.openRequest(id: id)
        let hash: Data
        do { hash = try Self.sha256(fd: fd) } catch { close(fd); throw error }
        guard hash.hex == fact.sha256 else {
            close(fd)
            throw .integrity("the request file of \(id) kept in the vault is not the one received (its SHA-256 differs from the signed log)")
        }
        let opened = try RequestReader.open(fd: fd, path: "request \(id) in the vault", intakeSecret: secret)
        guard opened.header.requestID == id, opened.sender.fingerprint == fact.sender else {
            throw .integrity("the request file of \(id) kept in the vault is not the one received")
        }
        return (row, opened)
    }

    static func sha256(fd: Int32) throws(DossierError) -> Data {
        var hash = SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        var offset: off_t = 0
        while true {
            let n = pread(fd, buffer.baseAddress, buffer.count, offset)
            if n < 0 { throw .integrity("cannot read a kept request file: \(FileAccess.errnoText())") }
            if n == 0 { break }
            hash.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            offset += off_t(n)
        }
        return hash.finalize()
    }

    private func counselByFingerprint() throws(DossierError) -> [String: InboxRequest.Sender] {
        var out: [String: InboxRequest.Sender] = [:]
        for c in try session.sharing.listCounsel() { out[c.fingerprint] = .init(counselID: c.id, name: c.details.name) }
        return out
    }

    private func makeRequest(_ row: RequestRecord, counsel: [String: InboxRequest.Sender]) throws(DossierError) -> InboxRequest {
        let s: InboxSummary = try openJSON(row.summarySealed, purpose: .request, id: row.id)
        let reason = try row.reasonSealed.map { sealed throws(DossierError) in
            String(decoding: try Sealing.open(sealed, purpose: .request, id: row.id + "/decline", vaultKey: vaultKey).unsafeCopyToData(), as: UTF8.self)
        }
        guard let need = RequestNeed(rawValue: s.need), let state = RequestState(rawValue: row.state) else {
            throw .integrity("the sealed summary of request \(row.id) is unreadable")
        }
        return InboxRequest(id: row.id, receivedAt: row.receivedAt, receivedBy: row.receivedBy, created: s.created,
                            senderFingerprint: row.sender, senderIdentity: s.from, counsel: counsel[row.sender], need: need,
                            languages: s.languages, jurisdiction: s.jurisdiction, court: s.court, caseReference: s.caseReference,
                            hearing: s.hearing, attachments: s.attachments, state: state, assignedTo: row.assignedTo,
                            grant: row.grantID, declineReason: reason, closedAt: row.closedAt, size: row.size, sha256: row.sha256)
    }

    // MARK: Working it

    /// Assigns an open request to a current staff member (by fingerprint); logged
    /// (`request-assign`, subjects the request and the member).
    public func assign(_ id: String, to member: String) throws(DossierError) -> InboxRequest {
        guard let fp = Fingerprint.normalise(member) else { throw .unknownStaff(id: member) }
        let now = vault.clock.now()
        try decide("request-assign", id) { tx, facts, fact in
            guard facts.members[fp]?.role == .staff else { throw DossierError.unknownStaff(id: member) }
            try tx.assignRequest(id, to: fp)
            try AuditLog.append(tx, signer: identity, action: .requestAssign, at: now, subjects: ["request:" + id, "staff:" + fp])
        }
        return try one(id)
    }

    /// Records that grant `grant` answers the request: the grant must go to the request's
    /// sender (registered counsel with the sender's fingerprint) and not be revoked. Logged
    /// (`request-answer`, subjects the request and the grant).
    public func answer(_ id: String, grant: String) throws(DossierError) -> InboxRequest {
        let now = vault.clock.now()
        try decide("request-answer", id, extraSubjects: ["grant:" + grant]) { tx, facts, fact in
            let row = try tx.grant(grant)
            try facts.check(grant: grant, row)
            guard let g = facts.grants[grant] else { throw DossierError.unknownGrant(id: grant) }
            if g.revoked { throw DossierError.grantNotActive(id: grant, state: "revoked") }
            try recordAnswer(tx, request: id, fact: fact, grant: grant,
                             recipients: g.recipients.compactMap { facts.counsel[$0]?.fingerprint }, at: now)
        }
        return try one(id)
    }

    /// Checks, in the transaction `tx` of a grant made in answer (`grant --answer`), that the
    /// request is in the inbox as the signed log has it and still open; the caller then calls
    /// `recordAnswer` once the grant's entry is written.
    func openFact(_ tx: any StoreTransaction, request id: String) throws(DossierError) -> SignedFacts.RequestFact {
        let facts: SignedFacts
        do { facts = try signedFacts(tx) } catch { throw Self.domain(error) }
        let row: RequestRecord?
        do { row = try tx.request(id) } catch { throw Self.domain(error) }
        try facts.check(request: id, row)
        guard let fact = facts.requests[id] else { throw .unknownRequest(id: id) }
        guard fact.state.isOpen else { throw .requestClosed(id: id, state: fact.state.rawValue) }
        return fact
    }

    /// Closes open request `id` as answered by `grant` and logs it (`request-answer`), in `tx`.
    /// The grant must go to the request's sender: `recipients` are its counsel's fingerprints.
    func recordAnswer(_ tx: any StoreTransaction, request id: String, fact: SignedFacts.RequestFact, grant: String,
                      recipients: [String], at now: Date) throws(DossierError) {
        guard recipients.contains(fact.sender) else {
            throw .invalidArgument("grant \(grant) does not go to the sender of request \(id) (\(fact.sender))",
                                   hint: "register the sender with `dossier counsel add --from-request \(id)`, grant to them, then answer with that grant")
        }
        do {
            try tx.closeRequest(id, state: RequestState.answered.rawValue, grant: grant, reasonSealed: nil, at: Timestamp.format(now))
            try AuditLog.append(tx, signer: identity, action: .requestAnswer, at: now, subjects: ["request:" + id, "grant:" + grant])
        } catch { throw Self.domain(error) }
    }

    private static func domain(_ error: any Error) -> DossierError { error as? DossierError ?? .database("\(error)") }

    /// Declines an open request, with a reason kept sealed for staff. Logged (`request-decline`;
    /// the reason is not in the log).
    public func decline(_ id: String, reason: String) throws(DossierError) -> InboxRequest {
        let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw .invalidArgument("declining needs a reason", hint: "say why with --reason TEXT (stored sealed, for staff)") }
        let now = vault.clock.now()
        let sealed = try Sealing.seal(Data(trimmed.utf8), purpose: .request, id: id + "/decline", vaultKey: vaultKey, random: vault.random)
        try decide("request-decline", id) { tx, _, _ in
            try tx.closeRequest(id, state: RequestState.declined.rawValue, grant: nil, reasonSealed: sealed, at: Timestamp.format(now))
            try AuditLog.append(tx, signer: identity, action: .requestDecline, at: now, subjects: ["request:" + id])
        }
        return try one(id)
    }

    /// One request's summary, checked against the signed log.
    public func request(_ id: String) throws(DossierError) -> InboxRequest { try one(id) }

    private func one(_ id: String) throws(DossierError) -> InboxRequest {
        let row: RequestRecord = try read { tx in
            let facts = try signedFacts(tx)
            let row = try tx.request(id)
            try facts.check(request: id, row)
            guard let row else { throw DossierError.unknownRequest(id: id) }
            return row
        }
        return try makeRequest(row, counsel: try counselByFingerprint())
    }

    /// Runs a change of an open request in one write transaction, on the state the signed log
    /// gives, after checking the row against it. A row edited outside dossier is refused and
    /// the refusal logged (`deny`, rule `stored.altered`).
    private func decide(_ request: String, _ id: String, extraSubjects: [String] = [],
                        _ body: (any StoreTransaction, SignedFacts, SignedFacts.RequestFact) throws -> Void) throws(DossierError) {
        do {
            try write { tx in
                let facts = try signedFacts(tx)
                let row = try tx.request(id)
                try facts.check(request: id, row)
                guard let fact = facts.requests[id] else { throw DossierError.unknownRequest(id: id) }
                guard fact.state.isOpen else { throw DossierError.requestClosed(id: id, state: fact.state.rawValue) }
                try body(tx, facts, fact)
            }
        } catch .altered(let message) {
            try? write { tx in
                try AuditLog.append(tx, signer: identity, action: .deny, at: vault.clock.now(), subjects: ["request:" + id] + extraSubjects,
                                    details: [.init("rule", SignedFacts.alteredRule), .init("request", request)])
            }
            throw .altered(message)
        }
    }

    /// The sender of a request, checked: the public line sealed in the inbox has the
    /// fingerprint the signed log received it from.
    func sender(_ id: String) throws(DossierError) -> PublicIdentity {
        let r = try one(id)
        let identity: PublicIdentity
        do { identity = try PublicIdentity(line: r.senderIdentity) } catch { throw .integrity("the sealed sender of request \(id) is unreadable") }
        guard identity.fingerprint == r.senderFingerprint else { throw .integrity("the sealed sender of request \(id) is not the one received") }
        return identity
    }
}

extension StaffSession.Sharing {
    /// Registers the sender of a request in the inbox as counsel, with the public identity the
    /// request was signed with (`counsel add --from-request`).
    public func addCounsel(fromRequest id: String, details: Counsel.Details) throws(DossierError) -> Counsel {
        try addCounsel(try session.requests.sender(id), details: details)
    }
}
