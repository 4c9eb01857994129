import ArgumentParser
import DossierCore
import Foundation

struct CounselCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "counsel",
        abstract: "Register and vet defence counsel.",
        subcommands: [Add.self, Vet.self, Suspend.self, List.self, Show.self]
    )

    static func printCounsel(_ c: Counsel) {
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

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Register counsel by their public identity (the line, or a file holding it, e.g. in keys/).",
            discussion: "Compare their fingerprint by phone first. Example: dossier counsel add keys/counsel-adams.pub --name \"J. Adams\" --jurisdiction UK"
        )
        @OptionGroup var staff: StaffOptions
        @Argument(help: ArgumentHelp("Their public line, or a file holding it.", valueName: "PUBLIC-IDENTITY")) var publicIdentity: String
        @Option(help: ArgumentHelp("Their name (stored encrypted).", valueName: "NAME")) var name: String
        @Option(help: ArgumentHelp("E-mail (stored encrypted).", valueName: "E")) var email: String?
        @Option(help: ArgumentHelp("Jurisdiction (stored encrypted).", valueName: "J")) var jurisdiction: String?
        @Option(name: .customLong("bar-id"), help: ArgumentHelp("Bar registration (stored encrypted).", valueName: "B")) var barId: String?

        func run() throws {
            let pub = try PublicIdentity.resolve(publicIdentity)
            let c = try staff.session().addCounsel(pub, details: .init(name: name, email: email, jurisdiction: jurisdiction, barId: barId))
            print(c.id)
            Terminal.note("registered \(c.id) (fingerprint \(c.fingerprint)); vet them with `dossier counsel vet \(c.id) --until DATE`")
        }
    }

    struct Vet: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "vet",
            abstract: "Record that counsel are vetted until a date (the end of that day, UTC).",
            discussion: "Example: dossier counsel vet counsel-k3j4m5n6p7q2r --until 2027-06-30 --note \"bar membership checked\""
        )
        @OptionGroup var staff: StaffOptions
        @Argument(help: ArgumentHelp("The counsel id or fingerprint.", valueName: "ID")) var id: String
        @Option(help: ArgumentHelp("Vetting expires at the end of this day (YYYY-MM-DD, UTC).", valueName: "DATE")) var until: String
        @Option(help: ArgumentHelp("A note (stored encrypted).", valueName: "TEXT")) var note: String?

        func run() throws {
            let date = try CalendarDate.endOfDay(until)
            let c = try staff.session().vetCounsel(id, until: date, note: note)
            Terminal.note("\(c.id) is \(c.status(at: Date()))")
        }
    }

    struct Suspend: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "suspend", abstract: "Suspend counsel: no new grants or packages name them.")
        @OptionGroup var staff: StaffOptions
        @Argument(help: ArgumentHelp("The counsel id or fingerprint.", valueName: "ID")) var id: String
        @Option(help: ArgumentHelp("Why (stored encrypted).", valueName: "TEXT")) var reason: String

        func run() throws {
            let c = try staff.session().suspendCounsel(id, reason: reason)
            Terminal.note("\(c.id) is suspended")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List counsel.")
        @OptionGroup var staff: StaffOptions
        @Flag(help: "Print a JSON array of objects, each with its id.") var json = false

        func run() throws {
            let all = try staff.session().listCounsel()
            if json { JSONOutput.print(all); return }
            let now = Date()
            Table.print(headers: ["ID", "NAME", "FINGERPRINT", "STATUS"], rows: all.map { [$0.id, $0.details.name, $0.fingerprint, $0.status(at: now)] })
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one counsel.")
        @OptionGroup var staff: StaffOptions
        @Argument(help: ArgumentHelp("The counsel id or fingerprint.", valueName: "ID")) var id: String
        @Flag(help: "Print a JSON object.") var json = false

        func run() throws {
            let c = try staff.session().counsel(id)
            if json { JSONOutput.print(c) } else { CounselCommand.printCounsel(c) }
        }
    }
}

struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Check, show and replace the sharing policy.",
        discussion: "See docs/policy-reference.md and policies/default.toml.",
        subcommands: [Check.self, Show.self, Set.self]
    )

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "check", abstract: "Validate a policy file; errors name the line. Needs no vault.")
        @Argument(help: ArgumentHelp("The policy file.", valueName: "FILE")) var file: String

        func run() throws {
            let policy = try Policy.parse(try FileAccess.readSmallText(path: file, limit: 1 << 20), source: file)
            print("\(file): OK (\(policy.rules.count) kinds)")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Print the vault's policy (no secret needed).")
        @OptionGroup var vault: VaultOptions
        func run() throws { print(try vault.open().policy().text, terminator: "") }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Replace the vault's policy with a validated file (logged).")
        @OptionGroup var staff: StaffOptions
        @Argument(help: ArgumentHelp("The policy file.", valueName: "FILE")) var file: String

        func run() throws {
            let text = try FileAccess.readSmallText(path: file, limit: 1 << 20)
            _ = try Policy.parse(text, source: file)
            _ = try staff.session().setPolicy(text, source: file)
            Terminal.note("the vault's policy is now \(file)")
        }
    }
}
