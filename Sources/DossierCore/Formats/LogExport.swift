import DossierCrypto
import Foundation

/// The self-contained export an auditor verifies elsewhere (docs/formats/log.md):
/// `dossier-log-export/1`, `organisation NAME`, `organisation-key LINE`, then
/// `checkpoint BASE64(note)` lines (oldest first) and `entry BASE64(bytes)` lines in order.
public enum LogExport {
    static let header = "dossier-log-export/1"

    public static func bytes(_ s: LogSnapshot) -> Data {
        var t = "\(header)\norganisation \(s.organisation)\norganisation-key \(s.organisationKey.line)\n"
        for c in s.checkpoints { t += "checkpoint \(Data(c.utf8).base64EncodedString())\n" }
        for e in s.entries { t += "entry \(e.base64EncodedString())\n" }
        return Data(t.utf8)
    }

    /// Parses an export strictly, reading bytes directly: a million entries take seconds, not minutes.
    /// With `firstLoaded` n, the first n entry lines are only counted, not decoded (empty
    /// placeholders), for a verification from a state.
    public static func parse(_ data: Data, path: String, firstLoaded: Int = 0) throws(DossierError) -> LogSnapshot {
        func bad(_ why: String) -> DossierError { .malformedExport(path: path, reason: why) }
        let result: Result<LogSnapshot, DossierError> = data.withUnsafeBytes { raw in
            do throws(DossierError) { return .success(try parse(raw, firstLoaded: firstLoaded, bad: bad)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    private static func parse(_ b: UnsafeRawBufferPointer, firstLoaded: Int, bad: (String) -> DossierError) throws(DossierError) -> LogSnapshot {
        guard b.last == 0x0a else { throw bad("not UTF-8 text ending in a newline") }
        var at = 0
        var lineNumber = 0
        /// The next line (without its LF), moving past it.
        func nextLine() -> UnsafeRawBufferPointer? {
            guard at < b.count else { return nil }
            let start = at
            let end = memchr(b.baseAddress! + at, 0x0a, b.count - at).map { b.baseAddress!.distance(to: UnsafeRawPointer($0)) } ?? b.count
            at = end + 1
            lineNumber += 1
            return UnsafeRawBufferPointer(rebasing: b[start..<end])
        }
        func peek(_ prefix: StaticString) -> Bool {
            let n = prefix.utf8CodeUnitCount
            return at + n <= b.count && memcmp(b.baseAddress! + at, prefix.utf8Start, n) == 0
        }
        /// The value of a `name value` header line, as text.
        func take(_ prefix: StaticString, _ name: String) throws(DossierError) -> String {
            guard peek(prefix), let line = nextLine(), let text = String(validating: UnsafeRawBufferPointer(rebasing: line[prefix.utf8CodeUnitCount...]), as: UTF8.self) else {
                throw bad("expected '\(name)' at line \(lineNumber + 1)")
            }
            return text
        }
        guard peek("dossier-log-export/1\n") else {
            if String(validating: b, as: UTF8.self) == nil { throw bad("not UTF-8 text ending in a newline") }
            throw bad("unknown header (expected \(header))")
        }
        _ = nextLine()
        let name = try take("organisation ", "organisation")
        guard OrganisationName.isValid(name) else { throw bad("bad organisation name (printable ASCII without spaces or '+')") }
        let keyText = try take("organisation-key ", "organisation-key")
        let key: OrganisationKey
        do { key = try OrganisationKey(line: keyText) } catch { throw bad("\(error)") }
        guard key.line == keyText else { throw bad("not in canonical form") }
        /// The bytes of a canonical base64 value; a value that is base64 but not canonical is named so.
        func value(_ line: UnsafeRawBufferPointer, after prefix: Int, what: String) throws(DossierError) -> Data {
            let text = UnsafeRawBufferPointer(rebasing: line[prefix...])
            if let d = StrictBase64.decode(text) { return d }
            if Data(base64Encoded: Data(text)) != nil { throw bad("not in canonical form") }
            throw bad("line \(lineNumber): bad \(what)")
        }
        var checkpoints: [String] = []
        var lastSize: UInt64?
        while peek("checkpoint ") {
            let line = nextLine()!
            let d = try value(line, after: 11, what: "checkpoint")
            guard let note = String(data: d, encoding: .utf8) else { throw bad("line \(lineNumber): bad checkpoint") }
            // Smallest first, each size once (log.md section 5): one export per log. A note that
            // does not parse is left to the verifier, which reports it as the vault's checkpoint
            // failing (it was signed, so it was damaged or forged).
            if let size = try? Checkpoint.parse(try SignedNote.split(note).text).size {
                if let lastSize, size <= lastSize { throw bad("line \(lineNumber): checkpoints out of order or repeated") }
                lastSize = size
            }
            checkpoints.append(note)
        }
        var entries: [Data] = []
        entries.reserveCapacity(b.count / 400)
        while peek("entry ") {
            let line = nextLine()!
            entries.append(entries.count < firstLoaded ? Data() : try value(line, after: 6, what: "entry encoding"))
        }
        guard at == b.count else {
            if String(validating: b, as: UTF8.self) == nil { throw bad("not UTF-8 text ending in a newline") }
            throw bad("unexpected content at line \(lineNumber + 1)")
        }
        return LogSnapshot(organisation: name, organisationKey: key, entries: entries, checkpoints: checkpoints,
                           firstLoaded: min(firstLoaded, entries.count))
    }
}
