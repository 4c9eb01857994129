import Foundation

/// The organisations' intake certificates counsel keep beside the organisation keys they trust
/// (`dossier trust intake FILE`), one file per root: `intake/<root fingerprint>.cert` in the
/// trust store's folder. Each is checked against the trusted root when it is added and again
/// each time it is used, since the folder is only as safe as the user's account.
extension TrustStore {
    var intakeFolder: String { (path as NSString).deletingLastPathComponent + "/intake" }

    private func intakePath(_ root: OrganisationKey) -> String { intakeFolder + "/" + root.fingerprint + ".cert" }

    /// Checks an intake certificate against the trusted organisation that issued it, valid at
    /// `date`, and keeps it for that organisation (replacing the one kept, if any).
    public func addIntakeCertificate(_ data: Data, source: String, at date: Date) throws(DossierError) -> (entry: Entry, certificate: IntakeCertificate) {
        let (entry, certificate) = try checked(data, source: source, at: date)
        try FileAccess.makePrivateDirectory((path as NSString).deletingLastPathComponent)
        try FileAccess.makePrivateDirectory(intakeFolder)
        try FileAccess.writeAtomically(certificate.bytes, to: intakePath(certificate.root), mode: 0o600, overwrite: true)
        return (entry, certificate)
    }

    /// The intake certificate kept for `entry`, checked against its key and valid at `date`.
    public func intakeCertificate(for entry: Entry, at date: Date) throws(DossierError) -> IntakeCertificate {
        let key = try OrganisationKey(line: entry.publicKey)
        let file = intakePath(key)
        guard FileManager.default.fileExists(atPath: file) else { throw .noIntakeCertificate(organisation: entry.name) }
        let data = try FileAccess.readSmall(path: file, limit: IntakeCertificate.maximumBytes + 1)
        let (_, certificate) = try checked(data, source: file, at: date)
        guard certificate.root == key else { throw .certificateInvalid(context: file, reason: "it is not by \(entry.name)'s key") }
        return certificate
    }

    /// Parses `data` and checks it against the trusted organisation named in it.
    private func checked(_ data: Data, source: String, at date: Date) throws(DossierError) -> (Entry, IntakeCertificate) {
        let certificate = try IntakeCertificate.parse(data)
        guard let entry = try entry(for: certificate.root) else {
            throw .untrustedOrganisation(fingerprint: certificate.root.fingerprint, what: "the intake certificate \(source)")
        }
        try certificate.check(root: certificate.root, at: date, context: source)
        return (entry, certificate)
    }

    /// Where a request is sealed to, from what counsel gave `request new --org`.
    public enum IntakeSource: Equatable, Sendable {
        /// A bare intake line (or a file holding one): nothing vouches for it but a phone call.
        case line
        /// The intake key certified by the trusted organisation of this name.
        case certified(organisation: String, notAfter: String)
    }

    /// Resolves `--org`: an intake line; a file holding an intake line or an intake certificate;
    /// a trusted organisation's key line; or the name under which it is trusted. Anything but a
    /// bare line goes through a certificate checked against the trusted root, valid at `date`.
    public func intakeKey(for argument: String, at date: Date) throws(DossierError) -> (key: IntakeKey, source: IntakeSource) {
        let trimmed = argument.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix(IntakeKey.prefix) { return (try IntakeKey(line: trimmed), .line) }
        if FileManager.default.fileExists(atPath: argument) {
            let data = try FileAccess.readSmall(path: argument, limit: 64 * 1024)
            if data.starts(with: Data(IntakeCertificate.header.utf8)) {
                let (entry, c) = try checked(data, source: argument, at: date)
                return (c.intake, .certified(organisation: entry.name, notAfter: c.notAfter))
            }
            let lines = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
            guard lines.count == 1 else {
                throw .malformedIntakeKey(reason: "\(argument) must hold exactly one intake line (comments starting with # aside) or an intake certificate")
            }
            return (try IntakeKey(line: lines[0]), .line)
        }
        let entry: Entry
        if trimmed.hasPrefix(OrganisationKey.prefix) {
            let key = try OrganisationKey(line: trimmed)
            guard let e = try self.entry(for: key) else { throw .untrustedOrganisation(fingerprint: key.fingerprint, what: "the organisation key given to --org") }
            entry = e
        } else {
            let named = try entries().filter { $0.name == argument }
            guard let e = named.first else {
                throw .invalidArgument("no organisation is trusted under the name '\(argument)', and no file of that name exists",
                                       hint: "`dossier trust list` shows the names; or give the organisation's intake line or certificate file")
            }
            guard named.count == 1 else {
                throw .invalidArgument("\(named.count) trusted organisations are named '\(argument)'",
                                       hint: "give the organisation key (dossierorg1…) instead, or rename one with `dossier trust add KEY --name NAME --rename`")
            }
            entry = e
        }
        let c = try intakeCertificate(for: entry, at: date)
        return (c.intake, .certified(organisation: entry.name, notAfter: c.notAfter))
    }
}
