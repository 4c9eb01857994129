import DossierCore
import DossierCrypto
import Foundation

/// Terminal input and output. The only place that talks to the user directly.
enum Terminal {
    /// Writes a line to stderr.
    static func note(_ message: String) {
        TerminalLine.shared.clear()
        FileHandle.standardError.write(Data("dossier: \(visible(message))\n".utf8))
    }

    static func warn(_ message: String) {
        TerminalLine.shared.clear()
        FileHandle.standardError.write(Data("dossier: warning: \(visible(message))\n".utf8))
    }

    /// Writes a line from the tables to stderr (its arguments are visible already).
    static func note(_ message: LocalizedText) {
        TerminalLine.shared.clear()
        FileHandle.standardError.write(Data("dossier: \(message.text)\n".utf8))
    }

    static func warn(_ message: LocalizedText) {
        TerminalLine.shared.clear()
        FileHandle.standardError.write(Data("dossier: warning: \(message.text)\n".utf8))
    }

    /// Prints what went wrong and, on its own line, what to do, in the reader's language where
    /// the tables have the error (`ErrorText`); exits with the error's documented code, the same
    /// in every language. The `error:` and `hint:` markers stay as they are, for scripts.
    static func fail(_ error: DossierError) -> Never {
        let code = ExitCodes.code(for: error)
        guard let (message, hint) = ErrorText.localized(error, Localizer.current) else {
            fail(error.message, hint: error.hint, code: code)
        }
        TerminalLine.shared.clear()
        FileHandle.standardError.write(Data("dossier: error: \(message.text)\n".utf8))
        if let hint { FileHandle.standardError.write(Data("dossier: hint: \(hint.text)\n".utf8)) }
        exit(code)
    }

    /// Prints the error (and an optional hint) on stderr and exits with `code`.
    static func fail(_ message: String, hint: String? = nil, code: Int32) -> Never {
        TerminalLine.shared.clear()
        FileHandle.standardError.write(Data("dossier: error: \(visible(message))\n".utf8))
        if let hint { FileHandle.standardError.write(Data("dossier: hint: \(visible(hint))\n".utf8)) }
        exit(code)
    }

    /// Messages and printed fields may hold hostile input (a name from a package, a title, a key
    /// from a policy file): control characters, bidirectional controls and backslashes are
    /// shown escaped (`VisibleText`, the one rule), so nothing can move the cursor, rewrite
    /// the line, hide a warning or add a row or a column.
    static func visible(_ text: String) -> String { VisibleText.escaped(text) }

    /// Whether stdout is a terminal (tables for people, plain lines for pipes).
    static var stdoutIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 }

    /// Whether stderr is a terminal (progress is shown only there).
    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    /// Reads a passphrase from /dev/tty without echo. Nil when there is no terminal.
    static func readPassphrase(prompt: String) throws(DossierError) -> SecureBytes? {
        let tty = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard tty >= 0 else { return nil }
        defer { close(tty) }
        TerminalLine.shared.clear()
        var saved = termios()
        let haveTermios = tcgetattr(tty, &saved) == 0
        if haveTermios {
            var silent = saved
            silent.c_lflag &= ~tcflag_t(ECHO)
            silent.c_lflag |= tcflag_t(ECHONL)
            tcsetattr(tty, TCSAFLUSH, &silent)
        }
        defer { if haveTermios { tcsetattr(tty, TCSAFLUSH, &saved) } }
        _ = prompt.withCString { write(tty, $0, strlen($0)) }
        let capacity = 1024
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 1)
        defer { secureZero(buffer); buffer.deallocate() }
        var count = 0
        while count < capacity {
            var byte: UInt8 = 0
            let n = read(tty, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 || byte == 0x0a { break }
            buffer[count] = byte
            count += 1
        }
        if count > 0 && buffer[count - 1] == 0x0d { count -= 1 }
        return SecureBytes(copying: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
    }
}
