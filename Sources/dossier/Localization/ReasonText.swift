import DossierCore
import Foundation

/// DossierCore explains some failures with a free-form English phrase ("truncated (it ends
/// before its 96 bytes)", "the signature does not verify"), and stays English and free of
/// languages. The phrases counsel can meet are a finite set: each has a `reason.…` key in the
/// tables, whose English template is the phrase with `%@` where it varies. A phrase is
/// recognised by matching it against the English templates, and said again with the same key
/// in the reader's language; what it carries (a number, a nested phrase, a time) is put back in
/// its place, a nested phrase translated in turn. A phrase no template matches is shown as it
/// is, in English, so that nothing is lost when DossierCore gains a phrase the tables lack.
struct ReasonText {
    let localizer: Localizer

    /// One English template as a pattern: its key, and which argument each capture fills.
    private struct Template {
        let key: String
        let pattern: NSRegularExpression
        let positions: [Int]
        let literalLength: Int
    }

    /// The `reason.…` templates of the English table, the most specific (longest fixed text) first.
    nonisolated(unsafe) private static var cache: [Template]?

    private func templates() -> [Template] {
        if let cached = Self.cache { return cached }
        var out: [Template] = []
        if let path = localizer.english?.path(forResource: "Localizable", ofType: "strings"),
           let table = NSDictionary(contentsOfFile: path) as? [String: String] {
            for (key, english) in table where key.hasPrefix("reason.") {
                if let t = Self.template(key: key, english: english) { out.append(t) }
            }
        }
        out.sort { ($0.literalLength, $0.key) > ($1.literalLength, $1.key) }
        Self.cache = out
        return out
    }

    /// `%@` and `%1$@` become lazy captures, `%%` a percent sign, everything else is matched literally.
    private static func template(key: String, english: String) -> Template? {
        guard let spec = try? NSRegularExpression(pattern: "%(?:([0-9]+)\\$)?@") else { return nil }
        let ns = english as NSString
        var pattern = "^", positions: [Int] = [], last = 0, literal = 0
        for m in spec.matches(in: english, range: NSRange(location: 0, length: ns.length)) {
            let fixed = ns.substring(with: NSRange(location: last, length: m.range.location - last)).replacingOccurrences(of: "%%", with: "%")
            pattern += NSRegularExpression.escapedPattern(for: fixed) + "(.+?)"
            literal += fixed.count
            let explicit = m.range(at: 1).location != NSNotFound ? Int(ns.substring(with: m.range(at: 1))) : nil
            positions.append(explicit ?? positions.count + 1)
            last = m.range.location + m.range.length
        }
        let tail = ns.substring(from: last).replacingOccurrences(of: "%%", with: "%")
        pattern += NSRegularExpression.escapedPattern(for: tail) + "$"
        literal += tail.count
        guard let regex = try? NSRegularExpression(pattern: pattern, options: [.dotMatchesLineSeparators]) else { return nil }
        return Template(key: key, pattern: regex, positions: positions, literalLength: literal)
    }

    /// `phrase` in the reader's language, or as it is (made visible) when no template matches.
    func localized(_ phrase: String) -> LocalizedText {
        guard localizer.language != "en" else { return LocalizedText(Terminal.visible(phrase)) }
        return LocalizedText(argument(phrase, depth: 0).shown(by: localizer))
    }

    private func argument(_ phrase: String, depth: Int) -> any LocalizedArgument {
        guard depth < 4 else { return phrase }
        let ns = phrase as NSString
        for t in templates() {
            guard let m = t.pattern.firstMatch(in: phrase, range: NSRange(location: 0, length: ns.length)) else { continue }
            var values = [any LocalizedArgument](repeating: "", count: t.positions.max() ?? 0)
            for (i, position) in t.positions.enumerated() {
                let captured = ns.substring(with: m.range(at: i + 1))
                values[position - 1] = argument(captured, depth: depth + 1)
            }
            return localizer.format(localizer.string(t.key), values)
        }
        // Not a phrase: a time is written as the locale writes it; anything else is data.
        return localizer.time(phrase)
    }
}
