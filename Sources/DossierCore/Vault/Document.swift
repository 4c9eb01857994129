import DossierCrypto
import Foundation

/// A catalogue entry as staff see it. `metadata` is nil for a removed document.
public struct Document: Codable, Sendable {
    public let id: String
    public let kind: DocumentKind
    public let language: String
    public let size: UInt64
    public let depositedAt: String
    public let depositedBy: String
    public let metadata: DocumentMetadata?
    public let removedAt: String?
    public let removedBy: String?

    public var isRemoved: Bool { removedAt != nil }
}

/// What `deposit` needs besides the files.
public struct DepositRequest: Sendable {
    public var files: [String]
    public var kind: DocumentKind
    public var title: String
    public var language: String
    public var tags: [String]
    public var jurisdiction: String?
    public var caseReference: String?

    public init(files: [String], kind: DocumentKind, title: String, language: String = Language.undetermined,
                tags: [String] = [], jurisdiction: String? = nil, caseReference: String? = nil) {
        self.files = files
        self.kind = kind
        self.title = title
        self.language = language
        self.tags = tags
        self.jurisdiction = jurisdiction
        self.caseReference = caseReference
    }
}

/// Filters for `list`.
public struct DocumentFilter: Sendable {
    public var kind: DocumentKind?
    public var caseReference: String?
    public var language: String?
    public var includeRemoved: Bool

    public init(kind: DocumentKind? = nil, caseReference: String? = nil, language: String? = nil, includeRemoved: Bool = false) {
        self.kind = kind
        self.caseReference = caseReference
        self.language = language
        self.includeRemoved = includeRemoved
    }
}
