import DossierCrypto
import Foundation

/// The organisation's intake key pair in the vault (docs/formats/vault.md, sections 2.1 and
/// 3.2; docs/formats/request.md, section 2.1): the public line in `settings.intake_key`, the
/// X25519 secret key sealed under the vault key in `settings.intake_secret_sealed` (purpose
/// `intake-key`, id empty), so that every current staff member can open requests and nobody
/// else. The line is signed in the log (`init`, or `intake-key` for a vault made before), and
/// the row is used only when it is the one the log names (`SignedFacts.check(intakeLine:)`).
enum IntakeKeys {
    /// Where `init` draws the intake key pair and its sealing nonce from: always the system's
    /// source, not the vault's injected one. Drawing from the injected source would shift every
    /// id, key and nonce drawn after it, and so change the reproducible vaults behind the
    /// published package vectors; the intake key is in no vector.
    static var random: any RandomSource { SystemRandom() }

    /// A fresh key pair: its public key, and its secret sealed under `vaultKey`.
    static func make(vaultKey: SecureBytes, random: any RandomSource) throws(DossierError) -> (key: IntakeKey, sealed: Data) {
        let pair = BoxKeyPair.generate(using: random)
        let key = try IntakeKey(encryptionKey: pair.publicKey)
        let sealed = try Sealing.seal(pair.secretKey, purpose: .intakeKey, id: "", vaultKey: vaultKey, random: random)
        return (key, sealed)
    }

    static func store(_ tx: any StoreTransaction, key: IntakeKey, sealed: Data) throws {
        try tx.setSetting(.intakeKey, text: key.line)
        try tx.setSetting(.intakeSecretSealed, data: sealed)
    }

    /// The intake key the signed log names, after checking that the stored line is that key;
    /// nil when the log names none (a vault made before intake keys).
    static func signed(_ tx: any StoreTransaction, facts: SignedFacts) throws -> IntakeKey? {
        let row = try tx.settingText(.intakeKey)
        try facts.check(intakeLine: row)
        guard let line = facts.intakeKey else { return nil }
        return try IntakeKey(line: line)
    }
}

extension Vault {
    /// The organisation's intake key, as the signed log names it (the stored line is checked
    /// against it: `altered` if it differs); nil when the vault has none yet. Needs no secret.
    public func intakeKey() throws(DossierError) -> IntakeKey? {
        try read { tx in try IntakeKeys.signed(tx, facts: try SignedFacts.load(tx, memory: logHead)) }
    }
}

extension StaffSession {
    /// The intake secret key, opened from the vault, after checking that its public half is
    /// the intake key the signed log names. Throws `noIntakeKey` when the vault has none.
    func intakeSecret() throws(DossierError) -> (key: IntakeKey, secret: SecureBytes) {
        let (signed, sealed): (IntakeKey?, Data?) = try read { tx in
            (try IntakeKeys.signed(tx, facts: try signedFacts(tx)), try tx.settingData(.intakeSecretSealed))
        }
        guard let signed else { throw .noIntakeKey }
        guard let sealed else { throw .altered("the intake key's sealed secret is missing from the vault's settings") }
        let secret = try Sealing.open(sealed, purpose: .intakeKey, id: "", vaultKey: vaultKey)
        let pair: BoxKeyPair
        do { pair = try BoxKeyPair(secretKey: secret) } catch { throw .integrity("the sealed intake secret is not an X25519 key") }
        guard pair.publicKey == signed.encryptionKey else {
            throw .altered("the sealed intake secret does not belong to the intake key the signed log names (\(signed.fingerprint))")
        }
        return (signed, secret)
    }
}

extension IntakeKeys {
    static func storeCertificate(_ tx: any StoreTransaction, _ certificate: IntakeCertificate) throws {
        try tx.setSetting(.intakeCertificate, text: String(decoding: certificate.bytes, as: UTF8.self))
    }
}

extension Vault {
    /// The organisation root's certificate of the intake key, checked: by this vault's
    /// organisation key (the root), signed by it, for this organisation and for the intake key
    /// the signed log names. Nil when none is stored (a vault made before intake certificates:
    /// `org intake-key --certify`). Its validity is not checked here: it is shown.
    public func intakeCertificate() throws(DossierError) -> IntakeCertificate? {
        let (text, key): (String?, IntakeKey?) = try read { tx in
            (try tx.settingText(.intakeCertificate), try IntakeKeys.signed(tx, facts: try SignedFacts.load(tx, memory: logHead)))
        }
        guard let text else { return nil }
        let org = try organisation()
        let certificate: IntakeCertificate
        do { certificate = try IntakeCertificate.parse(Data(text.utf8)) } catch {
            throw .altered("the intake key's certificate in the vault's settings does not read: \(error.message)")
        }
        do {
            try certificate.check(root: try OrganisationKey(line: org.publicKey), organisation: org.name, at: nil, context: "the vault's intake certificate")
        } catch { throw .altered("the intake key's certificate in the vault's settings is not the organisation root's: \(error.message)") }
        guard let key, certificate.intake == key else {
            throw .altered("the intake key's certificate in the vault's settings is for \(certificate.intake.fingerprint), not for the intake key the signed log names")
        }
        return certificate
    }
}

extension StaffSession.Staff {
    /// Certifies the intake key with the organisation root (`org intake-key --certify`): the
    /// certificate counsel check before they seal a request (request.md section 2.3). `root` is
    /// the root file's key; nil uses the organisation key of a vault that still holds it.
    public func certifyIntakeKey(root: OrganisationRoot?, rootPath: String = "the organisation key in the vault",
                                 validity: TimeInterval = IntakeCertificate.defaultValidity) throws(DossierError) -> IntakeCertificate {
        guard validity > 0, validity <= Certificate.longestValidity else {
            throw .invalidArgument("an intake certificate is valid for at most 366 days", hint: "give --for 366d or less")
        }
        let signer: OrganisationRoot
        if let root {
            try vault.requireRoot(root, path: rootPath)
            signer = root
        } else if try vault.organisationKeyInVault() {
            signer = OrganisationRoot(signing: try session.organisationSigningKey())
        } else {
            throw .missingOption("certifying the intake key needs the organisation root", hint: "give the root file with --root FILE")
        }
        guard let key = try vault.intakeKey() else { throw .noIntakeKey }
        let certificate = IntakeCertificate.issue(by: signer, organisation: try vault.organisation().name, intake: key, notBefore: vault.clock.now(),
                                                  validity: validity)
        try write { tx in try IntakeKeys.storeCertificate(tx, certificate) }
        return certificate
    }

    /// Makes the organisation's intake key in a vault that has none (made before intake keys),
    /// and logs it (`intake-key`), so that counsel can send requests. Throws `intakeKeyExists`
    /// when there is one.
    public func createIntakeKey() throws(DossierError) -> IntakeKey {
        let now = vault.clock.now()
        let (key, sealed) = try IntakeKeys.make(vaultKey: vaultKey, random: vault.random)
        try write { tx in
            let facts = try signedFacts(tx)
            if let existing = try IntakeKeys.signed(tx, facts: facts) { throw DossierError.intakeKeyExists(fingerprint: existing.fingerprint) }
            try IntakeKeys.store(tx, key: key, sealed: sealed)
            try AuditLog.append(tx, signer: identity, action: .intakeKey, at: now, subjects: ["intake:" + key.fingerprint],
                                details: [.init("intake-key", key.line)])
        }
        return key
    }
}
