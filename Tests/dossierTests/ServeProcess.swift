import Foundation
import XCTest

/// `dossier serve` running as a child process on a free loopback port, as an operator runs it.
/// `start` returns once it listens; `stop` sends SIGTERM and waits for it to end.
final class ServeProcess: @unchecked Sendable {
    private let process: Process
    private let exited: DispatchSemaphore
    private let stderrPath: String
    private var stopped = false
    /// The base URL of the service (`http://127.0.0.1:PORT`), to write into packages.
    let url: String

    /// What the service printed on standard error so far.
    var stderr: String {
        String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: stderrPath))) ?? Data(), as: UTF8.self)
    }

    /// Starts `dossier serve --listen 127.0.0.1:0 --verbose` with `arguments` (vault, identity)
    /// and polls its standard error, for at most `timeout` seconds, for the line naming the port.
    static func start(_ arguments: [String], in folder: CLIFolder, timeout: TimeInterval = 30,
                      file: StaticString = #filePath, line: UInt = #line) throws -> ServeProcess {
        guard let binary = DossierBinary.path else {
            XCTFail("the dossier executable was not found; build it with `swift build --build-tests`", file: file, line: line)
            throw NSError(domain: "ServeProcess", code: 1)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve"] + arguments + ["--listen", "127.0.0.1:0", "--verbose"]
        process.environment = childEnvironment()
        let errPath = folder.file("serve.stderr")
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let errHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        defer { try? errHandle.close() }
        process.standardError = errHandle
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()

        let marker = "listening on http://127.0.0.1:"
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let text = String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: errPath))) ?? Data(), as: UTF8.self)
            if let found = text.range(of: marker),
               let port = Int(text[found.upperBound...].prefix { $0.isNumber }) {
                return ServeProcess(process: process, exited: exited, stderrPath: errPath, url: "http://127.0.0.1:\(port)")
            }
            if !process.isRunning {
                XCTFail("dossier serve exited \(process.terminationStatus) before listening:\n\(text)", file: file, line: line)
                throw NSError(domain: "ServeProcess", code: 2)
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        process.terminate()
        exited.wait()
        XCTFail("dossier serve did not listen within \(Int(timeout)) s", file: file, line: line)
        throw NSError(domain: "ServeProcess", code: 3)
    }

    private init(process: Process, exited: DispatchSemaphore, stderrPath: String, url: String) {
        self.process = process
        self.exited = exited
        self.stderrPath = stderrPath
        self.url = url
    }

    /// Polls standard error until it contains `text`, for at most `timeout` seconds.
    func waitForNote(_ text: String, timeout: TimeInterval = 5) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if stderr.contains(text) { return true }
            Thread.sleep(forTimeInterval: 0.05)
        } while Date() < deadline
        return stderr.contains(text)
    }

    /// SIGTERM, then up to 10 seconds for a clean stop, then SIGKILL. Returns the exit status.
    @discardableResult
    func stop() -> Int32 {
        guard !stopped else { return process.terminationStatus }
        stopped = true
        if process.isRunning { process.terminate() }
        if exited.wait(timeout: .now() + .seconds(10)) == .timedOut {
            kill(process.processIdentifier, SIGKILL)
            exited.wait()
        }
        return process.terminationStatus
    }
}
