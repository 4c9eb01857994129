import DossierCrypto
import Foundation

// A package's framing (docs/formats/package.md): the writer's pieces and the reader's parse,
// side by side. The manifest has its own file (PackageManifest.swift).

/// A request from counsel that the package's grant answers, as the sealed document list of a
/// format-2 package names it (package.md section 11): the request id and the SHA-256 of the
/// request file, which counsel can compare with the file they sent and its receipt.
public struct AnsweredRequest: Codable, Sendable, Equatable {
    public let id: String
    public let sha256: String

    public init(id: String, sha256: String) {
        self.id = id
        self.sha256 = sha256
    }
}

/// The sealed document list's plaintext: in format 2, a line per request the grant answers,
/// then one line per document.
enum DocumentList {
    static let header = "dossier-package-documents/1"

    static func bytes(_ docs: [PackagedDocument], requests: [AnsweredRequest] = []) -> Data {
        var t = header + "\n"
        for r in requests { t += "request \(r.id) \(r.sha256)\n" }
        for d in docs {
            t += "document \(d.id) \(d.kind) \(d.language) \(d.size) \(d.hash.hex) \(Data(d.fileName.utf8).base64EncodedString())\n"
        }
        return Data(t.utf8)
    }

    /// Parses a list; `requests` lines are allowed only in format 2 (`version`), before the
    /// documents, ordered by id without repeats (the canonical-form check enforces both).
    static func parse(_ data: Data, path: String, version: UInt8 = 1) throws(DossierError) -> (requests: [AnsweredRequest], documents: [PackagedDocument]) {
        func bad(_ why: String) -> DossierError { .packageTampered(path: path, reason: "document list: \(why)") }
        guard let text = String(data: data, encoding: .utf8), text.hasSuffix("\n") else { throw bad("not text") }
        let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.first == Substring(header) else { throw bad("unknown header") }
        var requests: [AnsweredRequest] = []
        var out: [PackagedDocument] = []
        for line in lines.dropFirst() {
            let f = line.split(separator: " ", omittingEmptySubsequences: false)
            if f.first == "request" {
                guard version >= 2 else { throw bad("a request line in a format-1 package") }
                guard out.isEmpty else { throw bad("a request line after a document line") }
                guard f.count == 3, Identifier.isWellFormed(String(f[1]), prefix: "req"), f[2].utf8.count == 64,
                      f[2].utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
                    throw bad("malformed request line")
                }
                if let last = requests.last, last.id >= String(f[1]) { throw bad("request lines out of order or repeated") }
                requests.append(AnsweredRequest(id: String(f[1]), sha256: String(f[2])))
                continue
            }
            guard f.count == 7, f[0] == "document", Identifier.isWellFormed(String(f[1]), prefix: "doc"),
                  let size = UInt64(f[4]), let hash = Data(hex: f[5]), hash.count == 32,
                  let nameData = Data(base64Encoded: String(f[6])), let name = String(data: nameData, encoding: .utf8) else {
                throw bad("malformed line")
            }
            out.append(PackagedDocument(id: String(f[1]), kind: String(f[2]), language: String(f[3]), size: size, hash: hash, fileName: name))
        }
        guard bytes(out, requests: requests) == data else { throw bad("not in canonical form") }
        return (requests, out)
    }
}

/// Byte layout constants and key schedule shared by writer and reader.
enum PackageLayout {
    static let magic = Data([0x44, 0x50, 0x4b, 0x01]) // "DPK" 1
    /// "DPK" and the format version (1, or 2 for a manifest with a certificate).
    static func magic(version: UInt8) -> Data { Data([0x44, 0x50, 0x4b, version]) }
    static let stanzaBytes = 32 + SealedBox.overhead
    static let maximumManifestBytes = 1 << 20
    static let maximumListBytes = 4 << 20
    static let kdfContext = "DOSSPKG1"

    /// Key for the sealed document list (subkey 0) and for document i (subkey i+1).
    static func listKey(_ packageKey: SecureBytes) throws(DossierError) -> SecureBytes {
        do { return try KeyDerivation.subkey(from: packageKey, id: 0, context: kdfContext) } catch { throw .crypto(context: "package key", error) }
    }

    static func documentKey(_ packageKey: SecureBytes, index: Int) throws(DossierError) -> SecureBytes {
        do { return try KeyDerivation.subkey(from: packageKey, id: UInt64(index + 1), context: kdfContext) } catch { throw .crypto(context: "package key", error) }
    }

    /// The signed message: everything but the content and the signature itself.
    static func signedMessage(manifest: Data, stanzas: Data, sealedList: Data, version: UInt8 = 1) -> Data {
        var m = magic(version: version)
        m.append(Data.bigEndian(UInt32(manifest.count)))
        m.append(manifest)
        m.append(stanzas)
        m.append(Data.bigEndian(UInt32(sealedList.count)))
        m.append(sealedList)
        return m
    }

    /// Associated data of the sealed list: binds it to this manifest.
    static func listAssociatedData(_ manifest: Data) -> Data {
        Data("dossier-package-documents/1\n".utf8) + Hash.sha256(manifest)
    }
}

extension PackageLayout {
    /// Where a package's parts are, as the reader found them; the content is not read.
    struct Frame {
        let manifest: PackageManifest
        let manifestBytes: Data
        let stanzas: Data
        let contentOffset: UInt64
        let sealedList: Data
        let signature: Data
        let fileSize: UInt64
    }

    /// What comes before the content: magic, manifest length, manifest, stanzas.
    static func header(manifest: Data, stanzas: Data, version: UInt8 = 1) -> Data {
        var header = magic(version: version)
        header.append(Data.bigEndian(UInt32(manifest.count)))
        header.append(manifest)
        header.append(stanzas)
        return header
    }

    /// What comes after the content: the sealed list's length, the list, the signature.
    static func trailer(sealedList: Data, signature: Data) -> Data {
        var trailer = Data.bigEndian(UInt32(sealedList.count))
        trailer.append(sealedList)
        trailer.append(signature)
        return trailer
    }

    /// Parses the framing of a package of `fileSize` bytes, reading with `readExactly(count,
    /// offset)`, and checks the exact size; reads no content.
    static func parse(fileSize: UInt64, path: String,
                      read readExactly: (Int, UInt64) throws(DossierError) -> Data) throws(DossierError) -> Frame {
        func bad(_ why: String) -> DossierError { .malformedPackage(path: path, reason: why) }
        let head = try readExactly(8, 0)
        guard head.prefix(3) == magic.prefix(3) else { throw bad("it does not start with the package magic 'DPK'") }
        guard head[3] == 1 || head[3] == 2 else { throw bad("package format version \(head[3]) is not supported (this program reads versions 1 and 2)") }
        let manifestLength = head.suffix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard manifestLength > 0, Int(manifestLength) <= maximumManifestBytes else { throw bad("the manifest length \(manifestLength) is out of range") }
        let manifestBytes = try readExactly(Int(manifestLength), 8)
        let manifest = try PackageManifest.parse(manifestBytes, path: path)
        guard manifest.version == head[3] else { throw bad("the manifest is of format \(manifest.version) but the file says \(head[3])") }
        let stanzaOffset = 8 + UInt64(manifestLength)
        let stanzas = try readExactly(manifest.recipients.count * stanzaBytes, stanzaOffset)
        let contentOffset = stanzaOffset + UInt64(stanzas.count)
        var contentLength: UInt64 = 0
        for s in manifest.contentSizes {
            let (sum, overflow) = contentLength.addingReportingOverflow(ContentStream.ciphertextSize(plaintextSize: s))
            guard !overflow else { throw bad("content sizes overflow") }
            contentLength = sum
        }
        let listOffset = contentOffset + contentLength
        let listLengthBytes = try readExactly(4, listOffset)
        let listLength = listLengthBytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard listLength >= UInt32(AEAD.nonceBytes + AEAD.tagBytes), Int(listLength) <= maximumListBytes else {
            throw bad("the document list length is out of range (truncated or altered content?)")
        }
        let sealedList = try readExactly(Int(listLength), listOffset + 4)
        let signature = try readExactly(SigningKeyPair.signatureBytes, listOffset + 4 + UInt64(listLength))
        let end = listOffset + 4 + UInt64(listLength) + UInt64(SigningKeyPair.signatureBytes)
        guard end == fileSize else { throw bad("\(fileSize - end) unexpected bytes after the signature") }
        return Frame(manifest: manifest, manifestBytes: manifestBytes, stanzas: stanzas, contentOffset: contentOffset,
                     sealedList: sealedList, signature: signature, fileSize: fileSize)
    }
}
