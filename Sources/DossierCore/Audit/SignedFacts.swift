import DossierCrypto
import Dispatch
import Foundation

/// What the signed log says about everything an access decision reads: the staff and their
/// roles, each document's kind and removal, each counsel's key, vetting and suspension, each
/// grant's terms, sign-offs and revocation, the openings, and the policy in force.
///
/// Built only from entries that `LogWalk` verified (chain, sequence, signed by someone who was
/// staff at that point), so nobody without a staff identity can change it. The vault's rows are
/// a copy kept for reading; before a decision, the rows it reads are compared with these facts
/// (`check…`), and a row that disagrees was edited outside dossier: the decision is refused
/// (`DossierError.altered`) and `doctor` and `audit verify` report it
/// (docs/formats/vault.md, section 6.6).
struct SignedFacts: Sendable {
    /// What a staff identity may sign.
    enum Role: String, Sendable {
        /// Everything staff do.
        case staff
        /// The key-release service: openings, the refusals of release requests, and the requests
        /// it receives from counsel; nothing else.
        case service

        /// The actions an identity of role `service` may sign (docs/formats/vault.md, section 6.6).
        static let serviceActions: Set<AuditAction> = [.open, .deny, .requestReceive]
    }

    struct Member: Sendable {
        let identity: PublicIdentity
        let role: Role
    }

    struct DocumentFact: Sendable {
        let kind: String
        var removed = false
    }

    struct CounselFact: Sendable {
        let fingerprint: String
        var vettedUntil: String?
        var suspendedAt: String?
    }

    struct GrantFact: Sendable {
        let id: String
        let createdBy: String
        let notBefore: String
        let notAfter: String
        let approvalsNeeded: Int
        let online: String?
        let maxOpens: Int
        let documents: [String]
        let recipients: [String]
        /// SHA-256 (hex) of the grant entry: the exact terms an approval signs.
        let termsHash: String
        /// Staff other than the grantor whose approval entry signed these terms, in order.
        var approvers: [String] = []
        /// As dossier records it: active once enough sign-offs were recorded.
        var activated: Bool
        var revoked = false
    }

    /// A policy text by its SHA-256, and the most sign-offs any of its rules asks for.
    struct PolicyFact: Sendable, Equatable {
        let sha256: String
        /// nil for a policy signed before the number was recorded (read from the text).
        let strictest: Int?
    }

    /// A policy change waiting for sign-offs.
    struct Proposal: Sendable {
        let policy: PolicyFact
        let proposer: String
        let needed: Int
        var approvers: [String] = []
    }

    /// A request in the inbox, as its signed entries make it.
    struct RequestFact: Sendable {
        /// SHA-256 of the request file, lowercase hex.
        let sha256: String
        /// The sender's identity fingerprint.
        let sender: String
        /// The position of its `request-receive` entry in the log: the inbox's order.
        let received: UInt64
        var state: RequestState = .new
        var assignedTo: String?
        var grant: String?
    }

    private(set) var size = 0
    /// The organisation's intake key line, as `init` or the last `intake-key` entry names it;
    /// nil for a vault that has none.
    private(set) var intakeKey: String?
    /// The requests received, by id.
    private(set) var requests: [String: RequestFact] = [:]
    /// The current staff, by fingerprint.
    private(set) var members: [String: Member] = [:]
    private(set) var documents: [String: DocumentFact] = [:]
    private(set) var counsel: [String: CounselFact] = [:]
    private(set) var grants: [String: GrantFact] = [:]
    /// The grant each package was made from, by package id.
    private(set) var packages: [String: String] = [:]
    /// Who made each package, and the certificate (SHA-256) it was signed under, if any.
    private(set) var packageMakers: [String: (maker: String, certificate: String?)] = [:]
    /// Certificates revoked in the log, by SHA-256.
    private(set) var revokedCertificates: Set<String> = []
    /// Openings released, by "grant/counsel".
    private(set) var opens: [String: Int] = [:]
    /// The policy in force; nil while the log has signed none (a vault made before policies
    /// were signed, still on the default policy it was created with).
    private(set) var policy: PolicyFact?
    private(set) var proposal: Proposal?

    /// Applies one verified entry. Throws for an entry a valid signer should never have made
    /// (the key-release service's identity signing anything but `Role.serviceActions`).
    mutating func apply(_ e: AuditEntry, hash: Data) throws(DossierError) {
        size = Int(e.seq)
        let actor = e.actor
        if let m = members[actor], m.role == .service, !(e.kind.map(Role.serviceActions.contains) ?? false) {
            throw .integrity("entry \(e.seq): the key-release service's identity \(actor) signed a `\(e.action)` entry; it may sign only openings, refusals and received requests: forged or misused")
        }
        func one(_ type: String) -> String? { e.subjects(ofType: type).first }
        switch e.kind {
        case .initialise?:
            if let line = e.detail("identity"), let id = try? PublicIdentity(line: line) { members[id.fingerprint] = Member(identity: id, role: .staff) }
            if let sha = e.detail("policy-sha256") { policy = PolicyFact(sha256: sha, strictest: e.detail("policy-approvals").flatMap { Int($0) }) }
            if let line = e.detail("intake-key") { intakeKey = line }
        case .intakeKey?:
            if let line = e.detail("intake-key") { intakeKey = line }
        case .requestReceive?:
            if let id = one("request"), requests[id] == nil, let sha = e.detail("sha256"), let sender = e.detail("sender") {
                requests[id] = RequestFact(sha256: sha, sender: sender, received: e.seq)
            }
        case .requestAssign?:
            if let id = one("request"), let to = one("staff"), let r = requests[id], r.state.isOpen {
                requests[id]?.state = .assigned
                requests[id]?.assignedTo = to
            }
        case .requestAnswer?:
            if let id = one("request"), let g = one("grant"), let r = requests[id], r.state.isOpen {
                requests[id]?.state = .answered
                requests[id]?.grant = g
            }
        case .requestDecline?:
            if let id = one("request"), let r = requests[id], r.state.isOpen { requests[id]?.state = .declined }
        case .staffAdd?:
            if let line = e.detail("identity"), let id = try? PublicIdentity(line: line) {
                members[id.fingerprint] = Member(identity: id, role: e.detail("role") == Role.service.rawValue ? .service : .staff)
            }
        case .staffRemove?:
            for fp in e.subjects(ofType: "staff") { members[fp] = nil }
        case .deposit?:
            if let id = one("doc"), let kind = e.detail("kind") { documents[id] = DocumentFact(kind: kind) }
        case .remove?:
            if let id = one("doc") { documents[id]?.removed = true }
        case .counselAdd?:
            if let id = one("counsel"), let fp = e.detail("fingerprint") { counsel[id] = CounselFact(fingerprint: fp) }
        case .counselVet?:
            if let id = one("counsel") {
                counsel[id]?.vettedUntil = e.detail("until")
                counsel[id]?.suspendedAt = nil
            }
        case .counselSuspend?:
            if let id = one("counsel") { counsel[id]?.suspendedAt = e.time }
        case .grant?:
            guard let id = one("grant"), let nb = e.detail("not-before"), let na = e.detail("not-after") else { break }
            let needed = e.detail("approvals-needed").flatMap { Int($0) } ?? 1
            grants[id] = GrantFact(id: id, createdBy: actor, notBefore: nb, notAfter: na, approvalsNeeded: needed,
                                   online: e.detail("online"), maxOpens: e.detail("max-opens").flatMap { Int($0) } ?? 0,
                                   documents: e.subjects(ofType: "doc"), recipients: e.subjects(ofType: "counsel"),
                                   termsHash: hash.hex, activated: needed <= 1)
        case .approve?:
            guard let id = one("grant"), var g = grants[id], !g.revoked, members[actor]?.role == .staff,
                  actor != g.createdBy, !g.approvers.contains(actor) else { break }
            // Entries written before approvals named the terms still count: a grant's terms are
            // its entry, which nothing can change.
            if let terms = e.detail("grant-sha256"), terms != g.termsHash { break }
            g.approvers.append(actor)
            if 1 + g.approvers.count >= g.approvalsNeeded { g.activated = true }
            grants[id] = g
        case .revoke?:
            if let id = one("grant") { grants[id]?.revoked = true }
        case .package?:
            if let p = one("package"), let g = one("grant") {
                packages[p] = g
                packageMakers[p] = (actor, e.detail("certificate-sha256"))
            }
        case .certificateRevoke?:
            if let hash = e.detail("certificate-sha256") { revokedCertificates.insert(hash) }
        case .open?:
            if let g = one("grant"), let c = one("counsel") { opens[g + "/" + c, default: 0] += 1 }
        case .policySet?:
            guard let sha = e.detail("sha256") else { break }
            let strictest = e.detail("approvals").flatMap { Int($0) }
            // A policy change needs as many sign-offs as the strictest rule of the policy in
            // force; one signer alone can only change a policy whose rules all need one.
            if let p = policy, let n = p.strictest, n > 1 { break }
            policy = PolicyFact(sha256: sha, strictest: strictest)
            proposal = nil
        case .policyPropose?:
            guard let sha = e.detail("sha256"), members[actor]?.role == .staff else { break }
            let needed = max(policy?.strictest ?? 1, 1)
            proposal = Proposal(policy: PolicyFact(sha256: sha, strictest: e.detail("approvals").flatMap { Int($0) }), proposer: actor, needed: needed)
        case .policyApprove?:
            guard let sha = e.detail("sha256"), var p = proposal, p.policy.sha256 == sha, members[actor]?.role == .staff,
                  actor != p.proposer, !p.approvers.contains(actor) else { break }
            p.approvers.append(actor)
            if 1 + p.approvers.count >= p.needed {
                policy = p.policy
                proposal = nil
            } else {
                proposal = p
            }
        default:
            break
        }
    }

    // MARK: Reading the log

    /// A `Reader` kept for one staff session. Before each use it checks that the log still holds
    /// the last entry it read: one read inside a write that then rolled back, or a log cut back
    /// since, starts the reading over (with the log-head memory's check, which reports the cut).
    /// A log-head memory given after the first read (or changed) starts the reading over too,
    /// so that its check is made.
    final class SessionReader: @unchecked Sendable {
        private let lock = NSLock()
        private var reader = Reader()
        private var memoryPath: String?

        func read(_ tx: any StoreTransaction, memory: LogHeadMemory?) throws -> SignedFacts {
            lock.lock()
            defer { lock.unlock() }
            let size = reader.facts.size
            if memory?.path != memoryPath {
                reader = Reader()
                memoryPath = memory?.path
            } else if size > 0, try tx.logEntries(afterPosition: Int64(size - 1), limit: 1).first.map { Hash.sha256($0.bytes) } != reader.lastHash {
                reader = Reader()
            }
            try reader.catchUp(tx, memory: memory)
            return reader.facts
        }

        /// The size and Merkle root of the log as verified by `read` (which this runs first).
        func verifiedHead(_ tx: any StoreTransaction, memory: LogHeadMemory?) throws -> (size: Int, root: Digest32) {
            _ = try read(tx, memory: memory)
            lock.lock()
            defer { lock.unlock() }
            return (reader.size, reader.root)
        }
    }

    /// Verifies the whole log read in `tx` and derives the facts from it. With `memory`, the
    /// log must still hold the entry this machine verified last, and the memory moves on to the
    /// newest entry.
    static func load(_ tx: any StoreTransaction, memory: LogHeadMemory? = nil) throws -> SignedFacts {
        var reader = Reader()
        try reader.catchUp(tx, memory: memory)
        return reader.facts
    }

    /// Facts kept up to date across transactions (the key-release service): each `catchUp`
    /// verifies and applies only the entries appended since the last one.
    struct Reader: Sendable {
        private(set) var facts = SignedFacts()
        private var walk = LogWalk()

        /// The entry hash of the newest entry verified.
        private(set) var lastHash = Data()
        /// How many entries are verified, and the Merkle root of those entries.
        var size: Int { walk.size }
        var root: Digest32 { walk.tree.root }

        /// Entries read and verified at a time: memory stays bounded however long the log.
        static let batch = LogWalk.batch

        /// Each entry of `part` parsed, with its entry hash, on all cores (the facts are then
        /// applied in order).
        private static func parse(_ part: [Data]) -> [Result<(AuditEntry, Data), DossierError>] {
            var out = [Result<(AuditEntry, Data), DossierError>?](repeating: nil, count: part.count)
            let n = part.count
            let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, n / 64))
            out.withUnsafeMutableBufferPointer { o in
                nonisolated(unsafe) let o = o
                DispatchQueue.concurrentPerform(iterations: workers) { w in
                    for i in n * w / workers..<n * (w + 1) / workers {
                        do throws(DossierError) {
                            // Verified by the walk just before: its grammar is checked.
                            o[i] = .success((try AuditEntry.parse(part[i], recheckCanonical: false), Hash.sha256(part[i])))
                        } catch {
                            o[i] = .failure(error)
                        }
                    }
                }
            }
            return out.map { $0! }
        }

        mutating func catchUp(_ tx: any StoreTransaction, memory: LogHeadMemory? = nil) throws {
            do {
                try catchUpInParts(tx, memory: memory)
            } catch {
                // A part may have been applied before a later one failed: start afresh next time
                // rather than keep facts that the walk and the log may not agree with.
                self = Reader()
                throw error
            }
        }

        private mutating func catchUpInParts(_ tx: any StoreTransaction, memory: LogHeadMemory?) throws {
            let known = walk.size
            // What this machine verified before (checked once, before anything is decided). The
            // entries up to it are byte for byte those whose signatures it verified (each one's
            // hash is in the next, up to the remembered one), so only the newer are verified.
            var signaturesFrom = 0
            if known == 0, let memory, let seen = try memory.read() {
                guard let remembered = try tx.logEntries(afterPosition: Int64(seen.size - 1), limit: 1).first?.bytes else {
                    throw memory.rolledBack("it has \(try tx.logSize()) entries, but this machine verified \(seen.size) before")
                }
                guard Hash.sha256(remembered) == seen.hash else {
                    throw memory.rolledBack("its entry \(seen.size) is not the one this machine verified before")
                }
                signaturesFrom = seen.size
            }
            var read = 0
            while true {
                let offset = walk.size
                let part = try tx.logEntries(afterPosition: Int64(offset), limit: Self.batch).map(\.bytes)
                if part.isEmpty { break }
                try walk.verify(part, offset: offset, upTo: offset + part.count, signaturesFrom: signaturesFrom)
                for (i, parsed) in Self.parse(part).enumerated() {
                    let (entry, hash) = try parsed.get()
                    guard entry.seq == UInt64(offset + i + 1) else { throw DossierError.integrity("entry \(offset + i + 1): out of order") }
                    try facts.apply(entry, hash: hash)
                    lastHash = hash
                }
                read += part.count
                if part.count < Self.batch { break }
            }
            guard read > 0 else {
                if known > 0, try tx.logSize() < known {
                    throw DossierError.integrity("the log has fewer entries than the \(known) already verified: entries were removed")
                }
                return
            }
            memory?.remember(size: walk.size, hash: lastHash)
        }
    }

    // MARK: What a decision reads

    /// The grant as its signed entries make it, for `AccessPolicy`: active only while enough of
    /// its sign-offs are by current staff.
    func accessFacts(grant g: GrantFact) -> AccessRequest.GrantFacts {
        let current = ([g.createdBy] + g.approvers).filter { members[$0]?.role == .staff }
        let state = g.revoked ? "revoked" : (Set(current).count >= g.approvalsNeeded ? "active" : "pending")
        return AccessRequest.GrantFacts(id: g.id, state: state, createdBy: g.createdBy, notBefore: g.notBefore, notAfter: g.notAfter,
                                        approvalsNeeded: g.approvalsNeeded, approvedBy: current, onlineURL: g.online, maxOpens: g.maxOpens)
    }

    /// The sign-offs a new policy needs: the strictest rule of the policy in force.
    func policySignOffs(inForce text: String) -> Int {
        if let n = policy?.strictest { return max(n, 1) }
        return (try? Policy.parse(text, source: "the vault's policy").strictestApprovals) ?? 1
    }

    // MARK: Rows against facts

    /// Refuses a document row that differs from what the log signed.
    func check(document id: String, _ row: DocumentRecord?) throws(DossierError) {
        guard let f = documents[id] else {
            if row != nil { throw .altered("document \(id) is in the catalogue but no signed deposit records it") }
            return
        }
        guard let row else { throw .altered("document \(id) was deposited (signed log) but its catalogue row is gone") }
        if row.kind != f.kind { throw .altered("document \(id) has kind \(row.kind) in the catalogue, but was deposited as \(f.kind)") }
        if (row.removedAt != nil) != f.removed {
            throw .altered("document \(id) is \(f.removed ? "removed" : "live") in the signed log but not in the catalogue")
        }
    }

    /// Refuses a counsel row that differs from what the log signed.
    func check(counsel id: String, _ row: CounselRecord?) throws(DossierError) {
        guard let f = counsel[id] else {
            if row != nil { throw .altered("counsel \(id) is registered in the vault but no signed entry registers them") }
            return
        }
        guard let row else { throw .altered("counsel \(id) was registered (signed log) but their row is gone") }
        if row.fingerprint != f.fingerprint || (try? PublicIdentity(line: row.publicLine))?.fingerprint != f.fingerprint {
            throw .altered("counsel \(id) has a different key in the vault than the one registered (\(f.fingerprint))")
        }
        if row.vettedUntil != f.vettedUntil {
            throw .altered("counsel \(id) is vetted until \(row.vettedUntil ?? "never") in the vault, but \(f.vettedUntil ?? "never") in the signed log")
        }
        if row.suspendedAt != f.suspendedAt {
            throw .altered("counsel \(id) is \(f.suspendedAt == nil ? "not suspended" : "suspended since \(f.suspendedAt!)") in the signed log, but \(row.suspendedAt == nil ? "not suspended" : "suspended") in the vault")
        }
    }

    /// Refuses a grant row that differs from what the log signed.
    func check(grant id: String, _ row: GrantRecord?) throws(DossierError) {
        guard let f = grants[id] else {
            if row != nil { throw .altered("grant \(id) is in the vault but no signed entry made it") }
            return
        }
        guard let row else { throw .altered("grant \(id) was made (signed log) but its row is gone") }
        let recorded = f.revoked ? "revoked" : (f.activated ? "active" : "pending")
        var altered: [String] = []
        if row.state != recorded { altered.append("its state is \(row.state) in the vault but \(recorded) in the signed log") }
        if row.createdBy != f.createdBy { altered.append("its grantor differs from the signed log") }
        if row.notBefore != f.notBefore || row.notAfter != f.notAfter { altered.append("its window differs from the signed log") }
        if row.approvalsNeeded != f.approvalsNeeded { altered.append("the sign-offs it needs differ from the signed log") }
        if row.onlineURL != f.online { altered.append("its key-release service differs from the signed log") }
        if row.maxOpens != f.maxOpens { altered.append("its open limit differs from the signed log") }
        if row.documents != f.documents { altered.append("its documents differ from the signed log") }
        if Set(row.recipients) != Set(f.recipients) || row.recipients.count != f.recipients.count { altered.append("its recipients differ from the signed log") }
        if Set(row.approvers) != Set(f.approvers) || row.approvers.count != f.approvers.count { altered.append("its approvals differ from the signed log") }
        if !altered.isEmpty { throw .altered("grant \(id): " + altered.joined(separator: "; ")) }
    }

    /// Refuses a policy text that is not the one the log signed.
    func check(policyText text: String) throws(DossierError) {
        let sha = Hash.sha256(Data(text.utf8)).hex
        if let p = policy {
            guard sha == p.sha256 else { throw .altered("the vault's policy is not the policy in force in the signed log (sha256 \(p.sha256.prefix(16))…)") }
            if let n = p.strictest, let parsed = try? Policy.parse(text, source: "the vault's policy"), parsed.strictestApprovals != n {
                throw .altered("the policy in force asks for \(parsed.strictestApprovals) sign-offs at most, but was signed as asking for \(n)")
            }
            return
        }
        // Never signed: only the default policy the vault was created with can be in force.
        guard sha == Hash.sha256(Data(DefaultPolicy.text.utf8)).hex else {
            throw .altered("the vault's policy was never signed in the log and is not the default policy")
        }
    }

    /// Refuses an intake key line (`settings.intake_key`) that is not the one the log names.
    func check(intakeLine row: String?) throws(DossierError) {
        guard let signed = intakeKey else {
            if row != nil { throw .altered("the vault's settings hold an intake key, but no signed entry names one") }
            return
        }
        guard let row else { throw .altered("the signed log names an intake key, but the vault's settings hold none") }
        guard row == signed else {
            let fp = (try? IntakeKey(line: signed))?.fingerprint ?? "?"
            throw .altered("the intake key in the vault's settings is not the one the signed log names (\(fp))")
        }
    }

    /// Refuses a request row that differs from what the log signed.
    func check(request id: String, _ row: RequestRecord?) throws(DossierError) {
        guard let f = requests[id] else {
            if row != nil { throw .altered("request \(id) is in the inbox but no signed entry received it") }
            return
        }
        guard let row else { throw .altered("request \(id) was received (signed log) but its row is gone") }
        var altered: [String] = []
        if row.state != f.state.rawValue { altered.append("its state is \(row.state) in the vault but \(f.state.rawValue) in the signed log") }
        if row.sender != f.sender { altered.append("its sender differs from the signed log") }
        if row.sha256 != f.sha256 { altered.append("its file hash differs from the signed log") }
        if row.assignedTo != f.assignedTo { altered.append("whom it is assigned to differs from the signed log") }
        if row.grantID != f.grant { altered.append("the grant that answered it differs from the signed log") }
        if !altered.isEmpty { throw .altered("request \(id): " + altered.joined(separator: "; ")) }
    }

    /// Refuses a staff table that differs from the signed roster.
    func check(staff rows: [StaffRecord]) throws(DossierError) {
        let current = rows.filter { $0.removedAt == nil }
        for row in current where members[row.fingerprint]?.identity.line != row.publicLine {
            throw .altered("\(row.fingerprint) is staff in the vault, but the signed log does not make them staff with that key")
        }
        let rowSet = Set(current.map(\.fingerprint))
        for fp in members.keys.sorted() where !rowSet.contains(fp) {
            throw .altered("\(fp) is staff in the signed log, but not in the vault's staff table")
        }
    }

    /// Every disagreement between the rows and the facts (for `doctor` and `audit verify`).
    func findings(_ tx: any StoreTransaction) throws -> [String] {
        var out: [String] = []
        func note(_ body: () throws(DossierError) -> Void) {
            do { try body() } catch .altered(let what) { out.append(what) } catch { out.append(error.message) }
        }
        note { () throws(DossierError) in try check(staff: try wrap { try tx.allStaff() }) }
        if let text = try tx.settingText(.policy) { note { () throws(DossierError) in try check(policyText: text) } }
        let intakeRow = try tx.settingText(.intakeKey)
        note { () throws(DossierError) in try check(intakeLine: intakeRow) }
        var requestIDs = Set(requests.keys)
        for r in try tx.allRequests() { requestIDs.insert(r.id) }
        for id in requestIDs.sorted() {
            let row = try tx.request(id)
            note { () throws(DossierError) in try check(request: id, row) }
        }
        var ids = Set(documents.keys)
        for id in try tx.removedDocumentIDs() { ids.insert(id) }
        for d in try tx.liveDocuments() { ids.insert(d.id) }
        for id in ids.sorted() {
            let row = try tx.document(id)
            note { () throws(DossierError) in try check(document: id, row) }
        }
        var counselIDs = Set(counsel.keys)
        for c in try tx.allCounsel() { counselIDs.insert(c.id) }
        for id in counselIDs.sorted() {
            let row = try tx.counsel(ids: [id]).first
            note { () throws(DossierError) in try check(counsel: id, row) }
        }
        var grantIDs = Set(grants.keys)
        for g in try tx.grants(naming: nil) { grantIDs.insert(g.id) }
        for id in grantIDs.sorted() {
            let row = try tx.grant(id)
            note { () throws(DossierError) in try check(grant: id, row) }
            if let f = grants[id] {
                for c in f.recipients {
                    let stored = try tx.openCount(grant: id, counsel: c)
                    let signed = opens[id + "/" + c] ?? 0
                    if stored != signed {
                        out.append("grant \(id): \(stored) openings by counsel \(c) in the vault, \(signed) in the signed log")
                    }
                }
            }
        }
        return out
    }

    private func wrap<T>(_ body: () throws -> T) throws(DossierError) -> T {
        do { return try body() } catch let e as DossierError { throw e } catch { throw .database("\(error)") }
    }
}

extension Policy {
    /// The most sign-offs any kind's rule asks for.
    var strictestApprovals: Int { DocumentKind.allCases.map { rule(for: $0).approvals }.max() ?? 1 }
}
