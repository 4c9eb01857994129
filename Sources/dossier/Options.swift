import ArgumentParser
import DossierCore
import DossierCrypto
import Foundation

/// How a secret identity is unlocked: `--passphrase-file`, `DOSSIER_PASSPHRASE_FILE`, or the terminal.
struct PassphraseOptions: ParsableArguments {
    @Option(name: .customLong("passphrase-file"), help: ArgumentHelp(
        "Read the passphrase from the first line of FILE instead of asking on the terminal (also: DOSSIER_PASSPHRASE_FILE).",
        valueName: "FILE"))
    var passphraseFile: String?

    var resolvedFile: String? {
        passphraseFile ?? ProcessInfo.processInfo.environment["DOSSIER_PASSPHRASE_FILE"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The passphrase for an existing identity file.
    func passphrase(for path: String) throws(DossierError) -> SecureBytes {
        if let file = resolvedFile { return try Passphrase.read(fromFile: file) }
        guard let pass = try Terminal.readPassphrase(prompt: "Passphrase for \(path): ") else {
            throw .passphraseRequired(path: path)
        }
        guard pass.count > 0 else { throw .emptyPassphrase }
        return pass
    }

    /// A new passphrase, asked twice on a terminal.
    func newPassphrase(for path: String) throws(DossierError) -> SecureBytes {
        if let file = resolvedFile { return try Passphrase.read(fromFile: file) }
        guard let first = try Terminal.readPassphrase(prompt: "New passphrase for \(path): ") else {
            throw .passphraseRequired(path: path)
        }
        guard first.count > 0 else { throw .emptyPassphrase }
        guard let second = try Terminal.readPassphrase(prompt: "Repeat the passphrase: "), second.constantTimeEquals(first) else {
            throw .passphraseMismatch
        }
        return first
    }

    /// Loads and unlocks the identity at `path`.
    func loadIdentity(_ path: String) throws(DossierError) -> SecretIdentity {
        try SecretIdentity.load(path: path) { () throws(DossierError) in try passphrase(for: path) }
    }
}

/// The staff identity that acts: `--identity` or `DOSSIER_IDENTITY`.
struct IdentityOptions: ParsableArguments {
    @Option(name: [.customShort("i"), .customLong("identity")], help: ArgumentHelp(
        "Your secret identity file (also: DOSSIER_IDENTITY).", valueName: "FILE"))
    var identity: String?

    @OptionGroup var passphrase: PassphraseOptions

    func resolvedPath() throws(DossierError) -> String {
        if let identity { return identity }
        if let env = ProcessInfo.processInfo.environment["DOSSIER_IDENTITY"], !env.isEmpty { return env }
        throw .missingOption("no identity given; pass --identity FILE or set DOSSIER_IDENTITY")
    }

    func load() throws(DossierError) -> SecretIdentity {
        try passphrase.loadIdentity(try resolvedPath())
    }
}

/// Output as JSON: pretty, sorted keys, one document.
enum JSONOutput {
    static func print<T: Encodable>(_ value: T) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        if var data = try? encoder.encode(value) {
            data.append(0x0a)
            data.withUnsafeBytes { StandardOutput.write($0) }
        }
    }
}

/// Standard output written in full, after whatever C stdio (`print`) holds, or a clear failure:
/// a full disk or a closed pipe ends the command with exit 74 and a message, not a crash
/// (Foundation's `FileHandle.write` traps on a failed write) and not a silent exit 0.
enum StandardOutput {
    static func write(_ bytes: UnsafeRawBufferPointer) {
        finish()
        var sink = FileDescriptorSink(fd: STDOUT_FILENO)
        do throws(CryptoError) {
            try sink.write(bytes)
        } catch {
            fail(error.description)
        }
    }

    /// Writes a listing's lines (`ListingLines`).
    static func write(_ lines: ListingLines) {
        finish()
        var sink = FileDescriptorSink(fd: STDOUT_FILENO)
        do throws(CryptoError) {
            try lines.write(to: &sink)
        } catch {
            fail(error.description)
        }
    }

    /// Flushes what `print` buffered; a command ends with this (`Dossier.main`).
    static func finish() {
        if fflush(nil) != 0 { fail(String(cString: strerror(errno))) }
    }

    private static func fail(_ reason: String) -> Never {
        let error = DossierError.writeFailed(path: "standard output", reason: reason)
        Terminal.fail(error.description, code: ExitCodes.code(for: error))
    }
}

/// The vault folder: `--vault` or `DOSSIER_VAULT`.
struct VaultOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The vault folder (also: DOSSIER_VAULT).", valueName: "DIR"))
    var vault: String?

    init() {}
    init(vault: String?) { self.vault = vault }

    func resolvedPath() throws(DossierError) -> String {
        if let vault { return vault }
        if let env = ProcessInfo.processInfo.environment["DOSSIER_VAULT"], !env.isEmpty { return env }
        throw .missingOption("no vault given; pass --vault DIR or set DOSSIER_VAULT")
    }

    func open() throws(DossierError) -> Vault {
        try Vault.open(at: try resolvedPath())
    }
}

/// Vault plus the staff identity that unlocks it.
struct StaffOptions: ParsableArguments {
    @OptionGroup var vault: VaultOptions
    @OptionGroup var identity: IdentityOptions

    /// Opens the vault first (a wrong folder fails before any passphrase prompt), then unlocks it.
    func session() throws(DossierError) -> StaffSession {
        let v = try vault.open()
        return try v.unlock(try identity.load())
    }
}

/// Aligned tables for terminals, tab-separated lines for pipes.
enum Table {
    static func print(headers: [String], rows: [[String]]) {
        if !Terminal.stdoutIsTerminal {
            for row in rows { Swift.print(row.joined(separator: "\t")) }
            return
        }
        var widths = headers.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in i == cells.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        Swift.print(line(headers))
        for row in rows { Swift.print(line(row)) }
        if rows.isEmpty { Swift.print("(none)") }
    }

    /// A size for people: 1.2 MiB.
    static func size(_ bytes: UInt64) -> String { ByteCount.format(bytes) }
}
