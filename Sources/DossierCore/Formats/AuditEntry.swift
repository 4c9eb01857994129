import DossierCrypto
import Foundation

/// One record of the audit log: who did what to which ids, when, chained to the previous
/// record and signed by the actor. The byte form is specified in docs/formats/vault.md.
///
/// Every field, the time included, is in `body`, which is what the actor signs; the entry's
/// hash covers the body and the signature. Entries hold ids, fingerprints and hashes, never
/// titles, names or content.
public struct AuditEntry: Sendable, Equatable {
    public static let header = "dossier-log-entry/1"

    /// A `key=value` detail. Keys: `[a-z0-9-]+`; values: printable ASCII without spaces.
    public struct Detail: Sendable, Equatable, Codable {
        public let key: String
        public let value: String
        public init(_ key: String, _ value: String) { self.key = key; self.value = value }
    }

    public let seq: UInt64
    /// The time exactly as written (RFC 3339 UTC, milliseconds).
    public let time: String
    /// Fingerprint of the identity that signed the entry.
    public let actor: String
    public let action: String
    /// The action as this version knows it; nil for an action it does not know.
    public var kind: AuditAction? { AuditAction(rawValue: action) }
    /// `type:id` references, e.g. `doc:doc-k3j4m5n6p7q2r`, `staff:ABCD-EFGH-JKLM-NPQR`.
    public let subjects: [String]
    public let details: [Detail]
    /// SHA-256 of the previous entry's bytes; 32 zero bytes for the first entry.
    public let previousHash: Data
    public let signature: Data

    init(seq: UInt64, time: String, actor: String, action: String, subjects: [String], details: [Detail],
         previousHash: Data, signature: Data) {
        self.seq = seq
        self.time = time
        self.actor = actor
        self.action = action
        self.subjects = subjects
        self.details = details
        self.previousHash = previousHash
        self.signature = signature
        // Built once: verification and hashing use it for every entry of long logs.
        body = Self.body(seq: seq, time: time, actor: actor, action: action, subjects: subjects,
                         details: details, previousHash: previousHash)
    }

    /// The value of the first detail named `key`.
    public func detail(_ key: String) -> String? { details.first { $0.key == key }?.value }

    /// The values of every detail named `key`, in order (a key may appear more than once).
    public func details(named key: String) -> [String] { details.filter { $0.key == key }.map(\.value) }

    /// The subjects of one type, without the `type:` prefix.
    public func subjects(ofType type: String) -> [String] {
        subjects.compactMap { $0.hasPrefix(type + ":") ? String($0.dropFirst(type.count + 1)) : nil }
    }

    public var date: Date? { Timestamp.parse(time) }

    /// What the actor signs: every line but the signature.
    public let body: Data

    /// The full entry: body and signature line. This is the Merkle leaf and what the next entry chains to.
    public var bytes: Data { body + Data("sig \(signature.base64EncodedString())\n".utf8) }

    /// SHA-256 of `bytes`.
    public var hash: Data { Hash.sha256(bytes) }

    static func body(seq: UInt64, time: String, actor: String, action: String, subjects: [String],
                     details: [Detail], previousHash: Data) -> Data {
        var text = "\(header)\nseq \(seq)\ntime \(time)\nactor \(actor)\naction \(action)\n"
        for s in subjects { text += "subject \(s)\n" }
        for d in details { text += "detail \(d.key)=\(d.value)\n" }
        text += "prev \(previousHash.hex)\n"
        return Data(text.utf8)
    }

    /// Builds and signs an entry. Throws if a field contains a character the format forbids.
    static func make(seq: UInt64, time: Date, signer: SigningKeyPair, actor: String, action: String,
                     subjects: [String], details: [Detail], previousHash: Data) throws(DossierError) -> AuditEntry {
        let timeText = Timestamp.format(time)
        guard isToken(action, allowed: Self.actionCharacters) else { throw .invalidArgument("bad log action '\(action)'") }
        for s in subjects where !isToken(s, allowed: Self.valueCharacters) { throw .invalidArgument("bad log subject") }
        for d in details where !isToken(d.key, allowed: Self.keyCharacters) || !isToken(d.value, allowed: Self.valueCharacters) {
            throw .invalidArgument("bad log detail '\(d.key)'")
        }
        let body = Self.body(seq: seq, time: timeText, actor: actor, action: action, subjects: subjects,
                             details: details, previousHash: previousHash)
        return AuditEntry(seq: seq, time: timeText, actor: actor, action: action, subjects: subjects,
                          details: details, previousHash: previousHash, signature: signer.sign(body))
    }

    /// Whether `signingKey` signed this entry.
    public func isSigned(by signingKey: Data) -> Bool {
        Signature.verify(signature, of: body, publicKey: signingKey)
    }

    static let actionCharacters = Set("abcdefghijklmnopqrstuvwxyz-".utf8)
    static let keyCharacters = Set("abcdefghijklmnopqrstuvwxyz0123456789-".utf8)
    static let valueCharacters = Set((0x21...0x7e).map { UInt8($0) })

    static func isToken(_ s: String, allowed: Set<UInt8>) -> Bool {
        !s.isEmpty && s.utf8.count <= 4096 && s.utf8.allSatisfy { allowed.contains($0) }
    }

    /// Parses an entry strictly: the bytes must be exactly what `bytes` would produce.
    public static func parse(_ data: Data) throws(DossierError) -> AuditEntry {
        try parse(data, recheckCanonical: true)
    }

    /// `parse`; without `recheckCanonical`, the entry is not serialised again to compare with
    /// `data`: for entries a `LogWalk` has just verified, whose grammar `scan` checked (it
    /// accepts the canonical form only), so that a long log is not encoded twice.
    static func parse(_ data: Data, recheckCanonical: Bool) throws(DossierError) -> AuditEntry {
        let scanned: Result<Layout, DossierError> = data.withUnsafeBytes { raw in
            do throws(DossierError) { return .success(try scan(raw)) } catch { return .failure(error) }
        }
        let layout = try scanned.get()
        func text(_ r: Range<Int>) -> String { String(decoding: data[data.startIndex + r.lowerBound..<data.startIndex + r.upperBound], as: UTF8.self) }
        var subjects: [String] = []
        var details: [Detail] = []
        // The lines between `action` and `prev`, already checked by `scan`.
        var line = layout.extras.lowerBound
        while line < layout.extras.upperBound {
            var end = line
            while data[data.startIndex + end] != 0x0a { end += 1 }
            if data[data.startIndex + line] == UInt8(ascii: "s") {
                subjects.append(text(line + 8..<end))
            } else {
                let kv = text(line + 7..<end)
                let eq = kv.firstIndex(of: "=")!
                details.append(Detail(String(kv[..<eq]), String(kv[kv.index(after: eq)...])))
            }
            line = end + 1
        }
        let sig = data.withUnsafeBytes { StrictBase64.decode(UnsafeRawBufferPointer(rebasing: $0[layout.signature])) }!
        let entry = AuditEntry(seq: layout.seq, time: text(layout.time), actor: text(layout.actor), action: text(layout.action),
                               subjects: subjects, details: details, previousHash: Data(layout.previousHash.data), signature: sig)
        // Canonical form only: one encoding per entry (`scan` accepts nothing else; checked again here).
        guard !recheckCanonical || entry.bytes == data else { throw .integrity("log entry is malformed: not in canonical form") }
        return entry
    }

    /// Where the fields of a well-formed entry lie in its bytes (offsets from its first byte).
    struct Layout: Sendable {
        var seq: UInt64 = 0
        var time: Range<Int> = 0..<0
        var actor: Range<Int> = 0..<0
        var action: Range<Int> = 0..<0
        /// The `subject` and `detail` lines.
        var extras: Range<Int> = 0..<0
        var previousHash = Digest32()
        /// The body: everything before the `sig` line.
        var bodyCount = 0
        /// The base64 signature (88 characters).
        var signature: Range<Int> = 0..<0
    }

    /// Checks an entry's bytes against the grammar of vault.md section 6 in one pass, without
    /// building a String: what `parse` accepts, and nothing else. Verification of long logs
    /// uses this directly, and `parse` only for the few entries that change who may sign.
    /// With `signatureOut`, the 64 signature bytes are written there.
    static func scan(_ b: UnsafeRawBufferPointer, signatureOut: UnsafeMutableRawPointer? = nil) throws(DossierError) -> Layout {
        func bad(_ why: String) -> DossierError { .integrity("log entry is malformed: \(why)") }
        guard b.count <= 1 << 20, b.last == 0x0a else { throw bad("not UTF-8 text ending in a newline") }
        var layout = Layout()
        var at = 0
        /// The end (index of LF) of the line starting at `at`.
        func lineEnd(_ start: Int) -> Int {
            var i = start
            while b[i] != 0x0a { i += 1 }   // the last byte is LF, so this stops
            return i
        }
        func starts(_ prefix: StaticString, at start: Int) -> Bool {
            let n = prefix.utf8CodeUnitCount
            guard start + n <= b.count else { return false }
            return memcmp(b.baseAddress! + start, prefix.utf8Start, n) == 0
        }
        /// The value of the `name value` line at `at`, moving past it.
        func take(_ prefix: StaticString, _ name: String) throws(DossierError) -> Range<Int> {
            guard starts(prefix, at: at) else { throw bad("expected '\(name)'") }
            let end = lineEnd(at)
            let value = at + prefix.utf8CodeUnitCount..<end
            at = end + 1
            return value
        }
        func isToken(_ r: Range<Int>, _ allowed: (UInt8) -> Bool) -> Bool {
            guard !r.isEmpty, r.count <= 4096 else { return false }
            for i in r where !allowed(b[i]) { return false }
            return true
        }
        let printable: (UInt8) -> Bool = { $0 >= 0x21 && $0 <= 0x7e }
        let actionChar: (UInt8) -> Bool = { ($0 >= 0x61 && $0 <= 0x7a) || $0 == 0x2d }
        let keyChar: (UInt8) -> Bool = { ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2d }

        guard starts("dossier-log-entry/1\n", at: 0) else { throw bad("unknown header (not \(header))") }
        at = 20
        let seq = try take("seq ", "seq")
        guard !seq.isEmpty, seq.count <= 20, b[seq.lowerBound] != 0x30 else { throw bad("bad sequence number") }
        var value: UInt64 = 0
        for i in seq {
            let c = b[i]
            guard c >= 0x30 && c <= 0x39 else { throw bad("bad sequence number") }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(c - 0x30))
            guard !o1 && !o2 else { throw bad("bad sequence number") }
            value = sum
        }
        layout.seq = value
        layout.time = try take("time ", "time")
        guard TimestampBytes.isValid(UnsafeRawBufferPointer(rebasing: b[layout.time])) else { throw bad("bad time") }
        layout.actor = try take("actor ", "actor")
        guard Self.isCanonicalFingerprint(UnsafeRawBufferPointer(rebasing: b[layout.actor])) else { throw bad("bad actor fingerprint") }
        layout.action = try take("action ", "action")
        guard isToken(layout.action, actionChar) else { throw bad("bad action") }
        let extrasStart = at
        while starts("subject ", at: at) {
            guard isToken(try take("subject ", "subject"), printable) else { throw bad("bad subject") }
        }
        while starts("detail ", at: at) {
            let kv = try take("detail ", "detail")
            guard let eq = kv.first(where: { b[$0] == 0x3d }) else { throw bad("detail without '='") }
            guard isToken(kv.lowerBound..<eq, keyChar), isToken(eq + 1..<kv.upperBound, printable) else { throw bad("bad detail") }
        }
        layout.extras = extrasStart..<at
        let prev = try take("prev ", "prev")
        guard prev.count == 64 else { throw bad("bad previous hash") }
        let hexOK = withUnsafeMutableBytes(of: &layout.previousHash) { digest -> Bool in
            func nibble(_ c: UInt8) -> UInt8? {
                switch c {
                case 0x30...0x39: return c - 0x30
                case 0x61...0x66: return c - 0x57   // lowercase only: the canonical form
                default: return nil
                }
            }
            for i in 0..<32 {
                guard let hi = nibble(b[prev.lowerBound + 2 * i]), let lo = nibble(b[prev.lowerBound + 2 * i + 1]) else { return false }
                digest[i] = hi << 4 | lo
            }
            return true
        }
        guard hexOK else { throw bad("bad previous hash") }
        layout.bodyCount = at
        guard starts("sig ", at: at) else { throw bad("expected 'sig'") }
        layout.signature = try take("sig ", "sig")
        var scratch = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        let decoded = withUnsafeMutableBytes(of: &scratch) { tmp in
            StrictBase64.decode(UnsafeRawBufferPointer(rebasing: b[layout.signature]),
                                into: UnsafeMutableRawBufferPointer(start: signatureOut ?? tmp.baseAddress, count: 64))
        }
        guard layout.signature.count == 88, decoded else { throw bad("bad signature encoding") }
        guard at == b.count else { throw bad("unexpected trailing lines") }
        return layout
    }

    /// `XXXX-XXXX-XXXX-XXXX` with `A–Z` and `2–7`: what `Fingerprint.normalise` returns.
    static func isCanonicalFingerprint(_ s: UnsafeRawBufferPointer) -> Bool {
        guard s.count == 19 else { return false }
        for i in 0..<19 {
            let c = s[i]
            if i % 5 == 4 {
                guard c == 0x2d else { return false }
            } else {
                guard (c >= 0x41 && c <= 0x5a) || (c >= 0x32 && c <= 0x37) else { return false }
            }
        }
        return true
    }
}
