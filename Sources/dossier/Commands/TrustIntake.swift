import ArgumentParser
import DossierCore
import Foundation

/// `dossier trust intake`.
struct TrustIntakeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intake",
        abstract: "Keep an organisation's intake certificate, so that `request new --org NAME` can seal to its intake key.",
        discussion: """
        The organisation publishes the certificate (`dossier org show --intake-certificate` writes it). It is checked against the organisation key you trust (add that first with `dossier trust add`, after comparing its fingerprint by phone): signed by it, and valid now. It then replaces the one kept for that organisation, in your configuration folder beside the trusted keys.

        Example: dossier trust intake example-intake.cert
        """
    )
    @Argument(help: ArgumentHelp("The intake certificate file.", valueName: "FILE")) var file: String

    func run() throws {
        let data = try FileAccess.readSmall(path: file, limit: IntakeCertificate.maximumBytes + 1)
        let (entry, c) = try TrustStore.standard().addIntakeCertificate(data, source: file, at: Date())
        print("intake key of \(Terminal.visible(entry.name)): fingerprint \(c.intake.fingerprint), certified until \(c.notAfter)")
        Terminal.note("`dossier request new --org \"\(Terminal.visible(entry.name))\" …` now seals requests to it")
    }
}
