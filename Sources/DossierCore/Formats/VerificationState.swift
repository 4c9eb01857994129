import DossierCrypto
import Foundation

/// What an auditor keeps after verifying a log, so that the next verification reads only the
/// entries appended since (docs/formats/log.md, section 7): a checkpoint signed by the
/// organisation, the audit path of its last entry, and who may sign after it.
///
/// The checkpoint's signature and the path are checked against the organisation key and the
/// log, so an altered checkpoint, path or last entry is refused. The list of signers cannot be
/// checked without reading the whole log: it is trusted as the auditor wrote it.
public struct VerificationState: Sendable, Equatable {
    static let header = "dossier-verification-state/1"

    public let organisation: String
    public let organisationKey: OrganisationKey
    /// The signed note of the checkpoint the state is at.
    public let checkpoint: String
    /// PATH(size − 1, D[size]): the audit path of the checkpoint's last entry, nearest first.
    let path: [Digest32]
    /// Who may sign entry size + 1 and on, by public identity line, sorted.
    public let signers: [String]
    /// The certificates by the organisation root logged in entries 1 to size and not revoked
    /// there (one `certificate` line each, sorted): the keys a later checkpoint may be signed
    /// with when its `certify` entry is among the entries a resumed verification skips. Each
    /// is checked against the root again when the state is used.
    public let certificates: [String]
    /// The fingerprints among the signers that are the key-release service (added with
    /// `role=service`), sorted: they may sign only openings, refusals and received requests.
    public let services: [String]

    init(organisation: String, organisationKey: OrganisationKey, checkpoint: String, path: [Digest32], signers: [String],
         certificates: [String] = [], services: [String] = []) {
        self.services = services.sorted()
        self.organisation = organisation
        self.organisationKey = organisationKey
        self.checkpoint = checkpoint
        self.path = path
        self.signers = signers.sorted()
        self.certificates = certificates.sorted()
    }

    public static func == (a: VerificationState, b: VerificationState) -> Bool { a.bytes == b.bytes }

    /// The number of entries the state covers: its checkpoint's size (nil if the note is malformed).
    public var size: UInt64? { try? Checkpoint.parse(try SignedNote.split(checkpoint).text).size }

    /// The file's bytes.
    public var bytes: Data {
        var t = "\(Self.header)\norganisation \(organisation)\norganisation-key \(organisationKey.line)\n"
        t += "checkpoint \(Data(checkpoint.utf8).base64EncodedString())\n"
        for p in path { t += "path \(p.data.base64EncodedString())\n" }
        for s in signers { t += "signer \(s)\n" }
        for c in certificates { t += "certificate \(c)\n" }
        for f in services { t += "service \(f)\n" }
        return Data(t.utf8)
    }

    /// Parses a state file strictly (one encoding per state). Signatures and hashes are checked
    /// later, against the log, by `AuditVerifier.verify`.
    public static func parse(_ data: Data, path file: String) throws(DossierError) -> VerificationState {
        func bad(_ why: String) -> DossierError { .malformedState(path: file, reason: why) }
        guard data.count <= 1 << 20, let text = String(data: data, encoding: .utf8), var lines = KeyedLines(text) else {
            throw bad("not UTF-8 text ending in a newline")
        }
        func take(_ name: String) throws(DossierError) -> String {
            guard let value = lines.take(name) else { throw bad("expected '\(name)' at line \(lines.lineNumber)") }
            return value
        }
        guard lines.header(header) else { throw bad("unknown header (expected \(header))") }
        let name = try take("organisation")
        guard OrganisationName.isValid(name) else { throw bad("bad organisation name") }
        let key: OrganisationKey
        do { key = try OrganisationKey(line: try take("organisation-key")) } catch { throw bad("\(error)") }
        guard let noteBytes = Data(base64Encoded: try take("checkpoint")), let note = String(data: noteBytes, encoding: .utf8) else {
            throw bad("bad checkpoint")
        }
        var hashes: [Digest32] = []
        while lines.nextIs("path") {
            guard let d = Data(base64Encoded: try take("path")), let h = Digest32(d) else { throw bad("bad path hash at line \(lines.lineNumber - 1)") }
            hashes.append(h)
        }
        guard hashes.count <= 128 else { throw bad("too many path hashes") }
        var signers: [String] = []
        while lines.nextIs("signer") {
            let line = try take("signer")
            do { _ = try PublicIdentity(line: line) } catch { throw bad("bad signer at line \(lines.lineNumber - 1)") }
            signers.append(line)
        }
        var certificates: [String] = []
        while lines.nextIs("certificate") {
            let line = try take("certificate")
            do { _ = try Certificate.parse(line: line) } catch { throw bad("bad certificate at line \(lines.lineNumber - 1)") }
            certificates.append(line)
        }
        var services: [String] = []
        while lines.nextIs("service") {
            let fp = try take("service")
            guard Fingerprint.normalise(fp) == fp else { throw bad("bad service fingerprint at line \(lines.lineNumber - 1)") }
            services.append(fp)
        }
        guard lines.isEmpty else { throw bad("unexpected content at line \(lines.lineNumber)") }
        // The size is used before the signature is checked (to skip the entries it covers), so
        // it must already make sense: at least 1, and a count this machine can hold.
        guard let size = try? Checkpoint.parse(try SignedNote.split(note).text).size, size >= 1, size <= UInt64(Int32.max) else {
            throw bad("its checkpoint is not a note of a log of 1 to \(Int32.max) entries")
        }
        let state = VerificationState(organisation: name, organisationKey: key, checkpoint: note, path: hashes, signers: signers,
                                      certificates: certificates, services: services)
        guard state.bytes == data else { throw bad("not in canonical form") }
        guard zip(state.signers, state.signers.dropFirst()).allSatisfy({ $0 != $1 }) else { throw bad("a signer is listed twice") }
        guard zip(state.certificates, state.certificates.dropFirst()).allSatisfy({ $0 != $1 }) else { throw bad("a certificate is listed twice") }
        guard zip(state.services, state.services.dropFirst()).allSatisfy({ $0 != $1 }) else { throw bad("a service is listed twice") }
        let signerPrints = Set(state.signers.compactMap { try? PublicIdentity(line: $0).fingerprint })
        guard state.services.allSatisfy(signerPrints.contains) else { throw bad("a service is not among the signers") }
        return state
    }
}
