/// What a document is; policies are written per kind.
public enum DocumentKind: String, CaseIterable, Codable, Sendable {
    case expertReport = "expert-report"
    case witnessTestimony = "witness-testimony"
    case assuranceRebuttal = "assurance-rebuttal"
    case supportingMaterial = "supporting-material"

    /// Parses the command-line spelling; throws with the list of kinds.
    public init(parsing text: String) throws(DossierError) {
        guard let kind = DocumentKind(rawValue: text) else { throw .unknownKind(text) }
        self = kind
    }
}
