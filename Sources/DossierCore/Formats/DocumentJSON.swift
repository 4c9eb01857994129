import DossierCrypto
import Foundation

/// A document as `list --json`, `search --json`, `show --json` and `deposit --json` print it.
/// `show` and `deposit` encode it with `JSONEncoder` (pretty, sorted keys, slashes unescaped);
/// `list` and `search` write the same bytes straight from the documents (`DocumentJSON.array`):
/// `JSONEncoder` took about 2.3 s for 100,000 documents (docs/performance.md).
public struct DocumentJSON: Encodable {
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

    public init(_ d: Document) {
        id = d.id; kind = d.kind.rawValue; language = d.language; languageName = Language.displayName(d.language)
        size = d.size; depositedAt = d.depositedAt; depositedBy = d.depositedBy
        title = d.metadata?.title; fileName = d.metadata?.fileName; tags = d.metadata?.tags
        jurisdiction = d.metadata?.jurisdiction; caseReference = d.metadata?.caseReference; removedAt = d.removedAt
    }

    /// The JSON array of `docs` and a newline: byte for byte what `JSONEncoder` with
    /// `[.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]` makes of `docs.map(DocumentJSON.init)`
    /// (tests compare the two): two spaces of indentation, `"name" : value`, members in the
    /// order of their names, absent optionals left out, an empty array as `[`, an empty line
    /// and `]`; in strings `"`, `\` and U+0000–U+001F escaped (`\b \t \n \f \r`, otherwise
    /// `\u00xx`), everything else, `/` and U+007F included, as is. Titles are plaintext: the
    /// caller zeroes the bytes once written.
    public static func array(_ docs: [Document]) -> [UInt8] {
        var w = Writer()
        w.out.reserveCapacity(docs.count * 420 + 8)
        if docs.isEmpty {
            w.raw("[\n\n]\n")
            return w.out
        }
        w.raw("[\n")
        for (i, d) in docs.enumerated() {
            if i > 0 { w.raw(",\n") }
            w.object(d, indent: 1)
        }
        w.raw("\n]\n")
        return w.out
    }

    private struct Writer {
        var out: [UInt8] = []
        /// Display names of the languages seen (a vault has few).
        private var names: [(tag: String, name: String)] = []

        mutating func raw(_ s: StaticString) {
            out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
        }

        mutating func indent(_ level: Int) {
            for _ in 0..<level { raw("  ") }
        }

        mutating func object(_ d: Document, indent level: Int) {
            indent(level)
            raw("{\n")
            var first = true
            func name(_ n: StaticString) {
                if !first { raw(",\n") }
                first = false
                indent(level + 1)
                raw("\"")
                raw(n)
                raw("\" : ")
            }
            let m = d.metadata
            // In the order of the names (sorted keys).
            if let v = m?.caseReference { name("caseReference"); string(v) }
            name("depositedAt"); string(d.depositedAt)
            name("depositedBy"); string(d.depositedBy)
            if let v = m?.fileName { name("fileName"); string(v) }
            name("id"); string(d.id)
            if let v = m?.jurisdiction { name("jurisdiction"); string(v) }
            name("kind"); string(d.kind.rawValue)
            name("language"); string(d.language)
            name("languageName"); string(languageName(d.language))
            if let v = d.removedAt { name("removedAt"); string(v) }
            name("size"); number(d.size)
            if let tags = m?.tags {
                name("tags")
                raw("[\n")
                if tags.isEmpty { raw("\n") }
                for (i, t) in tags.enumerated() {
                    if i > 0 { raw(",\n") }
                    indent(level + 2)
                    string(t)
                }
                if !tags.isEmpty { raw("\n") }
                indent(level + 1)
                raw("]")
            }
            if let v = m?.title { name("title"); string(v) }
            raw("\n")
            indent(level)
            raw("}")
        }

        private mutating func languageName(_ tag: String) -> String {
            if let known = names.first(where: { $0.tag == tag }) { return known.name }
            let name = Language.displayName(tag)
            names.append((tag, name))
            return name
        }

        private mutating func number(_ n: UInt64) {
            var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                         UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            withUnsafeMutableBytes(of: &digits) { d in
                var n = n, at = d.count
                repeat {
                    at -= 1
                    d[at] = UInt8(ascii: "0") + UInt8(n % 10)
                    n /= 10
                } while n > 0
                out.append(contentsOf: d[at...])
            }
        }

        private static let hex: StaticString = "0123456789abcdef"

        mutating func string(_ s: String) {
            var s = s
            raw("\"")
            s.withUTF8 { b in
                var start = 0
                for i in 0..<b.count {
                    let c = b[i]
                    guard c < 0x20 || c == 0x22 || c == 0x5c else { continue }
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: b[start..<i]))
                    start = i + 1
                    switch c {
                    case 0x22: raw("\\\"")
                    case 0x5c: raw("\\\\")
                    case 0x08: raw("\\b")
                    case 0x09: raw("\\t")
                    case 0x0a: raw("\\n")
                    case 0x0c: raw("\\f")
                    case 0x0d: raw("\\r")
                    default:
                        raw("\\u00")
                        out.append(Self.hex.utf8Start[Int(c >> 4)])
                        out.append(Self.hex.utf8Start[Int(c & 0xf)])
                    }
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: b[start..<b.count]))
            }
            raw("\"")
        }
    }
}
