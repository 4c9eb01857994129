import DossierCore
import Foundation

/// Standard output written in full, after whatever C stdio (`print`) holds, or a clear failure:
/// a full disk or a closed pipe ends the command with exit 74 and a message, not a crash
/// (Foundation's `FileHandle.write` traps on a failed write) and not a silent exit 0.
enum StandardOutput {
    static func write(_ bytes: UnsafeRawBufferPointer) {
        finish()
        var sink = FileDescriptorSink(fd: STDOUT_FILENO)
        do {
            try sink.write(bytes)
        } catch {
            fail("\(error)")
        }
    }

    /// Writes a listing's lines (`ListingLines`).
    static func write(_ lines: ListingLines) {
        finish()
        var sink = FileDescriptorSink(fd: STDOUT_FILENO)
        do {
            try lines.write(to: &sink)
        } catch {
            fail("\(error)")
        }
    }

    /// Flushes what `print` buffered; a command ends with this (`Dossier.main`).
    static func finish() {
        if fflush(nil) != 0 { fail(String(cString: strerror(errno))) }
    }

    private static func fail(_ reason: String) -> Never {
        Terminal.fail(DossierError.writeFailed(path: "standard output", reason: reason))
    }
}
