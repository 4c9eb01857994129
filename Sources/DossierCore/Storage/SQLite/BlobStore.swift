import DossierCrypto
import Foundation

/// Encrypted content on disk: `blobs/<2 chars>/<document id>`, each file the 4-byte magic
/// `DSB` 0x01 followed by a STREAM ciphertext. A blob is written to an anonymous temporary file
/// in its folder and linked into place, and flushed (with the others of the same deposit)
/// before the catalogue row that references it commits; a crash leaves at worst an orphan,
/// which `doctor` reports.
struct BlobStore: ContentStore {
    static let magic = Data([0x44, 0x53, 0x42, 0x01]) // "DSB" 1
    let root: String
    let random: any RandomSource

    /// Where vaults made by earlier versions kept temporary blobs; still inspected by `doctor`.
    var temporaryFolder: String { root + "/tmp" }

    func path(for id: String) -> String {
        let shard = String(id.suffix(13).prefix(2))
        return root + "/" + shard + "/" + id
    }

    /// Encrypts everything readable from `fd` into the blob for `id`; returns the plaintext's
    /// size and BLAKE2b-256 (hashed as the cipher reads it, on a thread of its own).
    /// The blob is built in an anonymous temporary file (see AtomicOutput) and linked into place
    /// complete, so an interrupted write leaves nothing; it is NOT flushed: call `makeDurable`
    /// for every blob written before the catalogue row that names it commits: one flush for a
    /// whole deposit instead of one per file (docs/performance.md has the figures).
    func write(id: String, key: SecureBytes, from fd: Int32, sourcePath: String,
               progress: ProgressMeter?) throws(DossierError) -> (size: UInt64, hash: Data) {
        let destination = path(for: id)
        let shard = (destination as NSString).deletingLastPathComponent
        if !FileManager.default.fileExists(atPath: shard) {
            // The new folder's entry must survive a power loss as much as the blob itself:
            // `makeDurable` flushes the blob folder with the shard folders.
            try FileAccess.makePrivateDirectory(shard)
        }
        let out = try AtomicOutput(destination: destination)
        let size: UInt64
        var source = HashingSource(MeteredSource(base: FileDescriptorSource(fd: fd), meter: progress))
        do throws(CryptoError) {
            var sink = FileDescriptorSink(fd: out.fd, writeBehind: true)
            try sink.write(contentsOf: BlobStore.magic)
            size = try ContentStream.encrypt(key: key, from: &source, to: &sink)
        } catch {
            out.abandon()
            if case .io(.read, _) = error {
                throw .fileUnreadable(path: sourcePath, reason: error.description)
            }
            throw .writeFailed(path: destination, reason: error.description)
        }
        #if os(Linux)
        WriteBehind.start(fd: out.fd)
        #endif
        try out.commit(.deferred)
        return (size, source.digest())
    }

    /// Writes the blob for `id`: the magic, then the ciphertext read from `source` as it is.
    /// Built and linked into place as `write` builds a blob; not flushed (`makeDurable`).
    func writeCiphertext<S: ByteSource>(id: String, from source: inout S) throws(DossierError) -> UInt64 {
        let destination = path(for: id)
        let shard = (destination as NSString).deletingLastPathComponent
        if !FileManager.default.fileExists(atPath: shard) { try FileAccess.makePrivateDirectory(shard) }
        let out = try AtomicOutput(destination: destination)
        var sink = FileDescriptorSink(fd: out.fd, writeBehind: true)
        let count: UInt64
        do throws(ContentCopy.Failure) {
            do { try sink.write(contentsOf: BlobStore.magic) } catch { throw .write(error) }
            count = try ContentCopy.pump(from: &source, to: &sink)
        } catch {
            out.abandon()
            switch error {
            case .read(let e): throw .fileUnreadable(path: "the encrypted content of \(id)", reason: e.description)
            case .write(let e): throw .writeFailed(path: destination, reason: e.description)
            }
        }
        #if os(Linux)
        WriteBehind.start(fd: out.fd)
        #endif
        try out.commit(.deferred)
        return count
    }

    /// Copies a request file, byte for byte, to `blobs/<xy>/<request id>` (it is already sealed
    /// to the intake key and carries its own magic, `DRQ` 0x01), hashing it with SHA-256 on the
    /// way; linked into place complete, not flushed (`makeDurable`). Never replaces a blob.
    func writeRequest(id: String, from fd: Int32, sourcePath: String) throws(DossierError) -> (size: UInt64, sha256: Data) {
        let destination = path(for: id)
        let shard = (destination as NSString).deletingLastPathComponent
        if !FileManager.default.fileExists(atPath: shard) { try FileAccess.makePrivateDirectory(shard) }
        let out = try AtomicOutput(destination: destination)
        var hash = SHA256()
        var size: UInt64 = 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        var source = FileDescriptorSource(fd: fd)
        var sink = FileDescriptorSink(fd: out.fd)
        do throws(CryptoError) {
            while true {
                let n = try source.read(into: buffer)
                if n == 0 { break }
                let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
                hash.update(chunk)
                try sink.write(chunk)
                size += UInt64(n)
            }
        } catch {
            out.abandon()
            if case .io(.read, _) = error { throw .fileUnreadable(path: sourcePath, reason: error.description) }
            throw .writeFailed(path: destination, reason: error.description)
        }
        try out.commit(.deferred)
        return (size, hash.finalize())
    }

    /// The kept request file, read-only, at offset 0.
    func openRequest(id: String) throws(DossierError) -> Int32 {
        let p = path(for: id)
        let fd = open(p, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .integrity("the request file of \(id) is missing (\(p))") }
        return fd
    }

    /// Makes blobs written by `write` durable, content and names, before a row names them.
    func makeDurable(ids: [String]) throws(DossierError) {
        try FileAccess.flush(files: ids.map(path(for:)))
        // Shard folders made by this deposit are entries of the blob folder.
        FileAccess.syncDirectory(root)
    }

    /// Opens a blob for reading, positioned after the magic.
    func openForReading(id: String) throws(DossierError) -> Int32 {
        let p = path(for: id)
        let fd = open(p, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .integrity("the encrypted content of \(id) is missing (\(p))") }
        var magic = [UInt8](repeating: 0, count: 4)
        guard read(fd, &magic, 4) == 4, Data(magic) == BlobStore.magic else {
            close(fd)
            throw .integrity("the encrypted content of \(id) has a bad header (\(p))")
        }
        return fd
    }

    /// Size of the blob file, or nil if absent.
    func storedSize(id: String) -> UInt64? {
        var st = stat()
        guard stat(path(for: id), &st) == 0 else { return nil }
        return UInt64(st.st_size)
    }

    /// Expected size of the blob for a plaintext of `size` bytes.
    func expectedSize(plaintextSize size: UInt64) -> UInt64 {
        UInt64(BlobStore.magic.count) + ContentStream.ciphertextSize(plaintextSize: size)
    }

    func delete(leftover path: String) -> Bool { unlink(path) == 0 }

    func remove(id: String) {
        unlink(path(for: id))
    }

    /// Every blob file (id → path) and every leftover temporary file.
    func inventory() -> (objects: [String: String], leftovers: [String]) {
        let fm = FileManager.default
        var blobs: [String: String] = [:]
        var temps: [String] = []
        for shard in (try? fm.contentsOfDirectory(atPath: root)) ?? [] where shard != "tmp" {
            let folder = root + "/" + shard
            for name in (try? fm.contentsOfDirectory(atPath: folder)) ?? [] {
                // Named temporaries exist only where anonymous ones are not supported.
                if name.hasPrefix(".") { temps.append(folder + "/" + name) } else { blobs[name] = folder + "/" + name }
            }
        }
        temps += ((try? fm.contentsOfDirectory(atPath: temporaryFolder)) ?? []).map { temporaryFolder + "/" + $0 }
        return (blobs, temps)
    }
}
