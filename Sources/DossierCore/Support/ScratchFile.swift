import Foundation

/// An unnamed temporary file, readable and writable by this process only (mode 0600, unlinked
/// from the start where the system allows it), removed by the kernel when it is closed: where
/// the service keeps a request body while it verifies it, so that memory stays bounded and
/// nothing is left behind whatever happens.
public final class ScratchFile: @unchecked Sendable {
    public let fd: Int32
    /// Bytes written so far.
    public private(set) var size: UInt64 = 0

    public init() throws(DossierError) {
        let folder = NSTemporaryDirectory()
        #if os(Linux)
        var fd = open(folder, AtomicOutput.openTemporaryFile | O_RDWR | O_CLOEXEC, 0o600)
        #else
        var fd: Int32 = -1
        #endif
        if fd < 0 {
            var template = Array(((folder as NSString).appendingPathComponent("dossier-scratch-XXXXXX")).utf8CString)
            fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            if fd >= 0 { template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) } }
        }
        guard fd >= 0 else { throw .writeFailed(path: folder, reason: FileAccess.errnoText()) }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Appends `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(DossierError) {
        var done = 0
        while done < bytes.count {
            let n = Foundation.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw .writeFailed(path: NSTemporaryDirectory(), reason: FileAccess.errnoText()) }
            done += n
        }
        size += UInt64(bytes.count)
    }
}
