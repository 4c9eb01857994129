import DossierCore

/// The documented exit codes.
enum ExitCodes {
    static func code(for error: DossierError) -> Int32 {
        switch error {
        case .fileNotFound, .unknownStaff, .unknownDocument, .notAVault, .documentRemoved:
            return 66
        case .missingOption:
            return 64
        case .fileExists, .vaultExists, .alreadyTrusted, .copyTargetNotEmpty:
            return 73
        case .writeFailed, .fileUnreadable:
            return 74
        case .vaultBusy, .vaultKeyRotated, .purgeBlocked, .commitUnknown:
            return 75
        case .insecurePermissions, .wrongPassphrase, .notStaff, .passphraseRequired, .serviceIdentity, .notServiceIdentity:
            return 77
        case .malformedIdentityFile, .malformedPublicIdentity, .malformedOrganisationKey, .notARegularFile,
             .unknownKind, .invalidLanguageTag, .invalidArgument, .emptyPassphrase, .weakPassphrase,
             .passphraseMismatch:
            return 65
        case .integrity, .altered, .rolledBack, .copyMismatch, .packageTampered, .logVerificationFailed, .checkpointSignatureInvalid, .wrongOrganisation:
            return 3
        case .policyInvalid, .malformedPackage, .malformedCheckpoint, .malformedExport, .malformedState:
            return 65
        case .malformedIntakeKey, .malformedRequest:
            return 65
        case .requestTampered:
            return 3
        case .requestNotForThisIntake:
            return 77
        case .unknownCounsel, .unknownGrant, .unknownRequest, .unknownRequestAtService, .noIntakeKey, .noIntakeCertificate:
            return 66
        case .intakeCertificateNotCurrent, .untrustedOrganisation:
            return 77
        case .intakeKeyExists, .requestAlreadyReceived:
            return 73
        case .requestClosed, .requestRefused:
            return 77
        case .requestServiceUnavailable:
            return 69
        case .receiptInvalid:
            return 3
        case .policyDenied, .selfApproval, .alreadyApproved, .untrustedSigner, .notARecipient,
             .packageNotYetValid, .packageExpired, .grantNotActive, .keyReleaseRefused, .onlinePackage:
            return 77
        case .keyReleaseUnavailable, .vaultUnreachable:
            return 69
        case .malformedRootFile, .malformedCertificate:
            return 65
        case .certificateInvalid:
            return 3
        case .wrongRoot, .certificateNotCurrent, .noCurrentCertificate, .organisationKeyInVault:
            return 77
        case .rootAlreadyOffline:
            return 73
        case .counselAlreadyRegistered:
            return 1
        case .crypto, .database, .unsupportedVaultVersion, .staffAlreadyPresent, .lastStaffMember:
            return 1
        }
    }
}
