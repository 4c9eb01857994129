import Foundation
/// Strict reading of Dossier's line formats (log entries, package manifests, log exports):
/// a header line, then `name value` lines in a fixed order, every line ending in a newline.
/// Writers produce the same grammar, and each parser re-serialises to check canonical form.
struct KeyedLines {
    private var lines: ArraySlice<Substring>

    /// Nil unless `text` ends in a newline.
    init?(_ text: String) {
        // Split on bytes, not Characters: much faster, and a newline is one byte in UTF-8.
        guard text.utf8.last == 0x0A else { return nil }
        lines = text.utf8.dropLast().split(separator: 0x0A, omittingEmptySubsequences: false).map { Substring($0) }[...]
    }

    /// The lines of a small signed text of the organisation root (a certificate, an intake
    /// certificate): at most `maximum` bytes, UTF-8 ending in a newline, its first line exactly
    /// `header` (a line of the same family, `dossier-…/`, with another version asks for an
    /// upgrade). `bad` words each failure.
    static func signed(_ data: Data, maximum: Int, header: String, bad: (String) -> DossierError) throws(DossierError) -> KeyedLines {
        guard data.count <= maximum else { throw bad("longer than \(maximum) bytes") }
        guard let text = String(data: data, encoding: .utf8), var lines = KeyedLines(text) else { throw bad("not UTF-8 text ending in a newline") }
        guard lines.header(header) else {
            let family = header.prefix(through: header.lastIndex(of: "/") ?? header.startIndex)
            if let first = lines.next, first.hasPrefix(family) { throw bad("unsupported version '\(first.prefix(40))'; upgrade dossier") }
            throw bad("unknown header")
        }
        return lines
    }

    /// The value of the next line, which must be named `name`.
    mutating func require(_ name: String, bad: (String) -> DossierError) throws(DossierError) -> String {
        guard let value = take(name) else { throw bad("expected '\(name)'") }
        return value
    }

    /// 1-based number of the next line.
    var lineNumber: Int { lines.startIndex + 1 }
    var isEmpty: Bool { lines.isEmpty }
    var next: Substring? { lines.first }

    /// Consumes the header line if it is exactly `header`.
    mutating func header(_ header: String) -> Bool {
        guard lines.first == Substring(header) else { return false }
        lines = lines.dropFirst()
        return true
    }

    /// Whether the next line is a `name value` line.
    func nextIs(_ name: String) -> Bool { lines.first?.hasPrefix(name + " ") ?? false }

    /// Why the next line is not the `expected` one, in a format whose line names come in
    /// `order`: where, and what stands there instead (the end, an empty line, a known line out
    /// of order or repeated, an unknown one). A name is quoted only up to 40 characters.
    /// With `orEnd`, the end would have been right too.
    func misplaced(expected: String, orEnd: Bool = false, order: [String]) -> String {
        let want = "expected '\(expected)'" + (orEnd ? " or the end" : "")
        guard let line = lines.first else { return "\(want) at line \(lineNumber), found the end" }
        if line.isEmpty { return "line \(lineNumber) is empty; \(want)" }
        let name = String(line.prefix { $0 != " " }.prefix(40))
        if order.contains(name) {
            return "line \(lineNumber): '\(name)' is repeated or out of order; \(want) (the order: \(order.joined(separator: ", ")))"
        }
        return "line \(lineNumber): unknown line '\(name)'; \(want)"
    }

    /// The value of the next line if it is named `name`, consuming it.
    mutating func take(_ name: String) -> String? {
        guard nextIs(name), let line = lines.first else { return nil }
        lines = lines.dropFirst()
        return String(line.dropFirst(name.count + 1))
    }
}
