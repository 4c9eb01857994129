import DossierCrypto
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads an open file descriptor (not owned: the caller closes it).
public struct FileDescriptorSource: ByteSource {
    public let fd: Int32
    public init(fd: Int32) { self.fd = fd }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(CryptoError) -> Int {
        var filled = 0
        while filled < buffer.count {
            let n = Foundation.read(fd, buffer.baseAddress! + filled, buffer.count - filled)
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(.read, errno: errno)
            }
            if n == 0 { break }
            filled += n
        }
        return filled
    }
}

/// Writes an open file descriptor (not owned: the caller closes it).
public struct FileDescriptorSink: ByteSink {
    public let fd: Int32
    /// Whether large writes start their write-out to disk as they go (`WriteBehind`): for a file
    /// that will be flushed before success is reported. Left off, written data stays in the
    /// page cache for the system to write back, and writing runs at memory speed.
    public let writeBehind: Bool
    public init(fd: Int32, writeBehind: Bool = false) {
        self.fd = fd
        self.writeBehind = writeBehind
    }

    public mutating func write(_ bytes: UnsafeRawBufferPointer) throws(CryptoError) {
        var done = 0
        while done < bytes.count {
            let n = Foundation.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(.write, errno: errno)
            }
            done += n
        }
        #if os(Linux)
        if writeBehind { WriteBehind.advance(fd: fd, wrote: bytes.count) }
        #endif
    }
}

#if os(Linux)
/// Write-behind for large outputs. Left alone, the kernel keeps a gigabyte of written data dirty
/// in memory and writes it out only when the final fsync asks, so the fsync takes as long as
/// the whole write; meanwhile the cache fills and every write slows down. Instead, as each
/// window of the file is written, its write-out starts at once, and the window before it is
/// waited for and dropped from the cache: the disk works while the cipher does, and the final
/// fsync finds little left to do. Durability still comes from that fsync; this is only a hint,
/// so its errors are ignored (and it does nothing on pipes, terminals and small files).
public enum WriteBehind {
    static let window: off_t = 8 << 20

    /// `sync_file_range(2)`, which Glibc declares only under `_GNU_SOURCE`, so Swift does not see it.
    private typealias SyncFileRange = @convention(c) (Int32, Int64, Int64, UInt32) -> Int32
    private static let syncFileRange: SyncFileRange? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sync_file_range")
        .map { unsafeBitCast($0, to: SyncFileRange.self) }
    private static let waitBefore: UInt32 = 1, write: UInt32 = 2, waitAfter: UInt32 = 4

    /// Starts writing out what is written of the file so far, without waiting: a flush of
    /// many files afterwards then finds their data on its way (each would otherwise wait for
    /// its own journal commit).
    public static func start(fd: Int32) {
        _ = syncFileRange?(fd, 0, 0, write)
    }

    static func advance(fd: Int32, wrote count: Int) {
        guard count > 0, let syncFileRange else { return }
        let end = lseek(fd, 0, SEEK_CUR)
        guard end >= window else { return }
        let start = end - off_t(count)
        // Every window boundary this write crossed.
        var boundary = (start / window + 1) * window
        while boundary <= end {
            _ = syncFileRange(fd, Int64(boundary - window), Int64(window), write)
            if boundary >= 2 * window {
                let older = boundary - 2 * window
                _ = syncFileRange(fd, Int64(older), Int64(window), waitBefore | write | waitAfter)
                _ = posix_fadvise(fd, older, window, Int32(POSIX_FADV_DONTNEED))
            }
            boundary += window
        }
    }
}
#endif
