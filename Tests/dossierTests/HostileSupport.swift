import Foundation
import XCTest

// Running the built `dossier` on hostile input and checking how it ended: by exit (never a
// signal), within a time bound, with what output and what files left behind. Used by
// HostileInputTests and SecretHygieneTests; names are prefixed `Hostile` so that they cannot
// clash with CLISupport.swift.

/// How one run of `dossier` ended.
struct HostileRun: CustomStringConvertible {
    let arguments: [String]
    /// The exit status, or the signal number when `endedBySignal`.
    let status: Int32
    let endedBySignal: Bool
    let timedOut: Bool
    let seconds: Double
    let stdout: Data
    let stderr: Data

    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    var stderrText: String { String(decoding: stderr, as: UTF8.self) }

    /// The lines of stderr in the house format for failures.
    var errorLines: [Substring] {
        stderrText.split(separator: "\n").filter { $0.hasPrefix("dossier: error: ") }
    }

    /// Whether stderr has a line in the house format for failures.
    var hasErrorLine: Bool { !errorLines.isEmpty }

    /// Whether stdout has `inspect`'s signature line, saying INVALID.
    var stdoutSaysInvalidSignature: Bool {
        stdoutText.split(separator: "\n").contains { $0.hasPrefix("signature:") && $0.dropFirst(10).trimmingCharacters(in: .whitespaces).hasPrefix("INVALID") }
    }

    var description: String {
        let ending = timedOut ? "killed after the time limit" : endedBySignal ? "killed by signal \(status)" : "exit \(status)"
        return "dossier \(arguments.joined(separator: " ")) → \(ending) in \(String(format: "%.1f", seconds)) s\n"
            + "--- stdout:\n\(HostileText.visible(stdout, limit: 600))\n--- stderr:\n\(HostileText.visible(stderr, limit: 600))"
    }
}

/// Finds the `dossier` executable of the same build as the test bundle.
enum HostileBinary {
    /// Marker class for `Bundle(for:)`.
    final class Marker {}

    static let path: String? = {
        let fm = FileManager.default
        if let explicit = ProcessInfo.processInfo.environment["DOSSIER_BINARY"], !explicit.isEmpty { return explicit }
        var folders: [URL] = []
        let bundle = Bundle(for: Marker.self)
        // Linux: the test bundle is an executable in the products folder; macOS: a bundle in it.
        folders.append(bundle.bundleURL.deletingLastPathComponent())
        folders.append(bundle.bundleURL)
        folders.append(Bundle.main.bundleURL)
        if let executable = Bundle.main.executableURL { folders.append(executable.deletingLastPathComponent()) }
        folders.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        for folder in folders {
            let candidate = folder.appendingPathComponent("dossier").path
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: candidate, isDirectory: &isDir), !isDir.boolValue, fm.isExecutableFile(atPath: candidate) {
                return candidate
            }
        }
        return nil
    }()
}

/// The longest one run may take; a parser that needs longer on a small file is hanging.
let hostileTimeoutSeconds = 20.0

/// Runs `dossier` with `arguments` in `directory`, with this process's environment minus every
/// `DOSSIER_*` variable, plus `environment`; stdin is empty unless given. Kills it with
/// SIGKILL after `timeout` seconds. `executable` runs another program instead (e.g. setsid).
func runHostile(_ arguments: [String], environment: [String: String] = [:], in directory: String,
                stdin: Data = Data(), timeout: Double = hostileTimeoutSeconds, executable: String? = nil) throws -> HostileRun {
    guard let binary = executable ?? HostileBinary.path else {
        throw HostileError("the dossier executable was not found next to the test bundle; build with `swift build --build-tests`, or set DOSSIER_BINARY")
    }
    // Output goes to files outside the run's sandbox, so that the sandbox shows only what
    // dossier itself created.
    let io = try HostileFolder(prefix: "dossier-hostile-io")
    defer { io.remove() }
    let outPath = io.file("stdout"), errPath = io.file("stderr"), inPath = io.file("stdin")
    FileManager.default.createFile(atPath: outPath, contents: nil)
    FileManager.default.createFile(atPath: errPath, contents: nil)
    FileManager.default.createFile(atPath: inPath, contents: stdin)

    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    var env = childEnvironment()
    for (k, v) in environment { env[k] = v }
    process.environment = env
    let outHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
    let errHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    let inHandle = try FileHandle(forReadingFrom: URL(fileURLWithPath: inPath))
    defer { try? outHandle.close(); try? errHandle.close(); try? inHandle.close() }
    process.standardOutput = outHandle
    process.standardError = errHandle
    process.standardInput = inHandle

    let done = DispatchSemaphore(value: 0)
    process.terminationHandler = { _ in done.signal() }
    let start = Date()
    try process.run()
    var timedOut = false
    if done.wait(timeout: .now() + timeout) == .timedOut {
        timedOut = true
        kill(process.processIdentifier, SIGKILL)
        done.wait()
    }
    let seconds = Date().timeIntervalSince(start)
    return HostileRun(arguments: arguments, status: process.terminationStatus,
                      endedBySignal: process.terminationReason == .uncaughtSignal, timedOut: timedOut, seconds: seconds,
                      stdout: try Data(contentsOf: URL(fileURLWithPath: outPath)),
                      stderr: try Data(contentsOf: URL(fileURLWithPath: errPath)))
}

/// A test-setup failure with a message.
struct HostileError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A fresh private folder under the system's temporary folder.
final class HostileFolder: Sendable {
    let path: String

    init(prefix: String = "dossier-hostile") throws {
        let base = (NSTemporaryDirectory() as NSString).appendingPathComponent("\(prefix).XXXXXX")
        var template = Array(base.utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw HostileError("mkdtemp failed: errno \(errno)")
        }
        path = String(cString: made)
    }

    func file(_ name: String) -> String { path + "/" + name }

    /// Creates (and returns) a subfolder.
    @discardableResult
    func folder(_ name: String, mode: mode_t = 0o700) throws -> String {
        let p = file(name)
        try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        chmod(p, mode)
        return p
    }

    func write(_ name: String, _ data: Data, mode: mode_t = 0o600) throws -> String {
        let p = file(name)
        try data.write(to: URL(fileURLWithPath: p))
        chmod(p, mode)
        return p
    }

    func remove() {
        // Folders a test made read-only must become writable again to be removed.
        if let all = FileManager.default.enumerator(atPath: path) {
            for case let relative as String in all { chmod(path + "/" + relative, 0o700) }
        }
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Every path under `root` (hidden files included), relative to it; `ignoring` drops names
/// that may come and go legitimately (SQLite's -wal and -shm files).
func hostileListing(_ root: String, ignoring: (String) -> Bool = { _ in false }) -> Set<String> {
    var out = Set<String>()
    guard let e = FileManager.default.enumerator(atPath: root) else { return out }
    for case let relative as String in e where !ignoring((relative as NSString).lastPathComponent) { out.insert(relative) }
    return out
}

/// SQLite's journal files, which opening a vault may create or remove.
func isDatabaseJournal(_ name: String) -> Bool {
    name.hasSuffix("-wal") || name.hasSuffix("-shm") || name.hasSuffix("-journal")
}

/// The permission bits of a file.
func hostileMode(_ path: String) -> mode_t? {
    var st = stat()
    guard stat(path, &st) == 0 else { return nil }
    return st.st_mode & 0o7777
}

enum HostileText {
    /// Control characters that could drive a terminal: C0 except LF and TAB, DEL, and C1
    /// (U+0080–U+009F, as UTF-8). Returns a short description of each found.
    static func terminalControls(in data: Data) -> [String] {
        var found: [String] = []
        let b = [UInt8](data)
        var i = 0
        while i < b.count {
            let c = b[i]
            if (c < 0x20 && c != 0x0a && c != 0x09) || c == 0x7f {
                found.append(String(format: "0x%02x at %d", c, i))
            } else if c == 0xc2, i + 1 < b.count, (0x80...0x9f).contains(b[i + 1]) {
                found.append(String(format: "U+%04X at %d", Int(b[i + 1]), i))
            }
            i += 1
        }
        return found
    }

    /// Text for a failure message: control characters escaped, cut to `limit` characters.
    static func visible(_ data: Data, limit: Int) -> String {
        var s = ""
        for scalar in String(decoding: data, as: UTF8.self).unicodeScalars {
            if scalar == "\n" || (scalar.value >= 0x20 && scalar.value != 0x7f && !(0x80...0x9f).contains(scalar.value)) {
                s.unicodeScalars.append(scalar)
            } else {
                s += String(format: "\\x{%02x}", scalar.value)
            }
            if s.count >= limit { return s + "…" }
        }
        return s
    }
}
