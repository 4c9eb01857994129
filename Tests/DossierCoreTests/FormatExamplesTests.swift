import DossierCore
import DossierCrypto
import Foundation
import XCTest

/// The worked examples of docs/formats/*.md, checked the way an outsider would check them: each
/// example is read from the document's text at test time, parsed by the code, and every value
/// the document derives from it (keys, lines, fingerprints, hashes, signatures, subkeys) is
/// computed again and compared. The examples are also kept, one file each, in
/// `Vectors/format-examples/` (README there): the test requires the document and that corpus
/// to agree, so an edit to an example in a document shows up as a failing test.
final class FormatExamplesTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/Vectors/format-examples"

    /// Every worked example: its corpus name, the document, the heading of its section and the
    /// index of its code block in that section.
    static let examples: [(name: String, doc: String, section: String, block: Int)] = [
        ("identity-seeds", "identity.md", "## 5. Worked example", 0),
        ("identity-keys", "identity.md", "## 5. Worked example", 1),
        ("identity-public-line", "identity.md", "## 5. Worked example", 2),
        ("identity-unprotected-file", "identity.md", "## 5. Worked example", 3),
        ("identity-passphrase-file", "identity.md", "## 5. Worked example", 4),
        ("stream-key", "stream.md", "## 5. Worked example", 0),
        ("stream-empty", "stream.md", "## 5. Worked example", 1),
        ("stream-hello", "stream.md", "## 5. Worked example", 2),
        ("package-layout", "package.md", "## 9. Worked example", 0),
        ("package-subkeys", "package.md", "## 9. Worked example", 1),
        ("package-list", "package.md", "## 9. Worked example", 2),
        ("log-checkpoint", "log.md", "## 2. The checkpoint", 1),
        ("log-signed-note", "log.md", "## 3. The signed note", 1),
        ("log-export", "log.md", "## 5. The export file", 1),
        ("vault-entry-2", "vault.md", "### 6.5 A worked example", 0),
        ("vault-entry-1", "vault.md", "### 6.5 A worked example", 1),
        ("key-release-request", "key-release.md", "### 4.3 Example", 0),
        ("key-release-released", "key-release.md", "### 7.1 Released: 200", 0),
        ("key-release-refused", "key-release.md", "### 7.2 Refused: 4xx", 0),
    ]

    /// Code blocks in an example's section that are programs, not data: how to read the log
    /// with Python's sqlite3.
    static let programs: [(doc: String, section: String, block: Int)] = [("vault.md", "### 6.5 A worked example", 2)]

    // MARK: - The documents and the corpus

    /// A document's sections: heading → its text and its fenced code blocks (each block's
    /// lines joined with LF, with a final LF).
    static func sections(_ doc: String) throws -> [String: (text: String, blocks: [String])] {
        let text = try String(contentsOfFile: root + "/docs/formats/" + doc, encoding: .utf8)
        var out: [String: (text: String, blocks: [String])] = [:]
        var heading = "", block: [Substring]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if block == nil, line.hasPrefix("#") { heading = String(line); out[heading] = ("", []); continue }
            if line.hasPrefix("```") {
                if let b = block { out[heading]!.blocks.append(b.joined(separator: "\n") + "\n"); block = nil } else { block = [] }
                continue
            }
            if block != nil { block!.append(line) } else { out[heading]?.text += line + "\n" }
        }
        return out
    }

    static func example(_ name: String) throws -> String {
        let e = try XCTUnwrap(examples.first { $0.name == name }, "no example \(name)")
        let s = try XCTUnwrap(try sections(e.doc)[e.section], "\(e.doc) has no section '\(e.section)'")
        guard e.block < s.blocks.count else { throw HostileLikeError("\(e.doc) '\(e.section)' has no code block \(e.block)") }
        return s.blocks[e.block]
    }

    /// The prose of a section (for the values it states outside the code blocks).
    static func prose(_ doc: String, _ section: String) throws -> String {
        try XCTUnwrap(try sections(doc)[section], "\(doc) has no section '\(section)'").text
    }

    /// The first backquoted value after `label` in `text`.
    static func quoted(after label: String, in text: String) throws -> String {
        let range = try XCTUnwrap(text.range(of: label), "the text no longer says '\(label)'")
        let rest = text[range.upperBound...]
        let open = try XCTUnwrap(rest.firstIndex(of: "`")), after = rest.index(after: open)
        let close = try XCTUnwrap(rest[after...].firstIndex(of: "`"))
        return String(rest[after..<close])
    }

    /// Every worked example is in the corpus, byte for byte, and the corpus holds nothing else;
    /// every code block of a section called an example is registered here.
    func testTheCorpusHoldsExactlyTheExamplesOfTheDocuments() throws {
        for e in Self.examples {
            let text = try Self.example(e.name)
            let file = Self.corpus + "/" + e.name + ".txt"
            let kept = try String(contentsOfFile: file, encoding: .utf8)
            XCTAssertEqual(kept, text, "\(e.doc) '\(e.section)' block \(e.block) differs from Vectors/format-examples/\(e.name).txt")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.corpus).filter { $0.hasSuffix(".txt") }
        XCTAssertEqual(Set(files), Set(Self.examples.map { $0.name + ".txt" }), "Vectors/format-examples/ and the list of examples differ")
        for doc in ["identity.md", "stream.md", "package.md", "log.md", "vault.md", "key-release.md"] {
            for (heading, s) in try Self.sections(doc) where heading.lowercased().contains("example") {
                for i in s.blocks.indices {
                    if Self.programs.contains(where: { $0.doc == doc && $0.section == heading && $0.block == i }) { continue }
                    XCTAssertTrue(Self.examples.contains { $0.doc == doc && $0.section == heading && $0.block == i },
                                  "\(doc) '\(heading)' block \(i) is an example this test does not check")
                }
            }
        }
    }

    // MARK: - identity.md

    func testIdentityWorkedExample() throws {
        func values(_ text: String) -> [String: String] {
            var out: [String: String] = [:]
            for line in text.split(separator: "\n") {
                let words = line.split(separator: " ", omittingEmptySubsequences: true)
                if words.count >= 3 { out[words[0] + " " + words[1]] = String(words[2]) }
            }
            return out
        }
        let seeds = values(try Self.example("identity-seeds")), keys = values(try Self.example("identity-keys"))
        let xSeed = try XCTUnwrap(seeds["X25519 seed"].flatMap { Data(hex: $0) })
        let edSeed = try XCTUnwrap(seeds["Ed25519 seed"].flatMap { Data(hex: $0) })
        let box = try BoxKeyPair(seed: SecureBytes(copying: xSeed))
        let signing = try SigningKeyPair(seed: SecureBytes(copying: edSeed))
        XCTAssertEqual(box.secretKey.unsafeCopyToData().hex, keys["X25519 secret"])
        XCTAssertEqual(box.publicKey.hex, keys["X25519 public"])
        XCTAssertEqual(signing.publicKey.hex, keys["Ed25519 public"])

        let identity = SecretIdentity(encryption: box, signing: signing)
        let line = try Self.example("identity-public-line").trimmingCharacters(in: .newlines)
        XCTAssertEqual(identity.publicIdentity.line, line)
        let parsed = try PublicIdentity(line: line)
        XCTAssertEqual(parsed, identity.publicIdentity)
        let prose = try Self.prose("identity.md", "## 5. Worked example")
        let keyBytes = box.publicKey + signing.publicKey
        XCTAssertEqual(Hash.blake2b(Data("dossier1".utf8) + keyBytes).prefix(4).hex, try Self.quoted(after: "[0..3] =", in: prose))
        XCTAssertEqual(Hash.blake2b(Data("dossier-fingerprint/identity\n".utf8) + keyBytes).hex,
                       try Self.quoted(after: "keys) =", in: prose))
        XCTAssertEqual(parsed.fingerprint, try Self.quoted(after: "so the fingerprint is", in: prose))

        // The unprotected file: its public half, and its body as the table lays it out.
        let unprotected = try Self.example("identity-unprotected-file")
        XCTAssertEqual(try SecretIdentity.publicHalf(ofFileText: unprotected, path: "example"), parsed)
        let body = try XCTUnwrap(Data(base64Encoded: String(unprotected.split(separator: "\n")[1])))
        XCTAssertEqual(body.count, 133)
        XCTAssertEqual(body.prefix(5).hex, "44534b0100")
        XCTAssertEqual(body.subdata(in: 5..<37), box.publicKey)
        XCTAssertEqual(body.subdata(in: 37..<69), signing.publicKey)
        XCTAssertEqual(body.subdata(in: 69..<101), box.secretKey.unsafeCopyToData())
        XCTAssertEqual(body.subdata(in: 101..<133), edSeed)
        XCTAssertEqual(unprotected.utf8.count, 202)

        // Both files load, the protected one only with the documented passphrase.
        let folder = NSTemporaryDirectory() + "/dossier-format-examples-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for (name, text) in [("unprotected", unprotected), ("passphrase", try Self.example("identity-passphrase-file"))] {
            let path = folder + "/" + name + ".key"
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]))
            let loaded = try SecretIdentity.load(path: path) { () throws(DossierError) in SecureBytes(copying: Data("correct horse battery staple".utf8)) }
            XCTAssertEqual(loaded.publicIdentity, parsed, name)
            XCTAssertEqual(loaded.signing.publicKey, signing.publicKey, name)
        }
        XCTAssertEqual(try Self.example("identity-passphrase-file").utf8.count, 286)
        XCTAssertThrowsError(try SecretIdentity.load(path: folder + "/passphrase.key") { () throws(DossierError) in
            SecureBytes(copying: Data("correct horse battery stapler".utf8))
        })
    }

    // MARK: - stream.md

    func testStreamWorkedExample() throws {
        let key = SecureBytes(copying: try XCTUnwrap(Data(hex: try Self.example("stream-key").trimmingCharacters(in: .whitespacesAndNewlines))))
        func encrypt(_ plaintext: Data) throws -> String {
            var source = DataSource(plaintext), sink = DataSink()
            _ = try ContentStream.encrypt(key: key, from: &source, to: &sink)
            return sink.data.hex
        }
        let hex = { (s: String) in s.filter { !$0.isWhitespace } }
        XCTAssertEqual(try encrypt(Data()), hex(try Self.example("stream-empty")))
        XCTAssertEqual(try encrypt(Data("Hello, counsel.\n".utf8)), hex(try Self.example("stream-hello")))
    }

    // MARK: - package.md

    func testPackageWorkedExample() throws {
        let vectors = try XCTUnwrap(Bundle.module.resourceURL?.appendingPathComponent("Vectors/package").path)
        let file = try Data(contentsOf: URL(fileURLWithPath: vectors + "/basic.dpkg"))
        let layout = try Self.example("package-layout")
        // Every "OFFSET  HEX" line of the dump is the file's bytes at that offset.
        var checked = 0
        for line in layout.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count >= 2, let offset = Int(words[0]), words[1].count % 2 == 0, words[1].count >= 8,
                  let bytes = Data(hex: words[1]) else { continue }
            XCTAssertEqual(file.subdata(in: offset..<offset + bytes.count).hex, bytes.hex, "offset \(offset)")
            checked += 1
        }
        XCTAssertEqual(checked, 3, "the magic, M and L lines")
        // The manifest lines, the end and the size.
        let lines = layout.split(separator: "\n", omittingEmptySubsequences: false)
        let manifest = lines.filter { $0.hasPrefix("        ") }.map { $0.dropFirst(8) + "\n" }.joined()
        let m = file.dropFirst(4).prefix(4).reduce(0) { $0 << 8 | Int($1) }
        XCTAssertEqual(String(decoding: file.subdata(in: 8..<8 + m), as: UTF8.self), manifest)
        XCTAssertTrue(layout.contains("M = \(m)\n"))
        XCTAssertTrue(layout.contains("\(file.count)  end: "), "the dump's end is not the file's size, \(file.count)")
        let parsed = try PackageManifest.parse(Data(manifest.utf8), path: "example")
        XCTAssertEqual(parsed.bytes, Data(manifest.utf8))

        // The subkeys of the package key the prose gives, and the list they open.
        let prose = try Self.prose("package.md", "## 9. Worked example")
        let packageKey = SecureBytes(copying: try XCTUnwrap(Data(hex: try Self.quoted(after: "to the package key", in: prose))))
        for (id, line) in try Self.example("package-subkeys").split(separator: "\n").enumerated() {
            let stated = try XCTUnwrap(line.split(separator: " ").last)
            XCTAssertTrue(line.contains("(id \(id))"), String(line))
            XCTAssertEqual(try KeyDerivation.subkey(from: packageKey, id: UInt64(id), context: "DOSSPKG1").unsafeCopyToData().hex, String(stated))
        }
        // Stanza 1 opens to that key with recipient 1's secret key.
        let recipient = try BoxKeyPair(secretKey: SecureBytes(copying: try XCTUnwrap(Data(hex: try Self.quoted(after: "X25519 secret key", in: prose)))))
        XCTAssertEqual(try PublicIdentity(encryptionKey: recipient.publicKey, signingKey: Data(count: 32)).encryptionKey, recipient.publicKey)
        let stanza1 = file.subdata(in: 8 + m..<8 + m + 80)
        XCTAssertEqual(try SealedBox.open(stanza1, with: recipient).unsafeCopyToData(), packageKey.unsafeCopyToData())
        let listAt = 8 + m + 160 + parsed.contentSizes.reduce(0) { $0 + Int($1) + 16 }
        let l = file.dropFirst(listAt).prefix(4).reduce(0) { $0 << 8 | Int($1) }
        let sealed = file.subdata(in: listAt + 4..<listAt + 4 + l)
        let ad = Data("dossier-package-documents/1\n".utf8) + Hash.sha256(Data(manifest.utf8))
        let listKey = try KeyDerivation.subkey(from: packageKey, id: 0, context: "DOSSPKG1")
        let list = try AEAD.open(sealed, key: listKey, additionalData: ad).unsafeCopyToData()
        XCTAssertEqual(String(decoding: list, as: UTF8.self), try Self.example("package-list"))
        XCTAssertEqual(list.count, 295)
        XCTAssertTrue(layout.contains("L = \(l)\n"))
    }

    // MARK: - log.md

    func testLogWorkedExamples() throws {
        let body = try Self.example("log-checkpoint")
        let checkpoint = try Checkpoint.parse(body)
        XCTAssertEqual(checkpoint.text, body)
        XCTAssertEqual(checkpoint.origin, "example.org/dossier")
        let note = try Self.example("log-signed-note")
        let (text, signatures) = try SignedNote.split(note)
        XCTAssertEqual(text, body)
        XCTAssertEqual(signatures.count, 1)
        let prose = try Self.prose("log.md", "## 3. The signed note")
        XCTAssertEqual(signatures.first?.keyID.hex, try Self.quoted(after: "first four bytes,", in: prose).replacingOccurrences(of: " ", with: ""))
        XCTAssertEqual(signatures.first?.name, checkpoint.origin)
        // The export's first lines (shortened with … in the document): the header, the
        // organisation and its key line; each checkpoint line begins with a note of that origin.
        let export = try Self.example("log-export").split(separator: "\n")
        XCTAssertEqual(export.first, "dossier-log-export/1")
        XCTAssertEqual(export[1], "organisation example.org/dossier")
        _ = try OrganisationKey(line: String(export[2].dropFirst("organisation-key ".count)))
        for line in export where line.hasPrefix("checkpoint ") {
            let b64 = line.dropFirst("checkpoint ".count).prefix { $0 != "…" }
            let decoded = try XCTUnwrap(Data(base64Encoded: String(b64.prefix(b64.count / 4 * 4))))
            XCTAssertTrue(String(decoding: decoded, as: UTF8.self).hasPrefix("example.org/dossier\n"), String(line))
        }
        let thirdCheckpoint = try XCTUnwrap(export.filter { $0.hasPrefix("checkpoint ") }.last)
        let start = String(decoding: try XCTUnwrap(Data(base64Encoded: String(thirdCheckpoint.dropFirst(11).prefix(64)))), as: UTF8.self)
        XCTAssertTrue(body.hasPrefix(start), "the export's last checkpoint is not the example checkpoint")
    }

    // MARK: - vault.md

    func testVaultLogEntryWorkedExample() throws {
        let text2 = try Self.example("vault-entry-2"), text1 = try Self.example("vault-entry-1")
        let entry2 = try AuditEntry.parse(Data(text2.utf8)), entry1 = try AuditEntry.parse(Data(text1.utf8))
        XCTAssertEqual(entry2.bytes, Data(text2.utf8))
        XCTAssertEqual(entry1.bytes, Data(text1.utf8))
        let prose = try Self.prose("vault.md", "### 6.5 A worked example")
        XCTAssertTrue(prose.contains("(\(text2.utf8.count) bytes;"))
        XCTAssertTrue(prose.contains("the first \(entry2.body.count) bytes"))
        XCTAssertEqual(entry2.previousHash, entry1.hash, "prev is not the SHA-256 of entry 1")
        XCTAssertEqual(entry2.hash.hex, try Self.quoted(after: "SHA-256 of all \(text2.utf8.count) bytes, is", in: prose))
        // The actor's key, from the identity line of entry 1, and the signature over the body.
        let line = try XCTUnwrap(entry1.details.first { $0.key == "identity" }?.value)
        XCTAssertEqual(line, try Self.quoted(after: "whose public line", in: prose))
        let actor = try PublicIdentity(line: line)
        XCTAssertEqual(actor.fingerprint, entry2.actor)
        XCTAssertEqual(actor.signingKey.hex, try Self.quoted(after: "Its Ed25519 public key is", in: prose))
        XCTAssertTrue(Signature.verify(entry2.signature, of: entry2.body, publicKey: actor.signingKey))
        XCTAssertTrue(Signature.verify(entry1.signature, of: entry1.body, publicKey: actor.signingKey))
        XCTAssertEqual(entry1.previousHash, Data(count: 32))
    }

    // MARK: - key-release.md

    func testKeyReleaseWorkedExamples() throws {
        let request = Data(try Self.example("key-release-request").utf8)
        let parsed = try XCTUnwrap(ReleaseRequest.parse(request), "the example request does not parse")
        XCTAssertEqual(parsed.bytes, request)
        XCTAssertEqual(request.count, 177)
        for name in ["key-release-released", "key-release-refused"] {
            let data = Data(try Self.example(name).utf8)
            let object = try XCTUnwrap(StrictJSON.object(data), name)
            XCTAssertFalse(object.isEmpty, name)
        }
    }
}

struct HostileLikeError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
