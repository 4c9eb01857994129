import DossierCore
import DossierCrypto
import Foundation

func printDocuments(_ docs: [Document], json: Bool) {
    if json { JSONOutput.print(docs.map(DocumentOutput.init)); return }
    if Terminal.stdoutIsTerminal {
        Table.print(headers: ["ID", "KIND", "LANGUAGE", "SIZE", "DEPOSITED", "TITLE"], rows: docs.map { d in
            [d.id, d.kind.rawValue, Language.displayName(d.language), Table.size(d.size), String(d.depositedAt.prefix(10)),
             d.metadata?.title ?? "(removed)"]
        })
        return
    }
    let lines = TableLines()
    for d in docs { d.withListingRow { lines.append($0) } }
    lines.write()
}

/// Ends a listing that succeeded without releasing its documents one by one: for 100,000
/// documents (a million strings) that took a fifth of the command's time, and the system
/// reclaims the memory at once. Output is already written; what C stdio holds is flushed first.
/// The documents are passed in so that they stay alive until then: a temporary would be
/// released, all of it, as soon as the printing returned.
func exitKeepingMemory(_ docs: [Document]) -> Never {
    withExtendedLifetime(docs) {
        StandardOutput.finish()
        Foundation.exit(0)
    }
}

extension Document {
    /// Calls `body` with the fields the table shows, so that a listing of Documents and one of
    /// rows (`listRows`) are printed by the same code.
    func withListingRow(_ body: (ListingRow) -> Void) {
        var (id, language, depositedAt, title) = (id, language, depositedAt, metadata?.title)
        id.withUTF8 { i in
            language.withUTF8 { l in
                depositedAt.withUTF8 { d in
                    func row(_ t: UnsafeBufferPointer<UInt8>?) {
                        body(ListingRow(id: i, kind: kind, language: l, size: size, depositedAt: d, title: t))
                    }
                    if title == nil { row(nil) } else { title!.withUTF8 { row($0) } }
                }
            }
        }
    }
}

/// `Table.print`'s lines for pipes (cells joined by tabs), as bytes appended with plain pointer
/// writes: for 100,000 rows of six cells, Array's checks per append cost more than the copying.
/// The lines hold titles in plaintext: the buffer grows by a copy that zeroes the old one, and
/// is zeroed when released, whether the lines were written or dropped (a listing that fails,
/// or one read again in order). A class, so that this holds on every path; each part belongs
/// to one core at a time (`listRows`), hence unchecked.
final class TableLines: @unchecked Sendable {
    private var storage = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 1 << 16)
    private var count = 0
    /// Display names of the languages seen (a vault has few).
    private var names: [(tag: [UInt8], name: [UInt8])] = []
    private var size: [UInt8] = []

    deinit {
        secureZero(UnsafeMutableRawBufferPointer(storage))
        storage.deallocate()
    }

    func append(_ row: ListingRow) {
        append(row.id); append(0x09)
        append(row.kind.rawValue); append(0x09)
        let tag = row.language
        if let known = names.firstIndex(where: { $0.tag.elementsEqual(tag) }) {
            append(names[known].name)
        } else {
            names.append((Array(tag), Array(Language.displayName(String(decoding: tag, as: UTF8.self)).utf8)))
            append(names[names.count - 1].name)
        }
        append(0x09)
        size.removeAll(keepingCapacity: true)
        Table.appendSize(row.size, to: &size)
        append(size); append(0x09)
        append(UnsafeBufferPointer(rebasing: row.depositedAt.prefix(10))); append(0x09)   // the day (timestamps are ASCII)
        if let title = row.title { append(title) } else { append("(removed)") }
        append(0x0a)
    }

    /// Writes the lines to standard output (`StandardOutput`).
    func write() {
        StandardOutput.write(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(storage)[0..<count]))
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

    private func append(_ b: [UInt8]) { b.withUnsafeBufferPointer { append($0) } }

    private func append(_ s: StaticString) { append(UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount)) }

    private func append(_ s: String) {
        var s = s
        s.withUTF8 { append($0) }
    }
}
