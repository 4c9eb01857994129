import DossierCrypto
import Foundation

/// File operations with the guarantees Dossier promises: secret files private, outputs written
/// atomically (a temporary file in the destination folder, renamed into place), nothing left
/// behind on failure.
public enum FileAccess {
    /// Reads a small text file, refusing folders and anything over `limit` bytes.
    public static func readSmallText(path: String, limit: Int) throws(DossierError) -> String {
        let data = try readSmall(path: path, limit: limit)
        // Foundation would drop a byte-order mark silently; Dossier's formats have none.
        guard !data.starts(with: [0xEF, 0xBB, 0xBF]) else {
            throw .fileUnreadable(path: path, reason: "it starts with a UTF-8 byte-order mark, which no Dossier file has")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .fileUnreadable(path: path, reason: "it is not UTF-8 text")
        }
        return text
    }

    /// Reads a small file, refusing folders and anything over `limit` bytes.
    public static func readSmall(path: String, limit: Int) throws(DossierError) -> Data {
        let fd = try openForReading(path: path)
        defer { close(fd) }
        func tooLarge() -> DossierError {
            .fileUnreadable(path: path, reason: "it is larger than \(limit) bytes, too large for this kind of file")
        }
        // Read straight into a buffer of the file's size (one more byte shows growth): a
        // 500 MB log export is read in a fraction of a second, not copied 16 KiB at a time.
        var st = stat()
        let expected = fstat(fd, &st) == 0 ? Int(st.st_size) : 0
        if expected > limit { throw tooLarge() }
        var data = largeBuffer(count: expected + 1)
        var filled = 0
        while true {
            if filled == data.count {
                if filled > limit { throw tooLarge() }
                data.count += max(64 * 1024, data.count / 2)
            }
            let n = data.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .fileUnreadable(path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            filled += n
        }
        if filled > limit { throw tooLarge() }
        data.count = filled
        return data
    }

    /// A zeroed buffer; past 32 MiB, in transparent huge pages where the system allows (a
    /// large export then costs far fewer page faults).
    private static func largeBuffer(count: Int) -> Data {
        let huge = 2 << 20
        guard count >= 32 << 20 else { return Data(count: count) }
        let size = (count + huge - 1) / huge * huge
        var p: UnsafeMutableRawPointer?
        guard posix_memalign(&p, huge, size) == 0, let p else { return Data(count: count) }
        _ = madvise(p, size, 14 /* MADV_HUGEPAGE */)
        memset(p, 0, count)
        return Data(bytesNoCopy: p, count: count, deallocator: .free)
    }

    /// Opens a regular file for reading; clear errors for a missing file, a folder, no permission.
    public static func openForReading(path: String) throws(DossierError) -> Int32 {
        guard !path.isEmpty else { throw .invalidArgument("an empty file name was given") }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let e = errno
            if e == ENOENT { throw .fileNotFound(path: path) }
            throw .fileUnreadable(path: path, reason: String(cString: strerror(e)))
        }
        var st = stat()
        if fstat(fd, &st) != 0 || (st.st_mode & S_IFMT) != S_IFREG {
            close(fd)
            throw .notARegularFile(path: path)
        }
        return fd
    }

    /// Refuses a secret file that group or others can read or write (as ssh does).
    public static func requirePrivate(path: String) throws(DossierError) {
        var st = stat()
        guard stat(path, &st) == 0 else {
            if errno == ENOENT { throw .fileNotFound(path: path) }
            throw .fileUnreadable(path: path, reason: String(cString: strerror(errno)))
        }
        let mode = UInt16(st.st_mode & 0o777)
        if mode & 0o077 != 0 { throw .insecurePermissions(path: path, mode: mode) }
    }

    /// Writes `data` to `path` atomically with `mode`. Without `overwrite`, an existing file is
    /// never replaced, not even by a race: the file is linked into place, which fails if the
    /// name exists.
    public static func writeAtomically(_ data: Data, to path: String, mode: mode_t = 0o600, overwrite: Bool = false) throws(DossierError) {
        let output = try AtomicOutput(destination: path, mode: mode, overwrite: overwrite)
        let failure: String? = data.withUnsafeBytes { b in
            var done = 0
            while done < b.count {
                let n = write(output.fd, b.baseAddress! + done, b.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errnoText()
                }
                done += n
            }
            return nil
        }
        if let failure {
            output.abandon()
            throw .writeFailed(path: path, reason: failure)
        }
        try output.commit()
    }

    /// Creates an empty file with mode 0600; fails if it exists.
    public static func createPrivateFile(_ path: String) throws(DossierError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST { throw .fileExists(path: path) }
            throw .writeFailed(path: path, reason: errnoText())
        }
        close(fd)
    }

    /// Creates a folder (and its parents) private to the user.
    public static func makePrivateDirectory(_ path: String) throws(DossierError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw .writeFailed(path: path, reason: "cannot create the folder")
        }
    }

    /// Flushes files written earlier without a flush, then the folders that hold them (each
    /// once), so that both their content and their names survive a crash. Flushing many files
    /// together costs little more than flushing one: the first flush commits the file
    /// system's journal for all of them.
    static func flush(files: [String]) throws(DossierError) {
        var folders = Set<String>()
        for path in files {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw .writeFailed(path: path, reason: errnoText()) }
            let failed = fsync(fd) != 0
            let reason = failed ? errnoText() : ""
            close(fd)
            if failed { throw .writeFailed(path: path, reason: reason) }
            folders.insert((path as NSString).deletingLastPathComponent)
        }
        for folder in folders.sorted() { syncDirectory(folder) }
    }

    /// Flushes a folder's entry table, so that a rename in it survives a crash.
    static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 { fsync(fd); close(fd) }
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}

/// How far a finished output is pushed to disk before it is given its name. Every choice is
/// atomic against failure of the command itself (an error, a kill): the name appears only
/// when the file is complete. They differ after a power cut or a crash of the whole system.
public enum Durability: Sendable, Equatable {
    /// Flushed (fsync), named, and its folder flushed: the file survives a power cut whole.
    /// For what the vault keeps and anything the user asks to be durable (`--sync`).
    case durable
    /// Named unflushed, folder unflushed: the caller MUST flush it (`FileAccess.flush`) before
    /// anything that relies on it is recorded. For blobs, flushed together at the end of a deposit.
    case deferred
    /// Named unflushed and left to the system to write back within seconds, as `cp`, `age` and
    /// `gpg` leave their outputs: a power cut in those seconds may leave the file short or
    /// empty under its name. For copies whose source stays intact (a retrieved document, an
    /// opened package, a package the vault can make again).
    case system
}

/// A file being written: a private temporary file in the destination's folder that becomes
/// the destination only on `commit()`. Where the file system allows (Linux: ext4, xfs, btrfs,
/// tmpfs), the temporary file is anonymous (`O_TMPFILE`): it has no name until it is linked
/// into place, so a crash or SIGKILL at any moment leaves nothing behind. Elsewhere it is a
/// hidden `.NAME.dossier-tmp-*` file, removed on `abandon()` or deinit.
public final class AtomicOutput {
    /// Descriptor of the temporary file; write through it.
    public let fd: Int32
    public let destination: String
    /// Nil when the temporary file is anonymous.
    let temporaryPath: String?
    let folder: String
    let name: String
    let overwrite: Bool
    private var finished = false

    #if os(Linux)
    /// `O_TMPFILE` is a macro Swift does not import: `__O_TMPFILE | O_DIRECTORY`.
    static let openTemporaryFile: Int32 = 0o20000000 | O_DIRECTORY
    #endif

    /// Creates the temporary file (mode 0600 until commit) in the destination's folder.
    public init(destination: String, mode: mode_t = 0o600, overwrite: Bool = false) throws(DossierError) {
        guard !destination.isEmpty else { throw .invalidArgument("an empty output file name was given") }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: destination, isDirectory: &isDir) {
            if isDir.boolValue { throw .notARegularFile(path: destination) }
            if !overwrite { throw .fileExists(path: destination) }
        }
        let url = URL(fileURLWithPath: destination)
        folder = url.deletingLastPathComponent().path
        name = url.lastPathComponent
        self.destination = destination
        self.overwrite = overwrite
        var created: (Int32, String?)?
        #if os(Linux)
        let anonymous = open(folder, AtomicOutput.openTemporaryFile | O_WRONLY | O_CLOEXEC, 0o600)
        if anonymous >= 0 { created = (anonymous, nil) }
        #endif
        if created == nil {
            for _ in 0..<16 {
                let candidate = folder + "/." + name + ".dossier-tmp-" + SystemRandom().bytes(6).hex
                let fd = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
                if fd >= 0 { created = (fd, candidate); break }
                if errno != EEXIST { throw .writeFailed(path: destination, reason: FileAccess.errnoText()) }
            }
        }
        guard let (fd, tmp) = created else { throw .writeFailed(path: destination, reason: "cannot create a temporary file") }
        if mode != 0o600 { fchmod(fd, mode) }
        self.fd = fd
        temporaryPath = tmp
    }

    /// Gives the temporary file the name `path`; fails if the name exists.
    private func link(to path: String) -> Int32 {
        if let temporaryPath { return hardLink(temporaryPath, path) == 0 ? 0 : errno }
        return linkat(AT_FDCWD, "/proc/self/fd/\(fd)", AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0 ? 0 : errno
    }

    /// Moves the file into place, flushed first or not as `durability` says.
    public func commit(_ durability: Durability = .durable) throws(DossierError) {
        let flush = durability == .durable
        precondition(!finished, "AtomicOutput committed or abandoned twice")
        finished = true
        defer {
            close(fd)
            if let temporaryPath { unlink(temporaryPath) }
        }
        if flush && fsync(fd) != 0 { throw .writeFailed(path: destination, reason: FileAccess.errnoText()) }
        if overwrite {
            // Link under a fresh hidden name, then rename over the destination atomically.
            let staging = folder + "/." + name + ".dossier-new-" + SystemRandom().bytes(6).hex
            let e = link(to: staging)
            guard e == 0 else { throw .writeFailed(path: destination, reason: String(cString: strerror(e))) }
            if rename(staging, destination) != 0 {
                let reason = FileAccess.errnoText()
                unlink(staging)
                throw .writeFailed(path: destination, reason: reason)
            }
        } else {
            let e = link(to: destination)
            if e == EEXIST { throw .fileExists(path: destination) }
            guard e == 0 else { throw .writeFailed(path: destination, reason: String(cString: strerror(e))) }
        }
        if flush { FileAccess.syncDirectory(folder) }
    }

    /// Discards the temporary file; the destination is untouched.
    public func abandon() {
        guard !finished else { return }
        finished = true
        close(fd)
        if let temporaryPath { unlink(temporaryPath) }
    }

    deinit {
        abandon()
    }
}

/// `link(2)`, under a name the class's own `link(to:)` does not shadow.
private func hardLink(_ from: String, _ to: String) -> Int32 { link(from, to) }
