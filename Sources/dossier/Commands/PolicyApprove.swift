import ArgumentParser
import DossierCore
import Foundation

/// `dossier policy approve`.
struct PolicyApproveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve", abstract: "Sign off a proposed policy change (two-person rule for the policy itself).",
        discussion: """
        Read the proposal first with `dossier policy show --proposed`. The proposer cannot approve their own change, nor anyone twice; the key-release service's identity cannot approve. When the last sign-off needed is given, the policy is in force.

        Example: dossier policy approve 3f2a9c1e
        """)
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("The proposal's SHA-256, or its first 8 or more hex digits.", valueName: "SHA256")) var sha256: String

    func run() throws {
        switch try staff.session().sharing.approvePolicy(sha256) {
        case .inForce:
            Terminal.note("approved: the proposed policy is now in force")
        case let .proposed(_, sha, have, needed):
            Terminal.note("approved: \(have) of \(needed) sign-offs for policy \(sha.prefix(16))")
        }
    }
}
