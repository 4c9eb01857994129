import DossierCrypto
import Foundation
import XCTest

@testable import DossierCore

// Fixtures for RequestTests and RequestVectorTests, namespaced under `RequestKit`, `SpecRequest`
// so that nothing clashes with the other test files. `SpecRequest` writes and reads request
// files from docs/formats/request.md with DossierCrypto's primitives only, not with
// RequestWriter or RequestReader: a second implementation of the text.

enum RequestKit {
    static let madeAt = "2027-01-01T00:00:00.000Z"
    static var clock: FixedClock { FixedClock(Timestamp.parse(madeAt)!) }

    static func identity(_ name: String) -> SecretIdentity {
        SecretIdentity.generate(using: DeterministicRandom(seed: "request-tests/identity/" + name))
    }

    static func intake(_ name: String) -> BoxKeyPair {
        BoxKeyPair.generate(using: DeterministicRandom(seed: "request-tests/intake/" + name))
    }

    static func intakeKey(_ pair: BoxKeyPair) -> IntakeKey { try! IntakeKey(encryptionKey: pair.publicKey) }

    static func message(_ text: String) -> SecureBytes { SecureBytes(copying: Data(text.utf8)) }

    /// A draft with every optional field set.
    static func draft(to intake: BoxKeyPair, message: String = "We act for a man whose extradition is sought.\n",
                      attachments: [String] = []) -> RequestDraft {
        RequestDraft(to: intakeKey(intake), need: .expertReport, languages: ["en", "fr"], jurisdiction: "England and Wales",
                     court: "Westminster Magistrates' Court", caseReference: "EXT-2027-0042", hearing: "2027-03-15",
                     message: self.message(message), attachments: attachments)
    }

    /// Writes files named `names` with `contents` into `folder`; returns their paths.
    static func files(in folder: String, _ items: [(name: String, content: Data)]) throws -> [String] {
        try items.map { item in
            let path = folder + "/" + item.name
            try item.content.write(to: URL(fileURLWithPath: path))
            return path
        }
    }
}

/// A RandomSource that hands out the given bytes, in order (fixed nonces for the spec writer).
final class QueuedBytes: RandomSource, @unchecked Sendable {
    private var queue: [Data]
    private let lock = NSLock()
    init(_ queue: [Data]) { self.queue = queue }
    func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        lock.lock(); defer { lock.unlock() }
        let next = queue.removeFirst()
        precondition(next.count == buffer.count, "QueuedBytes: wrong size requested")
        next.copyBytes(to: buffer.bindMemory(to: UInt8.self), count: next.count)
    }
}

/// Requests written and read from the document's text alone.
enum SpecRequest {
    static func u32(_ v: Int) -> Data { Data([UInt8(v >> 24 & 255), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)]) }

    static func subkey(_ k: SecureBytes, _ id: UInt64, _ context: String) -> SecureBytes {
        try! KeyDerivation.subkey(from: k, id: id, context: context)
    }

    static func stream(_ plaintext: Data, key: SecureBytes) -> Data {
        var source = DataSource(plaintext)
        var sink = DataSink()
        try! ContentStream.encrypt(key: key, from: &source, to: &sink)
        return sink.data
    }

    /// Every part of a request, as section 1 lays them out.
    struct Parts {
        var header: Data
        var stanza: Data
        var sealedDetails: Data
        var streams: [Data]
        var sealedSignature: Data

        var signedPrefix: Data {
            var d = Data([0x44, 0x52, 0x51, 0x01]) + u32(header.count) + header + stanza + u32(sealedDetails.count) + sealedDetails
            for s in streams { d += s }
            return d
        }
        var bytes: Data { signedPrefix + sealedSignature }
    }

    /// A request made by the rules of request.md from its texts, with `signer` signing (any key:
    /// tests use another than the `from` inside). `nonces` are the details nonce and the
    /// signature nonce; `key` is K.
    static func make(header: String, details: String, message: Data, attachments: [Data], to intakePublic: Data,
                     signer: SigningKeyPair, key: SecureBytes, nonces: (Data, Data) = (Data(repeating: 1, count: 24), Data(repeating: 2, count: 24))) -> Parts {
        let headerBytes = Data(header.utf8)
        let stanza = try! SealedBox.seal(key, to: intakePublic)
        let ad = Data("dossier-request-details/1\n".utf8) + Hash.sha256(headerBytes)
        let sealedDetails = try! AEAD.seal(Data(details.utf8), key: subkey(key, 0, "DOSSREQ1"), additionalData: ad, random: QueuedBytes([nonces.0]))
        var streams = [stream(message, key: subkey(key, 1, "DOSSREQ1"))]
        for (j, a) in attachments.enumerated() { streams.append(stream(a, key: subkey(key, UInt64(j) + 2, "DOSSREQ1"))) }
        var parts = Parts(header: headerBytes, stanza: stanza, sealedDetails: sealedDetails, streams: streams, sealedSignature: Data())
        parts.sealedSignature = sealSignature(for: parts.signedPrefix, signer: signer, key: key, nonce: nonces.1)
        return parts
    }

    static func sealSignature(for prefix: Data, signer: SigningKeyPair, key: SecureBytes, nonce: Data) -> Data {
        let signature = signer.sign(Data("dossier-request-signature/1\n".utf8) + Hash.blake2b(prefix, length: 64))
        return try! AEAD.seal(signature, key: subkey(key, 0, "DOSSRSIG"), additionalData: Data("dossier-request-signature/1\n".utf8),
                              random: QueuedBytes([nonce]))
    }

    /// What a reader written from the text finds in a valid request.
    struct Opened {
        var parts: Parts
        var key: SecureBytes
        var detailsText: String
        var sizes: [UInt64]
        var plaintexts: [Data]
        var signature: Data
        var detailsNonce: Data
        var signatureNonce: Data
    }

    struct Refused: Error, CustomStringConvertible { let description: String }

    /// Reads a request from the text's rules: framing, stanza, details, sizes, streams,
    /// signature. Strict only as far as the vector needs; the Swift reader is the strict one.
    static func open(_ b: Data, intake: BoxKeyPair) throws -> Opened {
        func u32(at i: Int) throws -> Int {
            guard i + 4 <= b.count else { throw Refused(description: "short") }
            return b[i..<i + 4].reduce(0) { $0 << 8 | Int($1) }
        }
        guard b.prefix(4) == Data([0x44, 0x52, 0x51, 0x01]) else { throw Refused(description: "magic") }
        let m = try u32(at: 4)
        let header = Data(b[8..<8 + m])
        let stanza = Data(b[8 + m..<88 + m])
        let l = try u32(at: 88 + m)
        let sealedDetails = Data(b[92 + m..<92 + m + l])
        let key = try SealedBox.open(stanza, with: intake)
        let ad = Data("dossier-request-details/1\n".utf8) + Hash.sha256(header)
        let details = try AEAD.open(sealedDetails, key: subkey(key, 0, "DOSSREQ1"), additionalData: ad).unsafeCopyToData()
        let text = String(decoding: details, as: UTF8.self)
        var sizes: [UInt64] = []
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ")
            if f[0] == "message" || f[0] == "attachment" { sizes.append(UInt64(f[1])!) }
        }
        var offset = 92 + m + l
        var streams: [Data] = [], plaintexts: [Data] = []
        for (i, s) in sizes.enumerated() {
            let length = Int(ContentStream.ciphertextSize(plaintextSize: s))
            guard offset + length <= b.count else { throw Refused(description: "truncated stream") }
            let c = Data(b[offset..<offset + length])
            var source = DataSource(c)
            var sink = DataSink()
            try ContentStream.decrypt(key: subkey(key, UInt64(i) + 1, "DOSSREQ1"), from: &source, to: &sink)
            streams.append(c)
            plaintexts.append(sink.data)
            offset += length
        }
        guard b.count == offset + 104 else { throw Refused(description: "size") }
        let sealedSignature = Data(b[offset...])
        let signature = try AEAD.open(sealedSignature, key: subkey(key, 0, "DOSSRSIG"),
                                      additionalData: Data("dossier-request-signature/1\n".utf8)).unsafeCopyToData()
        let parts = Parts(header: header, stanza: stanza, sealedDetails: sealedDetails, streams: streams, sealedSignature: sealedSignature)
        let fromLine = text.split(separator: "\n").first { $0.hasPrefix("from ") }!.dropFirst(5)
        let from = try PublicIdentity(line: String(fromLine))
        guard Signature.verify(signature, of: Data("dossier-request-signature/1\n".utf8) + Hash.blake2b(parts.signedPrefix, length: 64),
                               publicKey: from.signingKey) else { throw Refused(description: "signature") }
        return Opened(parts: parts, key: key, detailsText: text, sizes: sizes, plaintexts: plaintexts, signature: signature,
                      detailsNonce: Data(sealedDetails.prefix(24)), signatureNonce: Data(sealedSignature.prefix(24)))
    }
}
