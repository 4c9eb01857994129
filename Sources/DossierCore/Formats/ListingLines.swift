import DossierCrypto
import Foundation

/// The lines `list` writes to a pipe or a file, one per document, fields separated by tabs:
/// id, kind, language name, size for people, deposit day (YYYY-MM-DD), title (or
/// `(removed)`). Built with plain pointer writes, on the core that read the rows. Every field
/// that is not ours is made visible (`VisibleText`): a tab or newline in a title shows as
/// `\x09` or `\x0a`, so each document is one line of six fields.
///
/// The lines hold titles in plaintext: the buffer grows by a copy that zeroes the old one, and
/// is zeroed when released, whether the lines were written or dropped (a listing that fails,
/// or one read again in order). A class, so that this holds on every path; each part belongs
/// to one core at a time (`listRows`), hence unchecked.
public final class ListingLines: @unchecked Sendable {
    private var storage = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 1 << 16)
    private var count = 0
    /// Display names of the languages seen (a vault has few).
    private var names: [(tag: [UInt8], name: [UInt8])] = []
    private var size: [UInt8] = []

    init() {}

    /// The lines of documents already read (`search`, or a listing made of Documents).
    public convenience init(_ documents: [Document]) {
        self.init()
        for d in documents {
            var (id, language, depositedAt, title) = (d.id, d.language, d.depositedAt, d.metadata?.title)
            id.withUTF8 { i in
                language.withUTF8 { l in
                    depositedAt.withUTF8 { t in
                        func row(_ title: UnsafeBufferPointer<UInt8>?) {
                            append(ListingRow(id: i, kind: d.kind, language: l, size: d.size, depositedAt: t, title: title))
                        }
                        if title == nil { row(nil) } else { title!.withUTF8 { row($0) } }
                    }
                }
            }
        }
    }

    deinit {
        secureZero(UnsafeMutableRawBufferPointer(storage))
        storage.deallocate()
    }

    /// Writes the lines to `sink` (standard output, say).
    public func write<S: ByteSink>(to sink: inout S) throws(CryptoError) {
        try sink.write(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(storage)[0..<count]))
    }

    func append(_ row: ListingRow) {
        appendVisible(row.id); append(0x09)
        append(row.kind.rawValue); append(0x09)
        let tag = row.language
        if let known = names.firstIndex(where: { $0.tag.elementsEqual(tag) }) {
            append(names[known].name)
        } else {
            let name = VisibleText.escaped(Language.displayName(String(decoding: tag, as: UTF8.self)))
            names.append((Array(tag), Array(name.utf8)))
            append(names[names.count - 1].name)
        }
        append(0x09)
        size.removeAll(keepingCapacity: true)
        ByteCount.append(row.size, to: &size)
        append(size); append(0x09)
        append(UnsafeBufferPointer(rebasing: row.depositedAt.prefix(10))); append(0x09)   // the day (timestamps are ASCII)
        if let title = row.title { appendVisible(title) } else { append("(removed)") }
        append(0x0a)
    }

    private func room(_ n: Int) {
        guard storage.count - count < n else { return }
        let bigger = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: storage.count + max(n, storage.count))
        bigger.baseAddress!.update(from: storage.baseAddress!, count: count)
        secureZero(UnsafeMutableRawBufferPointer(storage))
        storage.deallocate()
        storage = bigger
    }

    private func append(_ b: UInt8) {
        room(1)
        storage[count] = b
        count += 1
    }

    private func append(_ b: UnsafeBufferPointer<UInt8>) {
        guard let from = b.baseAddress, b.count > 0 else { return }
        room(b.count)
        (storage.baseAddress! + count).update(from: from, count: b.count)
        count += b.count
    }

    private func appendVisible(_ b: UnsafeBufferPointer<UInt8>) { VisibleText.escape(b) { append($0) } }

    private func append(_ b: [UInt8]) { b.withUnsafeBufferPointer { append($0) } }

    private func append(_ s: StaticString) { append(UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount)) }

    private func append(_ s: String) {
        var s = s
        s.withUTF8 { append($0) }
    }
}
