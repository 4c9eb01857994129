import DossierCrypto
import Foundation
import GRDB
import XCTest
@testable import DossierCore

// Shared helpers for DossierCoreTests: temporary folders, reproducible identities, a fixed
// clock, throwaway vaults, file generation and hashing, and raw access to a vault's files
// and database for tampering.

// MARK: Folders and files

/// A fresh private folder under the system's temporary folder; `remove()` deletes it.
final class TemporaryFolder: Sendable {
    let path: String

    init(label: String = "dossier-test") throws {
        let base = (NSTemporaryDirectory() as NSString).appendingPathComponent("\(label).XXXXXX")
        var template = Array(base.utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw NSError(domain: "TemporaryFolder", code: Int(errno), userInfo: [NSLocalizedDescriptionKey: "mkdtemp failed"])
        }
        path = String(cString: made)
    }

    /// A path inside the folder (not created).
    func file(_ name: String) -> String { path + "/" + name }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

extension XCTestCase {
    /// A temporary folder that is removed when the test ends.
    func makeTemporaryFolder(label: String = "dossier-test") throws -> TemporaryFolder {
        let folder = try TemporaryFolder(label: label)
        addTeardownBlock { folder.remove() }
        return folder
    }
}

/// Writes `data` to `path`, creating or replacing the file.
func writeFile(_ path: String, _ data: Data) throws {
    try data.write(to: URL(fileURLWithPath: path))
}

/// Writes `text` (UTF-8) to `path`.
func writeFile(_ path: String, _ text: String) throws {
    try writeFile(path, Data(text.utf8))
}

func readFile(_ path: String) throws -> Data {
    try Data(contentsOf: URL(fileURLWithPath: path))
}

func fileExists(_ path: String) -> Bool {
    FileManager.default.fileExists(atPath: path)
}

/// Names in a folder, sorted (empty if the folder does not exist).
func folderContents(_ path: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
}

/// Every regular file under `root`, recursively (hidden files included).
func regularFiles(under root: String) -> [String] {
    var out: [String] = []
    let fm = FileManager.default
    guard let walker = fm.enumerator(atPath: root) else { return [] }
    while let relative = walker.nextObject() as? String {
        let full = root + "/" + relative
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue { out.append(full) }
    }
    return out.sorted()
}

/// Size of a file in bytes, or nil if absent.
func fileSize(_ path: String) -> UInt64? {
    var st = stat()
    guard stat(path, &st) == 0 else { return nil }
    return UInt64(st.st_size)
}

/// SHA-256 of a file, read in 1 MiB pieces (large files are never loaded whole).
func sha256(ofFile path: String) throws -> Data {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw NSError(domain: "sha256", code: Int(errno), userInfo: [NSLocalizedDescriptionKey: "cannot open \(path)"]) }
    defer { close(fd) }
    var hasher = SHA256()
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    defer { buffer.deallocate() }
    while true {
        let n = read(fd, buffer.baseAddress, buffer.count)
        if n < 0 {
            if errno == EINTR { continue }
            throw NSError(domain: "sha256", code: Int(errno), userInfo: [NSLocalizedDescriptionKey: "cannot read \(path)"])
        }
        if n == 0 { break }
        hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
    }
    return hasher.finalize()
}

/// Writes `size` reproducible pseudo-random bytes to `path` in 1 MiB pieces; returns their SHA-256.
@discardableResult
func generateFile(_ path: String, size: Int, seed: String) throws -> Data {
    let random = DeterministicRandom(seed: "file/" + seed)
    guard FileManager.default.createFile(atPath: path, contents: nil) else {
        throw NSError(domain: "generateFile", code: 1, userInfo: [NSLocalizedDescriptionKey: "cannot create \(path)"])
    }
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    var hasher = SHA256()
    var left = size
    while left > 0 {
        let piece = random.bytes(min(left, 1 << 20))
        piece.withUnsafeBytes { hasher.update($0) }
        try handle.write(contentsOf: piece)
        left -= piece.count
    }
    return hasher.finalize()
}

/// Flips one bit of the byte at `offset` of the file at `path`.
func flipByte(in path: String, at offset: UInt64) throws {
    let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.seek(toOffset: offset)
    guard var byte = try handle.read(upToCount: 1)?.first else {
        throw NSError(domain: "flipByte", code: 1, userInfo: [NSLocalizedDescriptionKey: "offset \(offset) is past the end of \(path)"])
    }
    byte ^= 0x01
    try handle.seek(toOffset: offset)
    try handle.write(contentsOf: Data([byte]))
}

/// Cuts the file at `path` to `size` bytes.
func truncateFile(_ path: String, to size: UInt64) throws {
    guard truncate(path, off_t(size)) == 0 else {
        throw NSError(domain: "truncateFile", code: Int(errno), userInfo: [NSLocalizedDescriptionKey: "cannot truncate \(path)"])
    }
}

/// Whether `needle` occurs anywhere in `haystack`.
func contains(_ haystack: Data, _ needle: Data) -> Bool {
    guard !needle.isEmpty else { return true }
    return haystack.range(of: needle) != nil
}

// MARK: Identities, clock

/// Reproducible identities: the same name always gives the same keys (tests only).
enum TestIdentity {
    static func make(_ name: String) -> SecretIdentity {
        SecretIdentity.generate(using: DeterministicRandom(seed: "test-identity/" + name))
    }
}

/// The time every test vault lives at: 2027-01-15T08:00:00.000Z.
let testDate = Date(timeIntervalSince1970: 1_800_000_000)
let testClock = FixedClock(testDate)

// MARK: Vaults

/// A vault in a temporary folder, founded by `founder`, unlocked by them.
struct VaultFixture {
    let folder: TemporaryFolder
    /// The vault folder (inside `folder`).
    let path: String
    let vault: Vault
    let founder: SecretIdentity
    let session: StaffSession

    var blobsPath: String { path + "/blobs" }
    var databasePath: String { path + "/vault.sqlite" }
}

extension XCTestCase {
    /// Creates a vault (organisation `test.example/dossier`) with a fixed clock and reproducible randomness.
    func makeVault(founder: SecretIdentity = TestIdentity.make("alice"), seed: String? = nil) throws -> VaultFixture {
        let folder = try makeTemporaryFolder(label: "dossier-vault")
        let path = folder.file("vault")
        let random = DeterministicRandom(seed: "vault/" + (seed ?? name))
        let vault = try Vault.create(at: path, organisation: "test.example/dossier", founder: founder,
                                     founderName: "Alice Founder", clock: testClock, random: random)
        let session = try vault.unlock(founder)
        return VaultFixture(folder: folder, path: path, vault: vault, founder: founder, session: session)
    }

    /// Opens the vault at `path` again, as another process would (with its own randomness:
    /// two openings must not draw the same document ids).
    func reopen(_ fixture: VaultFixture) throws -> Vault {
        try Vault.open(at: fixture.path, clock: testClock, random: SystemRandom())
    }
}

/// Whether a path under `blobs/` is a temporary file: in the legacy `blobs/tmp/` folder, or a
/// hidden `.NAME.dossier-tmp-*` file beside the blobs (where anonymous files are unsupported).
func isTemporaryBlobFile(_ path: String, _ fixture: VaultFixture) -> Bool {
    path.hasPrefix(fixture.blobsPath + "/tmp/") || (path as NSString).lastPathComponent.hasPrefix(".")
}

/// Encrypted blob files (not temporary ones) of a vault, by path.
func blobFiles(_ fixture: VaultFixture) -> [String] {
    regularFiles(under: fixture.blobsPath).filter { !isTemporaryBlobFile($0, fixture) }
}

/// Temporary files under `blobs/`.
func temporaryBlobFiles(_ fixture: VaultFixture) -> [String] {
    regularFiles(under: fixture.blobsPath).filter { isTemporaryBlobFile($0, fixture) }
}

/// The blob file of document `id`, found by name (the shard layout is the store's business).
func blobPath(_ fixture: VaultFixture, _ id: String) -> String? {
    blobFiles(fixture).first { ($0 as NSString).lastPathComponent == id }
}

/// A second, plain connection to the vault database, for inspecting and tampering.
func rawDatabase(_ fixture: VaultFixture) throws -> DatabaseQueue {
    try DatabaseQueue(path: fixture.databasePath)
}

/// The stored log: sequence numbers and entry bytes, in order.
func rawLog(_ fixture: VaultFixture) throws -> [(seq: Int64, bytes: Data)] {
    try rawDatabase(fixture).read { db in
        try Row.fetchAll(db, sql: "SELECT seq, entry FROM audit_log ORDER BY seq").map { ($0["seq"], $0["entry"]) }
    }
}

func documentRowCount(_ fixture: VaultFixture) throws -> Int {
    try rawDatabase(fixture).read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM documents") ?? -1 }
}

/// A small deposit request for `files`.
func depositRequest(_ files: [String], kind: DocumentKind = .expertReport, title: String = "A report",
                    language: String = "en", tags: [String] = [], jurisdiction: String? = nil,
                    caseReference: String? = nil) -> DepositRequest {
    DepositRequest(files: files, kind: kind, title: title, language: language, tags: tags,
                   jurisdiction: jurisdiction, caseReference: caseReference)
}

// MARK: Errors

/// The case name of a `DossierError` (`notStaff`, `integrity`, …).
func caseName(_ error: DossierError) -> String {
    if let label = Mirror(reflecting: error).children.first?.label { return label }
    switch error {
    case .lastStaffMember: return "lastStaffMember"
    case .emptyPassphrase: return "emptyPassphrase"
    case .passphraseMismatch: return "passphraseMismatch"
    default: return "\(error)"
    }
}

/// Runs `body`, asserts it throws the `DossierError` case named `expected`; returns the error
/// so that its message can be checked too.
@discardableResult
func assertDossierError<T>(_ expected: String, _ message: String = "", file: StaticString = #filePath, line: UInt = #line,
                           _ body: () throws -> T) -> DossierError? {
    do {
        _ = try body()
        XCTFail("expected DossierError.\(expected), but it succeeded. \(message)", file: file, line: line)
        return nil
    } catch let error as DossierError {
        XCTAssertEqual(caseName(error), expected, "wrong error: \(error). \(message)", file: file, line: line)
        return error
    } catch {
        XCTFail("expected DossierError.\(expected), got \(error). \(message)", file: file, line: line)
        return nil
    }
}
