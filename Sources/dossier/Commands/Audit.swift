import ArgumentParser

/// `dossier audit`: lists its subcommands.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Verify the log, review it, keep checkpoints, prove entries. Needs no secret.",
        subcommands: [
            AuditVerifyCommand.self, AuditCheckpointCommand.self, AuditLogCommand.self, AuditExposureCommand.self,
            AuditReportCommand.self, AuditExportCommand.self, AuditProveCommand.self, AuditVerifyProofCommand.self,
        ]
    )

}
