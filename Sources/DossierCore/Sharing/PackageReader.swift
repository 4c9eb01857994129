import DossierCrypto
import Foundation

/// What `inspect` shows: the manifest, whether its signature verifies and by whom.
public struct PackageInspection: Sendable {
    public let manifest: PackageManifest
    public let signatureValid: Bool
    /// The trust-store entry of the issuer, if trusted.
    public let trustedAs: TrustStore.Entry?
    public let fileSize: UInt64
    /// Format 2: the issuing member's certificate, what is wrong with it (another root, a bad
    /// root signature, …) if anything, and where the reader's clock lies in its validity.
    public var certificate: Certificate? { manifest.certificate }
    public var certificateProblem: String? = nil
    public var certificateValidity: Certificate.Validity? = nil
}

/// A document written by `open`.
public struct OpenedDocument: Codable, Sendable {
    public let id: String
    public let kind: String
    public let language: String
    public let size: UInt64
    public let path: String
}

/// Reading packages on the counsel's side. Needs no vault: only the counsel's identity and
/// the trust store.
public struct PackageReader {
    public let path: String
    public let clock: any TimeSource

    typealias Parsed = PackageLayout.Frame

    public init(path: String, clock: any TimeSource = SystemClock()) {
        self.path = path
        self.clock = clock
    }

    /// Parses the framing and checks the exact size; reads no content.
    func parse(_ fd: Int32) throws(DossierError) -> Parsed {
        func bad(_ why: String) -> DossierError { .malformedPackage(path: path, reason: why) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .fileUnreadable(path: path, reason: FileAccess.errnoText()) }
        let fileSize = UInt64(st.st_size)
        func readExactly(_ n: Int, at offset: UInt64) throws(DossierError) -> Data {
            guard offset + UInt64(n) <= fileSize else { throw bad("truncated (it ends before its \(offset + UInt64(n)) bytes)") }
            var d = Data(count: n)
            let got = d.withUnsafeMutableBytes { b in pread(fd, b.baseAddress, n, off_t(offset)) }
            guard got == n else { throw bad("truncated or unreadable") }
            return d
        }
        return try PackageLayout.parse(fileSize: fileSize, path: path) { n, offset throws(DossierError) in try readExactly(n, at: offset) }
    }

    /// The signature by the issuer (format 1) or by the certified member (format 2).
    func signatureValid(_ p: Parsed) -> Bool {
        let signer = p.manifest.certificate?.subject.signingKey ?? p.manifest.issuer.signingKey
        return Signature.verify(p.signature, of: PackageLayout.signedMessage(manifest: p.manifestBytes, stanzas: p.stanzas, sealedList: p.sealedList,
                                                                             version: p.manifest.version),
                                publicKey: signer)
    }

    /// Format 2: the certificate is by the issuer root, for this organisation, signed by the
    /// root, certifies a staff key, and was valid when the package says it was made.
    func certificateCheck(_ p: Parsed) throws(DossierError) {
        guard let c = p.manifest.certificate else { return }
        try c.check(root: p.manifest.issuer, organisation: p.manifest.organisation, role: .staff, at: nil, context: path)
        guard let created = Timestamp.parse(p.manifest.created), c.validity(at: created) == .valid else {
            throw .certificateInvalid(context: path, reason: "the package says it was made at \(p.manifest.created), outside its certificate's validity")
        }
    }

    private func inspection(_ p: Parsed, trust: TrustStore) throws(DossierError) -> PackageInspection {
        var problem: String?
        do throws(DossierError) { try certificateCheck(p) } catch {
            if case let .certificateInvalid(_, reason) = error { problem = reason } else { problem = error.message }
        }
        return PackageInspection(manifest: p.manifest, signatureValid: signatureValid(p) && problem == nil,
                                 trustedAs: try trust.entry(for: p.manifest.issuer), fileSize: p.fileSize,
                                 certificateProblem: problem, certificateValidity: p.manifest.certificate?.validity(at: clock.now()))
    }

    /// The manifest and its signature status; no secret needed.
    public func inspect(trust: TrustStore) throws(DossierError) -> PackageInspection {
        let fd = try FileAccess.openForReading(path: path)
        defer { close(fd) }
        let p = try parse(fd)
        return try inspection(p, trust: trust)
    }

    /// Every check of a package that needs no secret (docs/formats/package.md, section 7,
    /// steps 1 to 5): the framing, the signature, a trusted issuer, the window, that the
    /// package is sealed to `recipient` (a fingerprint, if given) and that `directory` is a
    /// folder. A command makes them before it asks for a passphrase; `open` makes them again.
    public func checkWithoutSecret(trust: TrustStore, recipient: String?, into directory: String?) throws(DossierError) -> PackageInspection {
        let fd = try FileAccess.openForReading(path: path)
        defer { close(fd) }
        let p = try parse(fd)
        try check(p, trust: trust, recipient: recipient, into: directory)
        return try inspection(p, trust: trust)
    }

    private func check(_ p: Parsed, trust: TrustStore, recipient: String?, into directory: String?) throws(DossierError) {
        try certificateCheck(p)
        guard signatureValid(p) else { throw .packageTampered(path: path, reason: "the signature does not verify") }
        guard try trust.entry(for: p.manifest.issuer) != nil else { throw .untrustedSigner(fingerprint: p.manifest.issuer.fingerprint) }
        let now = clock.now()
        // Format 2: the member's certificate must be valid now. A member removed from the
        // organisation can sign packages with an old copy of the vault only until it expires.
        if let c = p.manifest.certificate {
            try c.check(root: p.manifest.issuer, organisation: p.manifest.organisation, role: .staff, at: now, context: path)
        }
        guard let notBefore = Timestamp.parse(p.manifest.notBefore), let notAfter = Timestamp.parse(p.manifest.notAfter) else {
            throw .malformedPackage(path: path, reason: "its window is unreadable")
        }
        if now < notBefore { throw .packageNotYetValid(notBefore: p.manifest.notBefore) }
        if now > notAfter { throw .packageExpired(notAfter: p.manifest.notAfter) }
        if let recipient, !p.manifest.recipients.contains(recipient) { throw .notARecipient(fingerprint: recipient) }
        if let directory {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
                throw .invalidArgument("\(directory) is not a folder", hint: "create it first, or give another with -o DIR")
            }
        }
    }

    /// Verifies, checks the window and the recipient, decrypts every document to a temporary
    /// file in `directory`, and renames them into place only after all of them authenticate
    /// and match their signed hashes. On any failure nothing is left behind.
    ///
    /// An online package (one with an `online` line) also needs `keyRelease`: after every check
    /// that needs no network has passed, it asks the organisation's service for the vault's
    /// share of the package key; `released` hears what the service said.
    ///
    /// `progress` hears the bytes decrypted, of all the documents' total, once the key is known.
    public func open(identity: SecretIdentity, trust: TrustStore, into directory: String, overwrite: Bool = false,
                     durability: Durability = .durable, keyRelease: KeyReleaseClient? = nil,
                     progress: (any ProgressReporter)? = nil,
                     released: (KeyReleaseClient.Release) -> Void = { _ in },
                     answers: ([AnsweredRequest]) -> Void = { _ in }) throws(DossierError) -> [OpenedDocument] {
        let fd = try FileAccess.openForReading(path: path)
        defer { close(fd) }
        let p = try parse(fd)
        let me = identity.publicIdentity.fingerprint
        try check(p, trust: trust, recipient: me, into: directory)
        guard let index = p.manifest.recipients.firstIndex(of: me) else { throw .notARecipient(fingerprint: me) }
        let stanza = p.stanzas.subdata(in: index * PackageLayout.stanzaBytes..<(index + 1) * PackageLayout.stanzaBytes)
        let stanzaSecret: SecureBytes
        do { stanzaSecret = try SealedBox.open(stanza, with: identity.encryption) } catch {
            throw .packageTampered(path: path, reason: "your key stanza does not open")
        }
        guard stanzaSecret.count == KeyDerivation.keyBytes else { throw .packageTampered(path: path, reason: "your key stanza has the wrong length") }
        // Online: the stanza holds only counsel's share; the service holds the other.
        var packageKey = stanzaSecret
        if let url = p.manifest.online {
            guard let keyRelease else { throw .onlinePackage(url: url) }
            let release = try keyRelease.requestShare(for: p.manifest, identity: identity)
            packageKey = SecureBytes.xor(stanzaSecret, release.share)
            released(release)
        }
        let listPlain: SecureBytes
        do {
            listPlain = try AEAD.open(p.sealedList, key: try PackageLayout.listKey(packageKey), additionalData: PackageLayout.listAssociatedData(p.manifestBytes))
        } catch {
            if let url = p.manifest.online {
                throw .packageTampered(path: path, reason: "the document list does not authenticate with the key share released by \(url)")
            }
            throw .packageTampered(path: path, reason: "the document list does not authenticate")
        }
        let (requests, docs) = try DocumentList.parse(listPlain.unsafeCopyToData(), path: path, version: p.manifest.version)
        guard docs.map(\.size) == p.manifest.contentSizes else { throw .packageTampered(path: path, reason: "the document list disagrees with the manifest") }

        let targets = Self.fileNames(docs).map { directory + "/" + $0 }
        if !overwrite, let existing = targets.first(where: { FileManager.default.fileExists(atPath: $0) }) {
            throw .fileExists(path: existing)
        }

        // An online opening is counted and may be limited, so what it wrote is flushed
        // whatever was asked: a power cut must not cost counsel an opening.
        let durability = p.manifest.online == nil ? durability : .durable
        let meter = ProgressMeter(progress, unit: .bytes, total: docs.reduce(0) { $0 + $1.size })
        defer { meter?.finish() }
        var staged: [AtomicOutput] = []
        do {
            var offset = p.contentOffset
            for (i, d) in docs.enumerated() {
                let out = try AtomicOutput(destination: targets[i], overwrite: overwrite)
                staged.append(out)
                guard lseek(fd, off_t(offset), SEEK_SET) >= 0 else { throw DossierError.fileUnreadable(path: path, reason: FileAccess.errnoText()) }
                let length = ContentStream.ciphertextSize(plaintextSize: d.size)
                var source = LimitedSource(FileDescriptorSource(fd: fd), limit: length)
                var sink = MeteredSink(base: FileDescriptorSink(fd: out.fd, writeBehind: durability == .durable), meter: meter)
                let key = try PackageLayout.documentKey(packageKey, index: i)
                let written: (count: UInt64, blake2b: Data)
                do throws(CryptoError) {
                    written = try ContentStream.decryptHashing(key: key, from: &source, to: &sink)
                } catch {
                    if case .io(.write, _) = error { throw DossierError.writeFailed(path: targets[i], reason: error.description) }
                    throw DossierError.packageTampered(path: path, reason: "document \(i + 1) does not authenticate: \(error)")
                }
                guard written.count == d.size, written.blake2b == d.hash else {
                    throw DossierError.packageTampered(path: path, reason: "document \(i + 1) does not match its signed hash")
                }
                offset += length
            }
        } catch {
            staged.forEach { $0.abandon() }
            throw error as? DossierError ?? .packageTampered(path: path, reason: "\(error)")
        }
        // All or nothing: if one cannot be linked into place, those already linked are removed,
        // unless they replaced a file of the user's (--force), which is then already gone.
        let existed = Set(targets.filter { FileManager.default.fileExists(atPath: $0) })
        var committed: [String] = []
        for (out, target) in zip(staged, targets) {
            do throws(DossierError) {
                try out.commit(durability)
                committed.append(target)
            } catch {
                committed.filter { !existed.contains($0) }.forEach { unlink($0) }
                staged.dropFirst(committed.count + 1).forEach { $0.abandon() }
                throw error
            }
        }
        if !requests.isEmpty { answers(requests) }
        return zip(docs, targets).map { OpenedDocument(id: $0.id, kind: $0.kind, language: $0.language, size: $0.size, path: $1) }
    }

    /// The names documents are written under (docs/formats/package.md, section 5): each
    /// document's safe file name; a name equal (canonically equivalent, case-sensitive) to an
    /// earlier one gets its document id and `-` in front, and a name that would then pass 255
    /// bytes is the document id alone.
    static func fileNames(_ docs: [PackagedDocument]) -> [String] {
        var names = Set<String>()
        return docs.map { d -> String in
            var name = safeFileName(d.fileName, fallback: d.id)
            if names.contains(name) {
                name = d.id + "-" + name
                if name.utf8.count > 255 || names.contains(name) { name = d.id }
            }
            names.insert(name)
            return name
        }
    }

    /// A file name safe to create: no folders, no control characters, not hidden.
    static func safeFileName(_ name: String, fallback: String) -> String {
        let cleaned = String(name.unicodeScalars.filter { !CharacterSet.controlCharacters.contains($0) && $0 != "/" && $0 != "\\" })
        if cleaned.isEmpty || cleaned.hasPrefix(".") || cleaned.utf8.count > 255 { return fallback }
        return cleaned
    }
}
