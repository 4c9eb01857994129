import ArgumentParser
import DossierCore
import DossierCrypto
import Foundation

/// The text of a request: `--message-file FILE`, `--message-file -` (standard input), or typed
/// on the terminal. Held in guarded memory; at most 1 MiB of UTF-8.
struct MessageOptions: ParsableArguments {
    @Option(name: .customLong("message-file"), help: ArgumentHelp(Localizer.current.string("help.option.messageFile"), valueName: "FILE"))
    var messageFile: String?

    static let limit = Int(RequestLimits.maximumMessageBytes)

    /// Checks what can be checked before anything is asked: the file exists and is not too large.
    func check() throws(DossierError) {
        guard let messageFile, messageFile != "-" else { return }
        let fd = try FileAccess.openForReading(path: messageFile)
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) == 0, st.st_size > off_t(Self.limit) { throw Self.tooLarge }
    }

    static var tooLarge: DossierError {
        .invalidArgument("the message is larger than 1 MiB", hint: "keep the message short, and send long documents with --attach")
    }

    /// The message; asks on the terminal when no file was given.
    func read() throws(DossierError) -> SecureBytes {
        let message: SecureBytes
        switch messageFile {
        case "-"?:
            message = try Self.readAll(fd: STDIN_FILENO, name: Localizer.current.string("request.message.standardInput"))
        case let path?:
            try check()
            let fd = try FileAccess.openForReading(path: path)
            defer { close(fd) }
            message = try Self.readAll(fd: fd, name: path)
        case nil:
            let tty = open("/dev/tty", O_RDWR | O_CLOEXEC)
            guard tty >= 0 else {
                throw .missingOption("no message given, and there is no terminal to type it on",
                                     hint: "pass --message-file FILE, or --message-file - to read it from standard input")
            }
            defer { close(tty) }
            let prompt = Localizer.current.string("prompt.message")
            _ = prompt.withCString { write(tty, $0, strlen($0)) }
            message = try Self.readAll(fd: tty, name: Localizer.current.string("request.message.terminal"))
        }
        guard message.count > 0 else { throw .invalidArgument("the message is empty", hint: "say what you need: the message is what staff read first") }
        return message
    }

    /// Reads `fd` to its end into guarded memory, refusing more than 1 MiB.
    static func readAll(fd: Int32, name: String) throws(DossierError) -> SecureBytes {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: limit + 1, alignment: 1)
        defer { secureZero(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(buffer.count, limit + 1)])); buffer.deallocate() }
        var count = 0
        while count <= limit {
            let n = Foundation.read(fd, buffer.baseAddress! + count, limit + 1 - count)
            if n < 0 {
                if errno == EINTR { continue }
                throw .fileUnreadable(path: name, reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            count += n
        }
        if count > limit { throw tooLarge }
        return SecureBytes(copying: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
    }
}
