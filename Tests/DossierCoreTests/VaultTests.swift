import DossierCrypto
import Foundation
import GRDB
import XCTest
@testable import DossierCore

/// The vault through the library: deposit and retrieve, bad input, metadata at rest, staff and
/// rotation, listing, search and removal (issue 3, points 2–5 and 9).
final class VaultTests: XCTestCase {
    // MARK: Round trips

    func testDepositRetrieveRoundTripAtChunkBoundaries() throws {
        let v = try makeVault()
        let sizes = [0, 1, 65_535, 65_536, 65_537, 200 * 1024]
        for size in sizes {
            let input = v.folder.file("in-\(size).bin")
            let data = try generateFile(input, size: size, seed: "round-trip-\(size)")
            let docs = try v.session.documents.deposit(depositRequest([input], title: "size \(size)"))
            XCTAssertEqual(docs.count, 1)
            let doc = try XCTUnwrap(docs.first)
            XCTAssertEqual(doc.size, UInt64(size))
            XCTAssertTrue(Identifier.isWellFormed(doc.id, prefix: "doc"), doc.id)
            // The blob is the magic and a STREAM ciphertext: never the plaintext's size.
            let blob = try XCTUnwrap(blobPath(v, doc.id), "no blob for \(doc.id)")
            XCTAssertEqual(fileSize(blob), 4 + ContentStream.ciphertextSize(plaintextSize: UInt64(size)))

            let output = v.folder.file("out-\(size).bin")
            let retrieved = try v.session.documents.retrieve(doc.id, to: output)
            XCTAssertEqual(retrieved.id, doc.id)
            XCTAssertEqual(fileSize(output), UInt64(size))
            XCTAssertEqual(try sha256(ofFile: output), data, "size \(size) did not round-trip")
            XCTAssertEqual(try readFile(output), try readFile(input))
        }
        XCTAssertEqual(try v.session.documents.list().count, sizes.count)
    }

    func testDepositRetrieveRoundTripLargerThan64MiB() throws {
        let v = try makeVault()
        let size = 65 * 1024 * 1024 + 3
        let input = v.folder.file("large.bin")
        let digest = try generateFile(input, size: size, seed: "large")
        let peakBefore = peakResidentKiB()

        let doc = try XCTUnwrap(try v.session.documents.deposit(depositRequest([input], kind: .supportingMaterial, title: "large")).first)
        XCTAssertEqual(doc.size, UInt64(size))
        let blob = try XCTUnwrap(blobPath(v, doc.id))
        XCTAssertEqual(fileSize(blob), 4 + ContentStream.ciphertextSize(plaintextSize: UInt64(size)))
        // The blob is not the plaintext.
        XCTAssertNotEqual(try sha256(ofFile: blob), digest)

        let output = v.folder.file("large.out")
        _ = try v.session.documents.retrieve(doc.id, to: output)
        XCTAssertEqual(fileSize(output), UInt64(size))
        XCTAssertEqual(try sha256(ofFile: output), digest)

        // Memory stays bounded: neither deposit nor retrieve holds the 65 MiB file in memory.
        // (The peak can only grow; a whole-file buffer would push it up by at least 65 MiB.)
        let growth = peakResidentKiB() - peakBefore
        XCTAssertLessThan(growth, 40 * 1024, "peak memory grew by \(growth) KiB while moving a 65 MiB file")
    }

    func testSeveralFilesInOneDepositShareMetadataAndAreAllPresent() throws {
        let v = try makeVault()
        let names = ["one.txt", "two.txt", "three.txt"]
        var contents: [String: Data] = [:]
        for (i, name) in names.enumerated() {
            contents[name] = Data("content of file \(i) \(name)\n".utf8)
            try writeFile(v.folder.file(name), contents[name]!)
        }
        let logBefore = try rawLog(v).count
        let docs = try v.session.documents.deposit(depositRequest(names.map(v.folder.file), kind: .witnessTestimony,
                                                         title: "Shared title", language: "fr", tags: ["t1", "t2"],
                                                         jurisdiction: "Uzbekistan", caseReference: "EXT-1"))
        XCTAssertEqual(docs.count, 3)
        XCTAssertEqual(Set(docs.map(\.id)).count, 3, "ids must differ")
        XCTAssertEqual(docs.map { $0.metadata?.fileName }, names)
        for d in docs {
            XCTAssertEqual(d.kind, .witnessTestimony)
            XCTAssertEqual(d.language, "fr")
            XCTAssertEqual(d.metadata?.title, "Shared title")
            XCTAssertEqual(d.metadata?.tags, ["t1", "t2"])
            XCTAssertEqual(d.metadata?.jurisdiction, "Uzbekistan")
            XCTAssertEqual(d.metadata?.caseReference, "EXT-1")
            XCTAssertEqual(d.depositedBy, v.founder.publicIdentity.fingerprint)
            XCTAssertNotNil(blobPath(v, d.id), "blob of \(d.id) missing")
            let out = v.folder.file("out-" + d.id)
            _ = try v.session.documents.retrieve(d.id, to: out)
            XCTAssertEqual(try readFile(out), contents[d.metadata!.fileName])
        }
        XCTAssertEqual(Set(try v.session.documents.list().map(\.id)), Set(docs.map(\.id)))
        XCTAssertEqual(blobFiles(v).count, 3)
        // One deposit entry per document, then one retrieve entry per retrieval.
        XCTAssertEqual(try rawLog(v).count, logBefore + 6)
    }

    func testRetrieveRefusesAnExistingOutputUnlessOverwrite() throws {
        let v = try makeVault()
        let input = v.folder.file("in.txt")
        try writeFile(input, "the real content")
        let doc = try XCTUnwrap(try v.session.documents.deposit(depositRequest([input])).first)
        let output = v.folder.file("existing.txt")
        try writeFile(output, "precious existing file")
        let logBefore = try rawLog(v).count

        assertDossierError("fileExists") { try v.session.documents.retrieve(doc.id, to: output) }
        XCTAssertEqual(try readFile(output), Data("precious existing file".utf8), "the existing file was changed")
        XCTAssertEqual(try rawLog(v).count, logBefore, "a refused retrieve revealed nothing and must not be logged as one")
        XCTAssertEqual(folderContents(v.folder.path).filter { $0.contains("dossier-tmp") }, [], "temporary file left")

        _ = try v.session.documents.retrieve(doc.id, to: output, overwrite: true)
        XCTAssertEqual(try readFile(output), Data("the real content".utf8))
    }

    func testRetrieveOfACorruptedBlobLeavesNoOutputAndNoTemporaryFile() throws {
        // 200 KiB is four chunks: damage in the last chunk is found only after three chunks
        // were decrypted and written, i.e. a retrieve that fails halfway.
        for (label, offsetFromEnd) in [("last chunk", UInt64(100)), ("first chunk", nil as UInt64?)] {
            let v = try makeVault(seed: "corrupt-" + label)
            let input = v.folder.file("in.bin")
            try generateFile(input, size: 200 * 1024, seed: "corrupt")
            let doc = try XCTUnwrap(try v.session.documents.deposit(depositRequest([input])).first)
            let blob = try XCTUnwrap(blobPath(v, doc.id))
            let size = try XCTUnwrap(fileSize(blob))
            try flipByte(in: blob, at: offsetFromEnd.map { size - $0 } ?? 10)

            let outFolder = v.folder.file("out")
            try FileManager.default.createDirectory(atPath: outFolder, withIntermediateDirectories: false)
            let error = assertDossierError("integrity", label) { try v.session.documents.retrieve(doc.id, to: outFolder + "/doc.bin") }
            XCTAssertTrue(error?.description.contains(doc.id) ?? false, "the message should name the document: \(String(describing: error))")
            XCTAssertEqual(folderContents(outFolder), [], "\(label): a failed retrieve left files behind")
        }
    }

    func testRetrieveOfATruncatedBlobLeavesNoOutputAndNoTemporaryFile() throws {
        let plainSize = 200 * 1024
        let fullChunk = UInt64(ContentStream.chunkSize + ContentStream.tagBytes)
        let cuts: [(String, (UInt64) -> UInt64)] = [
            ("inside the last chunk", { $0 - 1000 }),
            ("the whole last chunk", { _ in 4 + 3 * fullChunk }),
            ("one byte", { $0 - 1 }),
            ("to the header", { _ in 4 }),
            ("inside the header", { _ in 2 }),
        ]
        for (label, cut) in cuts {
            let v = try makeVault(seed: "truncated-" + label)
            let input = v.folder.file("in.bin")
            try generateFile(input, size: plainSize, seed: "truncated")
            let doc = try XCTUnwrap(try v.session.documents.deposit(depositRequest([input])).first)
            let blob = try XCTUnwrap(blobPath(v, doc.id))
            try truncateFile(blob, to: cut(try XCTUnwrap(fileSize(blob))))

            let outFolder = v.folder.file("out")
            try FileManager.default.createDirectory(atPath: outFolder, withIntermediateDirectories: false)
            assertDossierError("integrity", label) { try v.session.documents.retrieve(doc.id, to: outFolder + "/doc.bin") }
            XCTAssertEqual(folderContents(outFolder), [], "\(label): a failed retrieve left files behind")
        }
    }

    func testRetrieveOfAMissingBlobIsAnIntegrityErrorAndLeavesNothing() throws {
        let v = try makeVault()
        let input = v.folder.file("in.txt")
        try writeFile(input, "content")
        let doc = try XCTUnwrap(try v.session.documents.deposit(depositRequest([input])).first)
        try FileManager.default.removeItem(atPath: try XCTUnwrap(blobPath(v, doc.id)))
        let outFolder = v.folder.file("out")
        try FileManager.default.createDirectory(atPath: outFolder, withIntermediateDirectories: false)
        assertDossierError("integrity") { try v.session.documents.retrieve(doc.id, to: outFolder + "/doc.txt") }
        XCTAssertEqual(folderContents(outFolder), [])
    }

    func testRetrieveOfAnUnknownIdIsRefused() throws {
        let v = try makeVault()
        let output = v.folder.file("out.txt")
        assertDossierError("unknownDocument") { try v.session.documents.retrieve("doc-aaaaaaaaaaaaa", to: output) }
        assertDossierError("unknownDocument") { try v.session.documents.document("nonsense") }
        XCTAssertFalse(fileExists(output))
    }

    // MARK: Bad input stores nothing

    /// Asserts that the vault holds no document, no blob, no temporary file, and that the log
    /// has exactly `logCount` entries.
    private func assertNothingStored(_ v: VaultFixture, logCount: Int, _ label: String, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(try v.session.documents.list(DocumentFilter(includeRemoved: true)).count, 0, "\(label): a document was listed", file: file, line: line)
        XCTAssertEqual(try documentRowCount(v), 0, "\(label): a catalogue row was written", file: file, line: line)
        XCTAssertEqual(blobFiles(v), [], "\(label): a blob was left", file: file, line: line)
        XCTAssertEqual(temporaryBlobFiles(v), [], "\(label): a temporary file was left", file: file, line: line)
        XCTAssertEqual(try rawLog(v).count, logCount, "\(label): the log changed", file: file, line: line)
    }

    func testBadInputGetsAClearErrorAndStoresNothing() throws {
        let v = try makeVault()
        let good = v.folder.file("good.txt")
        try writeFile(good, "fine content")
        let folder = v.folder.file("a-folder")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let missing = v.folder.file("missing.txt")
        let logCount = try rawLog(v).count
        XCTAssertEqual(logCount, 1, "a new vault has its init entry")

        let e1 = assertDossierError("fileNotFound") { try v.session.documents.deposit(depositRequest([missing])) }
        XCTAssertTrue(e1?.description.contains(missing) ?? false, "the message should name the file")
        try assertNothingStored(v, logCount: logCount, "missing file")

        let e2 = assertDossierError("notARegularFile") { try v.session.documents.deposit(depositRequest([folder])) }
        XCTAssertTrue(e2?.description.contains(folder) ?? false)
        try assertNothingStored(v, logCount: logCount, "folder")

        assertDossierError("invalidArgument") { try v.session.documents.deposit(depositRequest([""])) }
        try assertNothingStored(v, logCount: logCount, "empty path")

        assertDossierError("invalidArgument") { try v.session.documents.deposit(depositRequest([])) }
        try assertNothingStored(v, logCount: logCount, "no file")

        for title in ["", "   ", "\n\t"] {
            assertDossierError("invalidArgument", "title \(title.debugDescription)") { try v.session.documents.deposit(depositRequest([good], title: title)) }
            try assertNothingStored(v, logCount: logCount, "empty title")
        }

        for tag in ["en_GB", "e", "englishes", "en-", "-en", "en--GB", "zh-Hans-Hant-CN", "12", "ü", " en"] {
            assertDossierError("invalidLanguageTag", "tag \(tag.debugDescription)") { try v.session.documents.deposit(depositRequest([good], language: tag)) }
            try assertNothingStored(v, logCount: logCount, "language \(tag)")
        }

        assertDossierError("invalidArgument") { try v.session.documents.deposit(depositRequest([good], tags: ["ok", "  "])) }
        try assertNothingStored(v, logCount: logCount, "empty tag")

        // Several files are all or none: a bad second file stores nothing of the first.
        assertDossierError("fileNotFound") { try v.session.documents.deposit(depositRequest([good, missing])) }
        try assertNothingStored(v, logCount: logCount, "good file then missing file")
        assertDossierError("notARegularFile") { try v.session.documents.deposit(depositRequest([good, folder])) }
        try assertNothingStored(v, logCount: logCount, "good file then folder")
    }

    func testUnknownKindIsRefusedWithTheListOfKinds() throws {
        for text in ["memo", "", "Expert-Report", "expert_report", "expert-report "] {
            let error = assertDossierError("unknownKind", text.debugDescription) { try DocumentKind(parsing: text) }
            for kind in DocumentKind.allCases {
                XCTAssertTrue(error?.description.contains(kind.rawValue) ?? false, "the message should list \(kind.rawValue)")
            }
        }
        XCTAssertEqual(try DocumentKind(parsing: "expert-report"), .expertReport)
        XCTAssertEqual(try DocumentKind(parsing: "witness-testimony"), .witnessTestimony)
        XCTAssertEqual(try DocumentKind(parsing: "assurance-rebuttal"), .assuranceRebuttal)
        XCTAssertEqual(try DocumentKind(parsing: "supporting-material"), .supportingMaterial)
    }

    func testLanguageTagsAreStoredInCanonicalCase() throws {
        let v = try makeVault()
        let input = v.folder.file("in.txt")
        try writeFile(input, "x")
        for (given, stored) in [("zh-hans", "zh-Hans"), ("PT-br", "pt-BR"), ("es-419", "es-419"), ("AR", "ar"), ("und", "und")] {
            let doc = try XCTUnwrap(try v.session.documents.deposit(depositRequest([input], language: given)).first)
            XCTAssertEqual(doc.language, stored, given)
        }
        XCTAssertEqual(Language.displayName("zh-Hans"), "Chinese (Simplified) (zh-Hans)")
        XCTAssertEqual(Language.displayName("ru"), "Russian (ru)")
        XCTAssertEqual(Language.displayName("pt-BR"), "pt-BR")
    }

    // MARK: Metadata at rest

    func testNoTitleFileNameTagJurisdictionCaseOrContentInTheVaultFolder() throws {
        let v = try makeVault()
        let secrets = [
            "title": "Zebra-Quartz Testimony of Witness Nadira",
            "file": "nadira-statement-zq81.txt",
            "tag": "tag-ultramarine-55",
            "jurisdiction": "Jurisdiction-Saffron-Republic",
            "case": "CASE-OCTARINE-4471",
            "content": "CONTENT-MARKER the witness saw the transfer at Kelvin Bridge",
            "reason": "REASON-MARKER withdrawn by vermilion",
            "staff name": "Bartholomew Staffname-Cerulean",
        ]
        let input = v.folder.file(secrets["file"]!)
        // Content repeated past one chunk, so every chunk holds the marker.
        try writeFile(input, String(repeating: secrets["content"]! + "\n", count: 3000))
        let docs = try v.session.documents.deposit(depositRequest([input], kind: .witnessTestimony, title: secrets["title"]!,
                                                         language: "ru", tags: [secrets["tag"]!],
                                                         jurisdiction: secrets["jurisdiction"]!, caseReference: secrets["case"]!))
        let second = try XCTUnwrap(try v.session.documents.deposit(depositRequest([input], title: secrets["title"]!)).first)
        try v.session.documents.remove(second.id, reason: secrets["reason"]!)
        _ = try v.session.staff.add(TestIdentity.make("bob").publicIdentity, name: secrets["staff name"]!)
        // The session can still read it all back: the test would be vacuous otherwise.
        XCTAssertEqual(try v.session.documents.search([secrets["case"]!]).map(\.id), docs.map(\.id))

        let files = regularFiles(under: v.path)
        XCTAssertTrue(files.contains(v.databasePath), "vault.sqlite not found among \(files)")
        // Positive control: what is stored in the clear (the organisation's name) is found.
        XCTAssertTrue(files.contains { contains((try? readFile($0)) ?? Data(), Data("test.example/dossier".utf8)) },
                      "the scan cannot find what is in the clear; it proves nothing")
        XCTAssertTrue(files.contains { $0.hasSuffix("vault.sqlite-wal") }, "the WAL should be scanned too: \(files)")
        XCTAssertGreaterThanOrEqual(blobFiles(v).count, 1)
        for path in files {
            let bytes = try readFile(path)
            for (what, text) in secrets {
                for needle in [text, text.lowercased(), text.uppercased()] {
                    XCTAssertFalse(contains(bytes, Data(needle.utf8)), "the \(what) is in the clear in \(path)")
                }
                XCTAssertFalse(contains(bytes, Data(text.utf16.flatMap { [UInt8($0 & 0xff), UInt8($0 >> 8)] })), "the \(what) is in the clear (UTF-16) in \(path)")
            }
        }
    }

    // MARK: Staff

    func testANonStaffIdentityIsRefused() throws {
        let v = try makeVault()
        let mallory = TestIdentity.make("mallory")
        let error = assertDossierError("notStaff") { try v.vault.unlock(mallory) }
        XCTAssertTrue(error?.description.contains(mallory.publicIdentity.fingerprint) ?? false)
        // An identity that shares one of the founder's keys but not both is still refused.
        let mixed = SecretIdentity(encryption: v.founder.encryption, signing: mallory.signing)
        assertDossierError("notStaff") { try v.vault.unlock(mixed) }
        let mixed2 = SecretIdentity(encryption: mallory.encryption, signing: v.founder.signing)
        assertDossierError("notStaff") { try v.vault.unlock(mixed2) }
    }

    func testAddedStaffCanWorkAndRemovedStaffAreRefusedAfterRotation() throws {
        let v = try makeVault()
        let bob = TestIdentity.make("bob")
        let input = v.folder.file("old.bin")
        let digest = try generateFile(input, size: 150_000, seed: "old")
        let old = try XCTUnwrap(try v.session.documents.deposit(depositRequest([input], title: "Old document")).first)

        assertDossierError("notStaff") { try v.vault.unlock(bob) }
        let added = try v.session.staff.add(bob.publicIdentity, name: "Bob")
        XCTAssertEqual(added.id, bob.publicIdentity.fingerprint)
        assertDossierError("staffAlreadyPresent") { try v.session.staff.add(bob.publicIdentity, name: "Bob again") }
        assertDossierError("invalidArgument") { try v.session.staff.add(TestIdentity.make("nameless").publicIdentity, name: "  ") }

        // Bob can unlock, list, and retrieve; he deposits too.
        let bobSession = try v.vault.unlock(bob)
        XCTAssertEqual(try bobSession.documents.list().map(\.id), [old.id])
        XCTAssertEqual(try bobSession.documents.list().first?.metadata?.title, "Old document")
        let bobOut = v.folder.file("bob.out")
        _ = try bobSession.documents.retrieve(old.id, to: bobOut)
        XCTAssertEqual(try sha256(ofFile: bobOut), digest)
        let bobInput = v.folder.file("bob.txt")
        try writeFile(bobInput, "deposited by bob")
        let bobDoc = try XCTUnwrap(try bobSession.documents.deposit(depositRequest([bobInput], title: "Bob's")).first)
        XCTAssertEqual(bobDoc.depositedBy, bob.publicIdentity.fingerprint)
        let names = try v.session.staff.list().map(\.name)
        XCTAssertEqual(Set(names), ["Alice Founder", "Bob"])

        // What Bob could have kept: his sealed copy of the current vault key.
        let bobSealedKey = try XCTUnwrap(try rawDatabase(v).read { db in
            try Data.fetchOne(db, sql: "SELECT vault_key_sealed FROM staff WHERE fingerprint = ?", arguments: [bob.publicIdentity.fingerprint])
        })
        let oldVaultKey = try SealedBox.open(bobSealedKey, with: bob.encryption)
        let oldKeySealed = try documentKeySealed(v, old.id)
        XCTAssertNoThrow(try Sealing.open(oldKeySealed, purpose: .documentKey, id: old.id, vaultKey: oldVaultKey),
                         "before removal, Bob's copy of the vault key opens the document key")

        // Remove Bob: the vault key rotates.
        let rewrapped = try v.session.staff.remove(bob.publicIdentity.fingerprint)
        XCTAssertEqual(rewrapped, 2)
        assertDossierError("notStaff") { try v.vault.unlock(bob) }
        assertDossierError("notStaff") { try self.reopen(v).unlock(bob) }
        // Bob's old copy of the vault key no longer opens any document key.
        for id in [old.id, bobDoc.id] {
            let current = try documentKeySealed(v, id)
            XCTAssertNotEqual(current, oldKeySealed)
            XCTAssertThrowsError(try Sealing.open(current, purpose: .documentKey, id: id, vaultKey: oldVaultKey),
                                 "the removed member's old vault key still opens \(id)")
        }
        let staff = try v.vault.unlock(v.founder).staff.list()
        XCTAssertNotNil(staff.first { $0.id == bob.publicIdentity.fingerprint }?.removedAt, "Bob should be listed as removed")
        XCTAssertNil(staff.first { $0.id == v.founder.publicIdentity.fingerprint }?.removedAt)

        // The remaining staff still retrieve everything byte-exact, from a reopened vault too.
        let alice = try reopen(v).unlock(v.founder)
        let out = v.folder.file("alice.out")
        _ = try alice.documents.retrieve(old.id, to: out)
        XCTAssertEqual(try sha256(ofFile: out), digest)
        let out2 = v.folder.file("alice2.out")
        _ = try alice.documents.retrieve(bobDoc.id, to: out2)
        XCTAssertEqual(try readFile(out2), Data("deposited by bob".utf8))
        XCTAssertEqual(try alice.documents.document(old.id).metadata?.title, "Old document")

        // A removed identity cannot come back, and cannot be removed twice.
        assertDossierError("invalidArgument") { try alice.staff.add(bob.publicIdentity, name: "Bob") }
        assertDossierError("unknownStaff") { try alice.staff.remove(bob.publicIdentity.fingerprint) }
    }

    func testRemovingTheLastStaffMemberIsRefused() throws {
        let v = try makeVault()
        let fp = v.founder.publicIdentity.fingerprint
        let logBefore = try rawLog(v).count
        assertDossierError("lastStaffMember") { try v.session.staff.remove(fp) }
        assertDossierError("lastStaffMember") { try v.session.staff.remove(fp.lowercased().replacingOccurrences(of: "-", with: "")) }
        XCTAssertNoThrow(try v.vault.unlock(v.founder))
        XCTAssertEqual(try rawLog(v).count, logBefore)
        assertDossierError("unknownStaff") { try v.session.staff.remove("AAAA-BBBB-CCCC-DDDD") }
        assertDossierError("unknownStaff") { try v.session.staff.remove("not a fingerprint") }
    }

    func testStaffCanRemoveThemselvesWhileOthersRemain() throws {
        let v = try makeVault()
        let bob = TestIdentity.make("bob")
        _ = try v.session.staff.add(bob.publicIdentity, name: "Bob")
        try v.session.staff.remove(v.founder.publicIdentity.fingerprint)
        assertDossierError("notStaff") { try v.vault.unlock(v.founder) }
        let bobSession = try v.vault.unlock(bob)
        assertDossierError("lastStaffMember") { try bobSession.staff.remove(bob.publicIdentity.fingerprint) }
    }

    func testRotateKeepsEverythingReadable() throws {
        let v = try makeVault()
        let bob = TestIdentity.make("bob")
        _ = try v.session.staff.add(bob.publicIdentity, name: "Bob")
        var digests: [String: Data] = [:]
        for i in 0..<3 {
            let input = v.folder.file("f\(i).bin")
            let digest = try generateFile(input, size: 70_000 * (i + 1), seed: "rotate-\(i)")
            let doc = try XCTUnwrap(try v.session.documents.deposit(depositRequest([input], title: "Doc \(i)", tags: ["r\(i)"], caseReference: "C-\(i)")).first)
            digests[doc.id] = digest
        }
        let removed = try XCTUnwrap(try v.session.documents.list().first)
        try v.session.documents.remove(removed.id, reason: "test")
        let organisationBefore = try v.session.organisationSigningKey().publicKey
        let keysBefore = try rawDatabase(v).read { db in try Data.fetchAll(db, sql: "SELECT key_sealed FROM documents WHERE key_sealed IS NOT NULL") }

        XCTAssertEqual(try v.session.staff.rotate(), 2, "two live documents' keys are re-wrapped")
        let keysAfter = try rawDatabase(v).read { db in try Data.fetchAll(db, sql: "SELECT key_sealed FROM documents WHERE key_sealed IS NOT NULL") }
        XCTAssertEqual(keysAfter.count, 2)
        XCTAssertTrue(Set(keysBefore).isDisjoint(with: keysAfter), "rotation must re-wrap every document key")

        for identity in [v.founder, bob] {
            let s = try reopen(v).unlock(identity)
            let docs = try s.documents.list()
            XCTAssertEqual(Set(docs.map(\.id)), Set(digests.keys).subtracting([removed.id]))
            for d in docs {
                XCTAssertEqual(d.metadata?.title.hasPrefix("Doc "), true)
                let out = v.folder.file("out-\(identity.publicIdentity.fingerprint)-\(d.id)")
                _ = try s.documents.retrieve(d.id, to: out)
                XCTAssertEqual(try sha256(ofFile: out), digests[d.id])
            }
            XCTAssertEqual(try s.documents.document(removed.id).isRemoved, true)
            XCTAssertEqual(Set(try s.staff.list().map(\.name)), ["Alice Founder", "Bob"])
            XCTAssertEqual(try s.organisationSigningKey().publicKey, organisationBefore, "the organisation key must survive rotation")
        }
        XCTAssertEqual(try v.vault.verifyLogChain(), try rawLog(v).count)
    }

    /// A session that rotated the vault key must go on working with the new key: it must not
    /// fail on what it just re-sealed, nor seal new documents under the destroyed key.
    func testTheSessionThatRotatesKeepsWorkingUnderTheNewKey() throws {
        let v = try makeVault()
        let bob = TestIdentity.make("bob")
        _ = try v.session.staff.add(bob.publicIdentity, name: "Bob")
        let bobSealedKey = try XCTUnwrap(try rawDatabase(v).read { db in
            try Data.fetchOne(db, sql: "SELECT vault_key_sealed FROM staff WHERE fingerprint = ?", arguments: [bob.publicIdentity.fingerprint])
        })
        let oldVaultKey = try SealedBox.open(bobSealedKey, with: bob.encryption)
        let input = v.folder.file("in.txt")
        try writeFile(input, "before")
        let before = try XCTUnwrap(try v.session.documents.deposit(depositRequest([input], title: "Before")).first)

        try v.session.staff.remove(bob.publicIdentity.fingerprint)

        // The same session lists what it re-sealed…
        XCTAssertNoThrow(try v.session.documents.list(), "the rotating session can no longer read the vault")
        XCTAssertEqual(try? v.session.documents.document(before.id).metadata?.title, "Before")
        // …and what it deposits now is sealed under the new vault key, not the destroyed one.
        try writeFile(input, "after")
        switch Result(catching: { try v.session.documents.deposit(depositRequest([input], title: "After")) }) {
        case .failure(let error):
            XCTFail("the rotating session cannot deposit any more: \(error)")
        case .success(let docs):
            let after = try XCTUnwrap(docs.first)
            let sealed = try documentKeySealed(v, after.id)
            XCTAssertThrowsError(try Sealing.open(sealed, purpose: .documentKey, id: after.id, vaultKey: oldVaultKey),
                                 "a document deposited after removing Bob is readable with Bob's old vault key")
            let fresh = try v.vault.unlock(v.founder)
            XCTAssertEqual(try? fresh.documents.document(after.id).metadata?.title, "After", "a fresh session cannot read the new document")
            let out = v.folder.file("after.out")
            XCTAssertNoThrow(try fresh.documents.retrieve(after.id, to: out))
        }
    }

    /// A session opened before another process rotated the vault key holds the old key: what
    /// it deposits afterwards must not be sealed under the destroyed key (unreadable by everyone
    /// else) — it must be refused, or be readable.
    func testADepositBySessionOpenedBeforeAnotherRotationIsReadableOrRefused() throws {
        let v = try makeVault()
        let early = try reopen(v).unlock(v.founder)       // e.g. a long deposit in another process
        try v.session.staff.rotate()
        let input = v.folder.file("late.txt")
        try writeFile(input, "deposited with a stale vault key")
        switch Result(catching: { try early.documents.deposit(depositRequest([input], title: "Late")) }) {
        case .success(let docs):
            let doc = try XCTUnwrap(docs.first)
            let fresh = try reopen(v).unlock(v.founder)
            XCTAssertEqual(try? fresh.documents.document(doc.id).metadata?.title, "Late", "the deposit committed a document nobody can read")
            let out = v.folder.file("late.out")
            XCTAssertNoThrow(try fresh.documents.retrieve(doc.id, to: out))
        case .failure:
            // Refused: then nothing at all is stored.
            XCTAssertEqual(try documentRowCount(v), 0)
            XCTAssertEqual(blobFiles(v), [])
            XCTAssertEqual(temporaryBlobFiles(v), [])
        }
    }

    /// Removed staff are refused, even through a session they opened before their removal.
    func testASessionOfRemovedStaffCannotDepositAfterTheRemoval() throws {
        let v = try makeVault()
        let bob = TestIdentity.make("bob")
        _ = try v.session.staff.add(bob.publicIdentity, name: "Bob")
        let bobSession = try reopen(v).unlock(bob)
        try v.session.staff.remove(bob.publicIdentity.fingerprint)
        let input = v.folder.file("bob.txt")
        try writeFile(input, "planted by a removed member")
        let logBefore = try rawLog(v).count
        do {
            _ = try bobSession.documents.deposit(depositRequest([input], title: "Planted"))
            XCTFail("a removed staff member deposited through an old session")
        } catch {
            // Refused as not staff, or as holding a superseded vault key (a retry then says not staff).
            XCTAssertTrue(["notStaff", "vaultKeyRotated"].contains(caseName(error)), "\(error)")
        }
        XCTAssertEqual(try documentRowCount(v), 0)
        XCTAssertEqual(blobFiles(v), [])
        XCTAssertEqual(try rawLog(v).count, logBefore)
        assertDossierError("notStaff") { try v.vault.unlock(bob) }
    }

    private func documentKeySealed(_ v: VaultFixture, _ id: String) throws -> Data {
        try XCTUnwrap(try rawDatabase(v).read { db in
            try Data.fetchOne(db, sql: "SELECT key_sealed FROM documents WHERE id = ?", arguments: [id])
        })
    }

    // MARK: List, search, remove

    private func depositFixtures(_ v: VaultFixture) throws -> (a: Document, b: Document, c: Document, d: Document) {
        func one(_ name: String, _ kind: DocumentKind, _ title: String, _ lang: String, _ caseRef: String?, tags: [String] = [], jurisdiction: String? = nil) throws -> Document {
            let path = v.folder.file(name)
            try writeFile(path, "content of \(name)")
            return try XCTUnwrap(try v.session.documents.deposit(depositRequest([path], kind: kind, title: title, language: lang, tags: tags,
                                                                      jurisdiction: jurisdiction, caseReference: caseRef)).first)
        }
        let a = try one("prison-report.pdf", .expertReport, "Prison conditions in Tashkent", "en", "EXT-2026-014", tags: ["detention"], jurisdiction: "Uzbekistan")
        let b = try one("temoignage.txt", .witnessTestimony, "Témoignage sur les assurances", "fr", "EXT-2026-015")
        let c = try one("statement.txt", .witnessTestimony, "Statement of a former guard", "en", "EXT-2026-014", tags: ["guard"])
        let d = try one("notes.txt", .supportingMaterial, "Background notes", "zh-Hans", nil)
        return (a, b, c, d)
    }

    func testListFilters() throws {
        let v = try makeVault()
        let (a, b, c, d) = try depositFixtures(v)
        let s = v.session
        XCTAssertEqual(Set(try s.documents.list().map(\.id)), [a.id, b.id, c.id, d.id])
        XCTAssertEqual(Set(try s.documents.list(DocumentFilter(kind: .witnessTestimony)).map(\.id)), [b.id, c.id])
        XCTAssertEqual(try s.documents.list(DocumentFilter(kind: .assuranceRebuttal)).map(\.id), [])
        XCTAssertEqual(Set(try s.documents.list(DocumentFilter(caseReference: "EXT-2026-014")).map(\.id)), [a.id, c.id])
        XCTAssertEqual(try s.documents.list(DocumentFilter(caseReference: "EXT-2026-015")).map(\.id), [b.id])
        XCTAssertEqual(try s.documents.list(DocumentFilter(caseReference: "EXT-2026")).map(\.id), [], "a case reference matches whole")
        XCTAssertEqual(Set(try s.documents.list(DocumentFilter(language: "en")).map(\.id)), [a.id, c.id])
        XCTAssertEqual(Set(try s.documents.list(DocumentFilter(language: "EN")).map(\.id)), [a.id, c.id], "tags are compared canonically")
        XCTAssertEqual(try s.documents.list(DocumentFilter(language: "zh-hans")).map(\.id), [d.id])
        XCTAssertEqual(try s.documents.list(DocumentFilter(kind: .witnessTestimony, caseReference: "EXT-2026-014", language: "en")).map(\.id), [c.id])
        XCTAssertEqual(try s.documents.list(DocumentFilter(kind: .witnessTestimony, language: "zh-Hans")).map(\.id), [])
        assertDossierError("invalidLanguageTag") { try s.documents.list(DocumentFilter(language: "english!")) }
        // Metadata comes back decrypted.
        let listed = try XCTUnwrap(try s.documents.list(DocumentFilter(kind: .expertReport)).first)
        XCTAssertEqual(listed.metadata, DocumentMetadata(title: "Prison conditions in Tashkent", fileName: "prison-report.pdf",
                                                         tags: ["detention"], jurisdiction: "Uzbekistan", caseReference: "EXT-2026-014"))
    }

    func testSearchNeedsEveryWordCaseInsensitively() throws {
        let v = try makeVault()
        let (a, b, c, _) = try depositFixtures(v)
        let s = v.session
        XCTAssertEqual(try s.documents.search(["prison"]).map(\.id), [a.id])
        XCTAssertEqual(try s.documents.search(["PRISON", "tashkent"]).map(\.id), [a.id])
        XCTAssertEqual(try s.documents.search(["prison tashkent"]).map(\.id), [a.id], "words inside one argument count separately")
        XCTAssertEqual(try s.documents.search(["prison", "guard"]).map(\.id), [], "every word must occur")
        XCTAssertEqual(Set(try s.documents.search(["ext-2026-014"]).map(\.id)), [a.id, c.id], "the case reference is searched")
        XCTAssertEqual(try s.documents.search(["uzbekistan"]).map(\.id), [a.id], "the jurisdiction is searched")
        XCTAssertEqual(try s.documents.search(["DETENTION"]).map(\.id), [a.id], "tags are searched")
        XCTAssertEqual(try s.documents.search(["temoignage.txt"]).map(\.id), [b.id], "the file name is searched")
        XCTAssertEqual(try s.documents.search(["TÉMOIGNAGE"]).map(\.id), [b.id], "non-ASCII is case-insensitive too")
        XCTAssertEqual(try s.documents.search(["nothing-like-this"]).map(\.id), [])
        assertDossierError("invalidArgument") { try s.documents.search([]) }
        assertDossierError("invalidArgument") { try s.documents.search(["  "]) }
        try s.documents.remove(a.id, reason: "withdrawn")
        XCTAssertEqual(try s.documents.search(["prison"]).map(\.id), [], "a removed document is not found")
    }

    func testRemoveKeepsATombstoneAndDestroysKeyAndContent() throws {
        let v = try makeVault()
        let (a, b, _, _) = try depositFixtures(v)
        let s = v.session
        let blob = try XCTUnwrap(blobPath(v, a.id))
        let keySealed = try documentKeySealed(v, a.id)

        // Positive control: before removal the wrapped key is in the vault's files.
        XCTAssertTrue(regularFiles(under: v.path).contains { contains((try? readFile($0)) ?? Data(), keySealed) })

        assertDossierError("invalidArgument") { try s.documents.remove(a.id, reason: "  ") }
        XCTAssertFalse(try s.documents.document(a.id).isRemoved)
        XCTAssertTrue(fileExists(blob))

        try s.documents.remove(a.id, reason: "withdrawn by the witness")
        let tomb = try s.documents.document(a.id)
        XCTAssertTrue(tomb.isRemoved)
        XCTAssertNil(tomb.metadata)
        XCTAssertEqual(tomb.removedBy, v.founder.publicIdentity.fingerprint)
        XCTAssertEqual(tomb.removedAt, Timestamp.format(testDate))
        XCTAssertEqual(tomb.kind, a.kind)
        XCTAssertEqual(tomb.size, a.size)
        XCTAssertFalse(fileExists(blob), "the blob must be deleted")
        XCTAssertNil(blobPath(v, a.id))
        XCTAssertNotNil(blobPath(v, b.id), "other blobs stay")

        XCTAssertFalse(try s.documents.list().map(\.id).contains(a.id))
        XCTAssertTrue(try s.documents.list(DocumentFilter(includeRemoved: true)).map(\.id).contains(a.id))
        let row = try XCTUnwrap(try rawDatabase(v).read { db in try Row.fetchOne(db, sql: "SELECT * FROM documents WHERE id = ?", arguments: [a.id]) })
        XCTAssertTrue((row["key_sealed"] as DatabaseValue).isNull, "the document key must be destroyed")
        XCTAssertTrue((row["metadata_sealed"] as DatabaseValue).isNull, "the metadata must be destroyed")
        // Crypto-shredded: the wrapped key is nowhere in the vault's files any more.
        for path in regularFiles(under: v.path) {
            XCTAssertFalse(contains(try readFile(path), keySealed), "the removed document's wrapped key lingers in \(path)")
        }

        let output = v.folder.file("removed.out")
        assertDossierError("documentRemoved") { try s.documents.retrieve(a.id, to: output) }
        XCTAssertFalse(fileExists(output))
        assertDossierError("documentRemoved") { try s.documents.remove(a.id, reason: "again") }
        assertDossierError("unknownDocument") { try s.documents.remove("doc-aaaaaaaaaaaaa", reason: "no such") }
        // The other document is untouched.
        let out = v.folder.file("b.out")
        _ = try s.documents.retrieve(b.id, to: out)
        XCTAssertEqual(try readFile(out), Data("content of temoignage.txt".utf8))
    }

    // MARK: Vault lifecycle

    func testCreateRefusesAnExistingVaultOrNonEmptyFolderAndBadNames() throws {
        let v = try makeVault()
        assertDossierError("vaultExists") {
            try Vault.create(at: v.path, organisation: "test.example/other", founder: v.founder, founderName: "A", clock: testClock)
        }
        XCTAssertEqual(try v.vault.organisation().name, "test.example/dossier", "the existing vault must be untouched")
        XCTAssertNoThrow(try v.vault.unlock(v.founder).documents.list())

        let busy = v.folder.file("not-empty")
        try FileManager.default.createDirectory(atPath: busy, withIntermediateDirectories: false)
        try writeFile(busy + "/keep.txt", "keep me")
        assertDossierError("vaultExists") {
            try Vault.create(at: busy, organisation: "test.example/x", founder: v.founder, founderName: "A", clock: testClock)
        }
        XCTAssertEqual(folderContents(busy), ["keep.txt"])

        for (i, bad) in ["", "  ", "two words", "a\nb", "plus+sign", "é.example"].enumerated() {
            let path = v.folder.file("bad-org-\(i)")
            assertDossierError("invalidArgument", bad.debugDescription) {
                try Vault.create(at: path, organisation: bad, founder: v.founder, founderName: "A", clock: testClock)
            }
            XCTAssertFalse(fileExists(path), "a refused init must leave nothing")
        }
        assertDossierError("notAVault") { try Vault.open(at: v.folder.path) }
        assertDossierError("notAVault") { try Vault.open(at: v.folder.file("nowhere")) }
    }

    func testOrganisationKeyIsPublicAndStable() throws {
        let v = try makeVault()
        let org = try v.vault.organisation()
        XCTAssertEqual(org.name, "test.example/dossier")
        let key = try OrganisationKey(line: org.publicKey)
        XCTAssertEqual(key.fingerprint, org.fingerprint)
        XCTAssertEqual(key.signingKey, try v.session.organisationSigningKey().publicKey)
        XCTAssertEqual(try reopen(v).organisation().publicKey, org.publicKey)
    }

    func testNewVaultFilesArePrivate() throws {
        let v = try makeVault()
        let input = v.folder.file("in.txt")
        try writeFile(input, "x")
        _ = try v.session.documents.deposit(depositRequest([input]))
        let shards = Set(blobFiles(v).map { ($0 as NSString).deletingLastPathComponent })
        let paths = [v.path, v.blobsPath, v.databasePath] + shards.sorted() + blobFiles(v)
        for path in paths {
            XCTAssertEqual(permissionBits(path) & 0o077, 0, "\(path) is open to others (mode \(String(permissionBits(path), radix: 8)))")
        }
    }

    /// The write-ahead log and shared-memory files hold the same data as the database; they
    /// must be as private as it is, whatever the process's umask.
    func testTheWriteAheadLogIsAsPrivateAsTheDatabase() throws {
        let saved = umask(0o022)
        defer { umask(saved) }
        let v = try makeVault()
        let input = v.folder.file("in.txt")
        try writeFile(input, "x")
        _ = try v.session.documents.deposit(depositRequest([input]))
        // The vault's connection is still open after a write, so both files exist: check that,
        // or the loop below would check nothing.
        for suffix in ["-wal", "-shm"] {
            XCTAssertTrue(fileExists(v.databasePath + suffix), "no vault.sqlite\(suffix) while the vault is open")
        }
        for suffix in ["-wal", "-shm"] where fileExists(v.databasePath + suffix) {
            let mode = permissionBits(v.databasePath + suffix)
            XCTAssertEqual(mode & 0o077, 0, "vault.sqlite\(suffix) has mode \(String(mode, radix: 8)); vault.sqlite has \(String(permissionBits(v.databasePath), radix: 8))")
        }
    }

    private func permissionBits(_ path: String) -> mode_t {
        var st = stat()
        XCTAssertEqual(stat(path, &st), 0, "cannot stat \(path)")
        return st.st_mode & 0o777
    }
}

/// The process's peak resident memory so far, in KiB.
func peakResidentKiB() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Int(usage.ru_maxrss)
}
