/// BCP 47 language tags: well-formed per the grammar of RFC 5646 section 2.1 (language with
/// extended language subtags, script, region, variants, extensions, private use; a private-use
/// tag alone; the irregular grandfathered tags by name), case-insensitive, given back in the
/// canonical case of section 2.1.1. The six UN languages are known by name.
public enum Language {
    /// The tag used when none is given.
    public static let undetermined = "und"

    /// Longest tag accepted. The grammar allows any number of variants and extensions; no real
    /// tag comes near this, and the catalogue stores the tag in the clear.
    public static let maximumLength = 255

    static let names: [String: String] = [
        "ar": "Arabic", "zh-Hans": "Chinese (Simplified)", "en": "English",
        "fr": "French", "es": "Spanish", "ru": "Russian", "und": "undetermined",
    ]

    /// The irregular grandfathered tags (RFC 5646, `irregular`), which the `langtag` grammar does
    /// not match, in the registry's case. The regular ones (`art-lojban`, `zh-min-nan`, …) match
    /// `langtag` and need no list.
    static let irregular: [String] = [
        "en-GB-oed", "i-ami", "i-bnn", "i-default", "i-enochian", "i-hak", "i-klingon", "i-lux", "i-mingo",
        "i-navajo", "i-pwn", "i-tao", "i-tay", "i-tsu", "sgn-BE-FR", "sgn-BE-NL", "sgn-CH-DE",
    ]

    /// The tag in canonical case (`zh-hans` → `zh-Hans`, `PT-br` → `pt-BR`,
    /// `EN-us-U-CA-Gregory` → `en-US-u-ca-gregory`); throws if it is not well-formed.
    public static func canonical(_ tag: String) throws(DossierError) -> String {
        guard let canonical = parse(tag) else { throw .invalidLanguageTag(tag) }
        return canonical
    }

    /// The canonical form of a well-formed tag, or nil.
    static func parse(_ tag: String) -> String? {
        guard !tag.isEmpty, tag.utf8.count <= maximumLength,
              tag.utf8.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "-") }) else { return nil }
        if let found = irregular.first(where: { $0.lowercased() == tag.lowercased() }) { return found }
        let subtags = tag.lowercased().split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard subtags.allSatisfy({ (1...8).contains($0.count) }) else { return nil }
        if subtags[0] == "x" { return privateUse(subtags) }
        return langtag(subtags)
    }

    /// `langtag = language ["-" script] ["-" region] *("-" variant) *("-" extension) ["-" privateuse]`,
    /// over lower-cased subtags.
    private static func langtag(_ subtags: [String]) -> String? {
        var out: [String] = []
        var i = 0
        func next(_ accepts: (String) -> Bool) -> String? {
            guard i < subtags.count, accepts(subtags[i]) else { return nil }
            defer { i += 1 }
            return subtags[i]
        }
        // language = 2*3ALPHA ["-" extlang] / 4ALPHA / 5*8ALPHA; extlang = 3ALPHA *2("-" 3ALPHA)
        guard let language = next({ letters($0) && $0.count >= 2 }) else { return nil }
        out.append(language)
        if language.count <= 3 {
            for _ in 0..<3 {
                guard let extlang = next({ letters($0) && $0.count == 3 }) else { break }
                out.append(extlang)
            }
        }
        // script = 4ALPHA, title case
        if let script = next({ letters($0) && $0.count == 4 }) { out.append(script.prefix(1).uppercased() + script.dropFirst()) }
        // region = 2ALPHA / 3DIGIT, upper case
        if let region = next({ (letters($0) && $0.count == 2) || (digits($0) && $0.count == 3) }) { out.append(region.uppercased()) }
        // variant = 5*8alphanum / (DIGIT 3alphanum); each at most once (section 2.2.5)
        var variants = Set<String>()
        while let variant = next(isVariant) {
            guard variants.insert(variant).inserted else { return nil }
            out.append(variant)
        }
        // extension = singleton 1*("-" (2*8alphanum)); each singleton at most once (section 2.2.6)
        var singletons = Set<String>()
        while let singleton = next({ $0.count == 1 && $0 != "x" }) {
            guard singletons.insert(singleton).inserted else { return nil }
            out.append(singleton)
            var count = 0
            while let part = next({ $0.count >= 2 }) { out.append(part); count += 1 }
            guard count > 0 else { return nil }
        }
        if i < subtags.count {
            guard subtags[i] == "x", let rest = privateUse(Array(subtags[i...])) else { return nil }
            out.append(rest)
        }
        return out.joined(separator: "-")
    }

    /// `privateuse = "x" 1*("-" (1*8alphanum))`, lower case.
    private static func privateUse(_ subtags: [String]) -> String? {
        guard subtags.first == "x", subtags.count >= 2 else { return nil }
        return subtags.joined(separator: "-")
    }

    private static func isVariant(_ s: String) -> Bool {
        (5...8).contains(s.count) || (s.count == 4 && s.utf8.first.map { (0x30...0x39).contains($0) } == true)
    }

    private static func isAlphanumeric(_ b: UInt8) -> Bool {
        (0x30...0x39).contains(b) || (0x41...0x5a).contains(b) || (0x61...0x7a).contains(b)
    }

    private static func letters(_ s: String) -> Bool { s.utf8.allSatisfy { (0x61...0x7a).contains($0) || (0x41...0x5a).contains($0) } }
    private static func digits(_ s: String) -> Bool { s.utf8.allSatisfy { (0x30...0x39).contains($0) } }

    /// A human name for the UN languages (and `und`); the tag itself otherwise.
    public static func displayName(_ tag: String) -> String {
        names[tag].map { "\($0) (\(tag))" } ?? tag
    }
}
