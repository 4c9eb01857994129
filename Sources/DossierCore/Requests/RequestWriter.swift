import DossierCrypto
import Foundation

/// What counsel ask, before it is sealed: everything of the details but the sender and the
/// sizes, which the writer takes from the identity and the files.
public struct RequestDraft: Sendable {
    public var to: IntakeKey
    public var need: RequestNeed
    public var languages: [String]
    public var jurisdiction: String?
    public var court: String?
    public var caseReference: String?
    public var hearing: String?
    /// The message, UTF-8 text of 1 byte to 1 MiB, in guarded memory.
    public var message: SecureBytes
    /// Files to attach; each is named in the request by its last path component.
    public var attachments: [String]

    public init(to: IntakeKey, need: RequestNeed, languages: [String], jurisdiction: String? = nil, court: String? = nil,
                caseReference: String? = nil, hearing: String? = nil, message: SecureBytes, attachments: [String] = []) {
        self.to = to
        self.need = need
        self.languages = languages
        self.jurisdiction = jurisdiction
        self.court = court
        self.caseReference = caseReference
        self.hearing = hearing
        self.message = message
        self.attachments = attachments
    }
}

/// What `RequestWriter.write` produced. Public values only.
public struct RequestSummary: Codable, Sendable {
    public let requestID: String
    public let path: String
    public let created: String
    public let intakeFingerprint: String
    public let senderFingerprint: String
    public let attachments: Int
    public let size: UInt64
}

/// Writes request files (docs/formats/request.md) on counsel's side. Needs no vault: only the
/// organisation's intake key and counsel's identity. Attachments are streamed from their files
/// in bounded memory; the output is written atomically and never replaces a file unless told to.
public struct RequestWriter {
    public let clock: any TimeSource
    public let random: any RandomSource

    public init(clock: any TimeSource = SystemClock(), random: any RandomSource = SystemRandom()) {
        self.clock = clock
        self.random = random
    }

    /// The checks that need neither the identity's secret nor the message: the values of the
    /// draft's fields, and that every attachment is a readable regular file with a usable name.
    /// A command makes them before it asks for a message or a passphrase; `write` makes them again.
    public static func checkFields(need: RequestNeed, languages: [String], jurisdiction: String?, court: String?,
                                   caseReference: String?, hearing: String?, attachments: [String]) throws(DossierError) {
        if languages.isEmpty { throw .invalidArgument("no language is given", hint: "name the language(s) you need with --lang TAG, for example --lang en") }
        for l in languages where Language.parse(l) == nil { throw .invalidLanguageTag(l) }
        for (option, value) in [("--jurisdiction", jurisdiction), ("--court", court), ("--case", caseReference)] {
            if let value, let why = RequestText.problem(value) {
                throw .invalidArgument("the \(option) value \(why)", hint: "give one line of text of at most \(RequestLimits.maximumTextBytes) bytes")
            }
        }
        if let hearing, !RequestText.isDate(hearing) {
            throw .invalidArgument("the hearing date '\(hearing)' is not a day of the calendar written YYYY-MM-DD", hint: "for example --hearing 2027-03-15")
        }
        if attachments.count > RequestLimits.maximumAttachments {
            throw .invalidArgument("\(attachments.count) attachments: a request holds at most \(RequestLimits.maximumAttachments)", hint: nil)
        }
        var names: [String] = []
        for path in attachments {
            close(try FileAccess.openForReading(path: path))
            let name = (path as NSString).lastPathComponent
            if let why = RequestText.nameProblem(name) {
                throw .invalidArgument("the attachment \(path) cannot be sent under its name: it \(why)", hint: "copy it under a plain name and attach the copy")
            }
            if names.contains(name) {
                throw .invalidArgument("two attachments are named '\(name)'", hint: "rename one of them; a request names each attachment once")
            }
            names.append(name)
        }
        _ = need
    }

    /// Seals `draft` to the organisation's intake key, signs it with `identity`, and writes it
    /// to `output`. On any failure nothing is left at `output`.
    public func write(_ draft: RequestDraft, identity: SecretIdentity, to output: String, overwrite: Bool = false,
                      durability: Durability = .system) throws(DossierError) -> RequestSummary {
        let languages = try draft.languages.map { l throws(DossierError) in try Language.canonical(l) }
        try Self.checkFields(need: draft.need, languages: languages, jurisdiction: draft.jurisdiction, court: draft.court,
                             caseReference: draft.caseReference, hearing: draft.hearing, attachments: draft.attachments)
        let messageIsText = draft.message.withUnsafeBytes { String(validating: $0.bindMemory(to: UInt8.self), as: UTF8.self) != nil }
        guard messageIsText else { throw .invalidArgument("the message is not UTF-8 text", hint: "save it as UTF-8 plain text") }

        // Open every attachment now and keep it open: its size is what the details declare,
        // and the writer checks it still is after streaming it.
        var inputs: [(fd: Int32, path: String, size: UInt64)] = []
        defer { inputs.forEach { close($0.fd) } }
        for path in draft.attachments {
            let fd = try FileAccess.openForReading(path: path)
            var st = stat()
            guard fstat(fd, &st) == 0 else { close(fd); throw .fileUnreadable(path: path, reason: FileAccess.errnoText()) }
            inputs.append((fd, path, UInt64(st.st_size)))
        }
        let details = RequestDetails(from: identity.publicIdentity, need: draft.need, languages: languages,
                                     jurisdiction: draft.jurisdiction, court: draft.court, caseReference: draft.caseReference,
                                     hearing: draft.hearing, messageSize: UInt64(draft.message.count),
                                     attachments: zip(draft.attachments, inputs).map {
                                         RequestAttachment(name: ($0.0 as NSString).lastPathComponent, size: $0.1.size) })
        if let why = details.problem() { throw .invalidArgument("cannot write this request: \(why)", hint: nil) }

        let head = RequestHeader(to: draft.to, requestID: Identifier.make(prefix: "req", random: random),
                                 created: Timestamp.format(clock.now()))
        let header = head.bytes
        var detailsBytes = details.bytes
        defer { secureZero(&detailsBytes) }
        let sealedDetailsCount = AEAD.nonceBytes + detailsBytes.count + AEAD.tagBytes
        guard let total = RequestLayout.fileSize(headerBytes: header.count, sealedDetailsBytes: sealedDetailsCount,
                                                 plaintextSizes: [details.messageSize] + details.attachments.map(\.size)),
              total <= RequestLimits.maximumFileBytes else {
            throw .invalidArgument("the request would be larger than \(RequestLimits.maximumFileBytes >> 20) MiB",
                                   hint: "attach fewer or smaller files, and send the rest once the organisation answers")
        }

        let requestKey = SecureBytes(randomCount: KeyDerivation.keyBytes, using: random)
        let stanza: Data
        do { stanza = try SealedBox.seal(requestKey, to: draft.to.encryptionKey) } catch {
            throw .crypto(context: "cannot seal the request to the intake key", error)
        }
        let detailsKey = try RequestLayout.detailsKey(requestKey)
        let sealedDetails: Data
        do throws(CryptoError) {
            sealedDetails = try AEAD.seal(detailsBytes, key: detailsKey,
                                          additionalData: RequestLayout.detailsAssociatedData(header), random: random)
        } catch { throw .crypto(context: "cannot seal the request details", error) }

        let messageKey = try RequestLayout.messageKey(requestKey)
        let attachmentKeys = try inputs.indices.map { i throws(DossierError) in try RequestLayout.attachmentKey(requestKey, index: i) }
        let signatureKey = try RequestLayout.signatureKey(requestKey)
        let out = try AtomicOutput(destination: output, overwrite: overwrite)
        do {
            let hasher = BLAKE2b(length: 64)
            var sink = Blake2b512Sink(base: FileDescriptorSink(fd: out.fd), hasher: hasher)
            func failed(_ e: CryptoError) -> DossierError {
                if case .io(.write, _) = e { return .writeFailed(path: output, reason: e.description) }
                return .crypto(context: "cannot encrypt the request", e)
            }
            do throws(CryptoError) {
                try sink.write(contentsOf: RequestLayout.head(header: header, stanza: stanza, sealedDetails: sealedDetails))
                var message = SecureBytesSource(draft.message)
                try ContentStream.encrypt(key: messageKey, from: &message, to: &sink)
            } catch { throw failed(error) }
            for (i, input) in inputs.enumerated() {
                guard lseek(input.fd, 0, SEEK_SET) == 0 else { throw DossierError.fileUnreadable(path: input.path, reason: FileAccess.errnoText()) }
                var source = LimitedSource(FileDescriptorSource(fd: input.fd), limit: input.size)
                let count: UInt64
                do throws(CryptoError) {
                    count = try ContentStream.encrypt(key: attachmentKeys[i], from: &source, to: &sink)
                } catch {
                    if case .io(.read, _) = error { throw DossierError.fileUnreadable(path: input.path, reason: error.description) }
                    throw failed(error)
                }
                // A file that shrank or grew while it was read would not match its declared size.
                var probe: UInt8 = 0
                guard count == input.size, read(input.fd, &probe, 1) == 0 else {
                    throw DossierError.fileUnreadable(path: input.path, reason: "it changed while it was being read; try again")
                }
            }
            let signature = identity.signing.sign(RequestLayout.signedMessage(digest: hasher.finalize()))
            let sealedSignature: Data
            do throws(CryptoError) {
                sealedSignature = try AEAD.seal(signature, key: signatureKey,
                                                additionalData: RequestLayout.signatureAssociatedData, random: random)
            } catch { throw DossierError.crypto(context: "cannot seal the signature", error) }
            do throws(CryptoError) { try sink.base.write(contentsOf: sealedSignature) } catch { throw failed(error) }
            var st = stat()
            guard fstat(out.fd, &st) == 0, UInt64(st.st_size) == total else {
                throw DossierError.integrity("the request written has \(st.st_size) bytes, not the \(total) its details declare")
            }
        } catch {
            out.abandon()
            throw error as? DossierError ?? .writeFailed(path: output, reason: "\(error)")
        }
        try out.commit(durability)
        return RequestSummary(requestID: head.requestID, path: output, created: head.created, intakeFingerprint: draft.to.fingerprint,
                              senderFingerprint: identity.publicIdentity.fingerprint, attachments: inputs.count, size: total)
    }
}
