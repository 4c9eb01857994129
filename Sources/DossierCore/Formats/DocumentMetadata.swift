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
