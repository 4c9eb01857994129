import ArgumentParser
import DossierCore
import Foundation

/// `dossier trust intake`.
struct TrustIntakeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intake",
        abstract: Localizer.current.string("help.trust.intake.abstract"),
        discussion: Localizer.current.string("help.trust.intake.discussion")
    )
    @Argument(help: ArgumentHelp(Localizer.current.string("help.trust.intake.file"), valueName: "FILE")) var file: String

    func run() throws {
        let data = try FileAccess.readSmall(path: file, limit: IntakeCertificate.maximumBytes + 1)
        let (entry, c) = try TrustStore.standard().addIntakeCertificate(data, source: file, at: Date())
        let l = Localizer.current
        print(l.text("trust.intake.kept", entry.name, c.intake.fingerprint, l.time(c.notAfter)))
        Terminal.note(l.text("trust.intake.seals", "dossier request new --org \"\(entry.name)\" …"))
    }
}
