import DossierCore
import Foundation

/// Progress on the terminal: one line on standard error, redrawn in place (carriage return,
/// erase line), once the work has run for `after` seconds, and erased when it ends, before the
/// command prints its result. Only made when standard error is a terminal (`ProgressOption`).
/// The line holds amounts only (`ProgressLine`): no title, name or path.
final class ProgressDisplay: ProgressReporter, @unchecked Sendable {
    /// Seconds of work before progress appears: 1, or DOSSIER_PROGRESS_AFTER (tests set 0).
    static let defaultDelay = 1.0
    static let delayVariable = "DOSSIER_PROGRESS_AFTER"

    let after: Double

    init(after: Double) { self.after = after }

    /// DOSSIER_PROGRESS_AFTER, or 1 second. It changes when progress appears, nothing else.
    static func delay() throws(DossierError) -> Double {
        guard let text = ProcessInfo.processInfo.environment[delayVariable], !text.isEmpty else { return defaultDelay }
        guard let seconds = Double(text), seconds.isFinite, (0...86_400).contains(seconds) else {
            throw .invalidArgument("\(delayVariable) is '\(text)', not a number of seconds from 0 to 86400",
                                   hint: "unset it to show progress after \(Int(defaultDelay)) second")
        }
        return seconds
    }

    func report(_ progress: ProgressSnapshot) {
        guard progress.elapsed >= after else { return }
        TerminalLine.shared.draw("dossier: " + ProgressLine.format(progress))
    }

    func finished() { TerminalLine.shared.clear() }
}

/// The one line of standard error that progress redraws; `Terminal` erases it before any other
/// output, so that a message or a prompt never lands in the middle of it.
final class TerminalLine: @unchecked Sendable {
    static let shared = TerminalLine()

    private let lock = NSLock()
    private var shown = false
    /// Back to the start of the line, and erase it.
    private static let erase = "\r\u{1b}[2K"

    func draw(_ text: String) {
        lock.lock()
        defer { lock.unlock() }
        write(Self.erase + text)
        shown = true
    }

    /// Erases the line if progress is on it.
    func clear() {
        lock.lock()
        defer { lock.unlock() }
        guard shown else { return }
        write(Self.erase)
        shown = false
    }

    /// Best effort: progress that cannot be shown is no failure.
    private func write(_ text: String) {
        var bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Foundation.write(STDERR_FILENO, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            done += n
        }
    }
}
