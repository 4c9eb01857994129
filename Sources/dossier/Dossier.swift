import ArgumentParser
import DossierCore
import Foundation

// UI rules, as in age: prompts go to the terminal (/dev/tty), messages to stderr prefixed
// `dossier:`, failures as an `error:` line (and a `hint:` line where one helps), results to
// stdout. Nothing secret is ever printed, not even a line of a malformed key file.

@main
struct Dossier: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dossier",
        abstract: "A secure document vault: encrypted at rest, shared through sealed time-limited packages, every action in a verifiable log.",
        discussion: """
        Staff:    init, deposit, list, show, search, retrieve, remove, staff, rotate, doctor, counsel, policy, grant, approve, package, revoke, grants, serve, audit checkpoint, vault copy

        Counsel:  identity new, identity show, trust, inspect, open, request new

        Auditors: org show, audit verify, audit log, audit exposure, audit report, audit export, audit prove, audit verify-proof

        Environment: DOSSIER_VAULT (for --vault: a folder or a postgresql:// URI; libpq also reads PGHOST, PGUSER, PGPASSFILE, PGSERVICE and the other PG* variables), DOSSIER_IDENTITY (for --identity), DOSSIER_PASSPHRASE_FILE (for --passphrase-file), DOSSIER_PURGE_WAIT (seconds the clean-up of retired keys after rotate, staff remove and remove waits for other readers; default 15), DOSSIER_BUSY_WAIT (seconds a change waits for another process's change before the vault is reported busy, exit 75; default 15), DOSSIER_PROGRESS_AFTER (seconds of work before deposit, retrieve, package, open, audit verify and vault copy show progress on a terminal; default 1; it changes nothing else). A passphrase is never accepted on the command line.

        Exit codes: 0 success; 1 other failure; 3 verification or integrity failure (tampering); 64 usage; 65 malformed input; 66 missing input (file or id); 69 key-release service unreachable or unusable, retry later; 73 output exists; 74 input/output error; 75 vault busy or key rotated meanwhile, retry; or retired keys still in the write-ahead log behind another reader, close it and run doctor --fix; 77 refused (permissions, passphrase, not staff, policy, window, not a recipient, untrusted signer, key release refused).
        """,
        version: "0.1.0",
        subcommands: [
            IdentityCommand.self, InitCommand.self, OrgCommand.self, DepositCommand.self, ListCommand.self,
            ShowCommand.self, SearchCommand.self, RetrieveCommand.self, RemoveCommand.self, StaffCommand.self,
            RotateCommand.self, DoctorCommand.self, CounselCommand.self, PolicyCommand.self, GrantCommand.self,
            ApproveCommand.self, PackageCommand.self, RevokeCommand.self, GrantsCommand.self, TrustCommand.self,
            InspectCommand.self, OpenCommand.self, AuditCommand.self, ServeCommand.self,
            RequestCommand.self, RequestsCommand.self, VaultCommand.self,
        ]
    )

    static func main() async {
        ProcessHardening.disableCoreDumps()
        ProcessHardening.restrictFileCreationMask()
        if Localizer.current.counsel, let missing = Localizer.missing {
            Terminal.fail("the messages of this command are not installed: \(missing) is missing",
                          hint: "reinstall dossier (`make install` puts the folder beside the binary)", code: 1)
        }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            StandardOutput.finish()
        } catch let error as DossierError {
            Terminal.fail(error)
        } catch let code as ExitCode {
            // The command already said why (doctor's report, a failed verification).
            Foundation.exit(code.rawValue)
        } catch {
            let code = exitCode(for: error)
            // Help and version requests print as usual; usage errors follow the house format.
            if code == .success {
                // Help: in counsel's language, the parser's English frame too (LocalizedHelp).
                let l = Localizer.current
                if l.counsel, l.language != "en", case let page = fullMessage(for: error), !page.isEmpty {
                    print(LocalizedHelp.translate(page, l))
                    Foundation.exit(0)
                }
                exit(withError: error)
            }
            let lines = fullMessage(for: error).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            var first = lines.first ?? "\(error)"
            if first.hasPrefix("Error: ") { first = String(first.dropFirst(7)) }
            var text = "dossier: error: \(first == LocalizedUsage.message ? first : Terminal.visible(first))\n"
            for line in lines.dropFirst() where !line.isEmpty { text += Terminal.visible(line) + "\n" }
            FileHandle.standardError.write(Data(text.utf8))
            Foundation.exit(code.rawValue)
        }
    }
}
