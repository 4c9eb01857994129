/// BCP 47 language tags (well-formedness per RFC 5646, simplified: language, optional script,
/// optional region, optional variants). The six UN languages are known by name.
public enum Language {
    /// The tag used when none is given.
    public static let undetermined = "und"

    static let names: [String: String] = [
        "ar": "Arabic", "zh-Hans": "Chinese (Simplified)", "en": "English",
        "fr": "French", "es": "Spanish", "ru": "Russian", "und": "undetermined",
    ]

    /// The tag in canonical case (`zh-hans` → `zh-Hans`, `PT-br` → `pt-BR`); throws if malformed.
    public static func canonical(_ tag: String) throws(DossierError) -> String {
        let parts = tag.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard let first = parts.first, (2...3).contains(first.count) || (5...8).contains(first.count),
              first.allSatisfy({ $0.isASCII && $0.isLetter }) else { throw .invalidLanguageTag(tag) }
        var out = [first.lowercased()]
        var stage = 0 // 0: after language, 1: after script, 2: after region
        for part in parts.dropFirst() {
            let letters = part.allSatisfy { $0.isASCII && $0.isLetter }
            let digits = part.allSatisfy { $0.isASCII && $0.isNumber }
            let alnum = part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
            if stage < 1 && part.count == 4 && letters {
                out.append(part.prefix(1).uppercased() + part.dropFirst().lowercased()); stage = 1
            } else if stage < 2 && ((part.count == 2 && letters) || (part.count == 3 && digits)) {
                out.append(part.uppercased()); stage = 2
            } else if alnum && ((5...8).contains(part.count) || (part.count == 4 && part.first!.isNumber)) {
                out.append(part.lowercased()); stage = 3
            } else {
                throw .invalidLanguageTag(tag)
            }
        }
        return out.joined(separator: "-")
    }

    /// A human name for the UN languages (and `und`); the tag itself otherwise.
    public static func displayName(_ tag: String) -> String {
        names[tag].map { "\($0) (\(tag))" } ?? tag
    }
}
