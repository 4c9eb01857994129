import DossierCore
import Foundation

/// The errors counsel's commands can meet, in the reader's language: one `error.…` key per
/// case (and a `hint.…` key where the case has a hint), whose template takes the case's
/// values. Ids, paths and fingerprints stay as they are; free-form phrases go through
/// `ReasonText`. English, and every case not listed here (staff's and auditors' errors), is
/// DossierCore's own message and hint.
enum ErrorText {
    /// The message and hint of `error` in `localizer`'s language; nil for English or an error
    /// counsel's commands do not meet.
    static func localized(_ error: DossierError, _ l: Localizer) -> (message: LocalizedText, hint: LocalizedText?)? {
        guard l.language != "en", let (key, arguments, hintKey, hintArguments) = parts(error, l) else { return nil }
        return (l.format(l.string(key), arguments), hintKey.map { l.format(l.string($0), hintArguments) })
    }

    private typealias Parts = (String, [any LocalizedArgument], String?, [any LocalizedArgument])

    private static func parts(_ error: DossierError, _ l: Localizer) -> Parts? {
        let reason = ReasonText(localizer: l)
        func phrase(_ s: String) -> LocalizedText { reason.localized(s) }
        switch error {
        case let .fileNotFound(path):
            return ("error.fileNotFound", [path], nil, [])
        case let .notARegularFile(path):
            return ("error.notARegularFile", [path], "hint.notARegularFile", [])
        case let .fileUnreadable(path, why):
            return ("error.fileUnreadable", [path, phrase(why)], nil, [])
        case let .fileExists(path):
            return ("error.fileExists", [path], "hint.fileExists", [])
        case let .writeFailed(path, why):
            return ("error.writeFailed", [path, phrase(why)], nil, [])
        case let .insecurePermissions(path, mode):
            return ("error.insecurePermissions", [path, String(mode, radix: 8)], "hint.insecurePermissions", [path])
        case let .malformedIdentityFile(path, why):
            return ("error.malformedIdentityFile", [path, phrase(why)], nil, [])
        case let .malformedPublicIdentity(why):
            return ("error.malformedPublicIdentity", [phrase(why)], nil, [])
        case let .malformedOrganisationKey(why):
            return ("error.malformedOrganisationKey", [phrase(why)], nil, [])
        case let .wrongPassphrase(path):
            return ("error.wrongPassphrase", [path], nil, [])
        case let .passphraseRequired(path):
            return ("error.passphraseRequired", [path], "hint.passphraseRequired", [])
        case .emptyPassphrase:
            return ("error.emptyPassphrase", [], "hint.emptyPassphrase", [])
        case let .weakPassphrase(minimum):
            return ("error.weakPassphrase", [minimum], "hint.weakPassphrase", [])
        case .passphraseMismatch:
            return ("error.passphraseMismatch", [], nil, [])
        case let .invalidArgument(message, hint), let .missingOption(message, hint):
            return ("error.phrase", [phrase(message)], hint.map { _ in "error.phrase" }, hint.map { [phrase($0)] } ?? [])
        case let .policyInvalid(source, line, message):
            return line.map { ("error.trustStoreLine", [source, $0, phrase(message)], nil, []) }
                ?? ("error.trustStore", [source, phrase(message)], nil, [])
        case let .alreadyTrusted(fingerprint, name, requested):
            return ("error.alreadyTrusted", [fingerprint, name], "hint.alreadyTrusted", [requested])
        case let .malformedPackage(path, why):
            return ("error.malformedPackage", [path, phrase(why)], nil, [])
        case let .untrustedSigner(fingerprint):
            return ("error.untrustedSigner", [fingerprint], "hint.untrustedSigner", [])
        case let .notARecipient(fingerprint):
            return ("error.notARecipient", [fingerprint], "hint.notARecipient", [])
        case let .packageNotYetValid(notBefore):
            return ("error.packageNotYetValid", [l.time(notBefore)], "hint.packageNotYetValid", [])
        case let .packageExpired(notAfter):
            return ("error.packageExpired", [l.time(notAfter)], "hint.packageExpired", [])
        case let .packageTampered(path, why):
            return ("error.packageTampered", [path, phrase(why)], nil, [])
        case let .onlinePackage(url):
            return ("error.onlinePackage", [url], nil, [])
        case let .keyReleaseRefused(url, code, message):
            // The service's own words are its data, shown as sent.
            return ("error.keyReleaseRefused", [url, code, message], nil, [])
        case let .keyReleaseUnavailable(url, why):
            return ("error.keyReleaseUnavailable", [url, phrase(why)], "hint.keyReleaseUnavailable", [])
        case let .malformedCertificate(why):
            return ("error.malformedCertificate", [phrase(why)], "hint.malformedCertificate", [])
        case let .certificateInvalid(context, why):
            return ("error.certificateInvalid", [context, phrase(why)], "hint.certificateInvalid", [])
        case let .certificateNotCurrent(fingerprint, serial, notBefore, notAfter, expired):
            return expired
                ? ("error.certificateExpired", [serial, fingerprint, l.time(notAfter)], "hint.certificateExpired", [])
                : ("error.certificateNotYetValid", [serial, fingerprint, l.time(notBefore)], "hint.certificateNotYetValid", [])
        case let .crypto(context, error):
            return ("error.crypto", [phrase(context), phrase(error.description)], nil, [])
        case let .invalidLanguageTag(tag):
            return ("error.invalidLanguageTag", [tag], "hint.invalidLanguageTag", [])
        case let .malformedIntakeKey(why):
            return ("error.malformedIntakeKey", [phrase(why)], nil, [])
        case let .malformedRequest(path, why):
            return ("error.malformedRequest", [path, phrase(why)], nil, [])
        case let .intakeCertificateNotCurrent(organisation, notBefore, notAfter, expired):
            return expired
                ? ("error.intakeCertificateExpired", [organisation, l.time(notAfter)], "hint.intakeCertificateExpired", [])
                : ("error.intakeCertificateNotYetValid", [organisation, l.time(notBefore)], "hint.certificateNotYetValid", [])
        case let .noIntakeCertificate(organisation):
            return ("error.noIntakeCertificate", [organisation], "hint.noIntakeCertificate", [])
        case let .untrustedOrganisation(fingerprint, what):
            return ("error.untrustedOrganisation", [phrase(what), fingerprint], "hint.untrustedOrganisation", [])
        case let .unknownRequest(id):
            return ("error.unknownRequest", [id], "hint.unknownRequest", [])
        case let .unknownRequestAtService(id, url):
            return ("error.unknownRequestAtService", [id, url], "hint.unknownRequestAtService", [])
        case let .requestRefused(url, code, message):
            // The service's own words: said again in the reader's language when they are this
            // program's (IntakeRefusal), shown as sent otherwise.
            return ("error.requestRefused", [url, code, phrase(message)], nil, [])
        case let .requestServiceUnavailable(url, why):
            return ("error.requestServiceUnavailable", [url, phrase(why)], "hint.requestServiceUnavailable", [])
        case let .receiptInvalid(context, why):
            // The client names where the receipt came from: "from URL".
            if context.hasPrefix("from ") {
                return ("error.receiptInvalidFrom", [String(context.dropFirst(5)), phrase(why)], "hint.receiptInvalid", [])
            }
            return ("error.receiptInvalid", [context, phrase(why)], "hint.receiptInvalid", [])
        default:
            return nil
        }
    }
}
