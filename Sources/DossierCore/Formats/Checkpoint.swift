import DossierCrypto
import Foundation

/// A C2SP tlog-checkpoint: origin, tree size and root hash, one per line.
public struct Checkpoint: Sendable, Equatable {
    public let origin: String
    public let size: UInt64
    public let root: Data

    public init(origin: String, size: UInt64, root: Data) {
        self.origin = origin
        self.size = size
        self.root = root
    }

    /// The checkpoint body (the note text).
    public var text: String { "\(origin)\n\(size)\n\(root.base64EncodedString())\n" }

    /// Parses a checkpoint body (extension lines are refused: Dossier writes none).
    public static func parse(_ text: String) throws(DossierError) -> Checkpoint {
        func bad(_ why: String) -> DossierError { .malformedCheckpoint(reason: why) }
        guard text.hasSuffix("\n") else { throw bad("the body must end in a newline") }
        let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count == 3 else { throw bad("expected 3 lines (origin, size, root), found \(lines.count)") }
        // Any origin a C2SP log may use, but no control characters (they could reach a terminal).
        guard !lines[0].isEmpty, !lines[0].unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
            throw bad("bad origin")
        }
        guard let size = UInt64(lines[1]), String(size) == lines[1] else { throw bad("bad tree size") }
        guard let root = Data(base64Encoded: String(lines[2])), root.count == 32, root.base64EncodedString() == lines[2] else { throw bad("bad root hash") }
        return Checkpoint(origin: String(lines[0]), size: size, root: root)
    }
}

/// C2SP signed notes with Ed25519 signatures: the text, a blank line, then lines
/// `— NAME BASE64(key ID ‖ signature)`. Key ID = first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key).
public enum SignedNote {
    static let dash = "\u{2014} "

    /// The 4-byte key ID.
    public static func keyID(name: String, publicKey: Data) -> Data {
        Hash.sha256(Data(name.utf8) + Data([0x0a, 0x01]) + publicKey).prefix(4)
    }

    /// The verifier key, `name+hexkeyid+base64(0x01 ‖ key)`.
    public static func verifierKey(name: String, publicKey: Data) -> String {
        "\(name)+\(keyID(name: name, publicKey: publicKey).hex)+\((Data([0x01]) + publicKey).base64EncodedString())"
    }

    /// Parses a verifier key; the base64 part may contain '+', so only the first two split.
    public static func parseVerifierKey(_ text: String) throws(DossierError) -> (name: String, publicKey: Data) {
        let parts = text.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, let id = Data(hex: parts[1]), id.count == 4,
              let key = Data(base64Encoded: String(parts[2])), key.count == 33, key.first == 0x01 else {
            throw .malformedCheckpoint(reason: "not an Ed25519 note verifier key (name+keyid+base64)")
        }
        let pub = Data(key.dropFirst())
        guard keyID(name: String(parts[0]), publicKey: pub) == id else { throw .malformedCheckpoint(reason: "the verifier key's ID does not match its key") }
        return (String(parts[0]), pub)
    }

    /// Signs `text` (which must end in a newline) and returns the whole note.
    public static func sign(_ text: String, name: String, key: SigningKeyPair) -> String {
        let sig = key.sign(Data(text.utf8))
        let payload = keyID(name: name, publicKey: key.publicKey) + sig
        return text + "\n" + dash + name + " " + payload.base64EncodedString() + "\n"
    }

    /// Splits a note into its text and signature lines.
    public static func split(_ note: String) throws(DossierError) -> (text: String, signatures: [(name: String, keyID: Data, signature: Data)]) {
        guard note.hasSuffix("\n"), let range = note.range(of: "\n\n", options: .backwards) else {
            throw .malformedCheckpoint(reason: "not a signed note (no blank line before the signatures)")
        }
        let text = String(note[note.startIndex...range.lowerBound])
        var sigs: [(String, Data, Data)] = []
        for line in note[range.upperBound...].dropLast().split(separator: "\n", omittingEmptySubsequences: false) {
            guard line.hasPrefix(dash) else { throw .malformedCheckpoint(reason: "a signature line must start with an em dash and a space") }
            let rest = line.dropFirst(dash.count)
            let parts = rest.split(separator: " ", omittingEmptySubsequences: false)
            // Canonical base64 only (log.md section 3): one signature line has one encoding.
            let encoded = parts.count == 2 ? Array(parts[1].utf8) : []
            guard parts.count == 2, let payload = encoded.withUnsafeBytes({ StrictBase64.decode($0) }), payload.count >= 5 else {
                throw .malformedCheckpoint(reason: "malformed signature line")
            }
            sigs.append((String(parts[0]), payload.prefix(4), payload.dropFirst(4)))
        }
        guard !sigs.isEmpty, text.count <= 1 << 20 else { throw .malformedCheckpoint(reason: "no signature") }
        return (text, sigs)
    }

    /// The note's text if a signature by (`name`, `publicKey`) verifies; throws otherwise.
    public static func verify(_ note: String, name: String, publicKey: Data) throws(DossierError) -> String {
        let (text, sigs) = try split(note)
        let id = keyID(name: name, publicKey: publicKey)
        for s in sigs where s.name == name && s.keyID == id {
            if s.signature.count == 64 && Signature.verify(Data(s.signature), of: Data(text.utf8), publicKey: publicKey) { return text }
            throw .checkpointSignatureInvalid(name: name)
        }
        throw .checkpointSignatureInvalid(name: name)
    }
}
