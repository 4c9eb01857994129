import DossierCrypto
import Foundation

/// Reading request files (docs/formats/request.md, section 7) on the organisation's side, with
/// the intake secret key. Reads in bounded memory: the file is never held whole.
public enum RequestReader {
    /// Where a request's parts are, as the framing gives them (step 1); needs no secret.
    struct Frame {
        let header: RequestHeader
        let headerBytes: Data
        let stanza: Data
        let sealedDetails: Data
        let contentOffset: UInt64
        let fileSize: UInt64

        var head: Data { RequestLayout.head(header: headerBytes, stanza: stanza, sealedDetails: sealedDetails) }
    }

    /// The public header of the request at `path` after the framing checks (step 1): what anyone
    /// who holds the file can read. Needs no secret; proves nothing about the sender.
    public static func header(path: String) throws(DossierError) -> RequestHeader {
        let fd = try FileAccess.openForReading(path: path)
        defer { close(fd) }
        return try frame(fd, path: path).header
    }

    /// Every check of section 7, in order: framing, intake key, stanza, details, exact size, each
    /// stream authenticating, the message being UTF-8 text, and the signature verifying under the
    /// sender key named inside. Returns the opened request, from which the message and the
    /// attachments can be read or saved.
    public static func open(path: String, intakeSecret: SecureBytes) throws(DossierError) -> OpenedRequest {
        let fd = try FileAccess.openForReading(path: path)
        do {
            return try open(fd, path: path, intakeSecret: intakeSecret)
        } catch {
            close(fd)
            throw error
        }
    }

    /// `open(path:intakeSecret:)` on an open, seekable file descriptor (a request kept in the
    /// vault), which the opened request keeps and closes; closed here on failure. `path` names
    /// the request in messages.
    static func open(fd: Int32, path: String, intakeSecret: SecureBytes) throws(DossierError) -> OpenedRequest {
        do {
            return try open(fd, path: path, intakeSecret: intakeSecret)
        } catch {
            close(fd)
            throw error
        }
    }

    private static func open(_ fd: Int32, path: String, intakeSecret: SecureBytes) throws(DossierError) -> OpenedRequest {
        func tampered(_ why: String) -> DossierError { .requestTampered(path: path, reason: why) }
        // 1. Framing.
        let f = try frame(fd, path: path)
        // 2. Intake key: the request names the key it is sealed to; compare the full key.
        let intake: BoxKeyPair
        do { intake = try BoxKeyPair(secretKey: intakeSecret) } catch { throw .crypto(context: "the intake secret key", error) }
        guard intake.publicKey == f.header.to.encryptionKey else {
            throw .requestNotForThisIntake(path: path, sealedTo: f.header.to.fingerprint, intake: try IntakeKey(encryptionKey: intake.publicKey).fingerprint)
        }
        // 3. Stanza.
        let requestKey: SecureBytes
        do { requestKey = try SealedBox.open(f.stanza, with: intake) } catch { throw tampered("the key stanza does not open") }
        guard requestKey.count == KeyDerivation.keyBytes else { throw tampered("the key stanza holds \(requestKey.count) bytes, not 32") }
        // 4. Details.
        let detailsPlain: SecureBytes
        do {
            detailsPlain = try AEAD.open(f.sealedDetails, key: try RequestLayout.detailsKey(requestKey),
                                         additionalData: RequestLayout.detailsAssociatedData(f.headerBytes))
        } catch { throw tampered("the details do not authenticate") }
        var detailsBytes = detailsPlain.unsafeCopyToData()
        defer { secureZero(&detailsBytes) }
        let details = try RequestDetails.parse(detailsBytes, path: path)
        // 5. Exact size.
        let sizes = [details.messageSize] + details.attachments.map(\.size)
        guard let expected = RequestLayout.fileSize(headerBytes: f.headerBytes.count, sealedDetailsBytes: f.sealedDetails.count,
                                                    plaintextSizes: sizes) else {
            throw .malformedRequest(path: path, reason: "its sizes overflow")
        }
        guard expected == f.fileSize else {
            throw .malformedRequest(path: path, reason: f.fileSize < expected
                ? "truncated: it has \(f.fileSize) bytes, its details declare \(expected)"
                : "\(f.fileSize - expected) unexpected bytes after the signature")
        }
        // 6. Content and signature, in one pass over the file: every stream authenticates, and
        // every byte before the sealed signature is hashed for it.
        let hasher = BLAKE2b(length: 64)
        f.head.withUnsafeBytes { hasher.update($0) }
        var offsets: [UInt64] = []
        var offset = f.contentOffset
        guard lseek(fd, off_t(offset), SEEK_SET) >= 0 else { throw .fileUnreadable(path: path, reason: FileAccess.errnoText()) }
        for (i, size) in sizes.enumerated() {
            offsets.append(offset)
            let length = ContentStream.ciphertextSize(plaintextSize: size)
            var source = Blake2b512Source(base: LimitedSource(FileDescriptorSource(fd: fd), limit: length), hasher: hasher)
            let what = i == 0 ? "the message" : "attachment \(i)"
            var failure: CryptoError?
            if i == 0 {
                // The message (at most 1 MiB) is decrypted into guarded memory to check that it is text.
                var text = true
                _ = SecureBytes(count: Int(size)) { buffer in
                    var sink = BufferSink(buffer: buffer)
                    do throws(CryptoError) {
                        try ContentStream.decrypt(key: try key(requestKey, stream: i), from: &source, to: &sink)
                        text = String(validating: UnsafeRawBufferPointer(buffer).bindMemory(to: UInt8.self), as: UTF8.self) != nil
                    } catch { failure = error }
                }
                if failure == nil && !text { throw .malformedRequest(path: path, reason: "the message is not UTF-8 text") }
            } else {
                var sink = DiscardingSink()
                do throws(CryptoError) {
                    try ContentStream.decrypt(key: try key(requestKey, stream: i), from: &source, to: &sink)
                } catch { failure = error }
            }
            if let failure {
                if case .io = failure { throw .fileUnreadable(path: path, reason: failure.description) }
                throw tampered("\(what) does not authenticate: \(failure)")
            }
            offset += length
        }
        let sealedSignature = try readExactly(fd, RequestLayout.sealedSignatureBytes, at: offset, size: f.fileSize, path: path)
        let signature: SecureBytes
        do {
            signature = try AEAD.open(sealedSignature, key: try RequestLayout.signatureKey(requestKey),
                                      additionalData: RequestLayout.signatureAssociatedData)
        } catch { throw tampered("the sealed signature does not authenticate") }
        guard Signature.verify(signature.unsafeCopyToData(), of: RequestLayout.signedMessage(digest: hasher.finalize()),
                               publicKey: details.from.signingKey) else {
            throw tampered("the signature does not verify under the sender key named inside (\(details.from.fingerprint))")
        }
        return OpenedRequest(path: path, fd: fd, header: f.header, details: details, fileSize: f.fileSize,
                             requestKey: requestKey, offsets: offsets)
    }

    /// Stream `i`'s key: 0 is the message, 1… the attachments.
    static func key(_ requestKey: SecureBytes, stream i: Int) throws(CryptoError) -> SecureBytes {
        do {
            return i == 0 ? try RequestLayout.messageKey(requestKey) : try RequestLayout.attachmentKey(requestKey, index: i - 1)
        } catch {
            if case let .crypto(_, e) = error { throw e }
            throw .authenticationFailed
        }
    }

    static func readExactly(_ fd: Int32, _ n: Int, at offset: UInt64, size: UInt64, path: String) throws(DossierError) -> Data {
        guard offset + UInt64(n) <= size else {
            throw .malformedRequest(path: path, reason: "truncated (it ends before its \(offset + UInt64(n)) bytes)")
        }
        var d = Data(count: n)
        let got = d.withUnsafeMutableBytes { b in pread(fd, b.baseAddress, n, off_t(offset)) }
        guard got == n else { throw .malformedRequest(path: path, reason: "truncated or unreadable") }
        return d
    }

    /// Step 1: the magic and version, the header, the stanza and the sealed details lie inside
    /// a file of at most 64 MiB, and the header passes every rule of section 2.
    static func frame(_ fd: Int32, path: String) throws(DossierError) -> Frame {
        func bad(_ why: String) -> DossierError { .malformedRequest(path: path, reason: why) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .fileUnreadable(path: path, reason: FileAccess.errnoText()) }
        let size = UInt64(st.st_size)
        guard size <= RequestLimits.maximumFileBytes else { throw bad("it is larger than 64 MiB (\(size) bytes)") }
        let start = try readExactly(fd, 8, at: 0, size: size, path: path)
        guard start.prefix(3) == RequestLayout.magic.prefix(3) else { throw bad("it does not start with the request magic 'DRQ'") }
        guard start[start.startIndex + 3] == 1 else {
            throw bad("request format version \(start[start.startIndex + 3]) is not supported (this program reads version 1)")
        }
        let m = start.suffix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard m > 0, Int(m) <= RequestLimits.maximumHeaderBytes else { throw bad("the header length \(m) is out of range") }
        let headerBytes = try readExactly(fd, Int(m), at: 8, size: size, path: path)
        let header = try RequestHeader.parse(headerBytes, path: path)
        let stanzaOffset = 8 + UInt64(m)
        let stanza = try readExactly(fd, RequestLayout.stanzaBytes, at: stanzaOffset, size: size, path: path)
        let lengthOffset = stanzaOffset + UInt64(RequestLayout.stanzaBytes)
        let l = try readExactly(fd, 4, at: lengthOffset, size: size, path: path).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard Int(l) >= RequestLayout.minimumSealedDetails, Int(l) <= RequestLayout.maximumSealedDetails else {
            throw bad("the details length \(l) is out of range")
        }
        let sealedDetails = try readExactly(fd, Int(l), at: lengthOffset + 4, size: size, path: path)
        return Frame(header: header, headerBytes: headerBytes, stanza: stanza, sealedDetails: sealedDetails,
                     contentOffset: lengthOffset + 4 + UInt64(l), fileSize: size)
    }
}

/// A request that passed every check of `RequestReader.open`. It keeps the file open and the
/// request key in guarded memory until it is released.
public final class OpenedRequest: @unchecked Sendable {
    public let path: String
    public let header: RequestHeader
    public let details: RequestDetails
    public let fileSize: UInt64
    private let fd: Int32
    private let requestKey: SecureBytes
    /// Where each stream starts: the message, then the attachments.
    private let offsets: [UInt64]
    private let lock = NSLock()

    init(path: String, fd: Int32, header: RequestHeader, details: RequestDetails, fileSize: UInt64, requestKey: SecureBytes, offsets: [UInt64]) {
        self.path = path
        self.fd = fd
        self.header = header
        self.details = details
        self.fileSize = fileSize
        self.requestKey = requestKey
        self.offsets = offsets
    }

    deinit { close(fd) }

    /// The sender's public identity, whose signature verified.
    public var sender: PublicIdentity { details.from }

    /// The message, decrypted into guarded memory (at most 1 MiB).
    public func message() throws(DossierError) -> SecureBytes {
        let size = Int(details.messageSize)
        var failure: DossierError?
        let plain = SecureBytes(count: size) { buffer in
            var sink = BufferSink(buffer: buffer)
            do throws(DossierError) { try self.decrypt(stream: 0, to: &sink) } catch { failure = error }
            if failure == nil && sink.filled != size { failure = .requestTampered(path: path, reason: "the message has the wrong size") }
            if failure != nil { secureZero(buffer) }
        }
        if let failure { throw failure }
        return plain
    }

    /// Writes the message to `output` (a temporary file renamed into place only once the whole
    /// stream has authenticated).
    public func saveMessage(to output: String, overwrite: Bool = false, durability: Durability = .system) throws(DossierError) {
        try save(stream: 0, to: output, overwrite: overwrite, durability: durability)
    }

    /// Writes attachment `index` (from 0, in the order of the details) to `output`, atomically.
    public func saveAttachment(_ index: Int, to output: String, overwrite: Bool = false, durability: Durability = .system) throws(DossierError) {
        guard details.attachments.indices.contains(index) else {
            throw .invalidArgument("the request has \(details.attachments.count) attachment(s); there is no attachment \(index + 1)")
        }
        try save(stream: index + 1, to: output, overwrite: overwrite, durability: durability)
    }

    private func save(stream i: Int, to output: String, overwrite: Bool, durability: Durability) throws(DossierError) {
        let out = try AtomicOutput(destination: output, overwrite: overwrite)
        do {
            var sink = FileDescriptorSink(fd: out.fd)
            try decrypt(stream: i, to: &sink, output: output)
        } catch {
            out.abandon()
            throw error
        }
        try out.commit(durability)
    }

    private func decrypt<K: ByteSink>(stream i: Int, to sink: inout K, output: String? = nil) throws(DossierError) {
        lock.lock()
        defer { lock.unlock() }
        let size = i == 0 ? details.messageSize : details.attachments[i - 1].size
        guard lseek(fd, off_t(offsets[i]), SEEK_SET) >= 0 else { throw .fileUnreadable(path: path, reason: FileAccess.errnoText()) }
        var source = LimitedSource(FileDescriptorSource(fd: fd), limit: ContentStream.ciphertextSize(plaintextSize: size))
        do throws(CryptoError) {
            let n = try ContentStream.decrypt(key: try RequestReader.key(requestKey, stream: i), from: &source, to: &sink)
            guard n == size else { throw CryptoError.authenticationFailed }
        } catch {
            if case .io(.write, _) = error, let output { throw .writeFailed(path: output, reason: error.description) }
            if case .io = error { throw .fileUnreadable(path: path, reason: error.description) }
            throw .requestTampered(path: path, reason: "\(i == 0 ? "the message" : "attachment \(i)") does not authenticate: \(error)")
        }
    }
}

/// Writes into a fixed buffer (guarded memory), refusing to overflow it.
struct BufferSink: ByteSink {
    let buffer: UnsafeMutableRawBufferPointer
    var filled = 0
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws(CryptoError) {
        guard bytes.count <= buffer.count - filled else { throw .authenticationFailed }
        if bytes.count > 0 { (buffer.baseAddress! + filled).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
        filled += bytes.count
    }
}
