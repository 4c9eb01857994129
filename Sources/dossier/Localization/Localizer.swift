import DossierCore
import Foundation

/// The language counsel's commands speak (`identity`, `trust`, `inspect`, `open`, `request`):
/// messages, errors, hints and `--help` come from `Resources/<language>.lproj/Localizable.strings`,
/// read through Foundation's bundle lookup (docs/translations.md). Staff's and auditors'
/// commands, `--json`, exit codes and the `dossier: error:` / `dossier: hint:` markers stay as
/// they are in every language; DossierCore knows nothing of languages.
struct Localizer: @unchecked Sendable {
    /// The languages there is a table for, as `.lproj` names.
    static let languages = ["ar", "en", "es", "fr", "ru", "zh-Hans"]

    /// This run's: the locale's language for counsel's commands, English for the others.
    static let current = Localizer(environment: ProcessInfo.processInfo.environment,
                                   counselCommand: isCounselCommand(Array(CommandLine.arguments.dropFirst())))

    /// `ar`, `en`, `es`, `fr`, `ru` or `zh-Hans`.
    let language: String
    /// Whether this run is one of counsel's commands, which speak the locale's language.
    let counsel: Bool
    /// The locale dates and sizes are written in (`fr_CA` keeps its region's conventions).
    let locale: Locale
    /// The table of `language`; nil when the resource bundle is not installed (see `missing`).
    private let table: Bundle?
    /// The English table: the templates `ReasonText` recognises DossierCore's phrases by.
    let english: Bundle?

    init(environment: [String: String], counselCommand: Bool) {
        let chosen = counselCommand ? Self.language(environment: environment) : (language: "en", locale: "en")
        language = chosen.language
        counsel = counselCommand
        locale = Locale(identifier: chosen.locale)
        let resources = Self.resources()
        english = resources.flatMap { Self.table($0, "en") }
        table = resources.flatMap { Self.table($0, chosen.language) } ?? english
    }

    /// The language of `LC_ALL`, `LC_MESSAGES` or `LANG`, the first that is set and not empty, as
    /// gettext chooses: `fr_FR.UTF-8` is French, `zh_CN`, `zh_SG` and `zh_Hans…` simplified
    /// Chinese; `C`, `POSIX`, another language or none is English. Also the locale identifier
    /// (language and region) that dates and sizes follow.
    static func language(environment: [String: String]) -> (language: String, locale: String) {
        let english = (language: "en", locale: "en")
        guard let value = ["LC_ALL", "LC_MESSAGES", "LANG"].lazy.compactMap({ environment[$0] }).first(where: { !$0.isEmpty }) else {
            return english
        }
        // language[_territory][.codeset][@modifier]; a BCP 47 hyphen is accepted as well.
        let name = value.split(separator: ".", maxSplits: 1).first.map(String.init) ?? value
        let bare = (name.split(separator: "@", maxSplits: 1).first.map(String.init) ?? name).replacingOccurrences(of: "-", with: "_")
        let parts = bare.split(separator: "_").map(String.init)
        guard let code = parts.first?.lowercased() else { return english }
        switch code {
        case "ar", "en", "es", "fr", "ru":
            return (code, bare)
        case "zh":
            let rest = parts.dropFirst().map { $0.lowercased() }
            guard rest.first == "hans" || rest.first == "cn" || rest.first == "sg" else { return english }
            return ("zh-Hans", bare)
        default:
            return english
        }
    }

    /// Whether the arguments name one of counsel's commands (`dossier help open` too).
    static func isCounselCommand(_ arguments: [String]) -> Bool {
        let words = arguments.drop { $0 == "help" }
        guard let first = words.first else { return false }
        return ["identity", "trust", "inspect", "open", "request"].contains(first)
    }

    /// SwiftPM's resource bundle, `Dossier_dossier.resources`, when it is beside the executable
    /// (the build folder, or where `make install` puts it). `Bundle.module` is asked only then:
    /// elsewhere it would stop the program rather than return nothing.
    private static func resources() -> Bundle? {
        let beside = Bundle.main.bundleURL.appendingPathComponent("Dossier_dossier.resources").path
        guard FileManager.default.fileExists(atPath: beside + "/en.lproj") else { return nil }
        return Bundle.module
    }

    /// The `.lproj` of `language`. SwiftPM lowercases the folder's name when it copies it
    /// (`zh-Hans.lproj` becomes `zh-hans.lproj`), so both spellings are looked for.
    private static func table(_ resources: Bundle, _ language: String) -> Bundle? {
        [language, language.lowercased()].lazy.compactMap { resources.path(forResource: $0, ofType: "lproj") }.first
            .flatMap(Bundle.init(path:))
    }

    /// Where the resource bundle should be, when it is not there.
    static var missing: String? {
        current.table == nil ? Bundle.main.bundleURL.appendingPathComponent("Dossier_dossier.resources").path : nil
    }

    /// The template of `key` in this language, unformatted (help texts, table headings).
    func string(_ key: String) -> String {
        table?.localizedString(forKey: key, value: key, table: "Localizable") ?? key
    }

    /// The template of `key` with its `%@` (or `%1$@`) filled by `arguments`. An argument that
    /// comes from outside (a path, an id, a name) is made visible (`Terminal.visible`) and, in
    /// Arabic, isolated (`isolated`); one this program formatted (`Formatted`) is put as it is.
    func text(_ key: String, _ arguments: any LocalizedArgument...) -> LocalizedText {
        format(string(key), arguments)
    }

    func format(_ template: String, _ arguments: [any LocalizedArgument]) -> LocalizedText {
        let values: [CVarArg] = arguments.map { $0.shown(by: self) }
        return LocalizedText(String(format: template, locale: nil, arguments: values))
    }

    /// Arabic runs right to left: a Latin run inside it (an id, a fingerprint, a path, a public
    /// line) is put between FIRST STRONG ISOLATE (U+2068) and POP DIRECTIONAL ISOLATE (U+2069),
    /// so that it keeps its own direction and does not reorder the Arabic around it. Every other
    /// language writes left to right and needs nothing.
    func isolated(_ text: String) -> String {
        language == "ar" ? "\u{2068}" + text + "\u{2069}" : text
    }

    /// A time as people of this locale read it, in UTC, said so; English keeps the RFC 3339 form
    /// the guides and manifests show. A text that is not a time is returned as it is.
    func time(_ text: String) -> any LocalizedArgument {
        guard language != "en", let date = Timestamp.parse(text) ?? Timestamp.parseRFC3339(text) else { return text }
        let formatter = DateFormatter()
        formatter.locale = locale
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateStyle = .medium
        formatter.timeStyle = .long
        return Formatted(formatter.string(from: date))
    }

    /// A count for people: the locale's digits (Arabic-Indic in Arabic), plain in English.
    func count(_ n: Int) -> any LocalizedArgument {
        guard language != "en" else { return n }
        let formatter = NumberFormatter()
        formatter.locale = locale
        formatter.numberStyle = .decimal
        return Formatted(formatter.string(from: NSNumber(value: n)) ?? String(n))
    }

    /// A size for people: `1.2 MiB` in English (`ByteCount`), the locale's digits and the
    /// language's unit names otherwise.
    func size(_ bytes: UInt64) -> any LocalizedArgument {
        guard language != "en" else { return Formatted(ByteCount.format(bytes)) }
        let units = ["unit.B", "unit.KiB", "unit.MiB", "unit.GiB", "unit.TiB"]
        var value = Double(bytes), unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        let formatter = NumberFormatter()
        formatter.locale = locale
        formatter.numberStyle = .decimal
        formatter.minimumFractionDigits = unit == 0 ? 0 : 1
        formatter.maximumFractionDigits = unit == 0 ? 0 : 1
        let number = formatter.string(from: NSNumber(value: value)) ?? String(value)
        return Formatted(format(string(units[unit]), [Formatted(number)]).text)
    }
}

/// Text ready for the terminal: a template from the tables, with every argument already made
/// visible. `Terminal` prints it as it is (escaping it again would show the isolates as escapes).
struct LocalizedText: CustomStringConvertible {
    let text: String
    init(_ text: String) { self.text = text }
    var description: String { text }
}

/// A value put into a template.
protocol LocalizedArgument {
    func shown(by localizer: Localizer) -> String
}

extension String: LocalizedArgument {
    /// Text from outside: made visible, and isolated in Arabic.
    func shown(by localizer: Localizer) -> String { localizer.isolated(Terminal.visible(self)) }
}

extension Int: LocalizedArgument {
    func shown(by localizer: Localizer) -> String { String(self) }
}

extension UInt64: LocalizedArgument {
    func shown(by localizer: Localizer) -> String { String(self) }
}

/// Text this program made (a formatted date or size, a phrase already translated): put as it is.
struct Formatted: LocalizedArgument {
    let text: String
    init(_ text: String) { self.text = text }
    func shown(by localizer: Localizer) -> String { text }
}

extension LocalizedText: LocalizedArgument {
    func shown(by localizer: Localizer) -> String { text }
}
