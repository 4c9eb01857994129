/// The checks of a grant request that need no vault, so that a command can make them before
/// asking for a passphrase. `StaffSession.grant(_:)` refuses the same requests.
extension GrantRequest {
    /// Refuses a request without counsel, or with an open limit but no key-release service.
    public func checkWithoutVault() throws(DossierError) {
        guard !counsel.isEmpty else { throw .invalidArgument("a grant needs at least one counsel", hint: "name them with --to COUNSEL") }
        if maxOpens != nil && online == nil {
            throw .invalidArgument("--max-opens counts openings through the key-release service", hint: "give --online URL too")
        }
    }
}
