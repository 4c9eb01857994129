import Foundation
import TOMLKit

/// The sharing policy: one rule per document kind. Written as TOML (docs/policy-reference.md),
/// validated strictly on load with line-precise errors.
public struct Policy: Sendable, Equatable {
    /// The limits for one document kind.
    public struct Rule: Sendable, Equatable, Codable {
        /// Longest access window, in seconds.
        public var maxWindow: Int
        /// Window used when a grant names none, in seconds.
        public var defaultWindow: Int
        /// Staff sign-offs needed, the grantor's included.
        public var approvals: Int
        public var maxRecipients: Int
        public var requireVetted: Bool
        public var requireOnline: Bool
        /// 0 = unlimited.
        public var maxOpens: Int
    }

    public let rules: [DocumentKind: Rule]
    /// The text it was read from (stored in the vault as is).
    public let text: String

    public func rule(for kind: DocumentKind) -> Rule {
        // parse() guarantees every kind has a rule.
        rules[kind]!
    }

    /// The strictest `max_opens` among `kinds` (0: none of them limits openings).
    func openLimit(for kinds: [DocumentKind]) -> Int {
        kinds.map { rule(for: $0).maxOpens }.filter { $0 > 0 }.min() ?? 0
    }

    static let keys = ["max_window", "default_window", "approvals", "max_recipients", "require_vetted", "require_online", "max_opens"]

    /// Parses and validates a policy; `source` names the file in errors.
    public static func parse(_ text: String, source: String) throws(DossierError) -> Policy {
        func fail(_ line: Int?, _ message: String) -> DossierError {
            .policyInvalid(source: source, line: line, message: message)
        }
        let locate = LineLocator(text: text)
        // The TOML library asserts (crashes) on some malformed table headers, such as a lone
        // "[" at the end of a line; policies only use simple headers, so check them first.
        for (i, raw) in locate.lines.enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard line.hasPrefix("[") else { continue }
            if !LineLocator.isSimpleTableHeader(line) {
                throw fail(i + 1, "malformed table header (policies use headers like [kinds.expert-report])")
            }
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw fail(error.source.begin.line, "TOML syntax: \(error.description)")
        } catch {
            throw fail(nil, "TOML syntax error")
        }
        for key in table.keys where key != "version" && key != "kinds" {
            throw fail(locate.line(ofKey: key, inSection: nil) ?? locate.line(ofTableStartingWith: key),
                       "unknown key '\(key)' (expected version and [kinds.*] tables)")
        }
        guard let version = table["version"]?.int else { throw fail(locate.line(ofKey: "version", inSection: nil), "'version = 1' is required") }
        guard version == 1 else { throw fail(locate.line(ofKey: "version", inSection: nil), "version \(version) is not supported (this program reads version 1)") }
        guard let kinds = table["kinds"]?.table else { throw fail(nil, "no [kinds.*] tables; every document kind needs one") }
        var rules: [DocumentKind: Rule] = [:]
        for name in kinds.keys {
            let section = "kinds." + name
            guard let kind = DocumentKind(rawValue: name) else {
                throw fail(locate.line(ofSection: section), "unknown document kind '\(name)'; kinds are \(DocumentKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let t = kinds[name]?.table else { throw fail(locate.line(ofSection: section), "[\(section)] must be a table") }
            for key in t.keys where !keys.contains(key) {
                throw fail(locate.line(ofKey: key, inSection: section), "unknown key '\(key)' in [\(section)]; known keys: \(keys.joined(separator: ", "))")
            }
            func line(_ key: String) -> Int? { locate.line(ofKey: key, inSection: section) ?? locate.line(ofSection: section) }
            func duration(_ key: String) throws(DossierError) -> Int {
                guard let s = t[key]?.string else { throw fail(line(key), "\(key) is required in [\(section)], as a string like \"7d\"") }
                guard let v = WindowDuration.parse(s) else { throw fail(line(key), "\(key) = \"\(s)\" is not a duration (use a whole number with d, h or m, e.g. \"7d\")") }
                return v
            }
            func integer(_ key: String, _ range: ClosedRange<Int>) throws(DossierError) -> Int {
                guard let v = t[key]?.int else { throw fail(line(key), "\(key) is required in [\(section)], as a whole number") }
                guard range.contains(v) else { throw fail(line(key), "\(key) = \(v) is outside \(range.lowerBound)...\(range.upperBound)") }
                return v
            }
            func flag(_ key: String) throws(DossierError) -> Bool {
                guard let v = t[key]?.bool else { throw fail(line(key), "\(key) is required in [\(section)], as true or false") }
                return v
            }
            let rule = Rule(maxWindow: try duration("max_window"), defaultWindow: try duration("default_window"),
                            approvals: try integer("approvals", 1...10), maxRecipients: try integer("max_recipients", 1...1000),
                            requireVetted: try flag("require_vetted"), requireOnline: try flag("require_online"),
                            maxOpens: try integer("max_opens", 0...1_000_000))
            if rule.defaultWindow > rule.maxWindow {
                throw fail(line("default_window"), "default_window is longer than max_window in [\(section)]")
            }
            rules[kind] = rule
        }
        for kind in DocumentKind.allCases where rules[kind] == nil {
            throw fail(nil, "no [kinds.\(kind.rawValue)] table; every document kind needs a rule")
        }
        return Policy(rules: rules, text: text)
    }
}

/// Durations as policies and the CLI write them: a whole number and a unit, d, h or m.
public enum WindowDuration {
    /// Seconds, or nil if malformed, zero or over ten years.
    public static func parse(_ text: String) -> Int? {
        guard let unit = text.last, let n = Int(text.dropLast()), n > 0, String(n) == String(text.dropLast()) else { return nil }
        let scale: Int
        switch unit {
        case "d": scale = 86400
        case "h": scale = 3600
        case "m": scale = 60
        default: return nil
        }
        // Any number may be typed: multiply without overflowing, then apply the cap.
        let (seconds, overflow) = n.multipliedReportingOverflow(by: scale)
        guard !overflow, seconds <= 3650 * 86400 else { return nil }
        return seconds
    }

    /// `7d`, `36h`, `90m`.
    public static func format(_ seconds: Int) -> String {
        if seconds % 86400 == 0 { return "\(seconds / 86400)d" }
        if seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        return "\(seconds / 60)m"
    }
}

/// Finds the line of a key or table header in TOML text, for error messages.
struct LineLocator {
    let lines: [Substring]
    init(text: String) { lines = text.split(separator: "\n", omittingEmptySubsequences: false) }

    func line(ofSection section: String) -> Int? {
        lines.firstIndex { $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: " ", with: "") == "[\(section)]" }.map { $0 + 1 }
    }

    /// `[name]` or `[a.b-c]`, optionally followed by a comment: the only headers policies use.
    static func isSimpleTableHeader(_ line: String) -> Bool {
        var body = Substring(line)
        if let hash = body.firstIndex(of: "#") { body = body[..<hash] }
        body = Substring(body.trimmingCharacters(in: .whitespaces))
        guard body.hasPrefix("["), body.hasSuffix("]"), body.count >= 3 else { return false }
        let name = body.dropFirst().dropLast()
        let segments = name.split(separator: ".", omittingEmptySubsequences: false)
        return segments.allSatisfy { seg in
            !seg.isEmpty && seg.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_") }
        }
    }

    /// The first `[key]` or `[key.…]` header.
    func line(ofTableStartingWith key: String) -> Int? {
        lines.firstIndex { raw in
            let l = raw.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: " ", with: "")
            return l == "[\(key)]" || l.hasPrefix("[\(key).")
        }.map { $0 + 1 }
    }

    func line(ofKey key: String, inSection section: String?) -> Int? {
        var inside = section == nil
        for (i, raw) in lines.enumerated() {
            let l = raw.trimmingCharacters(in: .whitespaces)
            if l.hasPrefix("[") {
                inside = section.map { l.replacingOccurrences(of: " ", with: "") == "[\($0)]" } ?? false
                continue
            }
            if inside, l.hasPrefix(key), l.dropFirst(key.count).trimmingCharacters(in: .whitespaces).hasPrefix("=") { return i + 1 }
        }
        return nil
    }
}
