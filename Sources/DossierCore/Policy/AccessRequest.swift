import Foundation

/// Everything `AccessPolicy` needs to decide one operation, as the vault stores it: times are
/// the stored text, so that a time that does not parse is refused rather than skipped.
public struct AccessRequest: Sendable {
    /// What is asked.
    public enum Operation: String, Sendable, CaseIterable {
        /// Recording a new grant (`dossier grant`).
        case grant
        /// Approving a pending grant (`dossier approve`).
        case approve
        /// Writing a package for a grant (`dossier package`).
        case package
        /// Releasing the vault's share of an online package (`dossier serve`).
        case release
    }

    /// A document the grant names.
    public struct DocumentFacts: Sendable, Equatable {
        /// Its id; nil where the caller knows only the kinds (key release).
        public var id: String?
        /// Its kind; nil for a stored kind this program does not know.
        public var kind: DocumentKind?
        public var isRemoved: Bool

        /// A document as the caller read it.
        public init(id: String?, kind: DocumentKind?, isRemoved: Bool = false) {
            self.id = id
            self.kind = kind
            self.isRemoved = isRemoved
        }
    }

    /// A counsel the grant names.
    public struct CounselFacts: Sendable, Equatable {
        public var id: String
        /// `counsel.vetted_until` as stored; nil if never vetted.
        public var vettedUntil: String?
        /// `counsel.suspended_at` as stored; nil if not suspended.
        public var suspendedAt: String?

        /// A counsel as the caller read them.
        public init(id: String, vettedUntil: String?, suspendedAt: String?) {
            self.id = id
            self.vettedUntil = vettedUntil
            self.suspendedAt = suspendedAt
        }
    }

    /// An existing grant (approve, package, release).
    public struct GrantFacts: Sendable, Equatable {
        public var id: String
        /// `pending`, `active`, `revoked` or `expired`, as stored or as `Grant` reports it.
        public var state: String
        public var createdBy: String?
        /// Not-before and not-after as stored.
        public var notBefore: String
        public var notAfter: String
        public var approvalsNeeded: Int
        /// The staff who signed off, the grantor first; nil where the caller did not read them.
        public var approvedBy: [String]?
        public var onlineURL: String?
        /// Most openings per counsel through the key-release service; 0 = no limit.
        public var maxOpens: Int

        /// A grant as the caller read it.
        public init(id: String, state: String, createdBy: String? = nil, notBefore: String, notAfter: String,
                    approvalsNeeded: Int = 1, approvedBy: [String]? = nil, onlineURL: String? = nil, maxOpens: Int = 0) {
            self.id = id
            self.state = state
            self.createdBy = createdBy
            self.notBefore = notBefore
            self.notAfter = notAfter
            self.approvalsNeeded = approvalsNeeded
            self.approvedBy = approvedBy
            self.onlineURL = onlineURL
            self.maxOpens = maxOpens
        }
    }

    public var operation: Operation
    public var now: Date
    /// The vault's current policy (not needed to approve).
    public var policy: Policy?
    public var documents: [DocumentFacts]
    /// The recipients, each once.
    public var recipients: [CounselFacts]
    /// The grant asked about; nil for a new grant.
    public var grant: GrantFacts?
    /// A new grant's not-after (its window starts now).
    public var notAfter: Date?
    /// The key-release service a new grant or a package uses, if any.
    public var online: String?
    /// The open limit a new grant asks for, if any.
    public var maxOpens: Int?
    /// The staff member who approves.
    public var actor: String?
    /// Openings already recorded for this grant and counsel (release).
    public var opened: Int

    /// A new grant of `documents` to `recipients` from `now` until `notAfter`.
    public static func grant(now: Date, policy: Policy, documents: [DocumentFacts], recipients: [CounselFacts],
                             notAfter: Date, online: String?, maxOpens: Int?) -> AccessRequest {
        AccessRequest(operation: .grant, now: now, policy: policy, documents: documents, recipients: recipients, grant: nil,
                      notAfter: notAfter, online: online, maxOpens: maxOpens, actor: nil, opened: 0)
    }

    /// `actor`'s approval of `grant`.
    public static func approve(now: Date, grant: GrantFacts, actor: String) -> AccessRequest {
        AccessRequest(operation: .approve, now: now, policy: nil, documents: [], recipients: [], grant: grant,
                      notAfter: nil, online: nil, maxOpens: nil, actor: actor, opened: 0)
    }

    /// A package of `grant`, online through `online` if given.
    public static func package(now: Date, policy: Policy, grant: GrantFacts, documents: [DocumentFacts],
                               recipients: [CounselFacts], online: String?) -> AccessRequest {
        AccessRequest(operation: .package, now: now, policy: policy, documents: documents, recipients: recipients, grant: grant,
                      notAfter: nil, online: online, maxOpens: nil, actor: nil, opened: 0)
    }

    /// The release of `grant`'s share to `counsel`, who has opened it `opened` times so far.
    public static func release(now: Date, policy: Policy, grant: GrantFacts, documents: [DocumentFacts],
                               counsel: CounselFacts, opened: Int) -> AccessRequest {
        AccessRequest(operation: .release, now: now, policy: policy, documents: documents, recipients: [counsel], grant: grant,
                      notAfter: nil, online: grant.onlineURL, maxOpens: nil, actor: nil, opened: opened)
    }
}

/// Why `AccessPolicy` refuses: the rule, what is refused (with ids), what to do, and the error
/// the domain throws for it.
public struct AccessDenial: Sendable, CustomStringConvertible {
    public let rule: AccessRule
    /// What is refused, naming the grant, document or counsel concerned.
    public let message: String
    /// What the user can do about it.
    public let hint: String
    /// The log subjects the refusal concerns (`counsel:…`, `doc:…`), besides the request's own.
    public let concerns: [String]
    /// The error grant, approve and package throw.
    public let error: DossierError

    public var description: String { "\(rule.name): \(message)" }
}

/// `AccessPolicy`'s answer.
public enum AccessDecision: Sendable {
    case allow
    case deny(AccessDenial)

    /// The denial, or nil if allowed.
    public var denial: AccessDenial? {
        if case let .deny(d) = self { return d }
        return nil
    }
}

extension Document {
    /// What `AccessPolicy` needs of this document.
    var accessFacts: AccessRequest.DocumentFacts { .init(id: id, kind: kind, isRemoved: isRemoved) }
}

extension Counsel {
    /// What `AccessPolicy` needs of this counsel.
    var accessFacts: AccessRequest.CounselFacts { .init(id: id, vettedUntil: vettedUntil, suspendedAt: suspendedAt) }
}

extension Grant {
    /// What `AccessPolicy` needs of this grant.
    var accessFacts: AccessRequest.GrantFacts {
        .init(id: id, state: state.rawValue, createdBy: createdBy, notBefore: notBefore, notAfter: notAfter,
              approvalsNeeded: approvalsNeeded, approvedBy: approvedBy, onlineURL: onlineURL, maxOpens: maxOpens)
    }
}
