import DossierCrypto
import Foundation

/// Search: matching words against a document's metadata, as text or straight on its binary form.
extension DocumentMetadata {
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
}
