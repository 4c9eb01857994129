import DossierCore
import Foundation

/// One counsel in full, a field per line (`counsel show`).
func printCounsel(_ c: Counsel) {
    let now = Date()
    func field(_ label: String, _ value: String) { printField(label, value, width: 14) }
    field("id", c.id)
    field("name", c.details.name)
    if let e = c.details.email { field("email", e) }
    if let j = c.details.jurisdiction { field("jurisdiction", j) }
    if let b = c.details.barId { field("bar id", b) }
    field("fingerprint", c.fingerprint)
    field("identity", c.publicIdentity)
    field("added", c.addedAt)
    field("status", c.status(at: now))
    if let n = c.vettingNote { field("vetting note", n) }
    if let r = c.suspensionReason { field("suspended", "\(c.suspendedAt ?? "") (\(r))") }
}
