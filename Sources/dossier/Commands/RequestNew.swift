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

        --org names the organisation: the name under which you trust it (`dossier trust list`), or its organisation key (dossierorg1...), once you hold its intake certificate (`dossier trust intake FILE` keeps it beside your trust store): the request is then sealed to the intake key that certificate vouches for, checked against the key you trust. --org also takes the certificate file itself, or the bare intake line (dossierintake1..., or a file holding it); a bare line is vouched for by nobody: compare its fingerprint, printed when the request is written, with the organisation by phone.

        Needs: reports (existing reports on a topic or jurisdiction), expert-report (a report written for your case), expert-witness (an expert to give evidence at a hearing), other (say what in the message).

        Languages (--lang, repeatable, in order of preference): BCP 47 tags. The six UN languages are ar (Arabic), zh-Hans (Chinese, simplified), en (English), fr (French), ru (Russian), es (Spanish); any other tag works too (pt-BR, tr, sr-Latn).

        The message is read from --message-file FILE, from standard input with --message-file -, or typed on the terminal. Attachments (--attach, repeatable, at most 100, the whole request at most 64 MiB) are streamed from their files and named in the request by their file names. Nothing is written unless everything is valid; the output never replaces a file unless you pass --force.

        With --send URL (the organisation's service, as it gives it to you), the request is also posted to the service, which keeps it in the organisation's inbox and answers with a receipt signed by the organisation: it is checked against the organisation keys you trust (`dossier trust add`) and written beside the request as FILE.receipt. Without -o, the request is written to request-TIME.drq in the current folder, and the name is printed. The request file is kept whatever the service answers, so you can send it again later or by another channel. Exit codes: 69 the service cannot be reached, 77 it refused the request (its message is shown), 3 its receipt does not verify. `dossier request status` then tells you where the request stands.

        Format: docs/formats/request.md.

        Example:
          dossier request new --org "Extradition Defence Project" -i counsel.key --need expert-witness --lang en --lang fr --hearing 2027-03-15 --message-file letter.txt --attach order.pdf -o request.drq
          dossier request new --org "Extradition Defence Project" -i counsel.key --need reports --lang en --message-file letter.txt --send https://release.example.org
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
    @Option(name: .shortAndLong, help: ArgumentHelp("The request file to write (with --send, by default request-TIME.drq).", valueName: "FILE"))
    var output: String?
    @Option(help: ArgumentHelp("Also send it to the organisation's service at URL, and keep its receipt as FILE.receipt.", valueName: "URL"))
    var send: String?
    @Flag(help: "Replace the output file if it exists.") var force = false
    @OptionGroup var sync: SyncOption
    @Flag(help: "Print a JSON object describing the request written (public values only).") var json = false

    func validate() throws {
        _ = try usageCheck { () throws(DossierError) in try RequestNeed(parsing: need) }
        guard output != nil || send != nil else {
            throw ValidationError("name the request file to write with -o FILE (or send it with --send URL)")
        }
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
        let output = self.output ?? Self.defaultName(Date())
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
        guard let url = send else {
            if json { JSONOutput.print(summary); return }
            print(summary.requestID)
            Terminal.note("wrote \(output): request \(summary.requestID) from \(sender.fingerprint), sealed to the intake key \(intake.fingerprint), \(summary.attachments) attachment(s), \(summary.size) bytes")
            switch source {
            case .line:
                Terminal.note("check the intake key's fingerprint \(intake.fingerprint) with the organisation by phone if you have not yet")
            case let .certified(organisation, notAfter):
                Terminal.note("the intake key is certified by \(Terminal.visible(organisation)), which you trust, until \(notAfter)")
            }
            return
        }
        Terminal.note("wrote \(output): request \(summary.requestID), \(summary.size) bytes; sending it to \(url)")
        let sent = try RequestClient().send(path: output, to: url, trust: TrustStore.standard())
        let receiptPath = output + ".receipt"
        try FileAccess.writeAtomically(sent.receipt.bytes, to: receiptPath, mode: 0o600, overwrite: force)
        if json {
            JSONOutput.print(SentRequest(request: summary, receipt: receiptPath, organisation: sent.organisation.name,
                                         organisationFingerprint: sent.organisation.fingerprint, received: sent.receipt.received,
                                         logSeq: sent.receipt.logSeq))
            return
        }
        print(summary.requestID)
        Terminal.note("\(VisibleText.escaped(sent.organisation.name)) (\(sent.organisation.fingerprint)) received request \(summary.requestID) at \(sent.receipt.received), log entry \(sent.receipt.logSeq); receipt written to \(receiptPath)")
    }

    /// What `--send --json` prints.
    struct SentRequest: Encodable {
        let request: RequestSummary
        let receipt: String
        let organisation: String
        let organisationFingerprint: String
        let received: String
        let logSeq: UInt64
    }

    /// `request-20270101T000000Z.drq`: the default name with --send and no -o.
    static func defaultName(_ now: Date) -> String {
        let stamp = Timestamp.format(now)   // 2027-01-01T00:00:00.000Z
        return "request-" + stamp.prefix(19).filter { $0 != "-" && $0 != ":" } + "Z.drq"
    }

    /// The intake key `--org` names (TrustStore.intakeKey(for:at:)).
    static func intakeKey(_ argument: String) throws(DossierError) -> IntakeKey {
        try TrustStore.standard().intakeKey(for: argument, at: Date()).key
    }
}
