import ArgumentParser
import DossierCore
import DossierCrypto
import Foundation

/// `dossier request new`.
struct RequestNewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: Localizer.current.string("help.request.new.abstract"),
        discussion: Localizer.current.string("help.request.new.discussion")
    )

    @Option(name: .customLong("org"), help: ArgumentHelp(Localizer.current.string("help.request.new.org"), valueName: "ORG"))
    var org: String
    @OptionGroup var identity: IdentityOptions
    @Option(help: ArgumentHelp(Localizer.current.string("help.request.new.need"), valueName: "NEED"))
    var need: String
    @Option(name: .customLong("lang"), help: ArgumentHelp(Localizer.current.string("help.request.new.lang"), valueName: "TAG"))
    var languages: [String] = []
    @Option(help: ArgumentHelp(Localizer.current.string("help.request.new.jurisdiction"), valueName: "TEXT"))
    var jurisdiction: String?
    @Option(help: ArgumentHelp(Localizer.current.string("help.request.new.court"), valueName: "TEXT"))
    var court: String?
    @Option(help: ArgumentHelp(Localizer.current.string("help.request.new.hearing"), valueName: "DATE"))
    var hearing: String?
    @Option(name: .customLong("case"), help: ArgumentHelp(Localizer.current.string("help.request.new.case"), valueName: "REF"))
    var caseReference: String?
    @OptionGroup var message: MessageOptions
    @Option(name: .customLong("attach"), help: ArgumentHelp(Localizer.current.string("help.request.new.attach"), valueName: "FILE"))
    var attachments: [String] = []
    @Option(name: .shortAndLong, help: ArgumentHelp(Localizer.current.string("help.request.new.output"), valueName: "FILE"))
    var output: String?
    @Option(help: ArgumentHelp(Localizer.current.string("help.request.new.send"), valueName: "URL"))
    var send: String?
    @Flag(help: ArgumentHelp(Localizer.current.string("help.request.new.force"))) var force = false
    @OptionGroup var sync: SyncOption
    @Flag(help: ArgumentHelp(Localizer.current.string("help.request.new.json"))) var json = false

    func validate() throws {
        _ = try usageCheck { () throws(DossierError) in try RequestNeed(parsing: need) }
        guard output != nil || send != nil else {
            throw ValidationError(Localizer.current.string("usage.request.new.output"))
        }
        guard !languages.isEmpty else {
            throw ValidationError(Localizer.current.string("usage.request.new.lang"))
        }
    }

    func run() throws {
        let l = Localizer.current
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
        let size = l.count(Int(clamping: summary.size))
        guard let url = send else {
            if json { JSONOutput.print(summary); return }
            print(summary.requestID)
            Terminal.note(l.text("request.new.wrote", output, summary.requestID, sender.fingerprint, intake.fingerprint,
                                 l.count(summary.attachments), size))
            switch source {
            case .line:
                Terminal.note(l.text("request.new.checkByPhone", intake.fingerprint))
            case let .certified(organisation, notAfter):
                Terminal.note(l.text("request.new.certified", organisation, l.time(notAfter)))
            }
            return
        }
        Terminal.note(l.text("request.new.sending", output, summary.requestID, size, url))
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
        Terminal.note(l.text("request.new.received", sent.organisation.name, sent.organisation.fingerprint, summary.requestID,
                             l.time(sent.receipt.received), sent.receipt.logSeq, receiptPath))
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
