import DossierCore
import Foundation

/// One counsel in full, a field per line (`counsel show`).
func printCounsel(_ c: Counsel) {
    let now = Date()
    print("id:           \(c.id)")
    print("name:         \(c.details.name)")
    if let e = c.details.email { print("email:        \(e)") }
    if let j = c.details.jurisdiction { print("jurisdiction: \(j)") }
    if let b = c.details.barId { print("bar id:       \(b)") }
    print("fingerprint:  \(c.fingerprint)")
    print("identity:     \(c.publicIdentity)")
    print("added:        \(c.addedAt)")
    print("status:       \(c.status(at: now))")
    if let n = c.vettingNote { print("vetting note: \(n)") }
    if let r = c.suspensionReason { print("suspended:    \(c.suspendedAt ?? "") (\(r))") }
}
