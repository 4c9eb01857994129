import DossierCore
import DossierCrypto
import Foundation

/// One parser of hostile input, fed raw bytes. A target ignores the errors the parser throws:
/// only crashes, hangs, sanitizer reports and broken round-trip properties are findings.
/// Where a format has one canonical encoding, a target also checks that parsing then
/// re-serialising gives back the exact input, so that no two encodings of one value are accepted.
enum FuzzTarget: String, CaseIterable, Sendable {
    case package
    case identity
    case publicIdentity = "public-identity"
    case policy
    case checkpoint
    case logEntry = "log-entry"
    case export
    case releaseRequest = "release-request"
    case certificate
    case request

    /// What each target feeds the bytes to, for `--help` and the docs.
    var summary: String {
        switch self {
        case .package: "a package file: PackageReader.inspect (framing, PackageManifest.parse, signature check); manifest round trip"
        case .identity: "a secret identity file: SecretIdentity.publicHalf(ofFileText:); public line round trip"
        case .publicIdentity: "a public identity line: PublicIdentity(line:); line round trip"
        case .policy: "a policy file: Policy.parse (TOMLKit, then validation)"
        case .checkpoint: "a signed note, a checkpoint body or a note verifier key: SignedNote.split/verify, Checkpoint.parse, SignedNote.parseVerifierKey; round trips"
        case .logEntry: "one audit log entry: AuditEntry.parse; entry round trip"
        case .export: "an audit export: LogExport.parse, then AuditVerifier.verify as `audit verify --export` does; export round trip"
        case .releaseRequest: "a key-release request body (what `dossier serve` reads from the network): SignedReleaseRequest.parse(body:), ReleaseRequest.parse, receipts; round trips"
        case .certificate: "a certificate by the organisation root: Certificate.parse, its one-line form, the signature check; round trips"
        case .request: "a request from counsel, with a fixed intake key (`dossier-fuzz-intake`): RequestReader.open (every check of request.md section 7) and the message read; the header round trip"
        }
    }

    /// Feeds `data` to the parser and returns whether it accepted it; traps (via
    /// `precondition`) if a property does not hold.
    @discardableResult
    func run(_ data: Data) -> Bool {
        switch self {
        case .package: Self.package(data)
        case .identity: Self.identity(data)
        case .publicIdentity: Self.publicIdentity(data)
        case .policy: Self.policy(data)
        case .checkpoint: Self.checkpoint(data)
        case .logEntry: Self.logEntry(data)
        case .export: Self.export(data)
        case .releaseRequest: Self.releaseRequest(data)
        case .certificate: Self.certificate(data)
        case .request: Self.request(data)
        }
    }

    // MARK: Targets

    private static func request(_ data: Data) -> Bool {
        // RequestReader works from a file, as `dossier requests import` does.
        Scratch.writePackage(data)
        guard let opened = attempt({ () throws(DossierError) in
            try RequestReader.open(path: Scratch.packagePath, intakeSecret: SecureBytes(copying: Scratch.intakeSecret))
        }) else { return false }
        let length = data.dropFirst(4).prefix(4).reduce(0) { $0 << 8 | Int($1) }
        precondition(opened.header.bytes == data.dropFirst(8).prefix(length), "request: header re-serialises to different bytes")
        guard let message = attempt({ () throws(DossierError) in try opened.message() }) else {
            preconditionFailure("request: a request that verified has a message that does not read")
        }
        var text = message.unsafeCopyToData()
        defer { secureZero(&text) }
        precondition(String(data: text, encoding: .utf8) != nil, "request: an accepted message is not UTF-8")
        return true
    }

    private static func certificate(_ data: Data) -> Bool {
        guard let c = attempt({ () throws(DossierError) in try Certificate.parse(data) }) else { return false }
        precondition(c.bytes == data, "certificate: parse then serialise gives other bytes")
        let again = attempt({ () throws(DossierError) in try Certificate.parse(line: c.line) })
        precondition(again == c, "certificate: the one-line form does not round-trip")
        _ = c.signatureValid
        return true
    }

    private static func package(_ data: Data) -> Bool {
        // PackageReader works from a file, as `dossier inspect` does.
        Scratch.writePackage(data)
        guard let inspection = attempt({ () throws(DossierError) in
            try PackageReader(path: Scratch.packagePath).inspect(trust: TrustStore(path: Scratch.absentTrustStore))
        }) else { return false }
        // inspect succeeded, so the file holds magic, a 4-byte length and that many manifest bytes.
        let length = data.dropFirst(4).prefix(4).reduce(0) { $0 << 8 | Int($1) }
        let manifest = data.dropFirst(8).prefix(length)
        precondition(inspection.manifest.bytes == manifest, "package: manifest re-serialises to different bytes")
        precondition(!manifest.contains(cr), "package: a manifest holding a CR was accepted (docs/formats/package.md: LF-terminated lines only)")
        precondition(inspection.fileSize == UInt64(data.count), "package: reported size differs from the file's")
        roundTrip(manifest: inspection.manifest)
        return true
    }

    private static func releaseRequest(_ data: Data) -> Bool {
        // The bytes as a request text on its own: canonical, so it re-serialises exactly.
        if let request = ReleaseRequest.parse(data) {
            precondition(request.bytes == data, "release-request: request text re-serialises to different bytes")
        }
        guard let signed = SignedReleaseRequest.parse(body: data) else { return false }
        precondition(data.count <= KeyReleaseService.maximumBodyBytes, "release-request: an over-long body was accepted")
        precondition(SignedReleaseRequest.parse(body: signed.body) == signed, "release-request: body round trip changed the request")
        precondition(SignedReleaseRequest.parse(receipt: signed.receipt) == signed, "release-request: receipt round trip changed the request")
        return true
    }

    private static func identity(_ data: Data) -> Bool {
        guard let text = text(data),
              let pub = attempt({ () throws(DossierError) in try SecretIdentity.publicHalf(ofFileText: text, path: "fuzz") }) else { return false }
        roundTrip(publicIdentity: pub)
        return true
    }

    private static func publicIdentity(_ data: Data) -> Bool {
        guard let text = text(data), let pub = attempt({ () throws(DossierError) in try PublicIdentity(line: text) }) else { return false }
        // Surrounding white space is documented as ignored; nothing else may vary.
        precondition(pub.line == text.trimmingCharacters(in: .whitespacesAndNewlines), "public-identity: a second encoding of one key is accepted")
        roundTrip(publicIdentity: pub)
        return true
    }

    private static func policy(_ data: Data) -> Bool {
        guard let text = text(data), let policy = attempt({ () throws(DossierError) in try Policy.parse(text, source: "fuzz") }) else { return false }
        precondition(policy.text == text, "policy: the stored text differs from the input")
        for kind in DocumentKind.allCases {
            let rule = policy.rule(for: kind)
            precondition(rule.defaultWindow <= rule.maxWindow && rule.defaultWindow > 0, "policy: a rule escaped validation")
            precondition((1...10).contains(rule.approvals) && (1...1000).contains(rule.maxRecipients), "policy: a rule escaped validation")
        }
        return true
    }

    /// Accepts a checkpoint body on its own (so the fuzzer need not build a note to reach the
    /// body parser) or a signed note whose body is a checkpoint.
    private static func checkpoint(_ data: Data) -> Bool {
        guard let text = text(data) else { return false }
        var accepted = false
        if let body = attempt({ () throws(DossierError) in try Checkpoint.parse(text) }) {
            roundTrip(checkpoint: body, from: text)
            accepted = true
        }
        if let (name, key) = attempt({ () throws(DossierError) in try SignedNote.parseVerifierKey(text) }) {
            precondition(SignedNote.verifierKey(name: name, publicKey: key) == text, "checkpoint: a second encoding of one verifier key is accepted")
            accepted = true
        }
        guard let (body, signatures) = attempt({ () throws(DossierError) in try SignedNote.split(text) }) else { return accepted }
        // Compared as bytes: the signature covers bytes, and a Character view would see "\r\n" as one.
        let noteBytes = Data(text.utf8), bodyBytes = Data(body.utf8)
        precondition(!signatures.isEmpty && bodyBytes.last == 0x0a, "checkpoint: split returned a note without signatures or a body without its newline")
        precondition(noteBytes.starts(with: bodyBytes) && noteBytes.dropFirst(bodyBytes.count).first == 0x0a,
                     "checkpoint: split returned a body that is not the note's bytes up to its blank line")
        // A signature that cannot verify must be refused, never crash.
        for s in signatures {
            _ = attempt({ () throws(DossierError) in try SignedNote.verify(text, name: s.name, publicKey: Data(Scratch.verifierKey)) })
        }
        if let cp = attempt({ () throws(DossierError) in try Checkpoint.parse(body) }) {
            roundTrip(checkpoint: cp, from: body)
            accepted = true
        }
        return accepted
    }

    private static func logEntry(_ data: Data) -> Bool {
        guard let entry = attempt({ () throws(DossierError) in try AuditEntry.parse(data) }) else { return false }
        precondition(entry.bytes == data, "log-entry: the entry re-serialises to different bytes")
        precondition(!data.contains(cr), "log-entry: an entry holding a CR was accepted")
        let again = attempt({ () throws(DossierError) in try AuditEntry.parse(entry.bytes) })
        precondition(again == entry, "log-entry: the re-serialised entry does not parse back to the same entry")
        _ = entry.date
        _ = entry.isSigned(by: Data(count: 32))
        return true
    }

    private static func export(_ data: Data) -> Bool {
        guard let snapshot = attempt({ () throws(DossierError) in try LogExport.parse(data, path: "fuzz") }) else { return false }
        precondition(LogExport.bytes(snapshot) == data, "export: the snapshot re-serialises to different bytes")
        // docs/formats/log.md, section 8: an export with a CR, or whose name is not an organisation name, is refused.
        precondition(!data.contains(cr), "export: an export holding a CR was accepted")
        precondition(isOrganisationName(snapshot.organisation), "export: an organisation name outside the grammar was accepted")
        // What an auditor runs on an export received from elsewhere.
        _ = attempt({ () throws(DossierError) in try AuditVerifier.verify(snapshot) })
        for e in snapshot.entries { _ = attempt({ () throws(DossierError) in try AuditEntry.parse(e) }) }
        for note in snapshot.checkpoints {
            if let (body, _) = attempt({ () throws(DossierError) in try SignedNote.split(note) }),
               let cp = attempt({ () throws(DossierError) in try Checkpoint.parse(body) }) {
                roundTrip(checkpoint: cp, from: body)
            }
        }
        return true
    }

    // MARK: Properties

    private static func roundTrip(manifest: PackageManifest) {
        let again = attempt({ () throws(DossierError) in try PackageManifest.parse(manifest.bytes, path: "fuzz") })
        precondition(again == manifest, "package: the re-serialised manifest does not parse back to the same manifest")
    }

    private static func roundTrip(publicIdentity pub: PublicIdentity) {
        let again = attempt({ () throws(DossierError) in try PublicIdentity(line: pub.line) })
        precondition(again == pub, "identity: the public line does not parse back to the same identity")
        _ = pub.fingerprint
    }

    private static func roundTrip(checkpoint cp: Checkpoint, from text: String) {
        precondition(cp.text == text, "checkpoint: the body re-serialises to different text")
        // Exactly three LF-ended lines, and no control character that could reach a terminal.
        precondition(!cp.origin.isEmpty && !cp.origin.utf8.contains { $0 < 0x20 || $0 == 0x7f }, "checkpoint: an origin with a control character was accepted")
        precondition(text.utf8.filter { $0 == 0x0a }.count == 3, "checkpoint: a body of more than three lines was accepted")
        let again = attempt({ () throws(DossierError) in try Checkpoint.parse(cp.text) })
        precondition(again == cp, "checkpoint: the re-serialised body does not parse back to the same checkpoint")
    }

    // MARK: Helpers

    /// Carriage return: Swift's `split(separator: "\n")` on a String keeps "\r\n" whole (one
    /// Character), so a CR is how a second line can hide inside a field of a line-based format.
    private static let cr: UInt8 = 0x0d

    /// docs/formats/log.md: the organisation name, `1*( %x21-2A / %x2C-7E )`.
    private static func isOrganisationName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { (0x21...0x7e).contains($0) && $0 != UInt8(ascii: "+") }
    }

    /// The text the CLI would read from a file: UTF-8 without a byte-order mark (FileAccess.readSmallText).
    private static func text(_ data: Data) -> String? {
        guard !data.starts(with: [0xEF, 0xBB, 0xBF]) else { return nil }
        return String(data: data, encoding: .utf8)
    }

    /// The parser's result, or nil if it refused the input. The error's message is built too,
    /// since messages quote parts of hostile input.
    private static func attempt<T>(_ body: () throws(DossierError) -> T) -> T? {
        do {
            return try body()
        } catch {
            _ = error.description
            return nil
        }
    }
}

/// Files a target needs; one path per process, so parallel fuzzing jobs do not collide.
enum Scratch {
    static let packagePath: String = {
        let path = NSTemporaryDirectory() + "/dossier-fuzz-\(getpid()).dpkg"
        atexit { unlink(Scratch.packagePath) }
        return path
    }()

    /// Replaces the scratch package's content. Plain POSIX calls: FileManager writes atomically
    /// (a temporary file and a rename), which would cost more than the parsing under test.
    static func writePackage(_ data: Data) {
        let fd = open(packagePath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { preconditionFailure("DossierFuzz: cannot write \(packagePath): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == data.count else { preconditionFailure("DossierFuzz: short write to \(packagePath)") }
    }

    /// The secret intake key of the request target: its seeds are sealed to it
    /// (RequestVectorTests.testTheFuzzSeedOpensWithTheFuzzIntakeKey writes and checks them).
    /// Kept as an array, as `verifierKey` is: a global holding a `Data` reads as a leak.
    static let intakeSecret = [UInt8](BoxKeyPair.generate(using: DeterministicRandom(seed: "dossier-fuzz-intake")).secretKey.unsafeCopyToData())

    /// A trust store that does not exist: every issuer is untrusted, as on a fresh machine.
    static let absentTrustStore = NSTemporaryDirectory() + "/dossier-fuzz-no-such-trust-store"

    /// A fixed Ed25519 key that signed nothing: signatures against it must be refused, never crash.
    /// Kept as an array: LeakSanitizer cannot follow the tagged pointer inside a global `Data`
    /// and would report it as leaked when the process exits.
    static let verifierKey = [UInt8](SigningKeyPair.generate(using: DeterministicRandom(seed: "dossier-fuzz")).publicKey)
}
