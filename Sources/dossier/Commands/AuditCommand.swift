import ArgumentParser
import DossierCore
import Foundation

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Verify the log, review it, keep checkpoints, prove entries. Needs no secret.",
        subcommands: [Verify.self, Checkpoint.self, Log.self, Exposure.self, Report.self, Export.self, Prove.self, VerifyProof.self]
    )

    /// Where the log comes from: a vault folder, or an export file.
    struct Source: ParsableArguments {
        @Option(help: ArgumentHelp("The vault folder (also: DOSSIER_VAULT).", valueName: "DIR")) var vault: String?
        @Option(help: ArgumentHelp("A log export made by `dossier audit export`, instead of a vault.", valueName: "FILE")) var export: String?

        /// With `firstLoaded` n, the first n entries are not read (see `LogSnapshot.firstLoaded`).
        func snapshot(firstLoaded: Int = 0) throws(DossierError) -> LogSnapshot {
            if let export {
                if vault != nil { throw .invalidArgument("give --vault or --export, not both") }
                return try LogExport.parse(try FileAccess.readSmall(path: export, limit: 1 << 31), path: export, firstLoaded: firstLoaded)
            }
            return try VaultOptions(vault: vault).open().logSnapshot(firstLoaded: firstLoaded)
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Check every entry's chain and signature, the Merkle root against the checkpoints, and that older checkpoints are consistent.",
            discussion: """
            Needs no secret: only the organisation's public key (in the vault or the export) and the staff public keys the log itself carries. Give --org-fingerprint to pin the organisation key you compared by phone. On failure it names the first bad entry and what is wrong, and exits 3.

            To verify again later at the cost of the new entries only, keep a state file: it holds the newest checkpoint verified, the Merkle path of its last entry and who may sign after it (docs/formats/log.md, section 7). Keep it where only you can write it:
            its list of signers is trusted as written.

            Examples:
              dossier audit verify --vault /srv/dossier --checkpoint kept-2026-11-01.note
              dossier audit verify --export log.dlog --org-fingerprint ABCD-EFGH-JKLM-NPQR
              dossier audit verify --export log.dlog --org-fingerprint ABCD-EFGH-JKLM-NPQR --from-state audit.state --save-state audit.state
            """
        )
        @OptionGroup var source: Source
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
                                                  verifiedCheckpoint: verified, state: state)
            if let saveState {
                guard let kept = report.state else {
                    throw DossierError.invalidArgument("the log has no checkpoint to keep a state at; staff make one with `dossier audit checkpoint`")
                }
                try FileAccess.writeAtomically(kept.bytes, to: saveState, mode: 0o600, overwrite: true)
            }
            if json { JSONOutput.print(report); return }
            print("organisation: \(report.organisation) (\(report.organisationFingerprint))")
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

    struct Checkpoint: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "checkpoint",
            abstract: "Sign a checkpoint of the whole log with the organisation key (staff), and keep it in the vault.",
            discussion: """
            The checkpoint is a C2SP tlog-checkpoint in a C2SP signed note (Ed25519), so existing note verifiers can check it against `dossier org show --json`'s noteKey. Auditors keep copies and later pass them to `audit verify --checkpoint`.

            Example: dossier audit checkpoint -o checkpoint-2026-11-29.note
            """
        )
        @OptionGroup var staff: StaffOptions
        @Option(name: .shortAndLong, help: ArgumentHelp("Also write the note to FILE.", valueName: "FILE")) var output: String?

        func run() throws {
            if let output, FileManager.default.fileExists(atPath: output) { throw DossierError.fileExists(path: output) }
            let note = try staff.session().checkpoint()
            if let output {
                try FileAccess.writeAtomically(Data(note.utf8), to: output, mode: 0o644)
                Terminal.note("wrote \(output)")
            } else {
                print(note, terminator: "")
            }
        }
    }

    struct Log: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "log",
            abstract: "Review the log, filtered; a table on a terminal, or JSON or CSV.",
            discussion: """
            Without an identity you see ids and fingerprints only. With --resolve and a staff identity, document titles and counsel names are added.

            Example: dossier audit log --document doc-k3j4m5n6p7q2r --since 2026-11-01 --csv
            """
        )
        @OptionGroup var source: Source
        @Option(help: ArgumentHelp("Entries at or after this day (YYYY-MM-DD, UTC) or time.", valueName: "DATE")) var since: String?
        @Option(help: ArgumentHelp("Entries up to the end of this day (YYYY-MM-DD, UTC) or time.", valueName: "DATE")) var until: String?
        @Option(help: ArgumentHelp("Only this actor (fingerprint).", valueName: "FP")) var actor: String?
        @Option(help: ArgumentHelp("Only this action (deposit, retrieve, grant, deny, package, ...).", valueName: "ACTION")) var action: String?
        @Option(help: ArgumentHelp("Only entries about this document.", valueName: "ID")) var document: String?
        @Option(help: ArgumentHelp("Only entries about this counsel (id or fingerprint).", valueName: "ID")) var counsel: String?
        @Option(help: ArgumentHelp("Only entries about this grant.", valueName: "ID")) var grant: String?
        @Flag(help: "Add titles and names (needs a staff identity).") var resolve = false
        @OptionGroup var identity: IdentityOptions
        @Flag(help: "Print a JSON array of objects, each with its id (the sequence number).") var json = false
        @Flag(help: "Print CSV.") var csv = false

        func validate() throws {
            if json && csv { throw ValidationError("give --json or --csv, not both") }
        }

        func run() throws {
            let sinceDate = try since.map { s throws(DossierError) in try CalendarDate.startOfDay(s) }
            let filter = AuditFilter(since: sinceDate, until: try until.map { u throws(DossierError) in try CalendarDate.endOfDay(u) },
                                     actor: actor, action: action, document: document, counsel: counsel, grant: grant)
            var records = try source.snapshot().records(matching: filter)
            if resolve {
                let session = try VaultOptions(vault: source.vault).open().unlock(try identity.load())
                records = records.map { r in
                    var r = r
                    var names: [String: String] = [:]
                    for s in r.subjects {
                        if s.hasPrefix("doc:"), let d = try? session.document(String(s.dropFirst(4))) { names[s] = d.metadata?.title ?? "(removed)" }
                        if s.hasPrefix("counsel:"), let c = try? session.counsel(String(s.dropFirst(8))) { names[s] = c.details.name }
                    }
                    r.resolved = names
                    return r
                }
            }
            if json { JSONOutput.print(records); return }
            func describe(_ r: AuditRecord) -> String {
                r.subjects.map { s in r.resolved?[s].map { "\(s) (\($0))" } ?? s }.joined(separator: " ")
            }
            if csv {
                print("seq,time,actor,action,subjects,details")
                for r in records {
                    let details = r.details.keys.sorted().flatMap { k in r.details[k]!.map { "\(k)=\($0)" } }.joined(separator: " ")
                    print([String(r.seq), r.time, r.actor, r.action, describe(r), details].map(csvField).joined(separator: ","))
                }
                return
            }
            Table.print(headers: ["SEQ", "TIME", "ACTOR", "ACTION", "SUBJECTS"], rows: records.map {
                [String($0.seq), $0.time, $0.actor, $0.action, describe($0)]
            })
        }

        func csvField(_ s: String) -> String {
            s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Write one self-contained file: the entries, the checkpoints and the public keys.",
            discussion: "Verify it elsewhere with: dossier audit verify --export FILE --org-fingerprint FP"
        )
        @OptionGroup var vault: VaultOptions
        @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the export.", valueName: "FILE")) var output: String

        func run() throws {
            let snapshot = try vault.open().logSnapshot()
            try FileAccess.writeAtomically(LogExport.bytes(snapshot), to: output, mode: 0o644)
            Terminal.note("wrote \(output): \(snapshot.entries.count) entries, \(snapshot.checkpoints.count) checkpoints")
        }
    }

    struct Prove: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "prove",
            abstract: "Print an inclusion proof for entry SEQ (or, with --from, a consistency proof) as JSON.",
            discussion: """
            The proof is against the vault's newest checkpoint, or --size N.
            Examples:
              dossier audit prove 42 > entry-42.proof
              dossier audit prove --from 100 --size 250 > grew.proof
            """
        )
        @OptionGroup var source: Source
        @Argument(help: ArgumentHelp("The entry's sequence number.", valueName: "SEQ")) var seq: UInt64?
        @Option(help: ArgumentHelp("Prove consistency from this tree size instead.", valueName: "SIZE")) var from: UInt64?
        @Option(help: ArgumentHelp("The tree size to prove against (default: the newest checkpoint's).", valueName: "N")) var size: UInt64?

        func validate() throws {
            if (seq == nil) == (from == nil) { throw ValidationError("give an entry SEQ, or --from SIZE for a consistency proof") }
        }

        func run() throws {
            let snapshot = try source.snapshot()
            var treeSize = size
            if treeSize == nil, let note = snapshot.checkpoints.last {
                let (text, _) = try SignedNote.split(note)
                treeSize = try DossierCore.Checkpoint.parse(text).size
            }
            guard let treeSize else { throw DossierError.invalidArgument("the vault has no checkpoint yet; make one with `dossier audit checkpoint` or give --size N") }
            if let seq { JSONOutput.print(try snapshot.inclusionProof(seq: seq, treeSize: treeSize)) }
            if let from { JSONOutput.print(try snapshot.consistencyProof(from: from, to: treeSize)) }
        }
    }

    struct VerifyProof: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify-proof",
            abstract: "Check a proof from `audit prove` against signed checkpoints.",
            discussion: """
            Inclusion: dossier audit verify-proof entry-42.proof --checkpoint cp.note --note-key KEY
            Consistency: dossier audit verify-proof grew.proof --old old.note --checkpoint new.note --note-key KEY
            KEY is the organisation's noteKey from `dossier org show --json`.
            """
        )
        @Argument(help: ArgumentHelp("The proof file (JSON).", valueName: "PROOF")) var proof: String
        @Option(help: ArgumentHelp("The signed checkpoint the proof is against.", valueName: "FILE")) var checkpoint: String
        @Option(help: ArgumentHelp("For a consistency proof: the older signed checkpoint.", valueName: "FILE")) var old: String?
        @Option(name: .customLong("note-key"), help: ArgumentHelp("The organisation's note verifier key (name+keyid+base64).", valueName: "KEY")) var noteKey: String

        func run() throws {
            let (name, key) = try SignedNote.parseVerifierKey(noteKey)
            func load(_ path: String) throws -> DossierCore.Checkpoint {
                let cp = try DossierCore.Checkpoint.parse(try SignedNote.verify(try FileAccess.readSmallText(path: path, limit: 1 << 20), name: name, publicKey: key))
                guard cp.origin == name else { throw DossierError.malformedCheckpoint(reason: "\(path) is a checkpoint of another log, not of \(name)") }
                return cp
            }
            let newCP = try load(checkpoint)
            let data = try FileAccess.readSmall(path: proof, limit: 1 << 24)
            if let old {
                guard let p = try? JSONDecoder().decode(ConsistencyProof.self, from: data) else { throw DossierError.invalidArgument("\(proof) is not a consistency proof") }
                try p.verify(old: try load(old), new: newCP)
                print("consistent: the log of \(p.size2) entries extends the one of \(p.size1)")
            } else {
                guard let p = try? JSONDecoder().decode(InclusionProof.self, from: data) else { throw DossierError.invalidArgument("\(proof) is not an inclusion proof") }
                try p.verify(against: newCP)
                print("included: entry \(p.seq) is in the checkpointed log of \(p.treeSize) entries")
            }
        }
    }

    struct Exposure: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "exposure",
            abstract: "Everything ever sealed to a counsel's key: documents, grants, packages, openings.",
            discussion: """
            For when a counsel's laptop is seized. Works from the log alone (no secret), by counsel id or key fingerprint.
            Example: dossier audit exposure ABCD-EFGH-JKLM-NPQR --since 2026-01-01 --json
            """
        )
        @OptionGroup var source: Source
        @Argument(help: ArgumentHelp("Counsel id or key fingerprint.", valueName: "COUNSEL")) var who: String
        @Option(help: ArgumentHelp("Only since this day (YYYY-MM-DD, UTC).", valueName: "DATE")) var since: String?
        @Flag(help: "Print a JSON object for incident tooling.") var json = false

        func run() throws {
            let sinceDate = try since.map { s throws(DossierError) in try CalendarDate.startOfDay(s) }
            let x = try source.snapshot().exposure(of: who, since: sinceDate)
            if json { JSONOutput.print(x); return }
            print("counsel:     \(x.counsel.isEmpty ? "(not registered in this log)" : x.counsel.joined(separator: ", "))")
            print("fingerprint: \(x.fingerprint ?? "?")")
            print("documents sealed or granted: \(x.documents.count)")
            Table.print(headers: ["DOCUMENT", "GRANTS", "PACKAGES", "OPENINGS", "FIRST OPENED", "LAST OPENED"], rows: x.documents.map {
                [$0.document, $0.grants.joined(separator: ","), $0.packages.joined(separator: ","), String($0.openings), $0.firstOpened ?? "-", $0.lastOpened ?? "-"]
            })
            print("packages: \(x.packages.count)")
            Table.print(headers: ["PACKAGE", "GRANT", "TIME", "VALID UNTIL"], rows: x.packages.map { [$0.package, $0.grant, $0.time, $0.notAfter ?? "?"] })
            print("openings through the key-release service: \(x.openings.count) (offline packages leave no record of opening)")
            Table.print(headers: ["SEQ", "TIME", "PACKAGE", "OPENING"], rows: x.openings.map {
                [String($0.seq), $0.time, $0.subjects.first { $0.hasPrefix("package:") }.map { String($0.dropFirst(8)) } ?? "?", $0.details["opening"]?.first ?? "?"]
            })
        }
    }

    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "report",
            abstract: "Write a self-contained HTML report: verification status, actions per day, access per counsel and document, denials.",
            discussion: "The page loads nothing from the network. Example: dossier audit report -o report.html --org-fingerprint FP"
        )
        @OptionGroup var source: Source
        @Option(name: .customLong("org-fingerprint"), help: ArgumentHelp("The organisation key fingerprint you expect.", valueName: "FP")) var orgFingerprint: String?
        @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the page.", valueName: "FILE")) var output: String
        @Flag(help: "Replace FILE if it exists.") var force = false

        func run() throws {
            let snapshot = try source.snapshot()
            let verification: Result<VerificationReport, DossierError>
            do throws(DossierError) {
                verification = .success(try AuditVerifier.verify(snapshot, expectedOrganisationFingerprint: orgFingerprint))
            } catch {
                verification = .failure(error)
            }
            let html = try AuditReport.html(snapshot, verification: verification, generatedAt: Date())
            try FileAccess.writeAtomically(Data(html.utf8), to: output, mode: 0o644, overwrite: force)
            Terminal.note("wrote \(output)\(verification.isFailure ? " (the log did NOT verify; the report says why)" : "")")
            if verification.isFailure { throw ExitCode(3) }
        }
    }
}

extension Result {
    var isFailure: Bool { if case .failure = self { return true } else { return false } }
}
