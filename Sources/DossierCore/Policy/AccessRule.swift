import Foundation

/// A rule that can refuse access. Its `name` is the one stable word for it everywhere: the
/// `.policyDenied` error, the `rule` detail of the `deny` log entry, and docs/policy-reference.md.
public enum AccessRule: Hashable, Sendable, CustomStringConvertible {
    /// A key of a `[kinds.KIND]` table that can refuse; the raw value is the key's name.
    public enum KindKey: String, Sendable, CaseIterable {
        case maxWindow = "max_window"
        case maxRecipients = "max_recipients"
        case requireOnline = "require_online"
        case maxOpens = "max_opens"
        case requireVetted = "require_vetted"
    }

    /// A stored time that access depends on.
    public enum StoredTime: String, Sendable, CaseIterable {
        case grantNotBefore = "grant.not_before"
        case grantNotAfter = "grant.not_after"
        case counselVettedUntil = "counsel.vetted_until"
        case counselSuspendedAt = "counsel.suspended_at"
    }

    /// `kinds.KIND.KEY`: a limit of the policy for one document kind.
    case kind(DocumentKind, KindKey)
    /// `grant.revoked`: the grant was revoked.
    case grantRevoked
    /// `grant.pending`: the grant still waits for staff approvals.
    case grantPending
    /// `grant.active`: an approval of a grant that needs none any more.
    case grantActive
    /// `grant.not_yet_valid`: before the grant's not-before.
    case grantNotYetValid
    /// `grant.expired`: after the grant's not-after.
    case grantExpired
    /// `grant.max_opens`: the counsel has opened the grant's packages as often as it allows.
    case grantMaxOpens
    /// `approval.own_grant`: the grantor approving their own grant (two-person rule).
    case approvalOwnGrant
    /// `approval.repeated`: a staff member approving the same grant twice.
    case approvalRepeated
    /// `document.removed`: a document of the request was removed (crypto-shredded).
    case documentRemoved
    /// `counsel.suspended`: a recipient is suspended.
    case counselSuspended
    /// `stored.unreadable_time`: a stored time the decision needs does not parse.
    case unreadableTime(StoredTime)
    /// `stored.unknown_state`: the grant's stored state is none this program knows.
    case unknownState
    /// `stored.unknown_kind`: a document's stored kind is none this program knows.
    case unknownKind

    /// The stable name, as logged and documented.
    public var name: String {
        switch self {
        case let .kind(kind, key): return "kinds.\(kind.rawValue).\(key.rawValue)"
        case .grantRevoked: return "grant.revoked"
        case .grantPending: return "grant.pending"
        case .grantActive: return "grant.active"
        case .grantNotYetValid: return "grant.not_yet_valid"
        case .grantExpired: return "grant.expired"
        case .grantMaxOpens: return "grant.max_opens"
        case .approvalOwnGrant: return "approval.own_grant"
        case .approvalRepeated: return "approval.repeated"
        case .documentRemoved: return "document.removed"
        case .counselSuspended: return "counsel.suspended"
        case .unreadableTime: return "stored.unreadable_time"
        case .unknownState: return "stored.unknown_state"
        case .unknownKind: return "stored.unknown_kind"
        }
    }

    public var description: String { name }

    /// The code the key-release service answers with (docs/formats/key-release.md, section 7.2),
    /// which does not change with the rule names. A stored value that does not read answers as
    /// the check it feeds would. nil for a rule that key release never applies.
    public var releaseRefusal: ReleaseRefusal? {
        switch self {
        case .grantRevoked, .unknownState: return .revoked
        case .grantPending: return .notApproved
        case .grantNotYetValid, .unreadableTime(.grantNotBefore): return .notYetValid
        case .grantExpired, .unreadableTime(.grantNotAfter): return .expired
        case .counselSuspended, .unreadableTime(.counselSuspendedAt): return .suspended
        case .kind(_, .requireVetted), .unreadableTime(.counselVettedUntil), .unknownKind: return .notVetted
        case .grantMaxOpens: return .openLimitReached
        case .kind, .grantActive, .approvalOwnGrant, .approvalRepeated, .documentRemoved: return nil
        }
    }
}
