import DossierCrypto
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

    /// Whether every word occurs (case-insensitively) in some field of the metadata, the fields
    /// joined by newlines. Made once per search: for ASCII (the usual case) the words are
    /// lowered once and each document's fields into one reused buffer; otherwise Unicode
    /// lowercasing, the same answers.
    struct Matcher: Sendable {
        let words: [String]
        private let asciiWords: [[UInt8]]?
        private(set) var haystack: [UInt8] = []

        init(words: [String]) {
            self.words = words
            asciiWords = words.allSatisfy { $0.utf8.allSatisfy { $0 < 0x80 } } ? words.map { Array($0.utf8).map(Matcher.lower) } : nil
        }

        private static func lower(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5a ? c | 0x20 : c }

        /// Zeroes the haystack (it holds the last document's metadata in plaintext).
        mutating func wipe() {
            haystack.withUnsafeMutableBytes { secureZero($0) }
        }

        /// Empties the haystack for `count` bytes. It only grows by being replaced here, after
        /// a wipe, so no copy of plaintext is freed unwiped by an append.
        private mutating func clearHaystack(for count: Int) {
            if haystack.capacity < count {
                wipe()
                haystack = []
                haystack.reserveCapacity(max(count, 2 * haystack.capacity, 1024))
            }
            haystack.removeAll(keepingCapacity: true)
        }

        mutating func matches(_ m: DocumentMetadata) -> Bool {
            if let asciiWords {
                clearHaystack(for: m.title.utf8.count + m.fileName.utf8.count + (m.jurisdiction?.utf8.count ?? 0)
                              + (m.caseReference?.utf8.count ?? 0) + m.tags.reduce(3) { $0 + $1.utf8.count + 1 })
                var ascii = true
                func add(_ field: String) {
                    for c in field.utf8 {
                        if c >= 0x80 { ascii = false }
                        haystack.append(Matcher.lower(c))
                    }
                }
                add(m.title)
                haystack.append(0x0a); add(m.fileName)
                haystack.append(0x0a); add(m.jurisdiction ?? "")
                haystack.append(0x0a); add(m.caseReference ?? "")
                for tag in m.tags {
                    haystack.append(0x0a)
                    add(tag)
                }
                if ascii { return asciiWords.allSatisfy { Matcher.contains(haystack, $0) } }
            }
            let text = ([m.title, m.fileName, m.jurisdiction ?? "", m.caseReference ?? ""] + m.tags).joined(separator: "\n").lowercased()
            return words.allSatisfy { text.contains($0.lowercased()) }
        }

        /// `matches` for the binary form, without making Strings (a search opens every
        /// document and keeps few). Nil where that takes `decode` and `matches`: the JSON form,
        /// a field or word that is not ASCII, or a malformed value (which `decode` reports).
        mutating func matches(encoded b: UnsafeRawBufferPointer) -> Bool? {
            guard let asciiWords, b.first == DocumentMetadata.binaryVersion else { return nil }
            // The checks of `decode`, on byte ranges.
            var at = 1
            func field() -> Range<Int>? {
                guard b.count - at >= 4 else { return nil }
                let n = Int(b[at]) << 24 | Int(b[at + 1]) << 16 | Int(b[at + 2]) << 8 | Int(b[at + 3])
                guard b.count - at - 4 >= n else { return nil }
                at += 4 + n
                return at - n..<at
            }
            func optional() -> Range<Int>?? {
                guard at < b.count else { return nil }
                at += 1
                switch b[at - 1] {
                case 0: return .some(nil)
                case 1: return field().map { .some($0) }
                default: return nil
                }
            }
            guard let title = field(), !title.isEmpty, let fileName = field(), b.count - at >= 4 else { return nil }
            let tagCount = Int(b[at]) << 24 | Int(b[at + 1]) << 16 | Int(b[at + 2]) << 8 | Int(b[at + 3])
            at += 4
            guard tagCount <= (b.count - at) / 4 else { return nil }
            let tags = at
            for _ in 0..<tagCount { guard field() != nil else { return nil } }
            guard let jurisdiction = optional(), let caseReference = optional(), at == b.count else { return nil }
            // The haystack of `matches`: title, file name, jurisdiction, case reference, tags.
            clearHaystack(for: b.count)
            var ascii = true
            func add(_ r: Range<Int>?) {
                guard let r else { return }
                for i in r {
                    if b[i] >= 0x80 { ascii = false }
                    haystack.append(Matcher.lower(b[i]))
                }
            }
            add(title)
            haystack.append(0x0a); add(fileName)
            haystack.append(0x0a); add(jurisdiction)
            haystack.append(0x0a); add(caseReference)
            at = tags
            for _ in 0..<tagCount {
                haystack.append(0x0a)
                add(field())
            }
            guard ascii else { return nil }
            return asciiWords.allSatisfy { Matcher.contains(haystack, $0) }
        }

        private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
            guard let first = needle.first else { return true }
            guard needle.count <= haystack.count else { return false }
            return haystack.withUnsafeBufferPointer { h in
                needle.withUnsafeBufferPointer { n in
                    var i = 0
                    while i <= h.count - n.count {
                        if h[i] == first && memcmp(h.baseAddress! + i, n.baseAddress!, n.count) == 0 { return true }
                        i += 1
                    }
                    return false
                }
            }
        }
    }

    // MARK: The sealed form (docs/formats/vault.md, section 2.1)

    /// First byte of the binary form. The older JSON form starts with `{`.
    static let binaryVersion: UInt8 = 0x01

    /// The binary form that `deposit` seals: version, title, file name, tags, jurisdiction and
    /// case reference, each string as a 4-byte big-endian length and its UTF-8 bytes.
    /// The buffer is sized once, so it never grows (a regrown array frees a copy unwiped).
    func encoded() -> [UInt8] {
        let strings = [title, fileName] + tags + [jurisdiction, caseReference].compactMap { $0 }
        var out: [UInt8] = []
        out.reserveCapacity(1 + 4 + 2 + strings.reduce(0) { $0 + 4 + $1.utf8.count })
        out.append(Self.binaryVersion)
        func append(_ s: String) {
            withUnsafeBytes(of: UInt32(s.utf8.count).bigEndian) { out.append(contentsOf: $0) }
            out.append(contentsOf: s.utf8)
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
