import DossierCrypto
import Foundation

// The request file (docs/formats/request.md): its public header, its sealed details, and the
// byte layout and key schedule that the writer (RequestWriter) and reader (RequestReader) share.

/// What counsel ask for (`need`).
public enum RequestNeed: String, CaseIterable, Sendable, Codable {
    /// Existing reports on a topic or jurisdiction.
    case reports
    /// A report written for this case.
    case expertReport = "expert-report"
    /// An expert to give evidence at a hearing.
    case expertWitness = "expert-witness"
    case other

    public init(parsing text: String) throws(DossierError) {
        guard let need = RequestNeed(rawValue: text) else {
            throw .invalidArgument("unknown need '\(text)'", hint: "use one of: \(RequestNeed.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = need
    }
}

/// One attachment as the details list it: its name and plaintext size.
public struct RequestAttachment: Equatable, Sendable, Codable {
    public let name: String
    public let size: UInt64
    public init(name: String, size: UInt64) {
        self.name = name
        self.size = size
    }
}

/// The limits of version 1 (request.md, section 1).
public enum RequestLimits {
    /// The whole file.
    public static let maximumFileBytes: UInt64 = 64 << 20
    /// The details text, before sealing.
    public static let maximumDetailsBytes = 64 << 10
    /// The header text.
    public static let maximumHeaderBytes = 4096
    /// The message, 1 byte to 1 MiB of UTF-8.
    public static let maximumMessageBytes: UInt64 = 1 << 20
    public static let maximumAttachments = 100
    public static let maximumLanguages = 16
    /// A `jurisdiction`, `court` or `case` value, in bytes of UTF-8.
    public static let maximumTextBytes = 256
    /// An attachment name, in bytes of UTF-8.
    public static let maximumNameBytes = 255
}

/// The public header: to whom, which request, when. All an interceptor learns besides the sizes.
public struct RequestHeader: Equatable, Sendable {
    public static let header = "dossier-request/1"
    public var to: IntakeKey
    public var requestID: String
    public var created: String

    public init(to: IntakeKey, requestID: String, created: String) {
        self.to = to
        self.requestID = requestID
        self.created = created
    }

    public var bytes: Data {
        Data("\(Self.header)\nto \(to.line)\nrequest \(requestID)\ncreated \(created)\n".utf8)
    }

    /// Parses strictly: the bytes must be exactly what `bytes` produces.
    static func parse(_ data: Data, path: String) throws(DossierError) -> RequestHeader {
        func bad(_ why: String) -> DossierError { .malformedRequest(path: path, reason: "header: \(why)") }
        guard let text = String(data: data, encoding: .utf8), var lines = KeyedLines(text) else { throw bad("not UTF-8 text ending in a newline") }
        guard lines.header(header) else {
            if let first = lines.next, first.hasPrefix("dossier-request/") { throw bad("unsupported version '\(first.prefix(40))'; upgrade dossier") }
            throw bad("unknown first line")
        }
        guard let toLine = lines.take("to") else { throw bad("expected 'to'") }
        let to: IntakeKey
        do { to = try IntakeKey(line: toLine) } catch { throw bad("bad intake key (\(error.message))") }
        guard let requestID = lines.take("request") else { throw bad("expected 'request'") }
        guard Identifier.isWellFormed(requestID, prefix: "req") else { throw bad("bad request id") }
        guard let created = lines.take("created") else { throw bad("expected 'created'") }
        guard Timestamp.parse(created) != nil else { throw bad("bad time") }
        guard lines.isEmpty else { throw bad("unexpected line \(lines.lineNumber)") }
        let parsed = RequestHeader(to: to, requestID: requestID, created: created)
        guard parsed.bytes == data else { throw bad("not in canonical form") }
        return parsed
    }
}

/// The sealed details: who asks, for what, in which languages, for which court and case, and
/// the sizes of the message and attachments.
public struct RequestDetails: Equatable, Sendable {
    public static let header = "dossier-request-details/1"

    public var from: PublicIdentity
    public var need: RequestNeed
    /// BCP 47 tags in canonical case, in the order counsel gave them, all different.
    public var languages: [String]
    public var jurisdiction: String?
    public var court: String?
    public var caseReference: String?
    /// `YYYY-MM-DD`.
    public var hearing: String?
    public var messageSize: UInt64
    public var attachments: [RequestAttachment]

    public init(from: PublicIdentity, need: RequestNeed, languages: [String], jurisdiction: String? = nil, court: String? = nil,
                caseReference: String? = nil, hearing: String? = nil, messageSize: UInt64, attachments: [RequestAttachment] = []) {
        self.from = from
        self.need = need
        self.languages = languages
        self.jurisdiction = jurisdiction
        self.court = court
        self.caseReference = caseReference
        self.hearing = hearing
        self.messageSize = messageSize
        self.attachments = attachments
    }

    public var bytes: Data {
        var t = "\(Self.header)\nfrom \(from.line)\nneed \(need.rawValue)\n"
        for l in languages { t += "language \(l)\n" }
        if let jurisdiction { t += "jurisdiction \(jurisdiction)\n" }
        if let court { t += "court \(court)\n" }
        if let caseReference { t += "case \(caseReference)\n" }
        if let hearing { t += "hearing \(hearing)\n" }
        t += "message \(messageSize)\n"
        for a in attachments { t += "attachment \(a.size) \(a.name)\n" }
        return Data(t.utf8)
    }

    /// The first rule of section 4 the values break, or nil. The writer refuses such details
    /// before it writes anything; the reader refuses a file whose details break one.
    public func problem() -> String? {
        if languages.isEmpty { return "no language is given" }
        if languages.count > RequestLimits.maximumLanguages { return "more than \(RequestLimits.maximumLanguages) languages" }
        for l in languages {
            guard let canonical = Language.parse(l) else { return "'\(l)' is not a BCP 47 language tag" }
            guard canonical == l else { return "the language tag '\(l)' is not in canonical case ('\(canonical)')" }
        }
        if Set(languages).count != languages.count { return "a language is given twice" }
        for (field, value) in [("jurisdiction", jurisdiction), ("court", court), ("case", caseReference)] {
            if let value, let why = RequestText.problem(value) { return "the \(field) \(why)" }
        }
        if let hearing, !RequestText.isDate(hearing) { return "the hearing date '\(hearing)' is not a day of the calendar written YYYY-MM-DD" }
        if messageSize == 0 { return "the message is empty" }
        if messageSize > RequestLimits.maximumMessageBytes { return "the message is larger than 1 MiB" }
        if attachments.count > RequestLimits.maximumAttachments { return "more than \(RequestLimits.maximumAttachments) attachments" }
        var names: [String] = []
        for a in attachments {
            if let why = RequestText.nameProblem(a.name) { return "the attachment name '\(a.name)' \(why)" }
            // Swift compares Strings under canonical equivalence: NFC and NFD forms are one name.
            if names.contains(a.name) { return "two attachments are named '\(a.name)'" }
            names.append(a.name)
        }
        if bytes.count > RequestLimits.maximumDetailsBytes { return "the details are longer than 64 KiB" }
        return nil
    }

    /// Parses strictly: the lines of section 4 in order, every rule, canonical form.
    static func parse(_ data: Data, path: String) throws(DossierError) -> RequestDetails {
        func bad(_ why: String) -> DossierError { .malformedRequest(path: path, reason: "details: \(why)") }
        guard let text = String(data: data, encoding: .utf8), var lines = KeyedLines(text) else { throw bad("not UTF-8 text ending in a newline") }
        guard lines.header(header) else { throw bad("unknown first line") }
        let order = ["from", "need", "language", "jurisdiction", "court", "case", "hearing", "message", "attachment"]
        guard let fromLine = lines.take("from") else { throw bad(lines.misplaced(expected: "from", order: order)) }
        let from: PublicIdentity
        do { from = try PublicIdentity(line: fromLine) } catch { throw bad("bad sender line (\(error.message))") }
        guard let needText = lines.take("need") else { throw bad(lines.misplaced(expected: "need", order: order)) }
        guard let need = RequestNeed(rawValue: needText) else {
            throw bad("line \(lines.lineNumber - 1): unknown need '\(needText.prefix(40))' (known: \(RequestNeed.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        var languages: [String] = []
        while let l = lines.take("language") { languages.append(l) }
        let jurisdiction = lines.take("jurisdiction"), court = lines.take("court"), caseReference = lines.take("case")
        let hearing = lines.take("hearing")
        guard let messageText = lines.take("message") else { throw bad(lines.misplaced(expected: "message", order: order)) }
        guard let messageSize = RequestText.size(messageText) else {
            throw bad("line \(lines.lineNumber - 1): the message size '\(messageText.prefix(24))' is not a size (decimal digits, no leading zero)")
        }
        var attachments: [RequestAttachment] = []
        while let a = lines.take("attachment") {
            guard let space = a.firstIndex(of: " "), let size = RequestText.size(a[..<space]) else {
                throw bad("line \(lines.lineNumber - 1): malformed attachment line (expected a size, a space and a name)")
            }
            attachments.append(RequestAttachment(name: String(a[a.index(after: space)...]), size: size))
        }
        guard lines.isEmpty else { throw bad(lines.misplaced(expected: "attachment", orEnd: true, order: order)) }
        let parsed = RequestDetails(from: from, need: need, languages: languages, jurisdiction: jurisdiction, court: court,
                                    caseReference: caseReference, hearing: hearing, messageSize: messageSize, attachments: attachments)
        if let why = parsed.problem() { throw bad(why) }
        guard parsed.bytes == data else { throw bad("not in canonical form") }
        return parsed
    }
}

/// The value rules of the details (request.md, section 4).
public enum RequestText {
    /// Scalars no visible value may hold: C0 controls (TAB and LF included), DEL, C1 controls,
    /// the bidirectional marks, embeddings, overrides and isolates, and the line and paragraph
    /// separators: VisibleText's set, without the backslash.
    static func isForbidden(_ v: UInt32) -> Bool {
        switch v {
        case 0x00...0x1f, 0x7f...0x9f, 0x200e, 0x200f, 0x2028...0x202e, 0x2066...0x2069: return true
        default: return false
        }
    }

    /// Why `value` cannot be a `jurisdiction`, `court` or `case` value, or nil.
    public static func problem(_ value: String) -> String? {
        if value.isEmpty { return "is empty" }
        if value.utf8.count > RequestLimits.maximumTextBytes { return "is longer than \(RequestLimits.maximumTextBytes) bytes" }
        if let s = value.unicodeScalars.first(where: { isForbidden($0.value) }) {
            return "holds a control or bidirectional character (U+\(String(format: "%04X", s.value)))"
        }
        if value.unicodeScalars.first == " " || value.unicodeScalars.last == " " { return "starts or ends with a space" }
        return nil
    }

    /// Why `name` cannot be an attachment name, or nil: a value that is also a safe file name.
    public static func nameProblem(_ name: String) -> String? {
        if name.isEmpty { return "is empty" }
        if name.utf8.count > RequestLimits.maximumNameBytes { return "is longer than \(RequestLimits.maximumNameBytes) bytes" }
        if name.unicodeScalars.contains(where: { $0 == "/" || $0 == "\\" }) { return "holds a path separator ('/' or '\\')" }
        if name.hasPrefix(".") { return "starts with '.'" }
        if let s = name.unicodeScalars.first(where: { isForbidden($0.value) }) {
            return "holds a control or bidirectional character (U+\(String(format: "%04X", s.value)))"
        }
        if name.unicodeScalars.first == " " || name.unicodeScalars.last == " " { return "starts or ends with a space" }
        return nil
    }

    /// Whether `text` is `YYYY-MM-DD`, a date of the Gregorian calendar.
    public static func isDate(_ text: String) -> Bool {
        text.utf8.count == 10 && Timestamp.parse(text + "T00:00:00.000Z") != nil
    }

    /// A decimal size without sign or leading zero, at most 2^50.
    static func size(_ text: Substring) -> UInt64? {
        guard !text.isEmpty, text.utf8.count <= 16, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
              text == "0" || text.utf8.first != 0x30, let v = UInt64(text), v <= 1 << 50 else { return nil }
        return v
    }

    static func size(_ text: String) -> UInt64? { size(Substring(text)) }
}

/// Byte layout and key schedule, shared by writer and reader (request.md, sections 1 and 3).
enum RequestLayout {
    static let magic = Data([0x44, 0x52, 0x51, 0x01]) // "DRQ" 1
    static let stanzaBytes = 32 + SealedBox.overhead                                          // 80
    static let sealedSignatureBytes = AEAD.nonceBytes + SigningKeyPair.signatureBytes + AEAD.tagBytes // 104
    static let minimumSealedDetails = AEAD.nonceBytes + AEAD.tagBytes + 1
    static let maximumSealedDetails = AEAD.nonceBytes + AEAD.tagBytes + RequestLimits.maximumDetailsBytes
    static let kdfContext = "DOSSREQ1"
    static let signatureContext = "DOSSRSIG"
    static let detailsLabel = "dossier-request-details/1\n"
    static let signatureLabel = "dossier-request-signature/1\n"

    private static func subkey(_ k: SecureBytes, _ id: UInt64, _ context: String) throws(DossierError) -> SecureBytes {
        do { return try KeyDerivation.subkey(from: k, id: id, context: context) } catch { throw .crypto(context: "request key", error) }
    }

    /// The details key: subkey 0.
    static func detailsKey(_ k: SecureBytes) throws(DossierError) -> SecureBytes { try subkey(k, 0, kdfContext) }
    /// The message's stream key: subkey 1.
    static func messageKey(_ k: SecureBytes) throws(DossierError) -> SecureBytes { try subkey(k, 1, kdfContext) }
    /// Attachment `index`'s stream key (index from 0): subkey index + 2.
    static func attachmentKey(_ k: SecureBytes, index: Int) throws(DossierError) -> SecureBytes { try subkey(k, UInt64(index) + 2, kdfContext) }
    /// The key that seals the signature: subkey 0 under its own context.
    static func signatureKey(_ k: SecureBytes) throws(DossierError) -> SecureBytes { try subkey(k, 0, signatureContext) }

    static func detailsAssociatedData(_ header: Data) -> Data { Data(detailsLabel.utf8) + Hash.sha256(header) }
    static var signatureAssociatedData: Data { Data(signatureLabel.utf8) }
    /// What the sender signs: the label and the BLAKE2b-512 of every byte before the sealed signature.
    static func signedMessage(digest: Data) -> Data { Data(signatureLabel.utf8) + digest }

    /// Everything before the content: magic, header length, header, stanza, details length, sealed details.
    static func head(header: Data, stanza: Data, sealedDetails: Data) -> Data {
        var d = magic
        d.append(Data.bigEndian(UInt32(header.count)))
        d.append(header)
        d.append(stanza)
        d.append(Data.bigEndian(UInt32(sealedDetails.count)))
        d.append(sealedDetails)
        return d
    }

    /// The exact size of a file with these parts; nil on overflow.
    static func fileSize(headerBytes: Int, sealedDetailsBytes: Int, plaintextSizes: [UInt64]) -> UInt64? {
        var total = UInt64(8 + headerBytes + stanzaBytes + 4 + sealedDetailsBytes + sealedSignatureBytes)
        for s in plaintextSizes {
            guard s <= 1 << 50 else { return nil }
            let (sum, overflow) = total.addingReportingOverflow(ContentStream.ciphertextSize(plaintextSize: s))
            guard !overflow else { return nil }
            total = sum
        }
        return total
    }
}

/// A sink that hashes what it forwards with BLAKE2b-512, in order, on the writing thread.
struct Blake2b512Sink<Base: ByteSink>: ByteSink {
    var base: Base
    let hasher: BLAKE2b
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws(CryptoError) {
        hasher.update(bytes)
        try base.write(bytes)
    }
}

/// A source that hashes what it reads with BLAKE2b-512, in order, on the reading thread.
struct Blake2b512Source<Base: ByteSource>: ByteSource {
    var base: Base
    let hasher: BLAKE2b
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(CryptoError) -> Int {
        let n = try base.read(into: buffer)
        hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        return n
    }
}

/// Reads a secret held in guarded memory.
struct SecureBytesSource: ByteSource {
    let bytes: SecureBytes
    var offset = 0
    init(_ bytes: SecureBytes) { self.bytes = bytes }
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(CryptoError) -> Int {
        let n = min(buffer.count, bytes.count - offset)
        if n > 0 {
            let start = offset
            bytes.withUnsafeBytes { src in buffer.baseAddress!.copyMemory(from: src.baseAddress! + start, byteCount: n) }
            offset += n
        }
        return n
    }
}

/// Discards what it is given (content that is only checked).
struct DiscardingSink: ByteSink {
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws(CryptoError) {}
}
