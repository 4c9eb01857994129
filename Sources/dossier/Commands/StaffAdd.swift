import ArgumentParser
import DossierCore
import Foundation

/// `dossier staff add`.
struct StaffAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Give a new staff member access: the vault key is sealed to their public identity.",
        discussion: """
        Compare their fingerprint by phone first. Example: dossier staff add dossier1… --name "B. Staff"

        With --service, the identity is the key-release service's (`dossier serve`): it can sign openings of online packages, refusals of them, and the requests it receives from counsel, and nothing else. It cannot grant, approve, deposit, retrieve or change the policy, its approvals never count, and `dossier serve` refuses any other identity. Example: dossier staff add "$(dossier identity show --public service.key)" --name "key-release service" --service
        """
    )
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("Their public line, or a file holding it.", valueName: "PUBLIC-IDENTITY")) var member: String
    @Option(help: ArgumentHelp("Their name (stored encrypted).", valueName: "NAME")) var name: String
    @Flag(help: "Add the key-release service's identity: it can sign openings, refusals and received requests, nothing else.") var service = false

    func run() throws {
        let pub = try PublicIdentity.resolve(member)
        let added = try staff.session().staff.add(pub, name: name, service: service)
        print(added.id)
    }
}
