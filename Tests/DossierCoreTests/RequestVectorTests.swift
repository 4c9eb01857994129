import DossierCrypto
import Foundation
import XCTest

@testable import DossierCore

/// The request vectors in `Vectors/request` (docs/formats/request.md, section 9; how they were
/// made: Vectors/request/README.md). `basic` is one request made with fixed keys, clock and
/// randomness; the failure cases are derived from its bytes.
///
/// To regenerate (after a deliberate format change), run
///     DOSSIER_WRITE_REQUEST_VECTORS=1 swift test --filter RequestVectorTests/testGenerator
/// then rebuild so that the new files are copied into the test bundle.
final class RequestVectorTests: XCTestCase {
    enum Basic {
        static let madeAt = "2027-01-01T00:00:00.000Z"
        static let intakeSeed = "request-vector/intake"
        static let senderSeed = "request-vector/sender"
        static let writerSeed = "request-vector/writer"
        static let otherIntakeSeed = "request-vector/other-intake"
        static let message = "Please send an expert on prison conditions to the hearing of 15 March.\n"
        static let attachments: [(name: String, content: Data)] = [
            ("order.txt", Data("Order of 2 January 2027: hearing fixed for 15 March.\n".utf8)),
            ("décision.txt", Data("La demande d'extradition est recevable.\n".utf8)),
        ]

        static var intake: BoxKeyPair { BoxKeyPair.generate(using: DeterministicRandom(seed: intakeSeed)) }
        static var sender: SecretIdentity { SecretIdentity.generate(using: DeterministicRandom(seed: senderSeed)) }

        /// Writes the request in `folder` and returns its bytes.
        static func make(in folder: String) throws -> Data {
            let paths = try RequestKit.files(in: folder, attachments)
            let draft = RequestDraft(to: try IntakeKey(encryptionKey: intake.publicKey), need: .expertWitness, languages: ["en", "fr"],
                                     jurisdiction: "England and Wales", court: "Westminster Magistrates' Court",
                                     caseReference: "EXT-2027-0042", hearing: "2027-03-15",
                                     message: SecureBytes(copying: Data(message.utf8)), attachments: paths)
            let out = folder + "/basic.drq"
            _ = try RequestWriter(clock: FixedClock(Timestamp.parse(madeAt)!), random: DeterministicRandom(seed: writerSeed))
                .write(draft, identity: sender, to: out)
            return try Data(contentsOf: URL(fileURLWithPath: out))
        }
    }

    /// A failure case derived from basic.drq.
    struct Derived: Sendable {
        let name: String
        let comment: String
        let error: String
        let openerSeed: String?
        let make: @Sendable (Data, SpecRequest.Opened) -> Data?
    }

    static let derived: [Derived] = [
        Derived(name: "signature_zeroed", comment: "the 104 bytes of the sealed signature replaced by zeros", error: "tampered", openerSeed: nil) { b, _ in
            b.prefix(b.count - 104) + Data(count: 104)
        },
        Derived(name: "signature_by_another_key", comment: "re-signed by another identity than the 'from' inside (seed request-vector/mallory), sealed again under the signature key",
                error: "tampered", openerSeed: nil) { _, o in
            var p = o.parts
            let mallory = SecretIdentity.generate(using: DeterministicRandom(seed: "request-vector/mallory"))
            p.sealedSignature = SpecRequest.sealSignature(for: p.signedPrefix, signer: mallory.signing, key: o.key, nonce: o.signatureNonce)
            return p.bytes
        },
        Derived(name: "truncated_attachment", comment: "cut at the end of the first attachment's stream", error: "malformed", openerSeed: nil) { b, o in
            Data(b.prefix(o.parts.signedPrefix.count - o.parts.streams[2].count))
        },
        Derived(name: "appended_byte", comment: "one zero byte appended after the sealed signature", error: "malformed", openerSeed: nil) { b, _ in
            b + Data([0])
        },
        Derived(name: "message_bitflip", comment: "bit 0 of the message stream's first byte flipped", error: "tampered", openerSeed: nil) { b, o in
            var x = b; x[o.parts.signedPrefix.count - o.parts.streams.map(\.count).reduce(0, +)] ^= 1; return x
        },
        Derived(name: "other_intake", comment: "basic.drq opened with another intake key (seed request-vector/other-intake)",
                error: "not-for-this-intake", openerSeed: Basic.otherIntakeSeed) { _, _ in nil },
    ]

    static var sourceFolder: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors/request") }

    static func vectorFolder() throws -> URL {
        try XCTUnwrap(Bundle.module.url(forResource: "Vectors", withExtension: nil), "no Vectors resource").appendingPathComponent("request")
    }

    static func vectorData(_ file: String) throws -> Data { try Data(contentsOf: try vectorFolder().appendingPathComponent(file)) }

    static func headers(_ file: String) throws -> [String: String] {
        let text = try XCTUnwrap(String(data: try vectorData(file), encoding: .utf8))
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            XCTAssertEqual(parts.count, 2, "\(file): '\(line)'")
            XCTAssertNil(out[String(parts[0])], "\(file): \(parts[0]) twice")
            out[String(parts[0])] = parts.count == 2 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        }
        return out
    }

    // MARK: The generator

    func testGenerator() throws {
        let folder = try ShareKit.makeTemporaryFolder("request-vector-gen")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        guard ProcessInfo.processInfo.environment["DOSSIER_WRITE_REQUEST_VECTORS"] == "1" else {
            // Without the switch: every derived file on disk is what the generator makes from basic.drq.
            let basic = try Self.vectorData("basic.drq")
            let opened = try SpecRequest.open(basic, intake: Basic.intake)
            for d in Self.derived {
                guard let made = d.make(basic, opened) else { continue }
                XCTAssertEqual(try Self.vectorData(d.name + ".drq"), made, "\(d.name).drq is not what the generator makes")
            }
            return
        }
        let bytes = try Basic.make(in: folder)
        let out = Self.sourceFolder
        try bytes.write(to: out.appendingPathComponent("basic.drq"))
        let o = try SpecRequest.open(bytes, intake: Basic.intake)
        let intake = Basic.intake, sender = Basic.sender
        let intakeKey = try IntakeKey(encryptionKey: intake.publicKey)
        var h = ["expect: success",
                 "comment: an expert-witness request in English and French, every optional field, a message and two attachments (one with a non-ASCII name)",
                 "request: basic.drq", "made-at: \(Basic.madeAt)", "writer-random-seed: \(Basic.writerSeed)"]
        h += Self.keyHeader(intake: intake, intakeSeed: Basic.intakeSeed, sender: sender)
        h += ["intake-line: \(intakeKey.line)", "intake-fingerprint: \(intakeKey.fingerprint)",
              "header-hex: \(o.parts.header.hex)", "request-key: \(o.key.unsafeCopyToData().hex)",
              "details-key: \(SpecRequest.subkey(o.key, 0, "DOSSREQ1").unsafeCopyToData().hex)",
              "message-key: \(SpecRequest.subkey(o.key, 1, "DOSSREQ1").unsafeCopyToData().hex)"]
        for i in Basic.attachments.indices {
            h.append("attachment-\(i + 1)-key: \(SpecRequest.subkey(o.key, UInt64(i) + 2, "DOSSREQ1").unsafeCopyToData().hex)")
        }
        h += ["signature-key: \(SpecRequest.subkey(o.key, 0, "DOSSRSIG").unsafeCopyToData().hex)",
              "details-nonce: \(o.detailsNonce.hex)", "details-hex: \(Data(o.detailsText.utf8).hex)",
              "message-hex: \(Data(Basic.message.utf8).hex)"]
        for (i, a) in Basic.attachments.enumerated() {
            h += ["attachment-\(i + 1)-name: \(a.name)", "attachment-\(i + 1)-plaintext: \(a.content.hex)"]
        }
        h += ["signed-blake2b-512: \(Hash.blake2b(o.parts.signedPrefix, length: 64).hex)", "signature: \(o.signature.hex)",
              "signature-nonce: \(o.signatureNonce.hex)"]
        try (h.joined(separator: "\n") + "\n").write(to: out.appendingPathComponent("basic.txt"), atomically: true, encoding: .utf8)
        for d in Self.derived {
            var dh = ["expect: failure", "error: \(d.error)", "comment: \(d.comment)"]
            if let made = d.make(bytes, o) {
                try made.write(to: out.appendingPathComponent(d.name + ".drq"))
                dh += ["request: \(d.name).drq", "derived-from: basic.drq"]
            } else {
                dh.append("request: basic.drq")
            }
            let opener = d.openerSeed.map { BoxKeyPair.generate(using: DeterministicRandom(seed: $0)) } ?? intake
            dh += Self.keyHeader(intake: opener, intakeSeed: d.openerSeed ?? Basic.intakeSeed, sender: sender)
            try (dh.joined(separator: "\n") + "\n").write(to: out.appendingPathComponent(d.name + ".txt"), atomically: true, encoding: .utf8)
        }
    }

    static func keyHeader(intake: BoxKeyPair, intakeSeed: String, sender: SecretIdentity) -> [String] {
        ["intake-seed: \(intakeSeed)", "intake-x25519-secret: \(intake.secretKey.unsafeCopyToData().hex)",
         "intake-x25519-public: \(intake.publicKey.hex)", "sender-seed: \(Basic.senderSeed)",
         "sender-public: \(sender.publicIdentity.line)", "sender-fingerprint: \(sender.publicIdentity.fingerprint)",
         "sender-ed25519-seed: \(sender.signing.seed.unsafeCopyToData().hex)"]
    }

    // MARK: The runner

    /// The request fuzz target's seed, `Tests/Fuzz/corpus/request/valid`: a request with two
    /// attachments sealed to the target's fixed intake key (seed `dossier-fuzz-intake`), so that
    /// the fuzzer starts from an input that passes every check. `DOSSIER_WRITE_FUZZ_SEEDS=1`
    /// rewrites it.
    func testTheFuzzSeedOpensWithTheFuzzIntakeKey() throws {
        let fuzzIntake = BoxKeyPair.generate(using: DeterministicRandom(seed: "dossier-fuzz-intake"))
        let seed = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/corpus/request/valid")
        if ProcessInfo.processInfo.environment["DOSSIER_WRITE_FUZZ_SEEDS"] == "1" {
            let folder = try ShareKit.makeTemporaryFolder("fuzz-seed")
            let paths = try RequestKit.files(in: folder, Basic.attachments)
            let draft = RequestDraft(to: try IntakeKey(encryptionKey: fuzzIntake.publicKey), need: .reports, languages: ["ar", "fr"],
                                     court: "Court", hearing: "2027-03-15", message: SecureBytes(copying: Data("Fuzz seed.\n".utf8)),
                                     attachments: paths)
            _ = try RequestWriter(clock: FixedClock(Timestamp.parse(Basic.madeAt)!), random: DeterministicRandom(seed: "fuzz-seed/writer"))
                .write(draft, identity: Basic.sender, to: folder + "/seed.drq")
            try FileManager.default.createDirectory(at: seed.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(contentsOf: URL(fileURLWithPath: folder + "/seed.drq")).write(to: seed)
        }
        let opened = try RequestReader.open(path: seed.path, intakeSecret: fuzzIntake.secretKey)
        XCTAssertEqual(opened.details.attachments.count, 2)
        XCTAssertEqual(String(decoding: try opened.message().unsafeCopyToData(), as: UTF8.self), "Fuzz seed.\n")
    }

    func testEveryVector() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: try Self.vectorFolder().path).filter { $0.hasSuffix(".txt") }.sorted()
        XCTAssertEqual(Set(names), Set((["basic"] + Self.derived.map(\.name)).map { $0 + ".txt" }))
        for file in names {
            let v = try Self.headers(file)
            let folder = try ShareKit.makeTemporaryFolder("request-vector-run")
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let path = folder + "/" + (try XCTUnwrap(v["request"]))
            try Self.vectorData(try XCTUnwrap(v["request"])).write(to: URL(fileURLWithPath: path))
            let secret = SecureBytes(copying: try XCTUnwrap(Data(hex: try XCTUnwrap(v["intake-x25519-secret"]))))
            XCTAssertEqual(try BoxKeyPair(secretKey: secret).publicKey.hex, v["intake-x25519-public"], file)
            let result = Result { try RequestReader.open(path: path, intakeSecret: secret) }
            switch v["expect"] {
            case "success":
                let opened = try result.get()
                XCTAssertEqual(opened.details.from.line, v["sender-public"], file)
                XCTAssertEqual(try opened.message().unsafeCopyToData().hex, v["message-hex"], file)
                XCTAssertEqual(opened.details.bytes.hex, v["details-hex"], file)
                for i in opened.details.attachments.indices {
                    XCTAssertEqual(opened.details.attachments[i].name, v["attachment-\(i + 1)-name"], file)
                    try opened.saveAttachment(i, to: folder + "/a\(i)")
                    XCTAssertEqual(try readFile(folder + "/a\(i)").hex, v["attachment-\(i + 1)-plaintext"], file)
                }
            case "failure":
                guard case let .failure(e) = result else { XCTFail("\(file): opened"); continue }
                let keyword: String
                switch e as? DossierError {
                case .requestTampered?: keyword = "tampered"
                case .malformedRequest?: keyword = "malformed"
                case .requestNotForThisIntake?: keyword = "not-for-this-intake"
                default: keyword = "other: \(e)"
                }
                XCTAssertEqual(keyword, v["error"], file)
            default:
                XCTFail("\(file): unknown expect")
            }
        }
    }

    /// Every value of basic.txt, computed again from the rules of request.md with libsodium's
    /// primitives, and the bytes of basic.drq rebuilt from them, all but the stanza.
    func testBasicReDerivesEveryValue() throws {
        let v = try Self.headers("basic.txt")
        func hex(_ key: String) throws -> Data { try XCTUnwrap(Data(hex: try XCTUnwrap(v[key], key)), key) }
        let b = try Self.vectorData("basic.drq")
        let intake = try BoxKeyPair(secretKey: SecureBytes(copying: try hex("intake-x25519-secret")))
        XCTAssertEqual(intake.publicKey, try hex("intake-x25519-public"))
        // The intake line and fingerprint (section 2).
        let checksum = Hash.blake2b(Data("dossierintake1".utf8) + intake.publicKey, length: 32).prefix(4)
        XCTAssertEqual("dossierintake1" + Base32.encode(intake.publicKey + checksum), v["intake-line"])
        let code = Base32.encode(Hash.blake2b(Data("dossier-fingerprint/intake\n".utf8) + intake.publicKey, length: 32).prefix(10), uppercase: true)
        XCTAssertEqual(stride(from: 0, to: 16, by: 4).map { Array(code)[$0..<$0 + 4].map(String.init).joined() }.joined(separator: "-"), v["intake-fingerprint"])
        // Framing (section 1).
        XCTAssertEqual(b.prefix(4), Data([0x44, 0x52, 0x51, 0x01]))
        let m = b[4..<8].reduce(0) { $0 << 8 | Int($1) }
        let header = Data(b[8..<8 + m])
        XCTAssertEqual(header, try hex("header-hex"))
        XCTAssertEqual(String(decoding: header, as: UTF8.self).split(separator: "\n").map(String.init),
                       ["dossier-request/1", "to \(v["intake-line"]!)", try XCTUnwrap(String(decoding: header, as: UTF8.self).split(separator: "\n").dropFirst(2).first.map(String.init)), "created \(Basic.madeAt)"])
        // The stanza opens to K; the subkeys (section 3).
        let key = try SealedBox.open(Data(b[8 + m..<88 + m]), with: intake)
        XCTAssertEqual(key.unsafeCopyToData(), try hex("request-key"))
        XCTAssertEqual(try KeyDerivation.subkey(from: key, id: 0, context: "DOSSREQ1").unsafeCopyToData(), try hex("details-key"))
        XCTAssertEqual(try KeyDerivation.subkey(from: key, id: 1, context: "DOSSREQ1").unsafeCopyToData(), try hex("message-key"))
        XCTAssertEqual(try KeyDerivation.subkey(from: key, id: 2, context: "DOSSREQ1").unsafeCopyToData(), try hex("attachment-1-key"))
        XCTAssertEqual(try KeyDerivation.subkey(from: key, id: 3, context: "DOSSREQ1").unsafeCopyToData(), try hex("attachment-2-key"))
        XCTAssertEqual(try KeyDerivation.subkey(from: key, id: 0, context: "DOSSRSIG").unsafeCopyToData(), try hex("signature-key"))
        // The sealed details (section 4), rebuilt from the text and the nonce.
        let l = b[88 + m..<92 + m].reduce(0) { $0 << 8 | Int($1) }
        let sealedDetails = Data(b[92 + m..<92 + m + l])
        XCTAssertEqual(sealedDetails.prefix(24), try hex("details-nonce"))
        let ad = Data("dossier-request-details/1\n".utf8) + Hash.sha256(header)
        let details = try hex("details-hex")
        XCTAssertEqual(try AEAD.open(sealedDetails, key: SecureBytes(copying: try hex("details-key")), additionalData: ad).unsafeCopyToData(), details)
        XCTAssertEqual(try AEAD.seal(details, key: SecureBytes(copying: try hex("details-key")), additionalData: ad,
                                     random: QueuedBytes([try hex("details-nonce")])), sealedDetails)
        // The streams (section 5), rebuilt from the plaintexts.
        let plaintexts = [try hex("message-hex"), try hex("attachment-1-plaintext"), try hex("attachment-2-plaintext")]
        let keys = [try hex("message-key"), try hex("attachment-1-key"), try hex("attachment-2-key")]
        var offset = 92 + m + l
        for (p, k) in zip(plaintexts, keys) {
            let s = SpecRequest.stream(p, key: SecureBytes(copying: k))
            XCTAssertEqual(Data(b[offset..<offset + s.count]), s)
            offset += s.count
        }
        // The size rule (section 1) and the signature (section 6).
        XCTAssertEqual(b.count, 8 + m + 80 + 4 + l + plaintexts.map { Int(ContentStream.ciphertextSize(plaintextSize: UInt64($0.count))) }.reduce(0, +) + 104)
        XCTAssertEqual(offset + 104, b.count)
        let digest = Hash.blake2b(Data(b.prefix(offset)), length: 64)
        XCTAssertEqual(digest, try hex("signed-blake2b-512"))
        let signer = try SigningKeyPair(seed: SecureBytes(copying: try hex("sender-ed25519-seed")))
        let signature = signer.sign(Data("dossier-request-signature/1\n".utf8) + digest)
        XCTAssertEqual(signature, try hex("signature"))
        XCTAssertEqual(try PublicIdentity(line: try XCTUnwrap(v["sender-public"])).signingKey, signer.publicKey)
        XCTAssertEqual(try AEAD.seal(signature, key: SecureBytes(copying: try hex("signature-key")), additionalData: Data("dossier-request-signature/1\n".utf8),
                                     random: QueuedBytes([try hex("signature-nonce")])), Data(b.suffix(104)))
    }

    func testRegeneratingGivesTheSameBytesOutsideTheStanzaAndSignature() throws {
        let folder = try ShareKit.makeTemporaryFolder("request-vector-regen")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let made = try Basic.make(in: folder)
        let checkedIn = try Self.vectorData("basic.drq")
        XCTAssertEqual(made.count, checkedIn.count)
        let m = checkedIn[4..<8].reduce(0) { $0 << 8 | Int($1) }
        // crypto_box_seal draws its ephemeral key from libsodium's own generator, so the stanza
        // (and the signature over it) differ; everything the writer takes from the injected clock
        // and random source is identical: framing, header, details, streams, signature nonce.
        XCTAssertEqual(made.prefix(8 + m), checkedIn.prefix(8 + m))
        XCTAssertEqual(made[(88 + m)..<(made.count - 80)], checkedIn[(88 + m)..<(checkedIn.count - 80)])
        XCTAssertNotEqual(made[(8 + m)..<(88 + m)], checkedIn[(8 + m)..<(88 + m)])
    }

    func testTheDocumentsWorkedExampleIsTheVector() throws {
        let v = try Self.headers("basic.txt")
        let doc = try String(contentsOf: ShareKit.repositoryRoot.appendingPathComponent("docs/formats/request.md"), encoding: .utf8)
        let header = String(decoding: try XCTUnwrap(Data(hex: try XCTUnwrap(v["header-hex"]))), as: UTF8.self)
        let details = String(decoding: try XCTUnwrap(Data(hex: try XCTUnwrap(v["details-hex"]))), as: UTF8.self)
        for line in header.split(separator: "\n") + details.split(separator: "\n") {
            XCTAssertTrue(doc.contains(line), "request.md does not show the line '\(line)'")
        }
        for key in ["intake-x25519-secret", "intake-line", "intake-fingerprint", "request-key", "details-key", "message-key",
                    "attachment-1-key", "attachment-2-key", "signature-key", "details-nonce", "signature-nonce"] {
            XCTAssertTrue(doc.contains(try XCTUnwrap(v[key])), "request.md does not show \(key)")
        }
        XCTAssertTrue(doc.contains("(\(try Self.vectorData("basic.drq").count) bytes"), "request.md gives another size for basic.drq")
    }
}
