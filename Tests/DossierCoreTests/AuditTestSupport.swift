import DossierCrypto
import Foundation
import GRDB
import XCTest
@testable import DossierCore

// Helpers for the audit tests (MerkleVectorTests, SignedNoteTests, AuditVerifierTests): where
// the external vectors are, a clock the test moves by hand, a vault with a known history, and
// raw access to its SQLite file for tampering.

// MARK: Shared vectors

enum AuditVectors {
    /// `Vectors/external` beside this file: third-party vectors kept in the repository with
    /// their sources and licences (`Vectors/external/README.md`), so a clone on its own runs
    /// them. Fails the test, naming where it looked, if the folder is missing: the vectors are
    /// part of what the tests must prove, so a missing copy is an error, never a skip.
    static func folder(file: StaticString = #filePath, line: UInt = #line) throws -> URL {
        let vectors = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors/external")
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: vectors.path, isDirectory: &isDir), isDir.boolValue else {
            XCTFail("the external test vectors are missing: expected the folder \(vectors.path)", file: file, line: line)
            throw AuditTestFailure("no external vectors at \(vectors.path)")
        }
        return vectors
    }

    /// A file or folder inside the vectors folder, which must exist.
    static func item(_ relative: String, file: StaticString = #filePath, line: UInt = #line) throws -> URL {
        let url = try folder(file: file, line: line).appendingPathComponent(relative)
        guard FileManager.default.fileExists(atPath: url.path) else {
            XCTFail("the external vector \(url.path) is missing", file: file, line: line)
            throw AuditTestFailure("missing \(url.path)")
        }
        return url
    }

    /// Every `.json` file under `folder`, sorted by path.
    static func jsonFiles(under folder: URL) -> [URL] {
        var out: [URL] = []
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else { return [] }
        for case let url as URL in walker where url.pathExtension == "json" { out.append(url) }
        return out.sorted { $0.path < $1.path }
    }
}

/// A test precondition that did not hold (the XCTFail carrying the explanation comes first).
struct AuditTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

// MARK: TimeSource and identities

/// A clock the test sets and moves by hand, so entries get different, known times.
final class AuditTestClock: TimeSource, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    init(_ start: Date) { current = start }

    func now() -> Date { lock.withLock { current } }

    func set(_ date: Date) { lock.withLock { current = date } }

    func advance(_ seconds: TimeInterval) { lock.withLock { current = current.addingTimeInterval(seconds) } }
}

/// 2027-03-01T09:00:00.000Z, when every audit test vault is created.
let auditStartDate = Date(timeIntervalSince1970: 1_803_891_600)

/// Reproducible identities for the audit tests (the same name gives the same keys).
func auditIdentity(_ name: String) -> SecretIdentity {
    SecretIdentity.generate(using: DeterministicRandom(seed: "audit-test-identity/" + name))
}

// MARK: Vaults

/// A vault in its own temporary folder, founded by Alice, with a clock the test controls.
final class AuditTestVault {
    let folder: String
    let path: String
    let clock: AuditTestClock
    let vault: Vault
    let founder: SecretIdentity
    let session: StaffSession
    static let organisation = "audit.example/dossier"

    var databasePath: String { path + "/vault.sqlite" }

    init(label: String) throws {
        folder = try auditTemporaryFolder(label)
        path = folder + "/vault"
        clock = AuditTestClock(auditStartDate)
        founder = auditIdentity("alice")
        vault = try Vault.create(at: path, organisation: Self.organisation, founder: founder, founderName: "Alice Founder",
                                 clock: clock, random: DeterministicRandom(seed: "audit-vault/" + label))
        session = try vault.unlock(founder)
    }

    /// Deposits one small file of `kind`; returns its document id. The clock moves a minute first.
    @discardableResult
    func deposit(_ content: String, kind: DocumentKind = .expertReport, title: String = "A report",
                 by staff: StaffSession? = nil) throws -> String {
        clock.advance(60)
        let file = folder + "/upload-\(UUID().uuidString).txt"
        try Data(content.utf8).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let docs = try (staff ?? session).documents.deposit(DepositRequest(files: [file], kind: kind, title: title, language: "en"))
        return try XCTUnwrap(docs.first).id
    }

    /// Makes a checkpoint of the whole log (clock moves a minute first); returns the signed note.
    func checkpoint() throws -> String {
        clock.advance(60)
        return try session.audit.checkpoint()
    }

    /// A second, plain connection to the SQLite file, as a tamperer would open it.
    func raw() throws -> DatabaseQueue { try DatabaseQueue(path: databasePath) }

    /// The stored entry bytes of `seq`.
    func entryBytes(_ seq: Int) throws -> Data {
        let bytes = try raw().read { db in try Data.fetchOne(db, sql: "SELECT entry FROM audit_log WHERE seq = ?", arguments: [seq]) }
        return try XCTUnwrap(bytes, "no entry \(seq)")
    }

    /// Replaces the stored bytes of entry `seq`.
    func replaceEntry(_ seq: Int, with bytes: Data) throws {
        try raw().write { db in
            try db.execute(sql: "UPDATE audit_log SET entry = ? WHERE seq = ?", arguments: [bytes, seq])
            XCTAssertEqual(db.changesCount, 1, "entry \(seq) was not replaced")
        }
    }

    /// Rewrites entry `seq`'s text with `transform` (the signature line is left as it was).
    func editEntry(_ seq: Int, _ transform: (String) -> String) throws {
        let before = String(decoding: try entryBytes(seq), as: UTF8.self)
        let after = transform(before)
        XCTAssertNotEqual(before, after, "the edit of entry \(seq) changed nothing")
        try replaceEntry(seq, with: Data(after.utf8))
    }

    func deleteEntry(_ seq: Int) throws {
        try raw().write { db in
            try db.execute(sql: "DELETE FROM audit_log WHERE seq = ?", arguments: [seq])
            XCTAssertEqual(db.changesCount, 1, "entry \(seq) was not deleted")
        }
    }

    /// Swaps the stored bytes of two entries (their positions stay, their contents move).
    func swapEntries(_ a: Int, _ b: Int) throws {
        let ea = try entryBytes(a), eb = try entryBytes(b)
        try raw().write { db in
            try db.execute(sql: "UPDATE audit_log SET entry = ? WHERE seq = ?", arguments: [eb, a])
            try db.execute(sql: "UPDATE audit_log SET entry = ? WHERE seq = ?", arguments: [ea, b])
        }
    }

    /// Deletes every stored checkpoint (of any size, or those larger than `above`).
    func deleteCheckpoints(above size: Int = -1) throws {
        try raw().write { db in try db.execute(sql: "DELETE FROM checkpoints WHERE size > ?", arguments: [size]) }
    }

    /// Replaces the stored note of the checkpoint of `size`.
    func replaceCheckpoint(size: Int, with note: String) throws {
        try raw().write { db in
            try db.execute(sql: "UPDATE checkpoints SET note = ? WHERE size = ?", arguments: [note, size])
            XCTAssertEqual(db.changesCount, 1, "no checkpoint of size \(size)")
        }
    }

    func entryCount() throws -> Int {
        try raw().read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit_log") ?? -1 }
    }

    func remove() { try? FileManager.default.removeItem(atPath: folder) }
}

extension XCTestCase {
    /// A vault for this test, removed when the test ends.
    func makeAuditVault(_ label: String? = nil) throws -> AuditTestVault {
        let v = try AuditTestVault(label: label ?? name)
        addTeardownBlock { v.remove() }
        return v
    }
}

/// A fresh private folder under the system's temporary folder.
func auditTemporaryFolder(_ label: String) throws -> String {
    let safe = String(label.map { $0.isLetter || $0.isNumber ? $0 : "-" }.prefix(40))
    let base = (NSTemporaryDirectory() as NSString).appendingPathComponent("dossier-audit-\(safe).XXXXXX")
    var template = Array(base.utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
        throw AuditTestFailure("mkdtemp failed for \(base)")
    }
    return String(cString: made)
}

// MARK: Entries built by hand

/// An entry's bytes built from the format's description (docs/formats/vault.md), not from
/// AuditEntry, and signed by `signer`: how someone with another key would forge one.
func auditForgedEntry(seq: UInt64, time: String, actor: String, action: String, subjects: [String],
                      details: [(String, String)], previous: Data, signer: SigningKeyPair) -> Data {
    var lines = ["dossier-log-entry/1", "seq \(seq)", "time \(time)", "actor \(actor)", "action \(action)"]
    lines += subjects.map { "subject \($0)" }
    lines += details.map { "detail \($0.0)=\($0.1)" }
    lines.append("prev " + previous.map { String(format: "%02x", $0) }.joined())
    let body = Data(lines.map { $0 + "\n" }.joined().utf8)
    return body + Data("sig \(signer.sign(body).base64EncodedString())\n".utf8)
}

// MARK: Errors

/// Runs `body`, which must throw `.logVerificationFailed`; returns its message.
@discardableResult
func assertLogVerificationFails<T>(_ what: String, file: StaticString = #filePath, line: UInt = #line,
                                   _ body: () throws -> T) -> String {
    do {
        _ = try body()
        XCTFail("\(what): verification passed, but it must fail", file: file, line: line)
    } catch let DossierError.logVerificationFailed(message) {
        return message
    } catch {
        XCTFail("\(what): expected .logVerificationFailed, got \(error)", file: file, line: line)
    }
    return ""
}

/// Asserts that `message` contains every one of `needles` (case-insensitive).
func assertMessage(_ message: String, contains needles: [String], _ what: String,
                   file: StaticString = #filePath, line: UInt = #line) {
    for n in needles where !message.lowercased().contains(n.lowercased()) {
        XCTFail("\(what): the message does not say '\(n)': \(message)", file: file, line: line)
    }
}
