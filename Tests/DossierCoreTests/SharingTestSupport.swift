import DossierCrypto
import Foundation
import XCTest

@testable import DossierCore

// Fixtures for SharingTests, PolicyTests, PackageTests and PackageVectorTests. Everything is
// namespaced (`ShareKit`, `ShareWorld`, `PackageMap`, `SpecReader`) so that nothing clashes
// with the general TestSupport.swift.

/// Small helpers: the fixed clock, identities, folders, error capture.
enum ShareKit {
    /// 2027-01-01T00:00:00.000Z, the "now" of every sharing test.
    static let start = Date(timeIntervalSince1970: 1_798_761_600)
    static let day: TimeInterval = 86400
    /// A key-release service URL for grants the default policy allows only online (witness
    /// testimony). Packaging never contacts it; only opening does.
    static let online = "https://release.example.org"

    /// A clock fixed `days` (and `seconds`) after `start`.
    static func clock(days: Double = 0, seconds: Double = 0) -> FixedClock {
        FixedClock(start.addingTimeInterval(days * day + seconds))
    }

    /// A reproducible identity; the same name always gives the same keys.
    static func identity(_ name: String) -> SecretIdentity {
        SecretIdentity.generate(using: DeterministicRandom(seed: "sharing-tests/identity/" + name))
    }

    /// Reproducible content of `count` bytes.
    static func content(_ seed: String, count: Int) -> Data {
        count == 0 ? Data() : DeterministicRandom(seed: "sharing-tests/content/" + seed).bytes(count)
    }

    /// The repository root, from this file's path (Tests/DossierCoreTests/…).
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// A new private temporary folder.
    static func makeTemporaryFolder(_ label: String) throws -> String {
        let base = (NSTemporaryDirectory() as NSString).appendingPathComponent("dossier-\(label).XXXXXX")
        var template = Array(base.utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw NSError(domain: "ShareKit", code: Int(errno), userInfo: [NSLocalizedDescriptionKey: "mkdtemp failed"])
        }
        return String(cString: made)
    }

    /// Every name in `folder`, hidden files (temporary files) included.
    static func names(in folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
    }

    /// The bytes of every regular file under `folder`.
    static func allBytes(under folder: String) -> [(path: String, data: Data)] {
        var out: [(String, Data)] = []
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return [] }
        while let relative = walker.nextObject() as? String {
            let full = folder + "/" + relative
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue,
               let data = FileManager.default.contents(atPath: full) {
                out.append((full, data))
            }
        }
        return out
    }

    /// Runs `body` and returns the `DossierError` it threw; fails the test if it threw nothing
    /// or something else.
    static func caught(file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) -> DossierError? {
        do {
            try body()
            XCTFail("expected a DossierError, nothing was thrown", file: file, line: line)
            return nil
        } catch let e as DossierError {
            return e
        } catch {
            XCTFail("expected a DossierError, got \(error)", file: file, line: line)
            return nil
        }
    }

    /// The rule named by a `.policyDenied` error, nil for any other error.
    static func deniedRule(_ error: DossierError?) -> String? {
        if case let .policyDenied(rule, _, _)? = error { return rule }
        return nil
    }

    /// The bytes of a UTF-8 string, for searching.
    static func utf8(_ s: String) -> Data { Data(s.utf8) }

    /// Big-endian u32.
    static func u32(_ v: Int) -> Data { Data([UInt8(v >> 24 & 255), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)]) }
}

/// A vault in a temporary folder with its founder unlocked, a trust store, and helpers to
/// deposit, register counsel and make packages. The folder is removed when released.
final class ShareWorld {
    let root: String
    let vaultPath: String
    let vault: Vault
    let founder: SecretIdentity
    let session: StaffSession
    /// The counsel side's trust store (empty until `trustOrganisation`).
    let trust: TrustStore
    private var counter = 0

    init(_ name: String, organisation: String = "example.org/dossier", clock: any TimeSource = ShareKit.clock(),
         randomSeed: String? = nil, founder: SecretIdentity? = nil, organisationRoot: OrganisationRoot? = nil,
         certificateValidity: TimeInterval = Certificate.defaultValidity, location: ((String) throws -> String)? = nil) throws {
        root = try ShareKit.makeTemporaryFolder("share-" + name.replacingOccurrences(of: "/", with: "-"))
        // `location` chooses where the vault lives (a PostgreSQL database: BackendTests).
        vaultPath = try location?(root) ?? root + "/vault"
        self.founder = founder ?? ShareKit.identity(name + "/founder")
        vault = try Vault.create(at: vaultPath, organisation: organisation, founder: self.founder, founderName: "Founder",
                                 root: organisationRoot, certificateValidity: certificateValidity, clock: clock, random: DeterministicRandom(seed: "sharing-tests/vault/" + (randomSeed ?? name)))
        session = try vault.unlock(self.founder)
        trust = TrustStore(path: root + "/config/trusted")
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// Deposits files (written under their names in a fresh folder) as one deposit.
    func deposit(_ files: [(name: String, content: Data)], kind: DocumentKind = .expertReport,
                 title: String = "Report", language: String = "en") throws -> [Document] {
        counter += 1
        let folder = root + "/in-\(counter)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var paths: [String] = []
        for f in files {
            let path = folder + "/" + f.name
            guard FileManager.default.createFile(atPath: path, contents: f.content) else { throw DossierError.writeFailed(path: path, reason: "test") }
            paths.append(path)
        }
        return try session.documents.deposit(DepositRequest(files: paths, kind: kind, title: title, language: language))
    }

    /// One small document of `kind`.
    func document(_ kind: DocumentKind = .expertReport, name: String = "doc.txt", content: Data = Data("content\n".utf8)) throws -> Document {
        try deposit([(name, content)], kind: kind)[0]
    }

    /// Registers counsel (vetted for `vettedForDays` days from the vault's clock unless nil).
    func counsel(_ name: String, vettedForDays: Double? = 60, details: Counsel.Details? = nil,
                 in session: StaffSession? = nil) throws -> (identity: SecretIdentity, counsel: Counsel) {
        let s = session ?? self.session
        let id = ShareKit.identity("counsel/" + name)
        var c = try s.sharing.addCounsel(id.publicIdentity, details: details ?? .init(name: "Counsel " + name))
        if let days = vettedForDays {
            c = try s.sharing.vetCounsel(c.id, until: s.vault.clock.now().addingTimeInterval(days * ShareKit.day), note: nil)
        }
        return (id, c)
    }

    /// Installs `text` as the vault's policy: proposed by the founder and signed off by as many
    /// other staff as the policy in force asks for (added here as needed).
    @discardableResult
    func installPolicy(_ text: String, source: String = "policy.toml") throws -> Policy {
        var change = try session.sharing.setPolicy(text, source: source)
        var signer = 0
        while case let .proposed(_, sha, _, _) = change {
            signer += 1
            let colleague = try addStaff("policy signer \(signer)")
            change = try colleague.sharing.approvePolicy(sha)
        }
        guard case let .inForce(policy) = change else { fatalError("unreachable") }
        return policy
    }

    /// Adds a staff member and returns their unlocked session.
    func addStaff(_ name: String) throws -> StaffSession {
        let id = ShareKit.identity(name)
        _ = try session.staff.add(id.publicIdentity, name: name)
        return try vault.unlock(id)
    }

    /// The organisation's public key.
    func organisationKey() throws -> OrganisationKey {
        try OrganisationKey(line: try vault.organisation().publicKey)
    }

    /// Adds this vault's organisation to the counsel-side trust store.
    @discardableResult
    func trustOrganisation(name: String = "Example project") throws -> TrustStore.Entry {
        try trust.add(try organisationKey(), name: name)
    }

    /// A new empty folder under the world's root.
    func folder(_ label: String) throws -> String {
        counter += 1
        let path = root + "/\(label)-\(counter)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A path for a package file (not yet existing).
    func packagePath(_ label: String = "package") -> String {
        counter += 1
        return root + "/\(label)-\(counter).dpkg"
    }

    /// Grants `documents` to `counsel` and writes the package; returns its path.
    func package(_ documents: [Document], to counsel: [Counsel], days: Double = 7) throws -> (grant: Grant, path: String) {
        let g = try session.sharing.grant(GrantRequest(documents: documents.map(\.id), counsel: counsel.map(\.id),
                                               window: .duration(seconds: Int(days * ShareKit.day))))
        let path = packagePath()
        _ = try session.sharing.makePackage(grant: g.id, to: path)
        return (g, path)
    }

    /// The same vault folder opened again with another clock, unlocked by the founder.
    func reopened(clock: any TimeSource) throws -> StaffSession {
        try Vault.open(at: vaultPath, clock: clock, random: DeterministicRandom(seed: "sharing-tests/reopen/" + vaultPath)).unlock(founder)
    }

    /// The log entries with `action`.
    func entries(_ action: String) throws -> [AuditEntry] {
        try vault.auditEntries().filter { $0.action == action }
    }
}

/// The regions of a package file, found from its bytes by the rules of docs/formats/package.md,
/// independently of PackageReader. Offsets are into `bytes` (which starts at index 0).
struct PackageMap {
    struct Document {
        let range: Range<Int>
        /// Each sealed chunk (plaintext part and tag).
        let chunks: [Range<Int>]
        let plaintextSize: Int
    }

    let bytes: Data
    let manifest: Range<Int>
    let recipients: [String]
    let stanzas: [Range<Int>]
    let documents: [Document]
    let listLength: Range<Int>
    let list: Range<Int>
    let signature: Range<Int>

    struct Malformed: Error, CustomStringConvertible { let description: String }

    init(_ input: Data) throws {
        let bytes = Data(input)   // index from 0
        self.bytes = bytes
        func u32(at i: Int) throws -> Int {
            guard i + 4 <= bytes.count else { throw Malformed(description: "short at \(i)") }
            return bytes[i..<i + 4].reduce(0) { $0 << 8 | Int($1) }
        }
        guard bytes.count >= 8, bytes.prefix(3) == Data([0x44, 0x50, 0x4b]), [1, 2].contains(bytes[3]) else { throw Malformed(description: "magic") }
        let m = try u32(at: 4)
        manifest = 8..<8 + m
        guard manifest.upperBound <= bytes.count, let text = String(data: bytes[manifest], encoding: .utf8) else { throw Malformed(description: "manifest") }
        let lines = text.split(separator: "\n")
        recipients = lines.filter { $0.hasPrefix("recipient ") }.map { String($0.dropFirst(10)) }
        let sizes = lines.filter { $0.hasPrefix("content ") }.compactMap { Int($0.dropFirst(8)) }
        var offset = manifest.upperBound
        var st: [Range<Int>] = []
        for _ in recipients { st.append(offset..<offset + 80); offset += 80 }
        stanzas = st
        var docs: [Document] = []
        for size in sizes {
            let start = offset
            var chunks: [Range<Int>] = []
            var left = size
            repeat {
                let n = min(left, 65536)
                chunks.append(offset..<offset + n + 16)
                offset += n + 16
                left -= n
            } while left > 0
            docs.append(Document(range: start..<offset, chunks: chunks, plaintextSize: size))
        }
        documents = docs
        listLength = offset..<offset + 4
        let l = try u32(at: offset)
        list = offset + 4..<offset + 4 + l
        signature = list.upperBound..<list.upperBound + 64
        guard signature.upperBound == bytes.count else { throw Malformed(description: "size \(bytes.count) != \(signature.upperBound)") }
    }

    /// Where the content starts (after the last stanza).
    var contentStart: Int { stanzas.last?.upperBound ?? manifest.upperBound }

    /// The signed message: magic ‖ u32 ‖ manifest ‖ stanzas ‖ u32 ‖ sealed list.
    var signedMessage: Data { bytes[0..<contentStart] + bytes[listLength.lowerBound..<list.upperBound] }

    /// The same package with another manifest (length fixed up) and, if `signer` is given, a
    /// fresh signature by it; otherwise the old signature is kept.
    func replacingManifest(_ newManifest: Data, signer: SigningKeyPair? = nil) -> Data {
        var out = Data(bytes[0..<4]) + ShareKit.u32(newManifest.count) + newManifest
        out += bytes[manifest.upperBound..<list.upperBound]
        let signedPart = out[0..<(8 + newManifest.count + stanzas.count * 80)] + bytes[listLength.lowerBound..<list.upperBound]
        out += signer.map { $0.sign(Data(signedPart)) } ?? bytes[signature]
        return out
    }

    /// The same package with a new signature by `signer` over the (possibly altered) bytes.
    static func resign(_ bytes: Data, with signer: SigningKeyPair) throws -> Data {
        let map = try PackageMap(bytes)
        return Data(bytes[0..<map.signature.lowerBound]) + signer.sign(map.signedMessage)
    }
}

/// A reader written from docs/formats/package.md using only DossierCrypto primitives, to show
/// that the specification is enough to read a package.
enum SpecReader {
    struct Failure: Error, CustomStringConvertible { let description: String }

    struct Opened {
        let manifest: String
        let documentList: String
        let files: [(name: String, kind: String, language: String, content: Data)]
        let packageKey: Data
    }

    static func open(_ bytes: Data, identity: SecretIdentity, trusted: [Data]) throws -> Opened {
        let map = try PackageMap(bytes)
        let manifest = String(decoding: map.bytes[map.manifest], as: UTF8.self)
        guard let issuerLine = manifest.split(separator: "\n").first(where: { $0.hasPrefix("issuer ") }) else { throw Failure(description: "no issuer") }
        let issuer = try OrganisationKey(line: String(issuerLine.dropFirst(7))).signingKey
        guard Signature.verify(map.bytes[map.signature], of: map.signedMessage, publicKey: issuer) else { throw Failure(description: "signature") }
        guard trusted.contains(issuer) else { throw Failure(description: "untrusted") }
        guard !manifest.contains("\nonline ") else { throw Failure(description: "online") }
        guard let index = map.recipients.firstIndex(of: identity.publicIdentity.fingerprint) else { throw Failure(description: "not a recipient") }
        let packageKey = try SealedBox.open(map.bytes[map.stanzas[index]], with: identity.encryption)
        let listKey = try KeyDerivation.subkey(from: packageKey, id: 0, context: "DOSSPKG1")
        let ad = Data("dossier-package-documents/1\n".utf8) + Hash.sha256(map.bytes[map.manifest])
        let list = String(decoding: try AEAD.open(map.bytes[map.list], key: listKey, additionalData: ad).unsafeCopyToData(), as: UTF8.self)
        let lines = list.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.first == "dossier-package-documents/1", lines.last == "", lines.count == map.documents.count + 2 else { throw Failure(description: "list") }
        var files: [(String, String, String, Data)] = []
        for (i, line) in lines.dropFirst().dropLast().enumerated() {
            let f = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 7, f[0] == "document", Int(f[4]) == map.documents[i].plaintextSize,
                  let hash = Data(hex: f[5]), let nameBytes = Data(base64Encoded: f[6]) else { throw Failure(description: "list line") }
            var source = DataSource(Data(map.bytes[map.documents[i].range]))
            var sink = DataSink()
            try DossierCrypto.ContentStream.decrypt(key: try KeyDerivation.subkey(from: packageKey, id: UInt64(i + 1), context: "DOSSPKG1"), from: &source, to: &sink)
            guard Hash.blake2b(sink.data) == hash else { throw Failure(description: "hash of document \(i + 1)") }
            files.append((String(decoding: nameBytes, as: UTF8.self), f[2], f[3], sink.data))
        }
        return Opened(manifest: manifest, documentList: list, files: files, packageKey: packageKey.unsafeCopyToData())
    }
}
