import DossierCrypto
import Foundation
import XCTest
@testable import DossierCore

/// C2SP signed notes and tlog checkpoints (issue 5, points 1 and 8): the vectors in
/// Vectors/external/signed-note-vectors.txt (Go's sumdb/note, the C2SP example, a real
/// sum.golang.org checkpoint), and a vault's own checkpoint read as any note verifier would.
final class SignedNoteTests: XCTestCase {
    /// The vector file: `NAME=value` lines, `-----BEGIN NOTE-----` blocks, and comments.
    struct VectorFile {
        var values: [String: String] = [:]
        var notes: [String] = []
        var commentLines: [String] = []
        var textBlock: String?

        init(_ text: String) {
            var inNote = false, note = ""
            var lines = text.components(separatedBy: "\n")[...]
            while let line = lines.popFirst() {
                if line == "-----BEGIN NOTE-----" { inNote = true; note = ""; continue }
                if line == "-----END NOTE-----" { inNote = false; notes.append(note); continue }
                if inNote { note += line + "\n"; continue }
                if line.hasPrefix("#") { commentLines.append(line); continue }
                if line.hasPrefix("TEXT (2 lines") {
                    // The two lines that follow are the text Peter and Enoch signed.
                    let a = lines.popFirst() ?? "", b = lines.popFirst() ?? ""
                    textBlock = a + "\n" + b + "\n"
                    continue
                }
                if let eq = line.firstIndex(of: "="), line.prefix(while: { $0 != "=" }).allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "_" }) {
                    values[String(line[..<eq])] = String(line[line.index(after: eq)...])
                }
            }
        }

        func value(_ key: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
            try XCTUnwrap(values[key], "the vector file has no \(key)", file: file, line: line)
        }

        /// The note whose first signature line is by `name`.
        func note(signedBy name: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
            try XCTUnwrap(notes.first { $0.contains("\n\n\u{2014} \(name) ") }, "the vector file has no note signed by \(name)", file: file, line: line)
        }

        /// Verifier keys mentioned in comments (`#   name+hex+base64`).
        var commentKeys: [String] {
            commentLines.compactMap { line in
                let t = line.dropFirst().trimmingCharacters(in: .whitespaces)
                guard let first = t.split(separator: " ").first, !first.hasPrefix("PRIVATE+KEY"),
                      first.split(separator: "+", maxSplits: 2).count == 3 else { return nil }
                return String(first)
            }
        }
    }

    func loadVectors() throws -> VectorFile {
        let url = try AuditVectors.item("signed-note-vectors.txt")
        let v = VectorFile(try String(contentsOf: url, encoding: .utf8))
        XCTAssertGreaterThanOrEqual(v.notes.count, 4, "notes in \(url.path)")
        return v
    }

    /// The seed of a Go `PRIVATE+KEY+name+hexid+base64(0x01 ‖ seed)` line.
    static func seed(fromPrivateKey line: String) throws -> (name: String, keyID: String, seed: SecureBytes) {
        let parts = line.split(separator: "+", maxSplits: 4, omittingEmptySubsequences: false)
        XCTAssertEqual(parts.count, 5)
        XCTAssertEqual(parts.prefix(2).joined(separator: "+"), "PRIVATE+KEY")
        let raw = try XCTUnwrap(Data(base64Encoded: String(parts[4])))
        XCTAssertEqual(raw.count, 33)
        XCTAssertEqual(raw.first, 0x01, "algorithm byte: Ed25519")
        return (String(parts[2]), String(parts[3]), SecureBytes(copying: raw.dropFirst()))
    }

    // MARK: Keys

    func testKeyIDsAndVerifierKeysRoundTrip() throws {
        let v = try loadVectors()
        let keys = [try v.value("PETER_VKEY"), try v.value("ENOCH_VKEY"), try v.value("C2SP_VKEY"), try v.value("SUMDB_VKEY")]
            + v.commentKeys.filter { $0.hasPrefix("Log+") }
        XCTAssertEqual(keys.count, 5, "Peter, Enoch, C2SP, sum.golang.org and Log")
        let wantIDs = ["PeterNeumann": "c74f20a3", "EnochRoot": "af0cfe78", "example.com/foo": "530d903a",
                       "sum.golang.org": "033de0ae", "Log": "2271c621"]
        for key in keys {
            let (name, pub) = try SignedNote.parseVerifierKey(key)
            XCTAssertEqual(pub.count, 32, key)
            XCTAssertEqual(SignedNote.keyID(name: name, publicKey: pub).hex, wantIDs[name], "key ID of \(name)")
            // The ID is SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)[:4], computed here independently.
            XCTAssertEqual(Hash.sha256(Data(name.utf8) + Data([0x0a, 0x01]) + pub).prefix(4).hex, wantIDs[name], "rule for \(name)")
            XCTAssertEqual(SignedNote.verifierKey(name: name, publicKey: pub), key, "the verifier key of \(name) is written back exactly")
        }
    }

    func testPrivateKeysGiveTheirPublishedPublicKeys() throws {
        let v = try loadVectors()
        let peter = try Self.seed(fromPrivateKey: try v.value("PETER_SKEY"))
        XCTAssertEqual(peter.name, "PeterNeumann")
        XCTAssertEqual(try SigningKeyPair(seed: peter.seed).publicKey, try SignedNote.parseVerifierKey(try v.value("PETER_VKEY")).publicKey)
        let enoch = try SigningKeyPair(seed: SecureBytes(copying: Data(count: 32)))
        XCTAssertEqual(enoch.publicKey, try SignedNote.parseVerifierKey(try v.value("ENOCH_VKEY")).publicKey, "Enoch's seed is 32 zero bytes")
    }

    func testMalformedVerifierKeysAreRefused() throws {
        let v = try loadVectors()
        let negatives = v.commentKeys.filter { $0.hasPrefix("PeterNeumann+") }
        XCTAssertEqual(negatives.count, 2, "the two negative keys from TestNewVerifier")
        let peter = try v.value("PETER_VKEY")
        let more = [
            peter.replacingOccurrences(of: "+c74f20a3+", with: "+c74f20a4+"),   // ID does not match the key
            peter.replacingOccurrences(of: "+c74f20a3+", with: "+c74f20+"),     // ID too short
            peter.replacingOccurrences(of: "+c74f20a3+", with: "+c74f20zz+"),   // ID not hex
            "+c74f20a3+" + peter.components(separatedBy: "+").dropFirst(2).joined(separator: "+"),  // no name
            "PeterNeumann+c74f20a3",                                            // no key
            String(peter.dropLast(4)),                                          // key cut short
            peter + "AAAA",                                                     // key too long
            "",
        ]
        for key in negatives + more {
            XCTAssertThrowsError(try SignedNote.parseVerifierKey(key), "must refuse \(key)") {
                guard case DossierError.malformedCheckpoint = $0 else { return XCTFail("\(key): wrong error \($0)") }
            }
        }
    }

    // MARK: Notes

    func testPeterAndEnochNoteVerifiesWithEitherKey() throws {
        let v = try loadVectors()
        let note = try v.note(signedBy: "PeterNeumann")
        let text = try XCTUnwrap(v.textBlock)
        XCTAssertTrue(note.hasPrefix(text + "\n"), "the note's text is the part before the blank line")
        for name in ["PETER_VKEY", "ENOCH_VKEY"] {
            let key = try SignedNote.parseVerifierKey(try v.value(name))
            XCTAssertEqual(try SignedNote.verify(note, name: key.name, publicKey: key.publicKey), text, name)
        }
        let (splitText, sigs) = try SignedNote.split(note)
        XCTAssertEqual(splitText, text)
        XCTAssertEqual(sigs.map(\.name), ["PeterNeumann", "EnochRoot"])
        XCTAssertEqual(sigs.map { $0.keyID.hex }, ["c74f20a3", "af0cfe78"])
        XCTAssertEqual(sigs.map(\.signature.count), [64, 64])
    }

    func testC2SPExampleAndSumDBCheckpointVerify() throws {
        let v = try loadVectors()
        let c2sp = try SignedNote.parseVerifierKey(try v.value("C2SP_VKEY"))
        XCTAssertEqual(try SignedNote.verify(try v.note(signedBy: "example.com/foo"), name: c2sp.name, publicKey: c2sp.publicKey),
                       "This is an example message.\n")

        let sumdb = try SignedNote.parseVerifierKey(try v.value("SUMDB_VKEY"))
        XCTAssertEqual(sumdb.name, "sum.golang.org")
        let text = try SignedNote.verify(try v.note(signedBy: "sum.golang.org"), name: sumdb.name, publicKey: sumdb.publicKey)
        let cp = try Checkpoint.parse(text)
        XCTAssertEqual(cp.origin, "go.sum database tree")
        XCTAssertEqual(cp.size, 6476701)
        XCTAssertEqual(cp.root.base64EncodedString(), "mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=")
        XCTAssertEqual(cp.text, text, "a checkpoint is written back exactly as read")
    }

    func testNotesAreRefusedWhenTheyDoNotVerify() throws {
        let v = try loadVectors()
        let peterKey = try SignedNote.parseVerifierKey(try v.value("PETER_VKEY"))
        let note = try v.note(signedBy: "PeterNeumann")
        let sumdbNote = try v.note(signedBy: "sum.golang.org")
        let sumdb = try SignedNote.parseVerifierKey(try v.value("SUMDB_VKEY"))
        let cases: [(String, String, (name: String, publicKey: Data))] = [
            ("text changed", note.replacingOccurrences(of: "cryptography", with: "cryptographs"), peterKey),
            ("size changed", sumdbNote.replacingOccurrences(of: "6476701", with: "6476702"), sumdb),
            ("another key's note", try v.note(signedBy: "example.com/foo"), peterKey),
            ("right name, wrong key", note, (peterKey.name, try SignedNote.parseVerifierKey(try v.value("ENOCH_VKEY")).publicKey)),
            ("signature bit flipped", note.replacingOccurrences(of: "x08go/ZJ", with: "x08go/ZK"), peterKey),
            ("no blank line", note.replacingOccurrences(of: "is.\n\n", with: "is.\n"), peterKey),
            ("no final newline", String(note.dropLast()), peterKey),
            ("hyphen, not an em dash", note.replacingOccurrences(of: "\u{2014} PeterNeumann", with: "- PeterNeumann"), peterKey),
            ("no signatures", try XCTUnwrap(v.textBlock) + "\n", peterKey),
            ("the behind-the-sofa example has no published key", try v.note(signedBy: "example.com/behind-the-sofa"), sumdb),
        ]
        for (what, bad, key) in cases {
            XCTAssertThrowsError(try SignedNote.verify(bad, name: key.name, publicKey: key.publicKey), what) { error in
                switch error {
                case DossierError.checkpointSignatureInvalid, DossierError.malformedCheckpoint: break
                default: XCTFail("\(what): wrong error \(error)")
                }
            }
        }
    }

    func testSigningWithPeterAndEnochReproducesTheirSignatureLines() throws {
        let v = try loadVectors()
        let text = try XCTUnwrap(v.textBlock)
        let peter = try SigningKeyPair(seed: Self.seed(fromPrivateKey: try v.value("PETER_SKEY")).seed)
        let signed = SignedNote.sign(text, name: "PeterNeumann", key: peter)
        XCTAssertEqual(Data(signed.utf8), Data((text + "\n" + (try v.value("PETER_SIG_LINE")) + "\n").utf8), "byte for byte")
        let enoch = try SigningKeyPair(seed: SecureBytes(copying: Data(count: 32)))
        XCTAssertEqual(SignedNote.sign(text, name: "EnochRoot", key: enoch), text + "\n" + (try v.value("ENOCH_SIG_LINE")) + "\n")
        // Go's TestSign "want" is Peter's note; with Enoch's line added, the vector's full note.
        let full = try v.note(signedBy: "PeterNeumann")
        XCTAssertEqual(signed + (try v.value("ENOCH_SIG_LINE")) + "\n", full)
    }

    // MARK: Checkpoints

    func testCheckpointParsingIsStrict() throws {
        let root = Data(repeating: 7, count: 32).base64EncodedString()
        XCTAssertEqual(try Checkpoint.parse("example.org/log\n12\n\(root)\n"),
                       Checkpoint(origin: "example.org/log", size: 12, root: Data(repeating: 7, count: 32)))
        let bad = [
            "example.org/log\n12\n\(root)",                          // no final newline
            "example.org/log\n12\n\(root)\nextension line\n",        // extension lines: Dossier writes none
            "\n12\n\(root)\n",                                       // empty origin
            "example.org/log\n012\n\(root)\n",                       // non-canonical size
            "example.org/log\n+12\n\(root)\n",
            "example.org/log\n-1\n\(root)\n",
            "example.org/log\n12\n\(Data(count: 31).base64EncodedString())\n",  // short root
            "example.org/log\n12\n\(root.dropLast())\n",             // not base64
            "example.org/log\n12\n",
        ]
        for text in bad {
            XCTAssertThrowsError(try Checkpoint.parse(text), "must refuse \(text.debugDescription)") {
                guard case DossierError.malformedCheckpoint = $0 else { return XCTFail("wrong error \($0)") }
            }
        }
    }

    func testAVaultCheckpointIsAC2SPSignedNote() throws {
        let v = try makeAuditVault()
        try v.deposit("one")
        try v.deposit("two")
        let note = try v.checkpoint()
        let org = try v.vault.organisation()

        // The shape, as any note verifier reads it: text, blank line, one em-dash signature line.
        let noteKey = try v.vault.noteKey()
        XCTAssertTrue(noteKey.hasPrefix(AuditTestVault.organisation + "+"), noteKey)
        let (name, publicKey) = try SignedNote.parseVerifierKey(noteKey)
        XCTAssertEqual(name, org.name)
        XCTAssertEqual(publicKey, try OrganisationKey(line: org.publicKey).signingKey, "the note key is the organisation key")
        let parts = note.components(separatedBy: "\n\n")
        XCTAssertEqual(parts.count, 2)
        let sigLine = parts[1]
        XCTAssertTrue(sigLine.hasPrefix("\u{2014} \(name) "), sigLine)
        XCTAssertTrue(sigLine.hasSuffix("\n"))
        XCTAssertEqual(sigLine.filter { $0 == "\n" }.count, 1, "one signature")
        let payload = try XCTUnwrap(Data(base64Encoded: String(sigLine.dropFirst(2 + name.count + 1).dropLast())))
        XCTAssertEqual(payload.count, 68, "4-byte key ID and 64-byte signature")
        XCTAssertEqual(payload.prefix(4), SignedNote.keyID(name: name, publicKey: publicKey))
        XCTAssertTrue(Signature.verify(payload.dropFirst(4), of: Data((parts[0] + "\n").utf8), publicKey: publicKey),
                      "the signature covers the text up to and including its last newline")

        let text = try SignedNote.verify(note, name: name, publicKey: publicKey)
        let cp = try Checkpoint.parse(text)
        let entries = try v.vault.logSnapshot().entries
        XCTAssertEqual(entries.count, 3, "init and two deposits")
        XCTAssertEqual(cp.origin, org.name)
        XCTAssertEqual(cp.size, 3)
        XCTAssertEqual(cp.root, MerkleTree.root(leafHashes: entries.map(MerkleTree.leafHash)))
        XCTAssertEqual(text, "\(org.name)\n3\n\(cp.root.base64EncodedString())\n", "origin, size, root; no extension lines")

        // Another vault's key, even under the same name, does not verify it.
        let other = try makeAuditVault(self.name + "-other")
        let otherKey = try SignedNote.parseVerifierKey(try other.vault.noteKey())
        XCTAssertEqual(otherKey.name, name)
        XCTAssertThrowsError(try SignedNote.verify(note, name: otherKey.name, publicKey: otherKey.publicKey)) {
            guard case DossierError.checkpointSignatureInvalid = $0 else { return XCTFail("wrong error \($0)") }
        }
    }
}
