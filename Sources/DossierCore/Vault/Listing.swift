import DossierCrypto
import Foundation

// A catalogue listing (`list`, `search`), as the domain sees it. The store reads the rows
// (`VaultStore.listDocuments`, in parallel where it can), each core opens the sealed metadata
// of the rows it reads with its own `MetadataReader`, and hands every row it keeps to its
// own `ListingSink`. The sinks come back in deposit order: their concatenation is the listing.

/// Which documents a listing wants.
struct ListingQuery: Sendable {
    var includeRemoved = false
    var kind: DocumentKind?
    /// A canonical BCP 47 tag.
    var language: String?
    /// A condition on the opened metadata (search words, a case reference), if any.
    var condition: MetadataCondition?
}

/// Tests: `inSnapshot` runs once the listing's first reader has its snapshot, before any other
/// takes its own; `readers` is told how many readers read; `beforeSorting` runs if the rows
/// were out of deposit order, before they are read again sorted.
struct ListingProbe {
    var inSnapshot: (() throws -> Void)?
    var readers: ((Int) -> Void)?
    var beforeSorting: (() throws -> Void)?
}

/// One listed document as the core that read it sees it: the stored fields' UTF-8 and its
/// opened metadata. Valid only while a sink takes it; the metadata is wiped after.
protocol ListedRow {
    var id: UnsafeBufferPointer<UInt8> { get }
    var kind: DocumentKind { get }
    var language: UnsafeBufferPointer<UInt8> { get }
    var size: UInt64 { get }
    var depositedAt: UnsafeBufferPointer<UInt8> { get }
    var depositedBy: UnsafeBufferPointer<UInt8> { get }
    var removedAt: UnsafeBufferPointer<UInt8>? { get }
    var removedBy: UnsafeBufferPointer<UInt8>? { get }
    /// Nil for a removed document.
    var metadata: OpenedMetadata? { get }
}

/// What one core makes of the rows it reads (documents, or the caller's parts).
protocol ListingSink: SendableMetatype {
    mutating func take<R: ListedRow>(_ row: R)
}

/// A document's metadata just opened: the plaintext and where its fields are (binary form),
/// or the JSON form of older vaults, decoded.
struct OpenedMetadata {
    let plain: UnsafeRawBufferPointer
    let fields: DocumentMetadata.Fields?
    let legacy: DocumentMetadata?

    /// The metadata, decoded.
    func decoded() -> DocumentMetadata? {
        if let legacy { return legacy }
        return fields.map { DocumentMetadata.decode(plain, $0) }
    }

    /// The title's UTF-8, nil for the JSON form.
    var binaryTitle: UnsafeBufferPointer<UInt8>? {
        guard let fields else { return nil }
        return UnsafeRawBufferPointer(rebasing: plain[fields.title]).assumingMemoryBound(to: UInt8.self)
    }
}

/// Opens the sealed metadata of listed rows and checks them against the listing's condition.
/// One per listing; each core makes its own `reader()`.
struct MetadataOpener: @unchecked Sendable {
    let vaultKey: SecureBytes
    let condition: MetadataCondition?

    /// A reader for one core, with its own scratch memory; `close` it when done.
    func reader() -> MetadataReader { MetadataReader(vaultKey: vaultKey, keep: condition) }
}

/// One core's opening of metadata: a scratch buffer for the plaintext, zeroed after every row
/// and freed by `close` (guarded memory would cost system calls per row).
struct MetadataReader {
    private let vaultKey: SecureBytes
    private var keep: MetadataCondition?
    private var ad = Array("dossier/\(Sealing.Purpose.metadata.rawValue)/v1\n".utf8)
    private let prefix: Int
    private var plain = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 4096)

    fileprivate init(vaultKey: SecureBytes, keep: MetadataCondition?) {
        self.vaultKey = vaultKey
        self.keep = keep
        prefix = ad.count
    }

    /// Whether rows without metadata (removed documents) are listed: only with no condition.
    var keepsRemoved: Bool { keep == nil }

    /// Opens `sealed`, the metadata of document `id`, and calls `body` with it if the listing's
    /// condition keeps it; the plaintext is wiped when `body` returns. Nil if not kept.
    mutating func withOpened<T>(_ sealed: UnsafeRawBufferPointer, id: UnsafeBufferPointer<UInt8>,
                                _ body: (OpenedMetadata) -> T) throws(DossierError) -> T? {
        let n = sealed.count - AEAD.nonceBytes - AEAD.tagBytes
        guard n >= 0 else { throw notAuthentic(id) }
        if plain.count < n {
            secureZero(UnsafeMutableRawBufferPointer(plain))
            plain.deallocate()
            plain = .allocate(capacity: n)
        }
        let target = UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: plain[0..<n]))
        defer { secureZero(target) }
        ad.removeSubrange(prefix...)
        ad.append(contentsOf: id)
        let key = vaultKey
        guard ad.withUnsafeBytes({ a in AEAD.open(sealed, key: key, additionalData: a, into: target) }) else { throw notAuthentic(id) }
        let opened = UnsafeRawBufferPointer(target)
        var fields: DocumentMetadata.Fields?, legacy: DocumentMetadata?
        if opened.first == UInt8(ascii: "{") {
            legacy = DocumentMetadata.decode(opened)
        } else {
            fields = DocumentMetadata.Fields(opened)
        }
        guard fields != nil || legacy != nil else { throw .integrity("the metadata of \(String(decoding: id, as: UTF8.self)) is unreadable") }
        if keep != nil, !keep!.accepts(opened, fields, legacy) { return nil }
        return body(OpenedMetadata(plain: opened, fields: fields, legacy: legacy))
    }

    /// Zeroes and frees the scratch buffer and what the condition kept.
    mutating func close() {
        secureZero(UnsafeMutableRawBufferPointer(plain))
        plain.deallocate()
        plain = UnsafeMutableBufferPointer(start: nil, count: 0)
        keep?.wipe()
    }

    private func notAuthentic(_ id: UnsafeBufferPointer<UInt8>) -> DossierError {
        .integrity("the sealed metadata of \(String(decoding: id, as: UTF8.self)) does not authenticate under the vault key (altered or swapped)")
    }
}

/// What a listing asks of a document's metadata, checked on the core that opens it; a removed
/// document (no metadata) never matches.
struct MetadataCondition: Sendable {
    /// The whole case reference, if given.
    var caseReference: String?
    /// Words that must all occur, if given.
    var words: DocumentMetadata.Matcher?

    /// Zeroes what the word matching kept of the last document it saw.
    mutating func wipe() { words?.wipe() }

    /// Whether opened metadata is kept: `plain` with its `fields` (binary form), or `legacy`
    /// (the JSON form, decoded). The binary form is matched on its bytes, without decoding.
    mutating func accepts(_ plain: UnsafeRawBufferPointer, _ fields: DocumentMetadata.Fields?, _ legacy: DocumentMetadata?) -> Bool {
        guard let fields else { return legacy.map { accepts($0) } ?? false }
        if let caseReference {
            guard let r = fields.caseReference else { return false }
            let bytes = UnsafeRawBufferPointer(rebasing: plain[r])
            // Bytes decide for ASCII; otherwise Strings, which compare canonically equivalent forms equal.
            if !bytes.elementsEqual(caseReference.utf8) {
                if bytes.allSatisfy({ $0 < 0x80 }) && caseReference.utf8.allSatisfy({ $0 < 0x80 }) { return false }
                if String(decoding: bytes, as: UTF8.self) != caseReference { return false }
            }
        }
        guard words != nil else { return true }
        return words!.matches(encoded: plain, fields)
    }

    mutating func accepts(_ m: DocumentMetadata) -> Bool {
        if let caseReference, m.caseReference != caseReference { return false }
        if words != nil { return words!.matches(m) }
        return true
    }
}

/// Makes a `Document` of each row, with one string for each value that repeats across rows
/// (one staff member deposits thousands of documents).
struct DocumentSink: ListingSink {
    var documents: [Document] = []
    private var recent: [(bytes: [UInt8], string: String)] = []

    mutating func take<R: ListedRow>(_ r: R) {
        documents.append(Document(id: Self.string(r.id), kind: r.kind, language: shared(r.language), size: r.size,
                                  depositedAt: Self.string(r.depositedAt), depositedBy: shared(r.depositedBy),
                                  metadata: r.metadata?.decoded(),
                                  removedAt: r.removedAt.map(Self.string), removedBy: r.removedBy.map { shared($0) }))
    }

    static func string(_ b: UnsafeBufferPointer<UInt8>) -> String { String(decoding: b, as: UTF8.self) }

    private mutating func shared(_ b: UnsafeBufferPointer<UInt8>) -> String {
        if b.count <= 15 { return Self.string(b) }   // small strings are stored inline anyway
        if let known = recent.first(where: { r in r.bytes.count == b.count && r.bytes.withUnsafeBytes { memcmp($0.baseAddress!, b.baseAddress!, b.count) == 0 } }) {
            return known.string
        }
        let s = Self.string(b)
        if recent.count < 16 { recent.append((Array(b), s)) }
        return s
    }
}

/// The fields of a listed document that `list`'s lines show, as the core that read it sees
/// them (`StaffSession.listRows`): valid only during the call that receives the row, and the
/// title, which is plaintext, is zeroed after it. Text is UTF-8.
struct ListingRow {
    let id: UnsafeBufferPointer<UInt8>
    let kind: DocumentKind
    /// The BCP 47 tag, as `Document.language`.
    let language: UnsafeBufferPointer<UInt8>
    let size: UInt64
    /// As `Document.depositedAt`.
    let depositedAt: UnsafeBufferPointer<UInt8>
    /// Nil for a removed document.
    let title: UnsafeBufferPointer<UInt8>?
}

/// Hands each row's table fields to the caller's `add`, into this core's part. The title of
/// metadata in the JSON form of older vaults is copied to a scratch buffer, zeroed after.
struct RowSink<Part>: ListingSink {
    var part: Part
    let add: (inout Part, ListingRow) -> Void

    mutating func take<R: ListedRow>(_ r: R) {
        let row = { (title: UnsafeBufferPointer<UInt8>?) in
            ListingRow(id: r.id, kind: r.kind, language: r.language, size: r.size, depositedAt: r.depositedAt, title: title)
        }
        guard let legacy = r.metadata?.legacy else { return add(&part, row(r.metadata?.binaryTitle)) }
        var title = Array(legacy.title.utf8)
        defer { title.withUnsafeMutableBytes { secureZero($0) } }
        title.withUnsafeBufferPointer { add(&part, row($0)) }
    }
}
