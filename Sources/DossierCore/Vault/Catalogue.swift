import DossierCrypto
import Foundation

/// Depositing, finding, retrieving and removing documents.
extension StaffSession.Documents {
    /// Encrypts each file into the blob store, then records them all in one transaction with
    /// one log entry each. On any failure nothing is recorded and no blob is left.
    /// `progress` hears the bytes encrypted, of the files' total size (unknown if one is not a
    /// regular file, a pipe).
    public func deposit(_ request: DepositRequest, progress: (any ProgressReporter)? = nil) throws(DossierError) -> [Document] {
        try DepositRequest.checkTitle(request.title)
        let title = request.title.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !request.files.isEmpty else { throw .invalidArgument("no file to deposit") }
        let language = try Language.canonical(request.language)
        let tags = request.tags.map { $0.trimmingCharacters(in: .whitespaces) }
        if tags.contains(where: \.isEmpty) { throw .invalidArgument("a tag is empty") }
        let blank: (String?) -> String? = { v in v.flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 } }

        // Open every file first, so that a bad path fails before anything is written.
        var descriptors: [Int32] = []
        defer { descriptors.forEach { close($0) } }
        for path in request.files {
            descriptors.append(try FileAccess.openForReading(path: path))
        }
        let meter = ProgressMeter(progress, unit: .bytes, total: Self.totalSize(descriptors))
        defer { meter?.finish() }

        struct Pending { let id: String; let size: UInt64; let keySealed: Data; let metaSealed: Data }
        var pending: [Pending] = []
        var written: [String] = []
        do {
            for (path, fd) in zip(request.files, descriptors) {
                let id = Identifier.make(prefix: "doc", random: vault.random)
                let key = ContentStream.generateKey(using: vault.random)
                let (size, hash) = try vault.blobs.write(id: id, key: key, from: fd, sourcePath: path, progress: meter)
                written.append(id)
                let meta = DocumentMetadata(title: title, fileName: URL(fileURLWithPath: path).lastPathComponent, tags: tags,
                                            jurisdiction: blank(request.jurisdiction), caseReference: blank(request.caseReference))
                pending.append(Pending(id: id, size: size,
                                       keySealed: try DocumentSecret.seal(key: key, contentHash: hash, id: id, vaultKey: vaultKey, random: vault.random),
                                       metaSealed: try session.sealMetadata(meta, id: id)))
            }
            // Every blob durable before a row names it; one flush for the whole deposit.
            try vault.blobs.makeDurable(ids: written)
            let now = vault.clock.now()
            let stamp = Timestamp.format(now)
            try write { tx in
                for p in pending {
                    try tx.insertDocument(DocumentRecord(id: p.id, kind: request.kind.rawValue, language: language, size: p.size,
                                                         depositedAt: stamp, depositedBy: actor, metadataSealed: p.metaSealed, keySealed: p.keySealed))
                    try AuditLog.append(tx, signer: identity, action: .deposit, at: now, subjects: ["doc:" + p.id],
                                        details: [.init("kind", request.kind.rawValue), .init("size", String(p.size))])
                }
            }
        } catch {
            for id in written { vault.blobs.remove(id: id) }
            throw error
        }
        return try pending.map { p throws(DossierError) in try document(p.id) }
    }

    /// The files' total size, if each is a regular file.
    private static func totalSize(_ descriptors: [Int32]) -> UInt64? {
        var total: UInt64 = 0
        for fd in descriptors {
            var st = stat()
            guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
            total += UInt64(st.st_size)
        }
        return total
    }

    private func makeDocument(_ row: DocumentRecord) throws(DossierError) -> Document {
        let id = row.id
        guard let kind = DocumentKind(rawValue: row.kind) else { throw .integrity("document \(id) has an unknown kind") }
        return Document(id: id, kind: kind, language: row.language, size: row.size,
                        depositedAt: row.depositedAt, depositedBy: row.depositedBy,
                        metadata: try row.metadataSealed.map { s throws(DossierError) in try session.openMetadata(s, id: id) },
                        removedAt: row.removedAt, removedBy: row.removedBy)
    }

    /// One document (removed ones too, as tombstones).
    public func document(_ id: String) throws(DossierError) -> Document {
        guard let row = try read({ tx in try tx.document(id) }) else { throw .unknownDocument(id: id) }
        return try makeDocument(row)
    }

    /// Documents matching `filter`, oldest first.
    public func list(_ filter: DocumentFilter = DocumentFilter()) throws(DossierError) -> [Document] {
        try list(filter, connections: nil)
    }

    /// `list`, read on `connections` connections (tests; by default one per core for a large catalogue).
    func list(_ filter: DocumentFilter, connections: Int?, probe: ListingProbe? = nil) throws(DossierError) -> [Document] {
        try documents(try listing(filter), connections: connections, probe: probe)
    }

    /// The documents a query selects, in deposit order.
    private func documents(_ query: ListingQuery, connections: Int?, probe: ListingProbe? = nil) throws(DossierError) -> [Document] {
        let sinks = try readListing(query, connections: connections, probe: probe) { DocumentSink() }
        return sinks.count == 1 ? sinks[0].documents : sinks.flatMap(\.documents)
    }

    /// The rows a query selects, handed to sinks made by `sink`, one per part read.
    private func readListing<S: ListingSink>(_ query: ListingQuery, connections: Int?, probe: ListingProbe? = nil,
                                             sink: () -> S) throws(DossierError) -> [S] {
        try vault.store.listDocuments(query, opener: MetadataOpener(vaultKey: vaultKey, condition: query.condition),
                                      connections: connections, probe: probe, check: { try session.checkGeneration($0) }, sink: sink)
    }

    /// The lines `list` prints to a pipe or file for `filter` (tab-separated fields, docs in
    /// `ListingLines`), formatted on the cores that read the rows, without a `Document` per
    /// row. The parts come back in deposit order: the listing is their concatenation.
    public func listLines(_ filter: DocumentFilter) throws(DossierError) -> [ListingLines] {
        try listRows(filter, connections: nil, part: { ListingLines() }) { lines, row in lines.append(row) }
    }

    /// The documents of `list(filter)` without a `Document` for each: `add` is called with each
    /// one's table fields on the core that read it, into that core's part, made by `part`. The
    /// parts come back in deposit order: the listing is their concatenation. `add` runs on
    /// several threads at once, each with its own part; the row's buffers are valid only
    /// during the call (`ListingRow`). `connections` overrides how many readers (tests).
    func listRows<Part: Sendable>(_ filter: DocumentFilter, connections: Int? = nil, part: () -> Part,
                                  add: @escaping @Sendable (inout Part, ListingRow) -> Void) throws(DossierError) -> [Part] {
        try readListing(try listing(filter), connections: connections) { RowSink(part: part(), add: add) }.map(\.part)
    }

    /// The listing query of a filter.
    private func listing(_ filter: DocumentFilter) throws(DossierError) -> ListingQuery {
        ListingQuery(includeRemoved: filter.includeRemoved, kind: filter.kind, language: try filter.language.map(Language.canonical),
                     condition: filter.caseReference.map { MetadataCondition(caseReference: $0) })
    }

    /// Documents whose decrypted metadata contains every word, folded (`SearchFolding`); words
    /// inside one argument are split at spaces.
    public func search(_ words: [String]) throws(DossierError) -> [Document] {
        try search(words, connections: nil)
    }

    /// `search`, read on `connections` connections (tests).
    func search(_ words: [String], connections: Int?) throws(DossierError) -> [Document] {
        let matcher = DocumentMetadata.Matcher(words: words)
        guard !matcher.words.isEmpty else {
            throw .invalidArgument("give at least one word to search for",
                                   hint: words.isEmpty ? nil : "the words given are only spaces, accents or marks, which search ignores")
        }
        return try documents(ListingQuery(condition: MetadataCondition(words: matcher)), connections: connections)
    }

    /// Decrypts a document to `output`, atomically: the file appears only after the last chunk
    /// authenticates. The retrieval is logged first; if it cannot be logged, nothing is revealed.
    /// `durability` says whether the file is flushed to disk before it is named (`Durability`).
    /// `progress` hears the bytes decrypted, of the document's size.
    public func retrieve(_ id: String, to output: String, overwrite: Bool = false,
                         durability: Durability = .durable, progress: (any ProgressReporter)? = nil) throws(DossierError) -> Document {
        let doc = try document(id)
        if doc.isRemoved { throw .documentRemoved(id: id) }
        let keySealed: Data? = try read { tx in try tx.sealedDocumentKey(id) }
        guard let keySealed else { throw .documentRemoved(id: id) }
        let key = try DocumentSecret.open(keySealed, id: id, vaultKey: vaultKey).key
        let atomic = try AtomicOutput(destination: output, overwrite: overwrite)
        let input: Int32
        do {
            input = try vault.blobs.openForReading(id: id)
        } catch {
            atomic.abandon()
            throw error
        }
        defer { close(input) }
        let now = vault.clock.now()
        do {
            try write { tx in
                try AuditLog.append(tx, signer: identity, action: .retrieve, at: now, subjects: ["doc:" + id])
            }
        } catch {
            atomic.abandon()
            throw error
        }
        let meter = ProgressMeter(progress, unit: .bytes, total: doc.size)
        defer { meter?.finish() }
        var source = FileDescriptorSource(fd: input)
        var sink = MeteredSink(base: FileDescriptorSink(fd: atomic.fd, writeBehind: durability == .durable), meter: meter)
        let size: UInt64
        do throws(CryptoError) {
            size = try ContentStream.decrypt(key: key, from: &source, to: &sink)
        } catch {
            atomic.abandon()
            if case .io(.write, _) = error { throw .writeFailed(path: output, reason: error.description) }
            throw .integrity("the encrypted content of \(id) does not authenticate (\(error)); nothing was written. Run `dossier doctor`")
        }
        guard size == doc.size else {
            atomic.abandon()
            throw .integrity("the content of \(id) has \(size) bytes where the catalogue says \(doc.size); nothing was written")
        }
        try atomic.commit(durability)
        return doc
    }

    /// Crypto-shreds a document: its key and metadata are destroyed, in the vault's files too,
    /// its blob deleted; a tombstone (id, kind, size, dates, sealed reason) remains. Throws
    /// `purgeBlocked`, with the removal committed, when another process's reader keeps the key
    /// in the files.
    public func remove(_ id: String, reason: String) throws(DossierError) {
        let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw .invalidArgument("a removal needs a reason", hint: "say why with --reason TEXT (it is stored sealed, for staff)") }
        let now = vault.clock.now()
        let reasonSealed = try Sealing.seal(Data(trimmed.utf8), purpose: .reason, id: id, vaultKey: vaultKey, random: vault.random)
        try session.writeReplacingSecrets({ tx in
            // Checked in the transaction that removes it: two removals at once log one.
            guard let record = try tx.document(id) else { throw DossierError.unknownDocument(id: id) }
            guard record.removedAt == nil else { throw DossierError.documentRemoved(id: id) }
            try tx.markDocumentRemoved(id, at: Timestamp.format(now), by: actor, reasonSealed: reasonSealed)
            try AuditLog.append(tx, signer: identity, action: .remove, at: now, subjects: ["doc:" + id])
        }, committed: { _ in vault.blobs.remove(id: id) })
    }
}

extension StaffSession.Documents {
    /// Benchmarks only (`Benchmarks/DossierBench`): records `count` documents without content,
    /// in one transaction, so that `list` and `search` can be timed over a large catalogue without
    /// encrypting and flushing 100,000 files. Each row has a sealed key and sealed metadata exactly
    /// as `deposit` writes them, but no blob and no log entry: `dossier doctor` reports such a
    /// vault as damaged, which is why this is not reachable from the command line.
    @_spi(Benchmark)
    public func recordSyntheticDocuments(count: Int,
                                         _ make: (Int) -> (kind: DocumentKind, language: String, size: UInt64, metadata: DocumentMetadata))
        throws(DossierError) {
        let start = vault.clock.now()
        try write { tx in
            for i in 0..<count {
                let d = make(i)
                let id = Identifier.make(prefix: "doc", random: vault.random)
                let key = ContentStream.generateKey(using: vault.random)
                try tx.insertDocument(DocumentRecord(
                    id: id, kind: d.kind.rawValue, language: d.language, size: d.size,
                    depositedAt: Timestamp.format(start.addingTimeInterval(Double(i) / 1000)), depositedBy: actor,
                    metadataSealed: try session.sealMetadata(d.metadata, id: id),
                    keySealed: try Sealing.seal(key, purpose: .documentKey, id: id, vaultKey: vaultKey, random: vault.random)))
            }
        }
    }
}

extension StaffSession.Documents {
    /// Benchmarks only (`Benchmarks/DossierBench log`): appends `count` signed `retrieve` entries
    /// for document `id`, 10,000 per transaction, so that decisions can be timed over a long log
    /// (most of a real log is retrievals, packages and openings, which change no fact).
    @_spi(Benchmark)
    public func recordSyntheticRetrievals(of id: String, count: Int) throws(DossierError) {
        var done = 0
        while done < count {
            let n = min(10_000, count - done)
            let now = vault.clock.now()
            try write { tx in
                var log = try AuditLog.Appender(tx)
                for _ in 0..<n {
                    try log.append(tx, signer: identity, action: .retrieve, at: now, subjects: ["doc:" + id])
                }
            }
            done += n
        }
    }
}

extension StaffSession {
    func sealMetadata(_ meta: DocumentMetadata, id: String) throws(DossierError) -> Data {
        // Sealed from guarded memory, and the one plain copy wiped: no unwiped copy is left.
        var plain = meta.encoded()
        let secret = SecureBytes(copying: plain)
        plain.withUnsafeMutableBytes { secureZero($0) }
        return try Sealing.seal(secret, purpose: .metadata, id: id, vaultKey: vaultKey, random: vault.random)
    }

    func openMetadata(_ sealed: Data, id: String) throws(DossierError) -> DocumentMetadata {
        let plain = try Sealing.open(sealed, purpose: .metadata, id: id, vaultKey: vaultKey)
        guard let meta = plain.withUnsafeBytes({ DocumentMetadata.decode($0) }) else {
            throw .integrity("the metadata of \(id) is unreadable")
        }
        return meta
    }
}
