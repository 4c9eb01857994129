import ArgumentParser
import DossierCore
import DossierCrypto
import Foundation

/// `dossier request new`.
struct RequestNewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Write a request to the organisation: sealed to its intake key, signed with your identity.",
        discussion: """
        Asks the organisation for existing reports, a tailored expert report or an expert witness, and writes the request to a file (-o) that you send by any channel: e-mail, a file transfer, a USB stick. You need not be registered with the organisation: a request is also how first contact is made.

        Only the organisation can read it. Anyone who holds the file sees only the organisation's intake key, the request id, the time it was written and its size; who you are, what you need, the languages, the jurisdiction, court, case and hearing date, the message and the attachments (names included) are sealed. Your signature is sealed too, so the file cannot be tested against your public line.

        --org names the organisation: the name under which you trust it (`dossier trust list`), or its organisation key (dossierorg1...), once you hold its intake certificate (`dossier trust intake FILE`): the request is then sealed to the intake key that certificate vouches for, checked against the key you trust. --org also takes the certificate file itself, or the bare intake line (dossierintake1..., or a file holding it); a bare line is vouched for by nobody: compare its fingerprint, printed when the request is written, with the organisation by phone.

        Needs: reports (existing reports on a topic or jurisdiction), expert-report (a report written for your case), expert-witness (an expert to give evidence at a hearing), other (say what in the message).

        Languages (--lang, repeatable, in order of preference): BCP 47 tags. The six UN languages are ar (Arabic), zh-Hans (Chinese, simplified), en (English), fr (French), ru (Russian), es (Spanish); any other tag works too (pt-BR, tr, sr-Latn).

        The message is read from --message-file FILE, from standard input with --message-file -, or typed on the terminal. Attachments (--attach, repeatable, at most 100, the whole request at most 64 MiB) are streamed from their files and named in the request by their file names. Nothing is written unless everything is valid; the output never replaces a file unless you pass --force.

        Format: docs/formats/request.md.

        Example:
          dossier request new --org "Extradition Defence Project" -i counsel.key --need expert-witness --lang en --lang fr --hearing 2027-03-15 --message-file letter.txt --attach order.pdf -o request.drq
        """
    )

    @Option(name: .customLong("org"), help: ArgumentHelp("The organisation: the name you trust it under, its key (dossierorg1...), its intake certificate file, or its intake line (dossierintake1...).", valueName: "ORG"))
    var org: String
    @OptionGroup var identity: IdentityOptions
    @Option(help: ArgumentHelp("What you need: reports, expert-report, expert-witness or other.", valueName: "NEED"))
    var need: String
    @Option(name: .customLong("lang"), help: ArgumentHelp(
        "A language you need, as a BCP 47 tag (repeatable): ar, zh-Hans, en, fr, ru, es, or any other.", valueName: "TAG"))
    var languages: [String] = []
    @Option(help: ArgumentHelp("The requesting state or jurisdiction (sealed).", valueName: "TEXT"))
    var jurisdiction: String?
    @Option(help: ArgumentHelp("The court (sealed).", valueName: "TEXT"))
    var court: String?
    @Option(help: ArgumentHelp("The date of the hearing, YYYY-MM-DD (sealed).", valueName: "DATE"))
    var hearing: String?
    @Option(name: .customLong("case"), help: ArgumentHelp("The case reference (sealed).", valueName: "REF"))
    var caseReference: String?
    @OptionGroup var message: MessageOptions
    @Option(name: .customLong("attach"), help: ArgumentHelp("A file to attach (repeatable; sealed, name included).", valueName: "FILE"))
    var attachments: [String] = []
    @Option(name: .shortAndLong, help: ArgumentHelp("The request file to write.", valueName: "FILE"))
    var output: String
    @Flag(help: "Replace the output file if it exists.") var force = false
    @OptionGroup var sync: SyncOption
    @Flag(help: "Print a JSON object describing the request written (public values only).") var json = false

    func validate() throws {
        _ = try usageCheck { () throws(DossierError) in try RequestNeed(parsing: need) }
        guard !languages.isEmpty else {
            throw ValidationError("name the language(s) you need with --lang TAG (for example --lang en; the UN languages are ar, zh-Hans, en, fr, ru, es)")
        }
    }

    func run() throws {
        // Everything that needs neither the message nor the passphrase comes first.
        let (intake, source) = try TrustStore.standard().intakeKey(for: org, at: Date())
        let need = try RequestNeed(parsing: need)
        let languages = try languages.map { tag throws(DossierError) in try Language.canonical(tag) }
        try RequestWriter.checkFields(need: need, languages: languages, jurisdiction: jurisdiction, court: court,
                                      caseReference: caseReference, hearing: hearing, attachments: attachments)
        try message.check()
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: output, isDirectory: &isFolder) {
            if isFolder.boolValue { throw DossierError.notARegularFile(path: output) }
            if !force { throw DossierError.fileExists(path: output) }
        }
        let sender = try identity.publicHalf()
        let text = try message.read()
        let me = try identity.load()
        let draft = RequestDraft(to: intake, need: need, languages: languages, jurisdiction: jurisdiction, court: court,
                                 caseReference: caseReference, hearing: hearing, message: text, attachments: attachments)
        let summary = try RequestWriter().write(draft, identity: me, to: output, overwrite: force, durability: sync.durability)
        if json { JSONOutput.print(summary); return }
        print(summary.requestID)
        Terminal.note("wrote \(output): request \(summary.requestID) from \(sender.fingerprint), sealed to the intake key \(intake.fingerprint), \(summary.attachments) attachment(s), \(summary.size) bytes")
        switch source {
        case .line:
            Terminal.note("check the intake key's fingerprint \(intake.fingerprint) with the organisation by phone if you have not yet")
        case let .certified(organisation, notAfter):
            Terminal.note("the intake key is certified by \(Terminal.visible(organisation)), which you trust, until \(notAfter)")
        }
    }

    /// The intake key `--org` names (TrustStore.intakeKey(for:at:)).
    static func intakeKey(_ argument: String) throws(DossierError) -> IntakeKey {
        try TrustStore.standard().intakeKey(for: argument, at: Date()).key
    }
}
