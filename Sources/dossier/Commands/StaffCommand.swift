import ArgumentParser
import DossierCore
import Foundation

struct StaffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "staff",
        abstract: "Add, list and remove staff (people who can unlock the vault).",
        subcommands: [Add.self, List.self, Remove.self]
    )

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Give a new staff member access: the vault key is sealed to their public identity.",
            discussion: "Compare their fingerprint by phone first. Example: dossier staff add dossier1… --name \"B. Staff\""
        )
        @OptionGroup var staff: StaffOptions
        @Argument(help: ArgumentHelp("Their public line, or a file holding it.", valueName: "PUBLIC-IDENTITY")) var member: String
        @Option(help: ArgumentHelp("Their name (stored encrypted).", valueName: "NAME")) var name: String

        func run() throws {
            let pub = try PublicIdentity.resolve(member)
            let added = try staff.session().addStaff(pub, name: name)
            print(added.id)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List staff, current and removed.")
        @OptionGroup var staff: StaffOptions
        @Flag(help: "Print a JSON array of objects, each with its id (the fingerprint).") var json = false

        func run() throws {
            let members = try staff.session().listStaff()
            if json { JSONOutput.print(members); return }
            Table.print(headers: ["ID", "NAME", "ADDED", "STATUS"], rows: members.map {
                [$0.id, $0.name, String($0.addedAt.prefix(10)), $0.removedAt.map { "removed \($0.prefix(10))" } ?? "active"]
            })
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove",
            abstract: "Remove a staff member and rotate the vault key, so their identity no longer unlocks the vault.",
            discussion: "Example: dossier staff remove ABCD-EFGH-JKLM-NPQR"
        )
        @OptionGroup var staff: StaffOptions
        @Argument(help: ArgumentHelp("Their id (fingerprint).", valueName: "ID")) var id: String

        func run() throws {
            let n = try staff.session().removeStaff(id)
            Terminal.note("removed \(id); the vault key was rotated and \(n) document keys re-wrapped")
        }
    }
}

struct RotateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate",
        abstract: "Replace the vault key now: every document key and sealed field is re-wrapped.",
        discussion: "Use after a suspected compromise of a staff identity (remove it first)."
    )
    @OptionGroup var staff: StaffOptions

    func run() throws {
        let n = try staff.session().rotate()
        Terminal.note("rotated the vault key; \(n) document keys re-wrapped")
    }
}

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the vault: blobs present and of the right size, orphans, leftovers, the log chain.",
        discussion: """
        Without an identity the check needs no secret. With --identity (or DOSSIER_IDENTITY) and --deep, every blob is also decrypted to nowhere, authenticating each chunk. Never prints content. Exits 0 when nothing is damaged (leftovers from a crash are reported, not failed), 3 otherwise. --fix removes orphan blobs and temporary files: run it only while no other dossier process uses the vault.
        """
    )
    @OptionGroup var vault: VaultOptions
    @OptionGroup var identity: IdentityOptions
    @Flag(help: "Decrypt every blob to check it authenticates (needs a staff identity).") var deep = false
    @Flag(help: "Remove orphan blobs and leftover temporary files.") var fix = false
    @Flag(help: "Print the report as JSON.") var json = false

    func run() throws {
        let v = try vault.open()
        let session = deep ? try v.unlock(try identity.load()) : nil
        let report = try v.doctor(session: session, fix: fix)
        if json {
            JSONOutput.print(report)
        } else {
            print("documents checked:   \(report.documentsChecked)")
            if deep { print("blobs authenticated: \(report.blobsAuthenticated)") }
            print("log entries chained: \(report.logEntriesVerified)")
            for f in report.findings {
                print("\(f.severity == .damage ? "DAMAGE" : "leftover"): \(f.subject): \(f.message)\(f.fixed ? " (removed)" : "")")
            }
            print(report.isHealthy ? "vault OK" : "vault DAMAGED")
        }
        if !report.isHealthy { throw ExitCode(3) }
    }
}
