import Foundation

/// swift-argument-parser writes the frame of every `--help` in English (`OVERVIEW:`, `USAGE:`,
/// the headings, `(default: …)`, the `--help` flag's line, the pointer to subcommands' help).
/// For counsel's commands in another language, those pieces are replaced by the table's, line
/// by line, after the parser has laid the page out; the texts the commands give (abstract,
/// discussion, each option's help) are already the table's.
enum LocalizedHelp {
    static func translate(_ page: String, _ l: Localizer) -> String {
        let headings: [(String, String)] = [
            ("OVERVIEW:", l.string("help.heading.overview")), ("USAGE:", l.string("help.heading.usage")),
            ("ARGUMENTS:", l.string("help.heading.arguments")), ("OPTIONS:", l.string("help.heading.options")),
            ("SUBCOMMANDS:", l.string("help.heading.subcommands")),
        ]
        var out: [String] = []
        for var line in page.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            for (english, local) in headings where line == english || line.hasPrefix(english + " ") {
                line = local + line.dropFirst(english.count)
            }
            line = line.replacingOccurrences(of: "Show help information.", with: l.string("help.flag.help"))
                .replacingOccurrences(of: "Show the version.", with: l.string("help.flag.version"))
            if let r = line.range(of: #"\(default: [^)]*\)"#, options: .regularExpression) {
                let value = String(line[r].dropFirst("(default: ".count).dropLast())
                line.replaceSubrange(r, with: l.string("help.default").replacingOccurrences(of: "%@", with: value))
            }
            if let r = line.range(of: #"See '[^']*' for detailed help\."#, options: .regularExpression) {
                let command = String(line[r].dropFirst("See '".count).prefix { $0 != "'" })
                line.replaceSubrange(r, with: l.string("help.seeSubcommand").replacingOccurrences(of: "%@", with: l.isolated(command)))
            }
            out.append(line)
        }
        return out.joined(separator: "\n")
    }
}
