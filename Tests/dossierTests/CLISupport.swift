import Foundation
import XCTest

// Running the built `dossier` executable as a subprocess, as a user or a script would.

/// What one run of `dossier` did.
struct CLIResult: CustomStringConvertible {
    let arguments: [String]
    let exitCode: Int32
    let stdout: String
    let stderr: String

    var description: String {
        "dossier \(arguments.joined(separator: " ")) → exit \(exitCode)\n--- stdout:\n\(stdout)--- stderr:\n\(stderr)"
    }
}

/// Where the `dossier` executable is: next to the test bundle (the products folder of the
/// same build), else `.build/debug/dossier` above this file. `DOSSIER_BINARY` overrides both.
enum DossierBinary {
    static let path: String? = {
        let fm = FileManager.default
        if let explicit = ProcessInfo.processInfo.environment["DOSSIER_BINARY"], !explicit.isEmpty {
            return explicit
        }
        var folders: [URL] = []
        // On Linux the test bundle is an executable in the products folder; on macOS it is a
        // bundle inside it.
        for bundle in [Bundle.main] + Bundle.allBundles {
            folders.append(bundle.bundleURL)
            folders.append(bundle.bundleURL.deletingLastPathComponent())
        }
        if let executable = Bundle.main.executableURL { folders.append(executable.deletingLastPathComponent()) }
        folders.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" {
            if fm.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
                folders.append(dir.appendingPathComponent(".build/debug"))
                break
            }
            dir = dir.deletingLastPathComponent()
        }
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

/// A fresh folder under the system's temporary folder; `remove()` deletes it.
final class CLIFolder: Sendable {
    let path: String

    init() throws {
        let base = (NSTemporaryDirectory() as NSString).appendingPathComponent("dossier-cli.XXXXXX")
        var template = Array(base.utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw NSError(domain: "CLIFolder", code: Int(errno), userInfo: [NSLocalizedDescriptionKey: "mkdtemp failed"])
        }
        path = String(cString: made)
    }

    func file(_ name: String) -> String { path + "/" + name }
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// How long one run may take before it is killed (a hang, e.g. a passphrase prompt).
let cliTimeoutSeconds = 300

/// `setsid`, to run a command without a controlling terminal (so that it cannot prompt).
let setsidPath: String? = ["/usr/bin/setsid", "/bin/setsid"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// Runs `dossier` with `arguments`. The environment is this process's without any
/// `DOSSIER_*` variable, plus `env`; stdin is `stdin` or empty. With `detached`, it runs in a
/// new session, without a controlling terminal, as under cron or CI.
func runDossier(_ arguments: [String], env: [String: String] = [:], stdin: Data? = nil, detached: Bool = false,
                file: StaticString = #filePath, line: UInt = #line) throws -> CLIResult {
    guard let binary = DossierBinary.path else {
        XCTFail("the dossier executable was not found next to the test bundle (\(Bundle.main.bundleURL.path)) nor in .build/debug; build it with `swift build --build-tests`, or set DOSSIER_BINARY", file: file, line: line)
        throw NSError(domain: "runDossier", code: 1)
    }
    let scratch = try CLIFolder()
    defer { scratch.remove() }
    let outPath = scratch.file("stdout"), errPath = scratch.file("stderr"), inPath = scratch.file("stdin")
    for p in [outPath, errPath] { _ = FileManager.default.createFile(atPath: p, contents: nil) }
    _ = FileManager.default.createFile(atPath: inPath, contents: stdin ?? Data())

    let process = Process()
    if detached, let setsidPath {
        process.executableURL = URL(fileURLWithPath: setsidPath)
        process.arguments = ["--wait", binary] + arguments
    } else {
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
    }
    var environment = childEnvironment()
    for (k, v) in env { environment[k] = v }
    process.environment = environment
    let outHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
    let errHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    let inHandle = try FileHandle(forReadingFrom: URL(fileURLWithPath: inPath))
    defer { try? outHandle.close(); try? errHandle.close(); try? inHandle.close() }
    process.standardOutput = outHandle
    process.standardError = errHandle
    process.standardInput = inHandle

    let done = DispatchSemaphore(value: 0)
    process.terminationHandler = { _ in done.signal() }
    try process.run()
    if done.wait(timeout: .now() + .seconds(cliTimeoutSeconds)) == .timedOut {
        process.terminate()
        done.wait()
        XCTFail("dossier \(arguments.joined(separator: " ")) did not finish in \(cliTimeoutSeconds) s and was killed", file: file, line: line)
    }
    let stdout = String(decoding: try Data(contentsOf: URL(fileURLWithPath: outPath)), as: UTF8.self)
    let stderr = String(decoding: try Data(contentsOf: URL(fileURLWithPath: errPath)), as: UTF8.self)
    return CLIResult(arguments: arguments, exitCode: process.terminationStatus, stdout: stdout, stderr: stderr)
}

/// `script` (util-linux), to run a command with a pseudo-terminal as its standard output.
let scriptPath: String? = ["/usr/bin/script", "/bin/script"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// Runs `dossier` with a pseudo-terminal as stdin, stdout and stderr (through `script`), as a
/// person at a terminal would: the output is what the terminal receives, both streams mixed,
/// every newline turned into CR LF by the terminal. The environment is built as in `runDossier`.
func runDossierOnATerminal(_ arguments: [String], env: [String: String] = [:],
                           file: StaticString = #filePath, line: UInt = #line) throws -> (exitCode: Int32, output: Data) {
    guard let binary = DossierBinary.path, let scriptPath else {
        XCTFail("needs the dossier executable and util-linux `script`", file: file, line: line)
        throw NSError(domain: "runDossierOnATerminal", code: 1)
    }
    func quoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
    let scratch = try CLIFolder()
    defer { scratch.remove() }
    let outPath = scratch.file("terminal")
    _ = FileManager.default.createFile(atPath: outPath, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: scriptPath)
    process.arguments = ["-qec", ([binary] + arguments).map(quoted).joined(separator: " "), "/dev/null"]
    var environment = childEnvironment()
    for (k, v) in env { environment[k] = v }
    environment["SHELL"] = "/bin/sh"
    process.environment = environment
    let outHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
    defer { try? outHandle.close() }
    process.standardOutput = outHandle
    process.standardError = outHandle
    process.standardInput = FileHandle.nullDevice
    let done = DispatchSemaphore(value: 0)
    process.terminationHandler = { _ in done.signal() }
    try process.run()
    if done.wait(timeout: .now() + .seconds(cliTimeoutSeconds)) == .timedOut {
        process.terminate()
        done.wait()
        XCTFail("dossier \(arguments.joined(separator: " ")) did not finish on a terminal and was killed", file: file, line: line)
    }
    return (process.terminationStatus, try Data(contentsOf: URL(fileURLWithPath: outPath)))
}

extension XCTestCase {
    /// A fresh temporary folder, removed when the test ends.
    func cliFolder() throws -> CLIFolder {
        let folder = try CLIFolder()
        addTeardownBlock { folder.remove() }
        return folder
    }

    /// Runs `dossier` (see `runDossier`) and requires exit code 0.
    @discardableResult
    func expectSuccess(_ arguments: [String], env: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) throws -> CLIResult {
        let result = try runDossier(arguments, env: env, file: file, line: line)
        XCTAssertEqual(result.exitCode, 0, "\(result)", file: file, line: line)
        return result
    }
}

/// This process's environment without any `DOSSIER_*` variable, with the state folder (where
/// `dossier` remembers the newest log entry it verified of each vault) inside the temporary
/// folder, so that the tests leave nothing in the home folder, and in English (`LANG=C.UTF-8`,
/// no `LC_ALL` or `LC_MESSAGES`), whatever the locale of whoever runs them; `LocalizationCLITests`
/// sets its own.
func childEnvironment() -> [String: String] {
    var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DOSSIER_") && $0.key != "LC_ALL" && $0.key != "LC_MESSAGES" }
    environment["LANG"] = "C.UTF-8"
    environment["XDG_STATE_HOME"] = testStateHome
    return environment
}

let testStateHome: String = {
    let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("dossier-tests-state-\(getpid())")
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}()
