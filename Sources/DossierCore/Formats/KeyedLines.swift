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

    /// The value of the next line if it is named `name`, consuming it.
    mutating func take(_ name: String) -> String? {
        guard nextIs(name), let line = lines.first else { return nil }
        lines = lines.dropFirst()
        return String(line.dropFirst(name.count + 1))
    }
}
