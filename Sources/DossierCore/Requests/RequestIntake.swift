import DossierCrypto
import Foundation

/// How much the service's request intake accepts (docs/key-release.md, section 10). Quotas
/// count the requests the service accepted in the last 24 hours, read from the vault's
/// database, so that they hold across every `dossier serve` on one vault; refused requests
/// count for nothing, since nothing of them is stored.
public struct RequestIntakeLimits: Sendable, Equatable {
    /// At most `count` requests of at most `bytes` bytes in all, per rolling 24 hours.
    public struct Quota: Sendable, Equatable {
        public var count: Int
        public var bytes: UInt64
        public init(count: Int, bytes: UInt64) {
            self.count = count
            self.bytes = bytes
        }
    }

    /// The window every quota counts over.
    public static let window: TimeInterval = 86400

    /// Largest request file accepted (at most the format's 64 MiB).
    public var maximumBytes: UInt64 = RequestLimits.maximumFileBytes
    /// Per sender registered as counsel.
    public var perCounsel = Quota(count: 20, bytes: 256 << 20)
    /// Per sender who is not registered counsel (first contact): stricter.
    public var perUnknownSender = Quota(count: 3, bytes: 64 << 20)
    /// Everything the service accepts, from everyone.
    public var total = Quota(count: 200, bytes: 2 << 30)

    public init() {}

    /// A size as `serve` takes it: a number of bytes, or a number followed by KiB, MiB or GiB
    /// (`64MiB`); nil if not.
    public static func size(_ text: String) -> UInt64? {
        let units: [(String, UInt64)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("B", 1)]
        var number = Substring(text), factor: UInt64 = 1
        if let (unit, f) = units.first(where: { text.hasSuffix($0.0) }) {
            number = number.dropLast(unit.count)
            factor = f
        }
        guard !number.isEmpty, number.count <= 12, number.allSatisfy({ $0.isASCII && $0.isNumber }), let n = UInt64(number) else { return nil }
        let (product, overflow) = n.multipliedReportingOverflow(by: factor)
        return overflow ? nil : product
    }

    /// A quota as `serve` takes it: `COUNT/SIZE` (`20/256MiB`).
    public static func quota(_ text: String, option: String) throws(DossierError) -> Quota {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let count = Int(parts[0]), count >= 0, count <= 1_000_000, let bytes = size(String(parts[1])) else {
            throw .invalidArgument("\(option) \(text) is not COUNT/SIZE", hint: "give, for example, \(option) 20/256MiB (20 requests and 256 MiB in all per 24 hours)")
        }
        return Quota(count: count, bytes: bytes)
    }
}

/// Why the service refuses a request or a status query. The raw value is the `error` member of
/// the JSON answer (docs/formats/request.md, section 11.2).
public enum IntakeRefusal: String, Sendable, CaseIterable {
    case malformed
    case tampered
    case notForThisIntake = "not-for-this-intake"
    case replay
    case tooLarge = "too-large"
    case timeout
    case senderQuota = "sender-quota"
    case serviceQuota = "service-quota"
    case staleRequest = "stale-request"
    case unknownRequest = "unknown-request"

    public var status: Int {
        switch self {
        case .malformed: return 400
        case .tampered, .staleRequest: return 401
        case .notForThisIntake: return 403
        case .unknownRequest: return 404
        case .timeout: return 408
        case .replay: return 409
        case .tooLarge: return 413
        case .senderQuota, .serviceQuota: return 429
        }
    }

    /// What counsel should read and do.
    public var message: String {
        switch self {
        case .malformed: return "this is not a complete, well-formed Dossier request (or status query); write it again with `dossier request new`"
        case .tampered: return "the request does not authenticate: it was altered, or its signature is not by the key named inside"
        case .notForThisIntake: return "the request is sealed to another intake key than this organisation's; check the intake line you used"
        case .replay: return "the organisation already holds this request; nothing was stored again"
        case .tooLarge: return "the request is larger than the service accepts; send it as a file by another channel"
        case .timeout: return "the request did not arrive in time; retry"
        case .senderQuota: return "the service has accepted as many requests from you as it takes in 24 hours; retry later, or send the file by another channel"
        case .serviceQuota: return "the service accepts no more requests for now; retry later, or send the file by another channel"
        case .staleRequest: return "the query's time is more than \(Int(RequestIntakeService.maximumSkew / 60)) minutes from the service's clock; correct your computer's clock and retry"
        case .unknownRequest: return "the organisation holds no request with this id sent by you"
        }
    }

    var answer: ReleaseResponse { .json(status, ["error": rawValue, "message": message]) }
}

/// The service's request intake (`POST /v1/requests`, `POST /v1/requests/status`), without
/// HTTP: a request file in, a status and JSON body out (docs/formats/request.md, section 11).
///
/// A request is accepted only if it passes every check of `RequestReader.open` with the
/// organisation's intake secret, which the service reads from the vault (it holds the vault
/// key). It is then kept in the inbox exactly as `requests import` keeps it, and recorded by a
/// `request-receive` entry signed by the service's identity; the answer carries a receipt
/// signed by that identity under its certificate. Nothing is stored for a refused request:
/// refusals go to the service's own report only. Work is done one request at a time on a
/// queue of its own, so that verifying a large request never blocks the key release.
public final class RequestIntakeService: @unchecked Sendable {
    /// Largest difference accepted between a status query's time and the service's clock.
    public static let maximumSkew: TimeInterval = 300

    public let limits: RequestIntakeLimits
    // `session` and `signedFacts` are used only on `queue`.
    private var session: StaffSession
    private var signedFacts = SignedFacts.Reader()
    private let queue = DispatchQueue(label: "dossier.request-intake")
    private let report: @Sendable (String) -> Void

    /// `session` is the service's identity; `report` receives one line per decision (ids and
    /// reasons, never a secret) and the cause of every 503.
    public init(session: StaffSession, limits: RequestIntakeLimits = RequestIntakeLimits(), report: @escaping @Sendable (String) -> Void = { _ in }) {
        self.session = session
        self.limits = limits
        self.report = report
    }

    /// A refusal the HTTP layer decided before it had the whole body (too large, too slow).
    public func refuse(_ reason: IntakeRefusal, why: String) -> ReleaseResponse {
        // `why` may quote the request (a language tag, an attachment name): made visible here,
        // once, as the CLI does for what it prints.
        report("refused request \(reason.rawValue): \(VisibleText.escaped(why))")
        return reason.answer
    }

    /// The answer when the service cannot decide (503), the cause reported.
    public func unavailable(_ why: String) -> ReleaseResponse {
        report("error: request intake: \(why)")
        return .unavailable
    }

    /// Decides on the request file held in `file`, on the intake's queue.
    public func receive(_ file: ScratchFile) async -> ReleaseResponse {
        await withCheckedContinuation { reply in
            queue.async { reply.resume(returning: self.receive(fd: file.fd)) }
        }
    }

    /// Answers a status query, on the intake's queue.
    public func status(_ body: Data) async -> ReleaseResponse {
        await withCheckedContinuation { reply in
            queue.async { reply.resume(returning: self.status(body: body)) }
        }
    }

    // MARK: Receiving

    private struct Refused: Error {
        let reason: IntakeRefusal
        let why: String
    }

    /// Synchronous: call only on `queue` (or in tests, from one thread).
    func receive(fd: Int32) -> ReleaseResponse {
        do {
            do {
                return try receiveOnce(fd: fd)
            } catch DossierError.vaultKeyRotated {
                session = try session.vault.unlock(session.identity, forService: true)
                return try receiveOnce(fd: fd)
            }
        } catch let refused as Refused {
            return refuse(refused.reason, why: refused.why)
        } catch {
            report("error: request intake: \((error as? DossierError)?.description ?? "\(error)")")
            return .unavailable
        }
    }

    private func receiveOnce(fd: Int32) throws -> ReleaseResponse {
        let session = self.session
        let vault = session.vault
        let now = vault.clock.now()
        let place = "the request received"
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw DossierError.fileUnreadable(path: place, reason: FileAccess.errnoText()) }
        guard UInt64(st.st_size) <= limits.maximumBytes else {
            throw Refused(reason: .tooLarge, why: "\(st.st_size) bytes, over the limit of \(limits.maximumBytes)")
        }
        // 1. The framing needs no secret and gives the id: a replay is refused before anything else.
        let header: RequestHeader
        do throws(DossierError) { header = try RequestReader.frame(fd, path: place).header } catch { throw Refused(reason: .malformed, why: error.message) }
        let id = header.requestID
        if let existing = try session.read({ tx in try tx.request(id) }) {
            throw Refused(reason: .replay, why: "request \(id) was received at \(existing.receivedAt)")
        }
        // 2. Every check of formats/request.md section 7, with the intake secret.
        let (_, secret) = try session.intakeSecret()
        let opened: OpenedRequest
        do throws(DossierError) {
            let copy = dup(fd)
            guard copy >= 0 else { throw DossierError.fileUnreadable(path: place, reason: FileAccess.errnoText()) }
            opened = try RequestReader.open(fd: copy, path: place, intakeSecret: secret)
        } catch {
            switch error {
            case .malformedRequest: throw Refused(reason: .malformed, why: "request \(id): " + error.message)
            case .requestTampered: throw Refused(reason: .tampered, why: "request \(id): " + error.message)
            case .requestNotForThisIntake: throw Refused(reason: .notForThisIntake, why: "request \(id): " + error.message)
            default: throw error
            }
        }
        let sender = opened.sender.fingerprint
        let size = UInt64(st.st_size)
        let sha256 = try StaffSession.Requests.sha256(fd: fd).hex
        // 3. What the receipt needs, before anything is stored.
        let certificate = try session.currentCertificate(role: .service)
        // 4. Quotas, a first time without writing (a refusal stores nothing).
        let (registered, overQuota) = try session.read { tx in
            try self.signedFacts.catchUp(tx, memory: self.signedFacts.facts.size == 0 ? vault.logHead : nil)
            return try self.quotas(tx, sender: sender, size: size, now: now)
        }
        if let overQuota { throw overQuota }
        // 5. Keep the file as received; what is kept must be what was verified.
        let content = vault.blobs
        guard lseek(fd, 0, SEEK_SET) == 0 else { throw DossierError.fileUnreadable(path: place, reason: FileAccess.errnoText()) }
        let written: (size: UInt64, sha256: Data)
        do throws(DossierError) {
            written = try content.writeRequest(id: id, from: fd, sourcePath: place)
        } catch .fileExists {
            // A file without a row: left by an import interrupted before it committed.
            content.remove(id: id)
            guard lseek(fd, 0, SEEK_SET) == 0 else { throw DossierError.fileUnreadable(path: place, reason: FileAccess.errnoText()) }
            written = try content.writeRequest(id: id, from: fd, sourcePath: place)
        }
        let entry: AuditEntry
        // A refusal decided inside the write transaction, which rolls it back.
        var refusal: Refused?
        do {
            guard written.sha256.hex == sha256, written.size == size else {
                throw DossierError.integrity("the request \(id) changed while it was kept")
            }
            let summary = try session.requests.sealedSummary(opened)
            try content.makeDurable(ids: [id])
            let stamp = Timestamp.format(now)
            let record = RequestRecord(id: id, receivedAt: stamp, receivedBy: session.actor, sha256: sha256, size: size, sender: sender,
                                       state: RequestState.new.rawValue, summarySealed: summary)
            // 6. Decide again in the write transaction, which the database serialises with every
            //    other writer (every replica): the same id, or the quotas reached meanwhile.
            entry = try session.write { tx in
                try self.signedFacts.catchUp(tx)
                if let existing = try tx.request(id) {
                    refusal = Refused(reason: .replay, why: "request \(id) was received at \(existing.receivedAt)")
                } else {
                    refusal = try self.quotas(tx, sender: sender, size: size, now: now).refusal
                }
                if let refusal { throw DossierError.requestRefused(url: "", reason: refusal.reason.rawValue, message: refusal.why) }
                if self.signedFacts.facts.requests[id] != nil {
                    throw DossierError.altered("request \(id) was received (signed log) but its row is gone")
                }
                try tx.insertRequest(record)
                return try AuditLog.append(tx, signer: session.identity, action: .requestReceive, at: now, subjects: ["request:" + id],
                                           details: StaffSession.Requests.receiveDetails(sha256: sha256, sender: sender, opened.details))
            }
        } catch {
            // Only a row names the kept file; without one it goes (a staged copy is abandoned).
            if (try? session.read({ tx in try tx.request(id) })) == nil { content.remove(id: id) }
            if let refusal { throw refusal }
            if case .database? = error as? DossierError, (try? session.read({ tx in try tx.request(id) })) != nil {
                // Another service on the same database kept the same request first.
                throw Refused(reason: .replay, why: "request \(id) was received by another service at the same time")
            }
            throw error
        }
        let receipt = RequestReceipt.sign(requestID: id, sha256: sha256, received: entry.time, logSeq: entry.seq,
                                          certificate: certificate, key: session.identity.signing)
        report("received request \(id) from \(sender)\(registered ? "" : " (not registered counsel)"), \(size) bytes, log \(entry.seq)")
        return .json(200, ["status": "received", "request": id, "logSeq": entry.seq, "receipt": String(decoding: receipt.bytes, as: UTF8.self)])
    }

    /// Whether the sender is registered counsel, and the refusal of a request of `size` bytes
    /// from `sender` that would exceed a quota, if it would. Counts the rows of requests
    /// received by a service identity in the last 24 hours.
    private func quotas(_ tx: any StoreTransaction, sender: String, size: UInt64, now: Date) throws -> (registered: Bool, refusal: Refused?) {
        let facts = signedFacts.facts
        let services = facts.members.filter { $0.value.role == .service }.map(\.key).sorted()
        let since = Timestamp.format(now.addingTimeInterval(-RequestIntakeLimits.window))
        let registered = facts.counsel.values.contains { $0.fingerprint == sender }
        let quota = registered ? limits.perCounsel : limits.perUnknownSender
        let mine = try tx.requestIntake(since: since, receivedBy: services, sender: sender)
        if mine.count + 1 > quota.count || mine.bytes + size > quota.bytes {
            return (registered, Refused(reason: .senderQuota, why: "\(sender)\(registered ? "" : " (not registered counsel)") sent \(mine.count) request(s), \(mine.bytes) bytes, in 24 hours; the quota is \(quota.count), \(quota.bytes) bytes"))
        }
        let all = try tx.requestIntake(since: since, receivedBy: services, sender: nil)
        if all.count + 1 > limits.total.count || all.bytes + size > limits.total.bytes {
            return (registered, Refused(reason: .serviceQuota, why: "\(all.count) request(s), \(all.bytes) bytes, accepted in 24 hours; the quota is \(limits.total.count), \(limits.total.bytes) bytes"))
        }
        return (registered, nil)
    }

    // MARK: Status

    func status(body: Data) -> ReleaseResponse {
        guard let query = RequestStatusQuery.parse(body: body) else {
            return refuse(.malformed, why: "a status query that is not well-formed (body-sha256 \(Hash.sha256(body).hex))")
        }
        let id = query.requestID
        let now = session.vault.clock.now()
        guard let time = Timestamp.parse(query.time), abs(time.timeIntervalSince(now)) <= Self.maximumSkew else {
            return refuse(.staleRequest, why: "status of \(id): its time \(query.time) is more than \(Int(Self.maximumSkew)) s from the clock")
        }
        do {
            let found: (RequestStatus, PublicIdentity)? = try session.read { tx in
                try self.signedFacts.catchUp(tx, memory: self.signedFacts.facts.size == 0 ? self.session.vault.logHead : nil)
                let facts = self.signedFacts.facts
                guard let intake = facts.intakeKey, intake == query.intake.line, let fact = facts.requests[id] else { return nil }
                let row = try tx.request(id)
                try facts.check(request: id, row)
                guard let row else { return nil }
                let from = try self.session.requests.senderIdentity(row)
                guard from.fingerprint == fact.sender else { throw DossierError.altered("the sealed summary of request \(id) names another sender than the signed log") }
                return (RequestStatus(request: id, state: fact.state, grant: fact.grant), from)
            }
            // Unknown, another organisation's, or asked by someone else than its sender: one answer.
            guard let (status, sender) = found, query.verifies(with: sender.signingKey) else {
                return refuse(.unknownRequest, why: "status of \(id): no such request from the signer")
            }
            report("status of request \(id): \(status.state.rawValue)")
            var object: [String: Any] = ["request": status.request, "state": status.state.rawValue]
            if let grant = status.grant { object["grant"] = grant }
            return .json(200, object)
        } catch {
            report("error: request status: \(error.description)")
            return .unavailable
        }
    }
}
