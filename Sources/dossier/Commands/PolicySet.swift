import ArgumentParser
import DossierCore
import Foundation

/// `dossier policy set`.
struct PolicySetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Replace the vault's policy with a validated file (logged; signed off by as many staff as its strictest rule needs).",
        discussion: """
        A change needs as many sign-offs as the strictest rule (`approvals`) of the policy in force. When that is one, the new policy is in force at once. Otherwise this proposes it, as your sign-off, and it takes effect when enough other staff have run `dossier policy approve SHA256` (see `dossier policy show --proposed`). A new proposal replaces one still waiting.
        """)
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("The policy file.", valueName: "FILE")) var file: String

    func run() throws {
        let text = try FileAccess.readSmallText(path: file, limit: 1 << 20)
        _ = try Policy.parse(text, source: file)
        switch try staff.session().sharing.setPolicy(text, source: file) {
        case .inForce:
            Terminal.note("the vault's policy is now \(file)")
        case let .proposed(_, sha256, have, needed):
            print(sha256)
            Terminal.note("proposed: \(have) of \(needed) sign-offs; other staff approve it with `dossier policy approve \(sha256.prefix(16))`")
        }
    }
}
