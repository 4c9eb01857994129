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
        func bad(_ why: String) -> DossierError { .integrity("log entry is malformed: \(why)") }
        guard data.count <= 1 << 20, let text = String(data: data, encoding: .utf8), var lines = KeyedLines(text) else {
            throw bad("not UTF-8 text ending in a newline")
        }
        func take(_ name: String) throws(DossierError) -> String {
            guard let value = lines.take(name) else { throw bad("expected '\(name)'") }
            return value
        }
        guard lines.header(header) else { throw bad("unknown header (not \(header))") }
        let seqText = try take("seq")
        guard let seq = UInt64(seqText), String(seq) == seqText, seq >= 1 else { throw bad("bad sequence number") }
        let time = try take("time")
        guard Timestamp.parse(time) != nil else { throw bad("bad time") }
        let actor = try take("actor")
        guard Fingerprint.normalise(actor) == actor else { throw bad("bad actor fingerprint") }
        let action = try take("action")
        guard isToken(action, allowed: actionCharacters) else { throw bad("bad action") }
        var subjects: [String] = []
        while lines.nextIs("subject") {
            let subject = try take("subject")
            guard isToken(subject, allowed: valueCharacters) else { throw bad("bad subject") }
            subjects.append(subject)
        }
        var details: [Detail] = []
        while lines.nextIs("detail") {
            let kv = try take("detail")
            guard let eq = kv.firstIndex(of: "=") else { throw bad("detail without '='") }
            let detail = Detail(String(kv[..<eq]), String(kv[kv.index(after: eq)...]))
            guard isToken(detail.key, allowed: keyCharacters), isToken(detail.value, allowed: valueCharacters) else { throw bad("bad detail") }
            details.append(detail)
        }
        guard let prev = Data(hex: try take("prev")), prev.count == 32 else { throw bad("bad previous hash") }
        let sigText = try take("sig")
        guard let sig = Data(base64Encoded: sigText), sig.count == 64 else { throw bad("bad signature encoding") }
        guard lines.isEmpty else { throw bad("unexpected trailing lines") }
        let entry = AuditEntry(seq: seq, time: time, actor: actor, action: action, subjects: subjects,
                               details: details, previousHash: prev, signature: sig)
        // Canonical form only: one encoding per entry.
        guard entry.bytes == data else { throw bad("not in canonical form") }
        return entry
    }
}
