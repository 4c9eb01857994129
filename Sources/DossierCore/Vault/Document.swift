import Foundation

/// What staff say about a document. Stored only sealed under the vault key.
public struct DocumentMetadata: Codable, Sendable, Equatable {
    public var title: String
    public var fileName: String
    public var tags: [String]
    public var jurisdiction: String?
    public var caseReference: String?

    public init(title: String, fileName: String, tags: [String] = [], jurisdiction: String? = nil, caseReference: String? = nil) {
        self.title = title
        self.fileName = fileName
        self.tags = tags
        self.jurisdiction = jurisdiction
        self.caseReference = caseReference
    }

    /// Whether every word occurs (case-insensitively) in some field.
    func matches(words: [String]) -> Bool {
        let fields = [title, fileName, jurisdiction ?? "", caseReference ?? ""] + tags
        // ASCII, the usual case: bytes lowered in place and searched directly, the same
        // answer as Unicode lowercasing (100,000 documents are searched in milliseconds).
        if words.allSatisfy({ $0.utf8.allSatisfy { $0 < 0x80 } }), fields.allSatisfy({ $0.utf8.allSatisfy { $0 < 0x80 } }) {
            var haystack: [UInt8] = []
            for (i, f) in fields.enumerated() {
                if i > 0 { haystack.append(0x0a) }
                haystack.append(contentsOf: f.utf8)
            }
            Self.lowerASCII(&haystack)
            return words.allSatisfy { word in
                var needle = Array(word.utf8)
                Self.lowerASCII(&needle)
                if needle.isEmpty { return true }
                return Self.contains(haystack, needle)
            }
        }
        let haystack = fields.joined(separator: "\n").lowercased()
        return words.allSatisfy { haystack.contains($0.lowercased()) }
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        let first = needle[0]
        var i = 0
        while i <= haystack.count - needle.count {
            if haystack[i] == first && haystack[i..<i + needle.count].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }

    private static func lowerASCII(_ bytes: inout [UInt8]) {
        for i in bytes.indices where bytes[i] >= 0x41 && bytes[i] <= 0x5a { bytes[i] |= 0x20 }
    }

    // MARK: The sealed form (docs/formats/vault.md, section 2.1)

    /// First byte of the binary form. The older JSON form starts with `{`.
    static let binaryVersion: UInt8 = 0x01

    /// The binary form that `deposit` seals: version, title, file name, tags, jurisdiction and
    /// case reference, each string as a 4-byte big-endian length and its UTF-8 bytes.
    func encoded() -> [UInt8] {
        var out: [UInt8] = [Self.binaryVersion]
        func append(_ s: String) {
            let u = Array(s.utf8)
            withUnsafeBytes(of: UInt32(u.count).bigEndian) { out.append(contentsOf: $0) }
            out.append(contentsOf: u)
        }
        func append(optional s: String?) {
            if let s { out.append(1); append(s) } else { out.append(0) }
        }
        append(title)
        append(fileName)
        withUnsafeBytes(of: UInt32(tags.count).bigEndian) { out.append(contentsOf: $0) }
        tags.forEach(append)
        append(optional: jurisdiction)
        append(optional: caseReference)
        return out
    }

    /// Reads either form: the binary one, or the JSON object of vaults written before it. Nil if
    /// malformed (a truncated or over-long value, trailing bytes, bad UTF-8, an empty title).
    static func decode(_ b: UnsafeRawBufferPointer) -> DocumentMetadata? {
        guard let first = b.first else { return nil }
        if first == UInt8(ascii: "{") {
            return try? JSONDecoder().decode(DocumentMetadata.self, from: Data(b))
        }
        guard first == binaryVersion else { return nil }
        var at = 1
        func u32() -> Int? {
            guard b.count - at >= 4 else { return nil }
            let v = Int(b[at]) << 24 | Int(b[at + 1]) << 16 | Int(b[at + 2]) << 8 | Int(b[at + 3])
            at += 4
            return v
        }
        func string() -> String? {
            guard let n = u32(), b.count - at >= n else { return nil }
            defer { at += n }
            let bytes = UnsafeRawBufferPointer(rebasing: b[at..<at + n])
            // ASCII, the usual case, needs no further check (and the generic check is slow).
            if bytes.allSatisfy({ $0 < 0x80 }) { return String(decoding: bytes.bindMemory(to: UInt8.self), as: UTF8.self) }
            return String(validating: bytes, as: UTF8.self)
        }
        func optional() -> String?? {
            guard at < b.count else { return nil }
            at += 1
            switch b[at - 1] {
            case 0: return .some(nil)
            case 1: return string().map { .some($0) }
            default: return nil
            }
        }
        guard let title = string(), !title.isEmpty, let fileName = string(), let tagCount = u32(), tagCount <= (b.count - at) / 4 else { return nil }
        var tags: [String] = []
        tags.reserveCapacity(tagCount)
        for _ in 0..<tagCount {
            guard let t = string() else { return nil }
            tags.append(t)
        }
        guard let jurisdiction = optional(), let caseReference = optional(), at == b.count else { return nil }
        return DocumentMetadata(title: title, fileName: fileName, tags: tags, jurisdiction: jurisdiction, caseReference: caseReference)
    }
}

/// A catalogue entry as staff see it. `metadata` is nil for a removed document.
public struct Document: Codable, Sendable {
    public let id: String
    public let kind: DocumentKind
    public let language: String
    public let size: UInt64
    public let depositedAt: String
    public let depositedBy: String
    public internal(set) var metadata: DocumentMetadata?
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
