import Foundation

/// The organisation keys a counsel trusts, kept in the user's configuration folder
/// (`$XDG_CONFIG_HOME/dossier/trusted-organisations`, default `~/.config/...`), one per line:
/// `KEY NAME`. Lines starting with `#` are comments.
public struct TrustStore: Sendable {
    public struct Entry: Codable, Sendable, Equatable {
        public let name: String
        public let publicKey: String
        public let fingerprint: String
    }

    public let path: String

    public init(path: String) { self.path = path }

    /// The store at its default place, from the environment.
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> TrustStore {
        let base: String
        if let xdg = environment["XDG_CONFIG_HOME"], xdg.hasPrefix("/") {
            base = xdg
        } else {
            base = (environment["HOME"] ?? NSHomeDirectory()) + "/.config"
        }
        return TrustStore(path: base + "/dossier/trusted-organisations")
    }

    /// The trusted keys; an absent file means none.
    public func entries() throws(DossierError) -> [Entry] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let text = try FileAccess.readSmallText(path: path, limit: 1 << 20)
        var out: [Entry] = []
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, let key = try? OrganisationKey(line: String(parts[0])) else {
                throw .policyInvalid(source: path, line: i + 1, message: "expected an organisation key and a name")
            }
            out.append(Entry(name: String(parts[1]), publicKey: key.line, fingerprint: key.fingerprint))
        }
        return out
    }

    /// Adds a key. A key already trusted under the same name is left as it is; under another
    /// name it is renamed only if `rename` says so, since the name is what `inspect` and `open`
    /// show as the signer: a silent change would let one key pass for another organisation.
    public func add(_ key: OrganisationKey, name: String, rename: Bool = false) throws(DossierError) -> Entry {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, !trimmed.contains(where: \.isNewline) else { throw .invalidArgument("the organisation needs a one-line name", hint: "give one with --name NAME") }
        let all = try entries()
        if let existing = all.first(where: { $0.publicKey == key.line }) {
            if existing.name == trimmed { return existing }
            guard rename else { throw .alreadyTrusted(fingerprint: key.fingerprint, name: existing.name, requested: trimmed) }
        }
        var current = all.filter { $0.publicKey != key.line }
        let entry = Entry(name: trimmed, publicKey: key.line, fingerprint: key.fingerprint)
        current.append(entry)
        var text = "# Organisations whose Dossier packages you trust: KEY NAME. Add with `dossier trust add`.\n"
        for e in current { text += "\(e.publicKey) \(e.name)\n" }
        try FileAccess.makePrivateDirectory((path as NSString).deletingLastPathComponent)
        try FileAccess.writeAtomically(Data(text.utf8), to: path, mode: 0o600, overwrite: true)
        return entry
    }

    /// The entry for `key`, if trusted.
    public func entry(for key: OrganisationKey) throws(DossierError) -> Entry? {
        try entries().first { $0.publicKey == key.line }
    }
}
