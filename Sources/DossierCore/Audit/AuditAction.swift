/// What a log entry records (the `action` line of an entry, docs/formats/vault.md section 6.3).
/// The writer takes only these; readers map an entry's action text to one with
/// `AuditEntry.kind`, which is nil for an action this version does not know (the entry format
/// allows any token, so a newer vault's log still verifies).
public enum AuditAction: String, Sendable, CaseIterable, Codable {
    case initialise = "init"
    case deposit, retrieve, remove
    case grant, approve, revoke, package, open, deny
    case policySet = "policy-set"
    case policyPropose = "policy-propose"
    case policyApprove = "policy-approve"
    case counselAdd = "counsel-add"
    case counselVet = "counsel-vet"
    case counselSuspend = "counsel-suspend"
    case staffAdd = "staff-add"
    case staffRemove = "staff-remove"
    case rotate
    /// The organisation root certified a staff or service key (a new certificate, or a renewal).
    case certify
    case certificateRevoke = "certificate-revoke"
    /// The organisation key was moved out of the vault into a root file (`org migrate-root`).
    case rootMigrate = "root-migrate"
    /// The organisation's intake key was made in a vault that had none (`org intake-key --create`).
    case intakeKey = "intake-key"
    /// A request from counsel entered the inbox (`requests import`).
    case requestReceive = "request-receive"
    case requestAssign = "request-assign"
    case requestAnswer = "request-answer"
    case requestDecline = "request-decline"
    /// A staff member read a request's message or saved one of its attachments
    /// (`requests show`, `requests save`), written before anything is decrypted.
    case requestRead = "request-read"
}
