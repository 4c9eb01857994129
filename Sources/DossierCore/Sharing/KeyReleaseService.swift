import DossierCrypto
import Foundation

/// The decisions of the key-release service (`dossier serve`), without HTTP: a request body in,
/// a status and JSON body out (docs/formats/key-release.md).
///
/// Every request is decided and logged in one IMMEDIATE transaction together with the other
/// requests that arrived while the previous transaction was committing (group commit): the
/// decisions are made one after another inside it, so counts and nonces are exact, and the
/// share is released only after the transaction that logged the opening has committed.
public final class KeyReleaseService: @unchecked Sendable {
    /// Largest request body accepted.
    public static let maximumBodyBytes = 8192
    /// Largest difference accepted between the request's time and the service's clock.
    public static let maximumSkew: TimeInterval = 300
    /// What an unauthenticated request says of itself, logged as `claimed-*` details, never as
    /// subjects: nobody can attach entries to others' views by sending requests.
    private static func claimed(_ r: ReleaseRequest) -> [AuditEntry.Detail] {
        [.init("claimed-package", r.packageID), .init("claimed-grant", r.grantID), .init("claimed-recipient", r.recipient)]
    }

    /// Most requests decided in one transaction.
    static let maximumBatch = 256
    /// How long a nonce is kept. A request is accepted only within `maximumSkew` of its own
    /// time, so its nonce can be replayed only until `2 × maximumSkew` after it was first seen;
    /// an hour leaves room for the service's clock being set back.
    public static let nonceLifetime: TimeInterval = 3600
    /// How often nonces past their lifetime are removed, at most.
    public static let pruneInterval: TimeInterval = 60
    /// When nonces past their lifetime were last removed (only on `queue`).
    private var lastPruned = Date.distantPast
    /// The signed facts, verified entry by entry as the log grows (only on `queue`).
    private var signedFacts = SignedFacts.Reader()

    // `session` is used only on `queue`; `pending` and `draining` only under `lock`.
    private var session: StaffSession
    private let lock = NSLock()
    private var pending: [(input: Input, reply: CheckedContinuation<ReleaseResponse, Never>)] = []
    private var draining = false
    private let queue = DispatchQueue(label: "dossier.key-release")
    private let report: @Sendable (String) -> Void

    /// `session` is the service's own staff identity, which signs the log entries.
    /// `report` receives one line per decision (ids and reasons, never a secret), and the cause
    /// of every 503, which the answer itself does not carry.
    public init(session: StaffSession, report: @escaping @Sendable (String) -> Void = { _ in }) {
        self.session = session
        self.report = report
    }

    /// What reaches the service: a request body, or a refusal the HTTP layer decided on
    /// before it had a body (too large, too slow), which is logged the same way.
    public enum Input: Sendable {
        case body(Data)
        case refused(ReleaseRefusal)
    }

    /// Decides one request, waiting for the batch it joins to commit.
    public func handle(_ body: Data) async -> ReleaseResponse { await handle(.body(body)) }

    public func handle(_ input: Input) async -> ReleaseResponse {
        await withCheckedContinuation { reply in
            lock.lock()
            pending.append((input, reply))
            let start = !draining
            draining = true
            lock.unlock()
            if start { queue.async { self.drain() } }
        }
    }

    private func drain() {
        while true {
            lock.lock()
            let batch = Array(pending.prefix(Self.maximumBatch))
            pending.removeFirst(batch.count)
            if batch.isEmpty {
                draining = false
                lock.unlock()
                return
            }
            lock.unlock()
            let responses = decide(batch.map(\.input))
            for (job, response) in zip(batch, responses) { job.reply.resume(returning: response) }
        }
    }

    /// Decides requests in order, in one transaction. Synchronous; `handle` is the entry point
    /// for concurrent callers. A failure of the vault itself (busy, damaged) answers 503 and
    /// releases nothing.
    public func decide(_ bodies: [Data]) -> [ReleaseResponse] { decide(bodies.map(Input.body)) }

    public func decide(_ bodies: [Input]) -> [ReleaseResponse] {
        do throws(DossierError) {
            do {
                return try decideOnce(bodies)
            } catch .vaultKeyRotated {
                // Another process rotated the vault key: unlock again and decide afresh.
                session = try session.vault.unlock(session.identity, forService: try session.vault.isServiceIdentity(session.actor))
                return try decideOnce(bodies)
            }
        } catch {
            // The cause (SQL, paths) is for the operator's log; the requester, who may be anyone
            // on the network, learns only that the service cannot decide.
            report("error: \(error)")
            return bodies.map { _ in .unavailable }
        }
    }

    private struct Candidate {
        let signed: SignedReleaseRequest
        let counselID: String
        let counsel: PublicIdentity
        let share: SecureBytes
    }

    private enum Stage {
        case refused(ReleaseRefusal, subjects: [String], details: [AuditEntry.Detail])
        case candidate(Candidate)
        case released(Candidate, opening: Int, maxOpens: Int, logSeq: UInt64)
        /// A row the decision reads differs from the signed log: logged, answered 503.
        case altered(String)
    }

    /// What the read snapshot says about one (package, recipient) pair.
    private struct Lookup {
        /// The package's grant; nil if the vault issued no online package with this id.
        let grantID: String?
        /// The recipient with that fingerprint and the vault's share for them, if any.
        let recipient: (counselID: String, counsel: PublicIdentity, share: SecureBytes)?
    }

    /// A grant's facts, read once per batch: what `AccessPolicy` needs, and the documents the
    /// `open` entry names.
    private struct GrantFacts {
        let facts: AccessRequest.GrantFacts
        let documents: [String]
        let kinds: [AccessRequest.DocumentFacts]
    }

    private func decideOnce(_ inputs: [Input]) throws(DossierError) -> [ReleaseResponse] {
        let session = self.session
        let now = session.vault.clock.now()
        // 1. Parse, on all cores: no database, no secret.
        let signed = Parallel.map(inputs) { input -> SignedReleaseRequest? in
            guard case .body(let body) = input, body.count <= Self.maximumBodyBytes else { return nil }
            return SignedReleaseRequest.parse(body: body)
        }
        var stages: [Stage] = inputs.map { input in
            switch input {
            case .refused(let reason): return .refused(reason, subjects: [], details: [])
            case .body(let body) where body.count > Self.maximumBodyBytes: return .refused(.tooLarge, subjects: [], details: [])
            case .body(let body): return .refused(.malformed, subjects: [], details: [.init("body-sha256", Hash.sha256(body).hex)])
            }
        }
        // 2. Look up each (package, recipient) once: the package, the recipient and the vault's
        //    share, in one read snapshot.
        var lookups: [String: Lookup] = [:]
        try session.read { tx in
            for s in signed {
                guard let r = s?.request, lookups[r.packageID + "/" + r.recipient] == nil else { continue }
                lookups[r.packageID + "/" + r.recipient] = try Self.lookup(tx, r, vaultKey: session.vaultKey)
            }
        }
        for (i, s) in signed.enumerated() {
            guard let r = s?.request, let s, let found = lookups[r.packageID + "/" + r.recipient] else { continue }
            // Not authenticated yet: what the request claims goes into details, never into
            // subjects, so that nobody can attach entries to a package, grant or counsel in the
            // auditors' views by sending requests.
            let claimed = Self.claimed(r)
            if found.grantID == nil {
                stages[i] = .refused(.unknownPackage, subjects: [], details: claimed)
            } else if found.grantID != r.grantID {
                stages[i] = .refused(.malformed, subjects: [], details: claimed + [.init("why", "grant-does-not-match-package")])
            } else if let recipient = found.recipient {
                stages[i] = .candidate(Candidate(signed: s, counselID: recipient.counselID, counsel: recipient.counsel, share: recipient.share))
            } else {
                stages[i] = .refused(.notARecipient, subjects: [], details: claimed)
            }
        }
        // 3. Signatures, on all cores; then the time.
        let candidates = stages.indices.compactMap { i -> (Int, Candidate)? in
            if case .candidate(let c) = stages[i] { return (i, c) }
            return nil
        }
        let valid = Parallel.map(candidates) { $0.1.signed.verifies(with: $0.1.counsel.signingKey) }
        for (k, (i, c)) in candidates.enumerated() {
            let r = c.signed.request
            let subjects = ["package:" + r.packageID, "grant:" + r.grantID, "counsel:" + c.counselID]
            if !valid[k] {
                stages[i] = .refused(.badSignature, subjects: [], details: Self.claimed(r))
            } else if let t = Timestamp.parse(r.time) {
                if abs(t.timeIntervalSince(now)) > Self.maximumSkew {
                    stages[i] = .refused(.staleRequest, subjects: subjects, details: [.init("recipient", r.recipient), .init("receipt", c.signed.receipt)])
                }
            } else {
                // Parsing refuses such a request first; refused here too, because once its nonce
                // is pruned the time is all that stops a replay.
                stages[i] = .refused(.malformed, subjects: [], details: Self.claimed(r) + [.init("why", "unreadable-time")])
            }
        }

        // 4. Decide and log, in order, in one transaction. Grant and counsel facts and the open
        //    counts are read once per batch inside it and kept up to date as openings are added.
        let prune = now.timeIntervalSince(lastPruned) >= Self.pruneInterval || now < lastPruned
        try session.write { tx in
            if prune {
                // Timestamps are fixed-width UTC text, so they compare as strings.
                try tx.deleteNonces(seenBefore: Timestamp.format(now.addingTimeInterval(-Self.nonceLifetime)))
            }
            // Decisions rest on the signed log, verified up to its newest entry; each row read
            // below is checked against it.
            // The first time, the log must still hold what this machine verified before.
            try self.signedFacts.catchUp(tx, memory: self.signedFacts.facts.size == 0 ? session.vault.logHead : nil)
            let facts = self.signedFacts.facts
            guard let policyText = try tx.settingText(.policy) else { throw DossierError.altered("the vault has no policy") }
            try facts.check(policyText: policyText)
            let policy = try Policy.parse(policyText, source: "the vault's policy")
            var log = try AuditLog.Appender(tx)
            var seen = Set<String>()
            var grants: [String: GrantFacts] = [:]
            var counsel: [String: AccessRequest.CounselFacts?] = [:]
            var opened: [String: Int] = [:]
            let stamp = Timestamp.format(now)
            // A refusal of the protocol is logged as `online.<code>`; a refusal of the policy
            // under its rule's name, as grant and package log it.
            func deny(_ rule: String, _ subjects: [String], _ details: [AuditEntry.Detail]) throws {
                try log.append(tx, signer: session.identity, action: .deny, at: now, subjects: subjects,
                               details: [.init("rule", rule), .init("request", "open")] + details)
            }
            func deny(_ reason: ReleaseRefusal, _ subjects: [String], _ details: [AuditEntry.Detail]) throws {
                try deny("online." + reason.rawValue, subjects, details)
            }
            for i in stages.indices {
                if case let .refused(reason, subjects, details) = stages[i] { try deny(reason, subjects, details) }
                guard case .candidate(let c) = stages[i] else { continue }
                let r = c.signed.request
                let subjects = ["package:" + r.packageID, "grant:" + r.grantID, "counsel:" + c.counselID]
                let evidence: [AuditEntry.Detail] = [.init("recipient", r.recipient), .init("receipt", c.signed.receipt)]
                let known = try tx.isKnownNonce(r.nonce)
                if known || seen.contains(r.nonce) {
                    stages[i] = .refused(.replay, subjects: subjects, details: evidence)
                    try deny(.replay, subjects, evidence)
                    continue
                }
                seen.insert(r.nonce)
                try tx.insertNonce(r.nonce, seenAt: stamp)
                let grant: GrantFacts?
                do {
                    if facts.packages[r.packageID] != r.grantID {
                        throw DossierError.altered("package \(r.packageID) is recorded for grant \(r.grantID) in the vault, but the signed log says \(facts.packages[r.packageID] ?? "no such package")")
                    }
                    try facts.check(counsel: c.counselID, try tx.counsel(ids: [c.counselID]).first)
                    if grants[r.grantID] == nil { grants[r.grantID] = try Self.grantFacts(tx, r.grantID, facts) }
                    grant = grants[r.grantID]
                } catch let DossierError.altered(message) {
                    stages[i] = .altered(message)
                    try deny(SignedFacts.alteredRule, subjects, evidence)
                    continue
                }
                guard let grant else {
                    stages[i] = .refused(.unknownPackage, subjects: subjects, details: evidence)
                    try deny(.unknownPackage, subjects, evidence)
                    continue
                }
                if let rule = Self.issuerRefusal(facts, package: r.packageID) {
                    stages[i] = .refused(.issuerNotCurrent, subjects: subjects, details: evidence)
                    try deny(rule, subjects, evidence)
                    continue
                }
                if counsel[c.counselID] == nil { counsel[c.counselID] = .some(Self.counselFacts(facts, c.counselID)) }
                guard let recipient = counsel[c.counselID] ?? nil else {
                    stages[i] = .refused(.notARecipient, subjects: subjects, details: evidence)
                    try deny(.notARecipient, subjects, evidence)
                    continue
                }
                let pair = r.grantID + "/" + c.counselID
                if opened[pair] == nil { opened[pair] = facts.opens[pair] ?? 0 }
                let count = opened[pair] ?? 0
                let maxOpens = grant.facts.maxOpens
                let request = AccessRequest.release(now: now, policy: policy, grant: grant.facts, documents: grant.kinds, counsel: recipient, opened: count)
                if case let .deny(denial) = AccessPolicy.decide(request) {
                    // Every rule that refuses a release has a code (AccessRule.releaseRefusal).
                    let reason = denial.rule.releaseRefusal ?? .revoked
                    stages[i] = .refused(reason, subjects: subjects, details: evidence)
                    try deny(denial.rule.name, subjects, evidence + (denial.rule == .grantMaxOpens ? [.init("opens", "\(count)/\(maxOpens)")] : []))
                    continue
                }
                let entry = try log.append(tx, signer: session.identity, action: .open, at: now,
                                           subjects: subjects + grant.documents.map { "doc:" + $0 },
                                           details: evidence + [.init("opening", maxOpens > 0 ? "\(count + 1)/\(maxOpens)" : "\(count + 1)")])
                try tx.insertOpening(logSeq: entry.seq, grant: r.grantID, package: r.packageID, counsel: c.counselID, at: entry.time)
                opened[pair] = count + 1
                stages[i] = .released(c, opening: count + 1, maxOpens: maxOpens, logSeq: entry.seq)
            }
        }

        if prune { lastPruned = now }

        // 5. Answer, sealing on all cores. The share goes out only now that its opening is committed.
        let report = self.report
        let answers = Parallel.map(stages) { stage -> ReleaseResponse in
            switch stage {
            case let .refused(reason, _, _):
                return .refused(reason)
            case .candidate:
                report("error: internal error: a request was left undecided")
                return .unavailable
            case .altered:
                return .unavailable
            case let .released(c, opening, maxOpens, logSeq):
                let r = c.signed.request
                guard let sealed = try? SealedBox.seal(c.share, to: c.counsel.encryptionKey) else {
                    report("error: cannot seal the share to the key of counsel:\(c.counselID)")
                    return .unavailable
                }
                // Every value is an id, base64 or a number (no character JSON would escape), so
                // the object is written directly, members sorted as JSONSerialization would.
                let body = #"{"grant":"\#(r.grantID)","logSeq":\#(logSeq),"maxOpens":\#(maxOpens),"opening":\#(opening),"#
                    + #""package":"\#(r.packageID)","share":"\#(sealed.base64EncodedString())","status":"released"}"#
                return ReleaseResponse(status: 200, body: Data(body.utf8))
            }
        }
        for stage in stages {
            switch stage {
            case let .refused(reason, subjects, details):
                let claimed = details.filter { $0.key.hasPrefix("claimed-") }.map { "\($0.key)=\($0.value)" }
                report("refused \(reason.rawValue) \((subjects + claimed).joined(separator: " "))")
            case let .released(c, opening, maxOpens, logSeq):
                let r = c.signed.request
                report("released package:\(r.packageID) grant:\(r.grantID) counsel:\(c.counselID) opening \(opening)\(maxOpens > 0 ? "/\(maxOpens)" : "") log \(logSeq)")
            case .altered(let message):
                report("error: refused: the vault was edited outside dossier: \(message)")
            case .candidate:
                break
            }
        }
        return answers
    }

    private static func lookup(_ tx: any StoreTransaction, _ r: ReleaseRequest, vaultKey: SecureBytes) throws -> Lookup {
        guard let package = try tx.package(r.packageID), package.onlineURL != nil else { return Lookup(grantID: nil, recipient: nil) }
        guard let found = try tx.onlineShare(package: r.packageID, fingerprint: r.recipient) else {
            return Lookup(grantID: package.grantID, recipient: nil)
        }
        let share = try Sealing.open(found.share.shareSealed, purpose: .onlineShare, id: r.packageID + "/" + r.recipient, vaultKey: vaultKey)
        return Lookup(grantID: package.grantID, recipient: (found.share.counselID, try PublicIdentity(line: found.publicLine), share))
    }

    /// A grant's facts as the log signed them, its row and its documents' rows checked against
    /// them: its state, window, sign-offs and limit, and each document's kind and whether it was
    /// removed, in the grant's order (so the rule named is the one grant and package would name).
    private static func grantFacts(_ tx: any StoreTransaction, _ id: String, _ facts: SignedFacts) throws -> GrantFacts? {
        guard let g = facts.grants[id] else {
            try facts.check(grant: id, try tx.grant(id))
            return nil
        }
        try facts.check(grant: id, try tx.grant(id))
        var documents: [AccessRequest.DocumentFacts] = []
        for d in g.documents {
            try facts.check(document: d, try tx.document(d))
            let f = facts.documents[d]
            documents.append(AccessRequest.DocumentFacts(id: d, kind: f.flatMap { DocumentKind(rawValue: $0.kind) }, isRemoved: f?.removed ?? false))
        }
        var signed = facts.accessFacts(grant: g)
        signed.onlineURL = nil
        return GrantFacts(facts: signed, documents: g.documents, kinds: documents)
    }

    /// The counsel's standing as the log signed it, or nil if there is no such counsel.
    private static func counselFacts(_ facts: SignedFacts, _ id: String) -> AccessRequest.CounselFacts? {
        guard let c = facts.counsel[id] else { return nil }
        return AccessRequest.CounselFacts(id: id, vettedUntil: c.vettedUntil, suspendedAt: c.suspendedAt)
    }
}
