import DossierCrypto
import Foundation

/// Search: matching words against a document's metadata, as text or straight on its binary form.
extension DocumentMetadata {
    /// Whether every word occurs in some field of the metadata, the fields joined by newlines,
    /// both folded (`SearchFolding`: case, diacritics and width ignored). Made once per search:
    /// the words are folded once, then split at spaces; each document's fields are folded
    /// into one reused buffer, ASCII (the usual case) by lowering A–Z, other text scalar by
    /// scalar through `ScalarFolds`. Its words are empty if the query folds to nothing.
    struct Matcher: Sendable {
        /// The folded words, UTF-8.
        let words: [[UInt8]]
        /// The folded fields of the last document seen, in its first `length` bytes; the rest
        /// is zero or older plaintext, all of it zeroed by `wipe`.
        private(set) var haystack: [UInt8] = []
        private var length = 0
        private var folds = ScalarFolds()

        init(words: [String]) {
            self.words = words.flatMap { SearchFolding.foldedBytes($0).split(separator: 0x20).map(Array.init) }
        }

        private static func lower(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5a ? c | 0x20 : c }

        /// Zeroes the haystack (it holds the last document's metadata in plaintext) and the
        /// folded scalars kept.
        mutating func wipe() {
            haystack.withUnsafeMutableBytes { secureZero($0) }
            folds.wipe()
        }

        /// Makes room for `count` bytes in all, keeping the first `length`. It only grows by
        /// being replaced, the old one wiped, so no copy of plaintext is freed unwiped.
        private mutating func reserve(_ count: Int) {
            guard haystack.count < count else { return }
            var bigger = [UInt8](repeating: 0, count: max(count, 2 * haystack.count, 1024))
            bigger.withUnsafeMutableBufferPointer { b in
                haystack.withUnsafeBufferPointer { h in if length > 0 { _ = memcpy(b.baseAddress!, h.baseAddress!, length) } }
            }
            haystack.withUnsafeMutableBytes { secureZero($0) }
            haystack = bigger
        }

        /// Fills the haystack with `fields` joined by newlines, folded. ASCII is lowered as it
        /// is copied; if a byte is not ASCII, the fields are folded again from the start.
        private mutating func fill(count: Int, _ fields: ((UnsafeBufferPointer<UInt8>) -> Void) -> Void) {
            length = 0
            reserve(count)
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
            guard high >= 0x80 else { return }
            length = 0
            first = true
            fields { field in
                reserve(length + 1 + field.count * ScalarFolds.maximumGrowth)
                haystack.withUnsafeMutableBufferPointer { h in
                    if !first { h[length] = 0x0a; length += 1 }
                    if !field.isEmpty { length += folds.fold(field, to: h.baseAddress! + length) }
                }
                first = false
            }
        }

        mutating func matches(_ m: DocumentMetadata) -> Bool {
            let strings = [m.title, m.fileName, m.jurisdiction ?? "", m.caseReference ?? ""] + m.tags
            fill(count: strings.reduce(0) { $0 + $1.utf8.count + 1 }) { add in
                for var s in strings { s.withUTF8(add) }
            }
            return words.allSatisfy { contains($0) }
        }

        /// `matches` for the binary form, without making Strings (a search opens every
        /// document and keeps few). Nil for the JSON form or a malformed value (which `decode`
        /// reports).
        mutating func matches(encoded b: UnsafeRawBufferPointer) -> Bool? {
            guard let fields = Fields(b) else { return nil }
            return matches(encoded: b, fields)
        }

        /// `matches(encoded:)` for a value already parsed.
        mutating func matches(encoded b: UnsafeRawBufferPointer, _ f: Fields) -> Bool {
            let bytes = b.assumingMemoryBound(to: UInt8.self)
            // The haystack of `matches`: title, file name, jurisdiction, case reference, tags.
            fill(count: b.count) { add in
                for r in [f.title, f.fileName, f.jurisdiction ?? 0..<0, f.caseReference ?? 0..<0] { add(UnsafeBufferPointer(rebasing: bytes[r])) }
                f.forEachTag(in: b) { add(UnsafeBufferPointer(rebasing: bytes[$0])) }
            }
            return words.allSatisfy { contains($0) }
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
