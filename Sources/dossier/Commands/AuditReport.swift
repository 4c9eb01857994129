import ArgumentParser
import DossierCore
import Foundation

/// `dossier audit report`.
struct AuditReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a self-contained HTML report: verification status, actions per day, access per counsel and document, denials.",
        discussion: "The page loads nothing from the network. Example: dossier audit report -o report.html --org-fingerprint FP"
    )
    @OptionGroup var source: LogSourceOptions
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

extension Result {
    var isFailure: Bool { if case .failure = self { return true } else { return false } }
}
