import DossierCrypto
import Foundation

/// The documents' encrypted content in PostgreSQL: table `content_chunks`, one row per MiB of a
/// document's STREAM ciphertext (docs/formats/vault.md 5.2, without the blob file's magic).
///
/// Order of writes. `write` inserts the chunks in a transaction that it begins on the vault's
/// connection and leaves open ("staging"); the calling thread's next `PostgresStore.write`
/// records the document row and its log entry in that same transaction and commits it, so a
/// deposit commits whole or not at all: no orphan chunk, no row without its content (the
/// chunks' foreign key, checked at commit, says so too). `makeDurable` has nothing to do: the
/// commit is the flush. `remove` of a staged id abandons the deposit's transaction. While a
/// deposit stages, its thread holds the vault's connection; other threads of the process wait.
///
/// Memory stays bounded both ways: chunks are inserted as the cipher produces them (one MiB
/// buffered), and read back one row at a time into a socket that the reader drains
/// (`openForReading`).
struct PostgresContent: ContentStore {
    let store: PostgresStore
    /// Bytes of ciphertext per row.
    static let rowBytes = 1 << 20

    func write(id: String, key: SecureBytes, from fd: Int32, sourcePath: String,
               progress: ProgressMeter?) throws(DossierError) -> (size: UInt64, hash: Data) {
        try store.staging { connection in
            try encrypt(id: id, key: key, from: fd, sourcePath: sourcePath, progress: progress, into: connection)
        }
    }

    /// Encrypts `fd` into rows of `connection`'s open transaction.
    private func encrypt(id: String, key: SecureBytes, from fd: Int32, sourcePath: String, progress: ProgressMeter?,
                         into connection: PostgresConnection) throws(DossierError) -> (size: UInt64, hash: Data) {
        var source = HashingSource(MeteredSource(base: FileDescriptorSource(fd: fd), meter: progress))
        var sink = ChunkSink(connection: connection, id: id)
        defer { sink.release() }
        let size: UInt64
        do throws(CryptoError) {
            size = try ContentStream.encrypt(key: key, from: &source, to: &sink)
            try sink.flush()
        } catch {
            if let failure = sink.failure { throw store.translate(failure) }
            if case .io(.read, _) = error { throw .fileUnreadable(path: sourcePath, reason: error.description) }
            throw .writeFailed(path: store.location, reason: error.description)
        }
        return (size, source.digest())
    }

    /// Inserts the ciphertext read from `source` as the rows of `id`, staged in the transaction
    /// the calling thread's next `write` commits, as `write` does.
    func writeCiphertext<S: ByteSource>(id: String, from source: inout S) throws(DossierError) -> UInt64 {
        try store.staging { connection throws(DossierError) in
            var sink = ChunkSink(connection: connection, id: id)
            defer { sink.release() }
            do throws(ContentCopy.Failure) {
                let count = try ContentCopy.pump(from: &source, to: &sink)
                do throws(CryptoError) { try sink.flush() } catch { throw .write(error) }
                return count
            } catch {
                if let failure = sink.failure { throw store.translate(failure) }
                switch error {
                case .read(let e): throw .fileUnreadable(path: "the encrypted content of \(id)", reason: e.description)
                case .write(let e): throw .writeFailed(path: store.location, reason: e.description)
                }
            }
        }
    }

    func makeDurable(ids: [String]) throws(DossierError) {}

    // MARK: Request files

    /// Copies a request file as received into `request_chunks`, inside the transaction that the
    /// calling thread's next `write` commits with the request's row (as a deposit's content).
    func writeRequest(id: String, from fd: Int32, sourcePath: String) throws(DossierError) -> (size: UInt64, sha256: Data) {
        try store.staging { connection in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.rowBytes, alignment: 16)
            defer { buffer.deallocate() }
            var hash = SHA256()
            var size: UInt64 = 0
            var seq: Int64 = 0
            while true {
                var filled = 0
                while filled < buffer.count {
                    let n = read(fd, buffer.baseAddress! + filled, buffer.count - filled)
                    if n < 0 && errno == EINTR { continue }
                    if n < 0 { throw DossierError.fileUnreadable(path: sourcePath, reason: String(cString: strerror(errno))) }
                    if n == 0 { break }
                    filled += n
                }
                if filled == 0 { break }
                let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<filled])
                hash.update(chunk)
                try connection.query("INSERT INTO request_chunks(request_id, seq, data) VALUES ($1, $2, $3)", [.text(id), .int(seq), .raw(chunk)])
                seq += 1
                size += UInt64(filled)
                if filled < buffer.count { break }
            }
            return (size, hash.finalize())
        }
    }

    /// The request file, copied from `request_chunks` into an unnamed temporary file (it is
    /// ciphertext sealed to the intake key), read in the calling thread's transaction: the
    /// staged one during an import, a snapshot otherwise.
    func openRequest(id: String) throws(DossierError) -> Int32 {
        #if os(Linux)
        var fd = open(NSTemporaryDirectory(), AtomicOutput.openTemporaryFile | O_RDWR | O_CLOEXEC, 0o600)
        #else
        var fd: Int32 = -1
        #endif
        if fd < 0 {
            var template = Array((NSTemporaryDirectory() + "/dossier-request-XXXXXX").utf8CString)
            fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            if fd >= 0 { template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) } }
        }
        guard fd >= 0 else { throw .writeFailed(path: NSTemporaryDirectory(), reason: String(cString: strerror(errno))) }
        do {
            let count: Int64 = try store.read { tx in
                var expected: Int64 = 0
                try (tx as! PostgresTransaction).connection.stream(
                    "SELECT seq, data FROM request_chunks WHERE request_id = $1 ORDER BY seq", [.text(id)]) { row in
                    guard row.int(0, 0) == expected else { throw DossierError.integrity("the request file of \(id) has a gap") }
                    expected += 1
                    var sink = FileDescriptorSink(fd: fd)
                    do { try sink.write(row.buffer(0, 1)) } catch {
                        throw DossierError.writeFailed(path: NSTemporaryDirectory(), reason: "\(error)")
                    }
                }
                return expected
            }
            guard count > 0 else { throw DossierError.integrity("the request file of \(id) is missing (\(store.location))") }
            guard lseek(fd, 0, SEEK_SET) == 0 else { throw DossierError.fileUnreadable(path: NSTemporaryDirectory(), reason: String(cString: strerror(errno))) }
            return fd
        } catch {
            close(fd)
            throw store.translate(error)
        }
    }

    /// A socket whose other end a thread of its own fills with the document's chunks, in order,
    /// read on a connection of its own in one snapshot. Missing content fails here; a failure
    /// later ends the stream early, which the cipher reports as truncated.
    func openForReading(id: String) throws(DossierError) -> Int32 {
        let connection = try store.separateConnection()
        do {
            try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            let r = try connection.query("SELECT count(*) FROM content_chunks WHERE document_id = $1", [.text(id)])
            guard (r.int(0, 0) ?? 0) > 0 else { throw DossierError.integrity("the encrypted content of \(id) is missing (\(store.location))") }
        } catch {
            throw store.translate(error)
        }
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw .database("cannot make a socket pair to read \(id): \(String(cString: strerror(errno)))")
        }
        let feeder = ChunkFeeder(connection: connection, id: id, fd: pair[1])
        Thread.detachNewThread { feeder.run() }
        return pair[0]
    }

    func storedSize(id: String) -> UInt64? {
        let table = id.hasPrefix("req-") ? "request_chunks WHERE request_id" : "content_chunks WHERE document_id"
        let size: Int64?? = try? store.read { tx in
            let r = try (tx as! PostgresTransaction).connection.query(
                "SELECT sum(octet_length(data))::bigint FROM \(table) = $1", [.text(id)])
            return r.int(0, 0)
        }
        return (size ?? nil).map { UInt64(clamping: $0) }
    }

    func expectedSize(plaintextSize size: UInt64) -> UInt64 { ContentStream.ciphertextSize(plaintextSize: size) }

    /// Abandons the deposit staged by this thread. Outside a deposit there is nothing to do: a
    /// removal deletes the chunks in its own transaction (PostgresTransaction).
    func remove(id: String) {
        store.abandonStaging()
    }

    /// Every document with content. There are no leftovers: a deposit that did not commit left
    /// nothing, and chunks cannot outlive their row (foreign key).
    func inventory() -> (objects: [String: String], leftovers: [String]) {
        let ids: [String] = (try? store.read { tx in
            let r = try (tx as! PostgresTransaction).connection.query(
                "SELECT DISTINCT document_id FROM content_chunks UNION SELECT DISTINCT request_id FROM request_chunks")
            return (0..<r.count).compactMap { r.text($0, 0) }
        }) ?? []
        return (Dictionary(uniqueKeysWithValues: ids.map { ($0, "content_chunks/" + $0) }), [])
    }

    /// Deletes the chunks of an orphan named by `inventory` (`content_chunks/<id>`) whose
    /// document was removed or never recorded.
    func delete(leftover: String) -> Bool {
        guard leftover.hasPrefix("content_chunks/") else { return false }
        let id = String(leftover.dropFirst("content_chunks/".count))
        return (try? store.write { tx in
            try (tx as! PostgresTransaction).connection.query("""
                DELETE FROM content_chunks c WHERE c.document_id = $1
                AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = c.document_id AND d.removed_at IS NULL)
                """, [.text(id)])
        }) != nil
    }
}

/// Buffers the cipher's output and inserts it a row at a time.
private struct ChunkSink: ByteSink {
    let connection: PostgresConnection
    let id: String
    private var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: PostgresContent.rowBytes, alignment: 16)
    private var filled = 0
    private var seq: Int64 = 0
    /// The database's failure, when a write failed because of it.
    private(set) var failure: (any Error)?

    init(connection: PostgresConnection, id: String) {
        self.connection = connection
        self.id = id
    }

    mutating func write(_ bytes: UnsafeRawBufferPointer) throws(CryptoError) {
        var offset = 0
        while offset < bytes.count {
            let n = min(bytes.count - offset, buffer.count - filled)
            (buffer.baseAddress! + filled).copyMemory(from: bytes.baseAddress! + offset, byteCount: n)
            filled += n
            offset += n
            if filled == buffer.count { try flush() }
        }
    }

    /// Inserts what is buffered as the next row.
    mutating func flush() throws(CryptoError) {
        guard filled > 0 else { return }
        do {
            try connection.query("INSERT INTO content_chunks(document_id, seq, data) VALUES ($1, $2, $3)",
                                 [.text(id), .int(seq), .raw(UnsafeRawBufferPointer(rebasing: buffer[0..<filled]))])
        } catch {
            failure = error
            throw .io(.write, errno: EIO)
        }
        seq += 1
        filled = 0
    }

    func release() { buffer.deallocate() }
}

/// Sends a document's chunks into a socket, on a thread of its own, then closes it.
private final class ChunkFeeder: @unchecked Sendable {
    let connection: PostgresConnection
    let id: String
    let fd: Int32

    init(connection: PostgresConnection, id: String, fd: Int32) {
        self.connection = connection
        self.id = id
        self.fd = fd
    }

    func run() {
        defer { close(fd) }
        var expected: Int64 = 0
        try? connection.stream("SELECT seq, data FROM content_chunks WHERE document_id = $1 ORDER BY seq", [.text(id)]) { row in
            // A gap in the sequence ends the stream: the reader sees it truncated.
            guard row.int(0, 0) == expected else { throw PostgresError(sqlState: "", message: "gap") }
            expected += 1
            let data = row.buffer(0, 1)
            var sent = 0
            while sent < data.count {
                // MSG_NOSIGNAL: a reader that stopped early gives EPIPE, not a signal.
                let n = send(fd, data.baseAddress! + sent, data.count - sent, Int32(MSG_NOSIGNAL))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw PostgresError(sqlState: "", message: "reader gone")
                }
                sent += n
            }
        }
    }
}
