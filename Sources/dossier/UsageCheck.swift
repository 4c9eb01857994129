import ArgumentParser
import DossierCore

/// Runs one of DossierCore's checks from a command's `validate()`: a refusal there is a usage
/// error (exit 64, with the usage lines), made before any passphrase is asked for.
func usageCheck<T>(_ check: () throws(DossierError) -> T) throws -> T {
    do {
        return try check()
    } catch {
        throw ValidationError(error.description)
    }
}
