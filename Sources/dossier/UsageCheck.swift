import ArgumentParser
import DossierCore

/// Runs one of DossierCore's checks from a command's `validate()`: a refusal there is a usage
/// error (exit 64, with the usage lines), made before any passphrase is asked for. Counsel's
/// commands say it in the reader's language (`ErrorText`), message and hint on one line as in
/// English.
func usageCheck<T>(_ check: () throws(DossierError) -> T) throws -> T {
    do {
        return try check()
    } catch {
        let l = Localizer.current
        guard let (message, hint) = ErrorText.localized(error, l) else { throw ValidationError(error.description) }
        let text = hint.map { l.text("usage.withHint", message, $0).text } ?? message.text
        LocalizedUsage.message = text
        throw ValidationError(text)
    }
}

/// The usage message `usageCheck` made from the tables. Its values are visible already, and in
/// Arabic isolated: `Dossier.main` prints it as it is, where escaping it again would show the
/// isolates as escapes.
enum LocalizedUsage {
    nonisolated(unsafe) static var message: String?
}
