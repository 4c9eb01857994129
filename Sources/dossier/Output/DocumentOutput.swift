import DossierCore

/// JSON shape of a document in listings.
struct DocumentOutput: Encodable {
    let id: String
    let kind: String
    let language: String
    let languageName: String
    let size: UInt64
    let depositedAt: String
    let depositedBy: String
    let title: String?
    let fileName: String?
    let tags: [String]?
    let jurisdiction: String?
    let caseReference: String?
    let removedAt: String?

    init(_ d: Document) {
        id = d.id; kind = d.kind.rawValue; language = d.language; languageName = Language.displayName(d.language)
        size = d.size; depositedAt = d.depositedAt; depositedBy = d.depositedBy
        title = d.metadata?.title; fileName = d.metadata?.fileName; tags = d.metadata?.tags
        jurisdiction = d.metadata?.jurisdiction; caseReference = d.metadata?.caseReference; removedAt = d.removedAt
    }
}
