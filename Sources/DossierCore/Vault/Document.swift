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
        /// The lowered fields of the last document seen, in its first `length` bytes; the rest
        /// is zero or older plaintext, all of it zeroed by `wipe`.
        private(set) var haystack: [UInt8] = []
        private var length = 0

        init(words: [String]) {
            self.words = words
            asciiWords = words.allSatisfy { $0.utf8.allSatisfy { $0 < 0x80 } } ? words.map { Array($0.utf8).map(Matcher.lower) } : nil
        }

        private static func lower(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5a ? c | 0x20 : c }

        /// Zeroes the haystack (it holds the last document's metadata in plaintext).
        mutating func wipe() {
            haystack.withUnsafeMutableBytes { secureZero($0) }
        }

        /// Fills the haystack with `fields` (at most `count` bytes in all), lowered and joined by
        /// newlines; false if a byte is not ASCII. It only grows by being replaced, after a wipe,
        /// so no copy of plaintext is freed unwiped.
        private mutating func fill(count: Int, _ fields: ((UnsafeBufferPointer<UInt8>) -> Void) -> Void) -> Bool {
            if haystack.count < count {
                wipe()
                haystack = [UInt8](repeating: 0, count: max(count, 2 * haystack.count, 1024))
            }
            var n = 0, high: UInt8 = 0, first = true
            haystack.withUnsafeMutableBufferPointer { h in
                fields { field in
                    if !first { h[n] = 0x0a; n += 1 }
                    first = false
                    for c in field {
                        high |= c
                        h[n] = Matcher.lower(c)
                        n += 1
                    }
                }
            }
            length = n
            return high < 0x80
        }

        mutating func matches(_ m: DocumentMetadata) -> Bool {
            if let asciiWords {
                let strings = [m.title, m.fileName, m.jurisdiction ?? "", m.caseReference ?? ""] + m.tags
                let ascii = fill(count: strings.reduce(0) { $0 + $1.utf8.count + 1 }) { add in
                    for var s in strings { s.withUTF8(add) }
                }
                if ascii { return asciiWords.allSatisfy { contains($0) } }
            }
            let text = ([m.title, m.fileName, m.jurisdiction ?? "", m.caseReference ?? ""] + m.tags).joined(separator: "\n").lowercased()
            return words.allSatisfy { text.contains($0.lowercased()) }
        }

        /// `matches` for the binary form, without making Strings (a search opens every
        /// document and keeps few). Nil where that takes `decode` and `matches`: the JSON form,
        /// a field or word that is not ASCII, or a malformed value (which `decode` reports).
        mutating func matches(encoded b: UnsafeRawBufferPointer) -> Bool? {
            guard let fields = Fields(b) else { return nil }
            return matches(encoded: b, fields)
        }

        /// `matches(encoded:)` for a value already parsed.
        mutating func matches(encoded b: UnsafeRawBufferPointer, _ f: Fields) -> Bool? {
            guard let asciiWords else { return nil }
            let bytes = b.assumingMemoryBound(to: UInt8.self)
            // The haystack of `matches`: title, file name, jurisdiction, case reference, tags.
            let ascii = fill(count: b.count) { add in
                for r in [f.title, f.fileName, f.jurisdiction ?? 0..<0, f.caseReference ?? 0..<0] { add(UnsafeBufferPointer(rebasing: bytes[r])) }
                f.forEachTag(in: b) { add(UnsafeBufferPointer(rebasing: bytes[$0])) }
            }
            guard ascii else { return nil }
            return asciiWords.allSatisfy { contains($0) }
        }

        /// Whether the haystack's first `length` bytes contain `needle`.
        private func contains(_ needle: [UInt8]) -> Bool {
            guard let first = needle.first else { return true }
            guard needle.count <= length else { return false }
            return haystack.withUnsafeBufferPointer { h in
                needle.withUnsafeBufferPointer { n in
                    var i = 0
                    while i <= length - n.count {
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
        if b.first == UInt8(ascii: "{") {
            return try? JSONDecoder().decode(DocumentMetadata.self, from: Data(b))
        }
        return Fields(b).map { decode(b, $0) }
    }

    /// The metadata of a binary value already parsed (and so checked).
    static func decode(_ b: UnsafeRawBufferPointer, _ f: Fields) -> DocumentMetadata {
        func string(_ r: Range<Int>) -> String { String(decoding: UnsafeRawBufferPointer(rebasing: b[r]), as: UTF8.self) }
        var tags: [String] = []
        tags.reserveCapacity(f.tagCount)
        f.forEachTag(in: b) { tags.append(string($0)) }
        return DocumentMetadata(title: string(f.title), fileName: string(f.fileName), tags: tags,
                                jurisdiction: f.jurisdiction.map(string), caseReference: f.caseReference.map(string))
    }

    /// Where each field of a binary value lies (vault.md, section 2.1): the one parser of that
    /// form, for `decode`, the search's matching and `list`'s rows. Made only if the value is
    /// well formed: version byte, every length within the value, nothing after the case
    /// reference, a title that is not empty, every string valid UTF-8.
    struct Fields {
        let title: Range<Int>
        let fileName: Range<Int>
        let tagCount: Int
        /// The tags' length-prefixed strings, one after another.
        let tags: Range<Int>
        let jurisdiction: Range<Int>?
        let caseReference: Range<Int>?

        init?(_ b: UnsafeRawBufferPointer) {
            guard b.first == DocumentMetadata.binaryVersion else { return nil }
            var at = 1
            func u32() -> Int? {
                guard b.count - at >= 4 else { return nil }
                defer { at += 4 }
                return Int(b[at]) << 24 | Int(b[at + 1]) << 16 | Int(b[at + 2]) << 8 | Int(b[at + 3])
            }
            func string() -> Range<Int>? {
                guard let n = u32(), b.count - at >= n else { return nil }
                defer { at += n }
                let bytes = UnsafeRawBufferPointer(rebasing: b[at..<at + n])
                // ASCII, the usual case, needs no further check (and the generic check is slow).
                guard bytes.allSatisfy({ $0 < 0x80 }) || String(validating: bytes, as: UTF8.self) != nil else { return nil }
                return at..<at + n
            }
            func optional() -> Range<Int>?? {
                guard at < b.count else { return nil }
                at += 1
                switch b[at - 1] {
                case 0: return .some(nil)
                case 1: return string().map { .some($0) }
                default: return nil
                }
            }
            guard let title = string(), !title.isEmpty, let fileName = string(), let tagCount = u32(),
                  tagCount <= (b.count - at) / 4 else { return nil }
            let tagsStart = at
            for _ in 0..<tagCount { guard string() != nil else { return nil } }
            let tags = tagsStart..<at
            guard let jurisdiction = optional(), let caseReference = optional(), at == b.count else { return nil }
            (self.title, self.fileName, self.tagCount, self.tags) = (title, fileName, tagCount, tags)
            (self.jurisdiction, self.caseReference) = (jurisdiction, caseReference)
        }

        /// Calls `body` with each tag's range, in order (the value was checked when parsed).
        func forEachTag(in b: UnsafeRawBufferPointer, _ body: (Range<Int>) -> Void) {
            var at = tags.lowerBound
            for _ in 0..<tagCount {
                let n = Int(b[at]) << 24 | Int(b[at + 1]) << 16 | Int(b[at + 2]) << 8 | Int(b[at + 3])
                body(at + 4..<at + 4 + n)
                at += 4 + n
            }
        }
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
