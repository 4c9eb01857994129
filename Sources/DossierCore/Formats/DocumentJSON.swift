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
        var parts = arrayParts(docs)
        defer { for i in parts.indices { parts[i].withUnsafeMutableBytes { secureZero($0) } } }
        return parts.flatMap { $0 }
    }

    /// `array(docs)` in consecutive pieces, written on all cores (one piece per core for a large
    /// listing): their concatenation is `array(docs)`. The caller writes them in order and zeroes
    /// them.
    public static func arrayParts(_ docs: [Document]) -> [[UInt8]] {
        arrayParts(docs, pieces: max(1, min(ProcessInfo.processInfo.activeProcessorCount, docs.count / 2000)))
    }

    static func arrayParts(_ docs: [Document], pieces wanted: Int) -> [[UInt8]] {
        if docs.isEmpty { return [Array("[\n\n]\n".utf8)] }
        let pieces = max(1, min(wanted, docs.count))
        var parts = [[UInt8]](repeating: [], count: pieces)
        parts.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let out = out
            DispatchQueue.concurrentPerform(iterations: pieces) { p in
                let range = docs.count * p / pieces..<docs.count * (p + 1) / pieces
                var w = Writer(capacity: range.count * 420 + 8)
                defer { w.release() }
                if p == 0 { w.raw("[\n") }
                for i in range {
                    if i > 0 { w.raw(",\n") }
                    w.object(docs[i], indent: 1)
                }
                if p == pieces - 1 { w.raw("\n]\n") }
                out[p] = w.bytes()
            }
        }
        return parts
    }

    /// Appends to memory of its own (Array's appends of short pieces cost more than the rest of
    /// the writing), zeroed when released.
    private struct Writer {
        private var storage: UnsafeMutableBufferPointer<UInt8>
        private var count = 0
        /// Display names of the languages seen (a vault has few).
        private var names: [(tag: String, name: String)] = []

        init(capacity: Int) { storage = .allocate(capacity: max(capacity, 64)) }

        /// The bytes written, copied.
        func bytes() -> [UInt8] { Array(UnsafeBufferPointer(rebasing: storage[0..<count])) }

        /// Zeroes and frees the memory.
        mutating func release() {
            secureZero(UnsafeMutableRawBufferPointer(storage))
            storage.deallocate()
        }

        private mutating func put(_ from: UnsafePointer<UInt8>, _ n: Int) {
            if storage.count - count < n {
                let bigger = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 2 * storage.count + n)
                bigger.baseAddress!.update(from: storage.baseAddress!, count: count)
                release()
                storage = bigger
            }
            (storage.baseAddress! + count).update(from: from, count: n)
            count += n
        }

        mutating func raw(_ s: StaticString) { put(s.utf8Start, s.utf8CodeUnitCount) }

        private mutating func byte(_ b: UInt8) {
            var b = b
            withUnsafePointer(to: &b) { put($0, 1) }
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
                put(d.baseAddress!.assumingMemoryBound(to: UInt8.self) + at, d.count - at)
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
                    if i > start { put(b.baseAddress! + start, i - start) }
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
                        byte(Self.hex.utf8Start[Int(c >> 4)])
                        byte(Self.hex.utf8Start[Int(c & 0xf)])
                    }
                }
                if b.count > start { put(b.baseAddress! + start, b.count - start) }
            }
            raw("\"")
        }
    }
}
