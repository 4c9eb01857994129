import ArgumentParser
import DossierCore
import Foundation

/// `dossier audit verify`.
struct AuditVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every entry's chain and signature, the Merkle root against the checkpoints, and that older checkpoints are consistent.",
        discussion: """
        Needs no secret: only the organisation's public key (in the vault or the export) and the staff public keys the log itself carries. Give --org-fingerprint to pin the organisation key you compared by phone. With --vault, it also checks that the rows decisions read (grants, approvals, documents' kinds, counsel, staff, the policy, openings) say what the signed log says, and names each one edited outside dossier. On failure it names the first bad entry or row and what is wrong, and exits 3.

        To verify again later at the cost of the new entries only, keep a state file: it holds the newest checkpoint verified, the Merkle path of its last entry and who may sign after it (docs/formats/log.md, section 7). Keep it where only you can write it:
        its list of signers is trusted as written.

        Examples:
          dossier audit verify --vault /srv/dossier --checkpoint kept-2026-11-01.note
          dossier audit verify --export log.dlog --org-fingerprint ABCD-EFGH-JKLM-NPQR
          dossier audit verify --export log.dlog --org-fingerprint ABCD-EFGH-JKLM-NPQR --from-state audit.state --save-state audit.state
        """
    )
    @OptionGroup var source: LogSourceOptions
    @Option(name: .customLong("checkpoint"), help: ArgumentHelp("An older checkpoint you kept; must be consistent with today's log (repeatable).", valueName: "OLD"))
    var checkpoints: [String] = []
    @Option(name: .customLong("org-fingerprint"), help: ArgumentHelp("The organisation key fingerprint you expect.", valueName: "FP"))
    var orgFingerprint: String?
    @Option(name: .customLong("from-checkpoint"), help: ArgumentHelp(
        "A checkpoint you verified fully before: entries it covers are matched by its root, not re-verified, so only new entries cost time.",
        valueName: "FILE"))
    var fromCheckpoint: String?
    @Option(name: .customLong("from-state"), help: ArgumentHelp(
        "A state file written by an earlier --save-state: the entries it covers are not read again.",
        valueName: "FILE"))
    var fromState: String?
    @Option(name: .customLong("save-state"), help: ArgumentHelp(
        "After a successful verification, write the state at the newest checkpoint to FILE (replacing it).",
        valueName: "FILE"))
    var saveState: String?
    @Flag(help: "Print the report as JSON.") var json = false
    @OptionGroup var progress: ProgressOption

    func validate() throws {
        if source.export != nil && orgFingerprint == nil {
            throw ValidationError("an export carries its own organisation key: pin it with --org-fingerprint FP (compare it by phone)")
        }
        if fromState != nil && fromCheckpoint != nil {
            throw ValidationError("give --from-state or --from-checkpoint, not both (a state already holds its checkpoint)")
        }
    }

    func run() throws {
        let state = try fromState.map { p throws(DossierError) in
            try VerificationState.parse(try FileAccess.readSmall(path: p, limit: 1 << 20), path: p)
        }
        // From a state, entries before its last one are not even decoded.
        let snapshot = try source.snapshot(firstLoaded: max(0, Int(state?.size ?? 0) - 1))
        var notes: [String] = []
        for path in checkpoints { notes.append(try FileAccess.readSmallText(path: path, limit: 1 << 20)) }
        let verified = try fromCheckpoint.map { p throws(DossierError) in try FileAccess.readSmallText(path: p, limit: 1 << 20) }
        let report = try AuditVerifier.verify(snapshot, expectedOrganisationFingerprint: orgFingerprint, olderCheckpoints: notes,
                                              verifiedCheckpoint: verified, state: state, progress: try progress.reporter())
        if source.export == nil {
            // The rows decisions read must say what the signed log says.
            let altered = try VaultOptions(vault: source.vault).open().alteredRows()
            if !altered.isEmpty {
                for line in altered.dropLast() { Terminal.note("edited outside dossier: " + line) }
                throw DossierError.altered(altered.last! + (altered.count > 1 ? " (and \(altered.count - 1) more, above)" : ""))
            }
        }
        if let saveState {
            guard let kept = report.state else {
                throw DossierError.invalidArgument("the log has no checkpoint to keep a state at; staff make one with `dossier audit checkpoint`")
            }
            try FileAccess.writeAtomically(kept.bytes, to: saveState, mode: 0o600, overwrite: true)
        }
        if json { JSONOutput.print(report); return }
        print("organisation: \(Terminal.visible(report.organisation)) (\(report.organisationFingerprint))")
        if let after = report.resumedAfter, after == report.entries {
            print("entries:      \(report.entries), all covered by your state: no new entry to verify")
        } else if let after = report.resumedAfter {
            print("entries:      \(report.entries); entries \(after + 1) to \(report.entries) verified (chain and signatures), 1 to \(after) covered by your state")
        } else {
            print("entries:      \(report.entries), every chain link and signature valid")
        }
        print("root:         \(report.root)")
        if let size = report.checkpointSize {
            print("checkpoint:   the organisation's newest checkpoint (\(size) entries) matches")
        } else {
            print("checkpoint:   none yet (staff make one with `dossier audit checkpoint`)")
        }
        for s in report.consistentCheckpoints { print("consistent:   your checkpoint of \(s) entries: the log only grew since") }
        if let saveState, let size = report.state?.size {
            print("state:        saved to \(saveState) (at the checkpoint of \(size) entries)")
        }
        print("log OK")
    }
}
