import DossierCrypto
import Foundation

/// What `package` produced.
public struct PackageSummary: Codable, Sendable {
    public let packageID: String
    public let grantID: String
    public let path: String
    public let recipients: [String]
    public let documents: [String]
    public let notAfter: String
    /// The key-release service the package needs, if it is an online package.
    public let online: String?
    /// The requests from counsel the package names as answered by its grant (absent when none).
    public let answers: [String]?
}

extension StaffSession.Sharing {
    /// Writes the package for an active grant: a signed manifest, one sealed stanza per
    /// recipient, each document re-encrypted under a fresh package key, and the sealed document
    /// list. Storage keys never leave the vault. The export is logged before the file appears.
    ///
    /// With `online` (or a grant made with one), the package key is split: each stanza holds the
    /// recipient's share, and the vault keeps the other, which the key-release service at that
    /// URL releases only inside the window, while the grant stands, within the open limit.
    ///
    /// `durability` says whether the file is flushed to disk before it is named (`Durability`).
    /// `progress` hears the stored (encrypted) bytes re-encrypted, of all the documents' total.
    public func makePackage(grant grantID: String, to output: String, overwrite: Bool = false, online: String? = nil,
                            durability: Durability = .durable, progress: (any ProgressReporter)? = nil) throws(DossierError) -> PackageSummary {
        try OnlineURL.check(online)
        let g = try storedGrant(grantID)
        let onlineURL = online ?? g.onlineURL
        let now = vault.clock.now()
        let recipients = try counsel(ids: g.recipients)
        let docs = try g.documents.map { d throws(DossierError) in try session.documents.document(d) }
        // Everything is decided again now, on what the log signed: the grant's state, sign-offs
        // and window, removals, suspension, and vetting, which may have been shortened since.
        let state = try signedState("package", subjects: ["grant:" + grantID], documents: g.documents, counsel: g.recipients, grant: grantID)
        let policy = state.policy
        guard let signed = state.facts.grants[grantID] else { throw .unknownGrant(id: grantID) }
        try authorise(.package(now: now, policy: policy, grant: state.facts.accessFacts(grant: signed), documents: docs.map(\.accessFacts),
                               recipients: recipients.map(\.accessFacts), online: onlineURL), subjects: ["grant:" + grantID])

        let org = try vault.organisation()
        let signer = try session.packageSigner()
        // The requests this grant answers, as the log signed them; a format-2 list names them.
        let answered = signer.version < 2 ? [] : state.facts.requests
            .filter { $0.value.state == .answered && $0.value.grant == grantID }
            .map { AnsweredRequest(id: $0.key, sha256: $0.value.sha256) }
            .sorted { $0.id < $1.id }
        let packageID = Identifier.make(prefix: "pkg", random: vault.random)
        let packageKey = SecureBytes(randomCount: KeyDerivation.keyBytes, using: vault.random)
        let manifest = PackageManifest(
            organisation: org.name, issuer: try OrganisationKey(line: org.publicKey), certificate: signer.certificate, packageID: packageID, grantID: grantID,
            created: Timestamp.format(now), notBefore: g.notBefore, notAfter: g.notAfter, online: onlineURL,
            recipients: recipients.map(\.fingerprint), contentSizes: docs.map(\.size)).bytes
        // Online: recipient j's stanza holds K xor v_j, the vault keeps v_j (fresh, uniformly
        // random), so either share alone is independent of K.
        var vaultShares: [(counsel: Counsel, sealed: Data)] = []
        var secrets: [(key: Data, secret: SecureBytes)] = []
        for c in recipients {
            let pub = try PublicIdentity(line: c.publicIdentity)
            var stanzaSecret = packageKey
            if onlineURL != nil {
                let vaultShare = SecureBytes(randomCount: KeyDerivation.keyBytes, using: vault.random)
                stanzaSecret = SecureBytes.xor(packageKey, vaultShare)
                vaultShares.append((c, try Sealing.seal(vaultShare, purpose: .onlineShare, id: packageID + "/" + c.fingerprint,
                                                        vaultKey: vaultKey, random: vault.random)))
            }
            secrets.append((pub.encryptionKey, stanzaSecret))
        }
        // The sealed boxes (an X25519 key pair and exchange each) on all cores, in order.
        let sealed = Parallel.map(secrets) { try? SealedBox.seal($0.secret, to: $0.key) }
        var stanzas = Data()
        for (c, box) in zip(recipients, sealed) {
            guard let box else { throw .crypto(context: "cannot seal to counsel \(c.id)", .invalidPublicKey) }
            stanzas.append(box)
        }
        let policyLimit = policy.openLimit(for: docs.map(\.kind))

        let meter = ProgressMeter(progress, unit: .bytes, total: docs.reduce(0) { $0 + ContentStream.ciphertextSize(plaintextSize: $1.size) })
        defer { meter?.finish() }
        let out = try AtomicOutput(destination: output, overwrite: overwrite)
        var packaged: [PackagedDocument] = []
        do {
            let writeBehind = durability == .durable
            var sink = FileDescriptorSink(fd: out.fd, writeBehind: writeBehind)
            let header = PackageLayout.header(manifest: manifest, stanzas: stanzas, version: signer.version)
            do { try sink.write(contentsOf: header) } catch { throw DossierError.writeFailed(path: output, reason: error.description) }
            for (i, d) in docs.enumerated() {
                let (hash, size) = try reencrypt(d, into: FileDescriptorSink(fd: out.fd, writeBehind: writeBehind), key: try PackageLayout.documentKey(packageKey, index: i),
                                                 output: output, meter: meter)
                guard size == d.size else { throw DossierError.integrity("document \(d.id) has \(size) bytes, the catalogue says \(d.size)") }
                packaged.append(PackagedDocument(id: d.id, kind: d.kind.rawValue, language: d.language, size: size, hash: hash,
                                                 fileName: d.metadata?.fileName ?? d.id))
            }
            var list = DocumentList.bytes(packaged, requests: answered)
            defer { secureZero(&list) }
            let sealedList: Data
            do {
                sealedList = try AEAD.seal(list, key: try PackageLayout.listKey(packageKey),
                                           additionalData: PackageLayout.listAssociatedData(manifest), random: vault.random)
            } catch let e as CryptoError { throw DossierError.crypto(context: "cannot seal the document list", e) }
            let signature = signer.key.sign(PackageLayout.signedMessage(manifest: manifest, stanzas: stanzas, sealedList: sealedList, version: signer.version))
            let trailer = PackageLayout.trailer(sealedList: sealedList, signature: signature)
            do { try sink.write(contentsOf: trailer) } catch { throw DossierError.writeFailed(path: output, reason: error.description) }
            try write { tx in
                try tx.insertPackage(PackageRecord(id: packageID, grantID: grantID, createdAt: Timestamp.format(now), createdBy: actor,
                                                   manifestSHA256: Hash.sha256(manifest).hex, onlineURL: onlineURL))
                if let c = signer.certificate { try tx.setPackageCertificate(package: packageID, sha256: c.sha256) }
                for share in vaultShares {
                    try tx.insertOnlineShare(OnlineShareRecord(packageID: packageID, fingerprint: share.counsel.fingerprint,
                                                               counselID: share.counsel.id, shareSealed: share.sealed))
                }
                // A grant made offline and packaged online gets the policy's open limit.
                if onlineURL != nil && g.onlineURL == nil && policyLimit > 0 {
                    try tx.setOpenLimitIfUnset(grant: grantID, maxOpens: policyLimit)
                }
                try AuditLog.append(tx, signer: identity, action: .package, at: now,
                                    subjects: ["grant:" + grantID, "package:" + packageID] + docs.map { "doc:" + $0.id } + recipients.map { "counsel:" + $0.id },
                                    details: [.init("manifest-sha256", Hash.sha256(manifest).hex), .init("not-after", g.notAfter)]
                                        + (onlineURL.map { [.init("online", $0)] } ?? [])
                                        + (signer.certificate.map { [.init("certificate-sha256", $0.sha256)] } ?? [])
                                        + recipients.map { .init("recipient", $0.fingerprint) })
            }
        } catch {
            out.abandon()
            throw error as? DossierError ?? .writeFailed(path: output, reason: "\(error)")
        }
        try out.commit(durability)
        return PackageSummary(packageID: packageID, grantID: grantID, path: output, recipients: recipients.map(\.id),
                              documents: docs.map(\.id), notAfter: g.notAfter, online: onlineURL,
                              answers: answered.isEmpty ? nil : answered.map(\.id))
    }

    /// Decrypts a stored document and re-encrypts it under `key` into `sink`; returns the
    /// plaintext's BLAKE2b-256 and size. `meter` hears of each batch of stored bytes read.
    ///
    /// The hash recorded at deposit is used when there is one: the blob authenticates under
    /// the document's own key, chunk by chunk and with its last chunk marked, so what it
    /// decrypts to is exactly what was hashed then (and `doctor` checks the two agree).
    /// Hashing again would be the most costly step of a package (BLAKE2b is sequential).
    /// Documents deposited before the hash was recorded are hashed here.
    private func reencrypt(_ doc: Document, into sink: FileDescriptorSink, key: SecureBytes, output: String,
                           meter: ProgressMeter?) throws(DossierError) -> (Data, UInt64) {
        guard let keySealed = try read({ tx in try tx.sealedDocumentKey(doc.id) }) else {
            throw .documentRemoved(id: doc.id)
        }
        let secret = try DocumentSecret.open(keySealed, id: doc.id, vaultKey: vaultKey)
        let storageKey = secret.key, recorded = secret.contentHash
        let input = try vault.blobs.openForReading(id: doc.id)
        defer { close(input) }
        do throws(CryptoError) {
            var source = MeteredSource(base: FileDescriptorSource(fd: input), meter: meter)
            if let recorded {
                var out = sink
                return (recorded, try ContentStream.reencrypt(from: storageKey, to: key, source: &source, sink: &out))
            }
            let encryptor = try StreamEncryptor(key: key, sink: sink)
            var hashing = HashingSink(encryptor)
            _ = try ContentStream.decrypt(key: storageKey, from: &source, to: &hashing)
            _ = try encryptor.finish()
            return (hashing.digest(), hashing.count)
        } catch {
            if case .io(.write, _) = error { throw .writeFailed(path: output, reason: error.description) }
            throw .integrity("the stored content of \(doc.id) does not authenticate (\(error)); run `dossier doctor`")
        }
    }
}
