import Foundation

/// The checks of a deposit that need no vault, so that a command can make them before asking
/// for a passphrase. `StaffSession.deposit(_:)` refuses the same requests.
extension DepositRequest {
    /// Refuses a title that is empty or only white space.
    public static func checkTitle(_ title: String) throws(DossierError) {
        guard !title.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw .invalidArgument("the title is empty", hint: "give one with --title TEXT")
        }
    }
}
