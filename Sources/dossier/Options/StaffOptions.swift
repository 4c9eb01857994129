import ArgumentParser
import DossierCore

/// Vault plus the staff identity that unlocks it.
struct StaffOptions: ParsableArguments {
    @OptionGroup var vault: VaultOptions
    @OptionGroup var identity: IdentityOptions

    /// Opens the vault first (a wrong folder fails before any passphrase prompt), then unlocks it.
    func session(forService: Bool = false) throws(DossierError) -> StaffSession {
        let v = try vault.open()
        return try v.unlock(try identity.load(), forService: forService)
    }
}
