/// The one rule for showing text that may come from outside (a title, a file name, a counsel's
/// name) on a terminal or in tab-separated lines: characters that could drive a terminal, hide
/// or reorder what is shown, or split a line are replaced by an escape, so that a field stays
/// one field on one line, and looks like what it holds.
///
/// Escaped (docs/staff-guide.md, "How names and titles are shown"):
/// - C0 controls (U+0000 to U+001F, tab and newline included), DEL and the C1 controls
///   (U+0080 to U+009F), as `\x` and two lowercase hex digits: ESC is `\x1b`;
/// - the bidirectional marks, embeddings, overrides and isolates (U+200E, U+200F, U+202A to
///   U+202E, U+2066 to U+2069) and the line and paragraph separators (U+2028, U+2029), as
///   `\u{` four lowercase hex digits `}`: `\u{202e}`;
/// - the backslash itself, as `\\`, so that an escape in the output always means the character
///   it names and never text that happened to look like one.
///
/// Everything else (letters of every script, accents, emoji, spaces) is shown unchanged.
/// `escaped(_:)` is the rule on Unicode scalars; `escape(_:_:)` the same rule on UTF-8 bytes,
/// for `list`'s lines (`ListingLines`), which are built without making Strings.
public enum VisibleText {
    /// `text` with every character the rule hides replaced by its escape.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { isEscaped($0.value) }) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isEscaped(scalar.value) { out.append(contentsOf: escape(for: scalar.value).unicodeScalars) } else { out.append(scalar) }
        }
        return String(out)
    }

    /// Whether the rule replaces this scalar.
    static func isEscaped(_ v: UInt32) -> Bool {
        switch v {
        case 0x00...0x1f, 0x5c, 0x7f...0x9f, 0x200e, 0x200f, 0x2028...0x202e, 0x2066...0x2069: return true
        default: return false
        }
    }

    /// How a replaced scalar is shown.
    static func escape(for v: UInt32) -> String {
        if v == 0x5c { return "\\\\" }
        let hex = String(v, radix: 16)
        return v < 0x100 ? "\\x" + String(repeating: "0", count: 2 - hex.count) + hex
                         : "\\u{" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + "}"
    }

    /// Passes the UTF-8 `bytes` made visible to `write`, in runs: text with nothing to replace
    /// (the usual title) in one call, after one pass over its bytes. `bytes` must be valid UTF-8,
    /// as every stored name and title is (checked when its metadata is parsed).
    @inline(__always)
    static func escape(_ bytes: UnsafeBufferPointer<UInt8>, _ write: (UnsafeBufferPointer<UInt8>) -> Void) {
        let n = bytes.count
        var i = 0, start = 0
        while i < n {
            let b = bytes[i]
            // Printable ASCII other than the backslash, and the bytes that begin no escaped
            // sequence, are kept without a second look.
            if (b >= 0x20 && b < 0x7f && b != 0x5c) || (b >= 0x80 && b != 0xc2 && b != 0xe2) {
                i += 1
                continue
            }
            guard let (scalar, length) = escapedScalar(bytes, at: i) else {
                i += 1
                continue
            }
            if start < i { write(UnsafeBufferPointer(rebasing: bytes[start..<i])) }
            var text = escape(for: scalar)
            text.withUTF8 { write($0) }
            i += length
            start = i
        }
        if start < n { write(start == 0 ? bytes : UnsafeBufferPointer(rebasing: bytes[start..<n])) }
    }

    /// The scalar the rule replaces that starts at `i`, and its length in bytes; nil if the
    /// scalar there is shown as it is. The UTF-8 forms of `isEscaped`'s ranges.
    private static func escapedScalar(_ b: UnsafeBufferPointer<UInt8>, at i: Int) -> (UInt32, Int)? {
        let first = b[i]
        if first < 0x80 { return isEscaped(UInt32(first)) ? (UInt32(first), 1) : nil }
        if first == 0xc2, i + 1 < b.count, (0x80...0x9f).contains(b[i + 1]) { return (UInt32(b[i + 1]), 2) }
        guard first == 0xe2, i + 2 < b.count, b[i + 1] == 0x80 || b[i + 1] == 0x81 else { return nil }
        let scalar = 0x2000 | UInt32(b[i + 1] & 0x3f) << 6 | UInt32(b[i + 2] & 0x3f)
        return isEscaped(scalar) ? (scalar, 3) : nil
    }

    /// The UTF-8 `bytes` made visible, as bytes.
    static func escaped(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        bytes.withUnsafeBufferPointer { escape($0) { out.append(contentsOf: $0) } }
        return out
    }
}
