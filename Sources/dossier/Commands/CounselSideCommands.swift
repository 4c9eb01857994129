import ArgumentParser
import DossierCore
import Foundation

struct TrustCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust",
        abstract: "Organisation keys whose packages you accept (kept in ~/.config/dossier).",
        subcommands: [Add.self, List.self]
    )

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Trust an organisation's public key, after comparing its fingerprint by phone.",
            discussion: "Example: dossier trust add dossierorg1… --name \"Extradition Defence Project\""
        )
        @Argument(help: ArgumentHelp("The organisation's public key (dossierorg1…), from `dossier org show`.", valueName: "ORG-PUBLIC-KEY")) var key: String
        @Option(help: ArgumentHelp("A name to show for it.", valueName: "NAME")) var name: String

        func run() throws {
            let entry = try TrustStore.standard().add(try OrganisationKey(line: key), name: name)
            print("trusted \(entry.name): fingerprint \(entry.fingerprint)")
            Terminal.note("make sure this fingerprint is the one the organisation read to you")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List trusted organisations.")
        @Flag(help: "Print a JSON array.") var json = false

        func run() throws {
            let entries = try TrustStore.standard().entries()
            if json { JSONOutput.print(entries); return }
            Table.print(headers: ["NAME", "FINGERPRINT", "KEY"], rows: entries.map { [$0.name, $0.fingerprint, $0.publicKey] })
        }
    }
}

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a package's manifest and whether it is signed by a trusted organisation. No secret needed.",
        discussion: "File names and kinds are sealed inside the package and appear only when it is opened."
    )
    @Argument(help: ArgumentHelp("The package file.", valueName: "PACKAGE")) var package: String
    @Flag(help: "Print a JSON object.") var json = false

    struct Output: Encodable {
        let package: String, grant: String, organisation: String, issuerFingerprint: String
        let signatureValid: Bool, trusted: Bool, trustedAs: String?
        let created: String, notBefore: String, notAfter: String
        let recipients: [String], documentSizes: [UInt64], fileSize: UInt64
        let online: String?
    }

    func run() throws {
        let i = try PackageReader(path: package).inspect(trust: TrustStore.standard())
        let m = i.manifest
        let out = Output(package: m.packageID, grant: m.grantID, organisation: m.organisation, issuerFingerprint: m.issuer.fingerprint,
                         signatureValid: i.signatureValid, trusted: i.trustedAs != nil, trustedAs: i.trustedAs?.name,
                         created: m.created, notBefore: m.notBefore, notAfter: m.notAfter,
                         recipients: m.recipients, documentSizes: m.contentSizes, fileSize: i.fileSize, online: m.online)
        if json {
            JSONOutput.print(out)
        } else {
            print("package:      \(m.packageID) (grant \(m.grantID))")
            print("issuer:       \(m.organisation), key fingerprint \(m.issuer.fingerprint)")
            print("signature:    \(i.signatureValid ? "valid" : "INVALID")\(i.trustedAs.map { ", trusted as \($0.name)" } ?? ", NOT from a trusted organisation")")
            print("window:       \(m.notBefore) to \(m.notAfter)")
            print("recipients:   \(m.recipients.joined(separator: ", "))")
            print("documents:    \(m.contentSizes.count) (\(m.contentSizes.map { Table.size($0) }.joined(separator: ", ")))")
            if let url = m.online { print("online:       opens only through the key-release service at \(url)") }
        }
        if !i.signatureValid { throw DossierError.packageTampered(path: package, reason: "the signature does not verify") }
    }
}

struct OpenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "open",
        abstract: "Open a package sealed to you: verify, check the window, decrypt every document.",
        discussion: """
        Refuses a package that is not signed by a trusted organisation, outside its window, not sealed to your identity, or altered in any way. Each document is written to a temporary file in DIR and renamed into place only after every document authenticates; on failure nothing is left.

        An online package (`dossier inspect` shows its service) also needs the organisation's key-release service: after the checks above, open sends it a request signed with your identity and receives the other half of the key, sealed to you. The service refuses once the grant is revoked or expired, or its open limit is reached, and logs every opening. Exit 77 when it refuses, 69 when it cannot be reached.

        Example: dossier open bundle.dpkg --identity ~/dossier/counsel.key -o ~/cases/ext-014
        """
    )
    @Argument(help: ArgumentHelp("The package file.", valueName: "PACKAGE")) var package: String
    @OptionGroup var identity: IdentityOptions
    @Option(name: .shortAndLong, help: ArgumentHelp("Folder to write the documents into (default: the current folder).", valueName: "DIR")) var output: String = "."
    @Flag(help: "Replace files that exist.") var force = false
    @OptionGroup var sync: SyncOption
    @Flag(help: "Print a JSON array of the documents written.") var json = false

    func run() throws {
        let reader = PackageReader(path: package)
        let trust = TrustStore.standard()
        // Cheap refusals before asking for a passphrase.
        let inspection = try reader.inspect(trust: trust)
        if !inspection.signatureValid { throw DossierError.packageTampered(path: package, reason: "the signature does not verify") }
        if inspection.trustedAs == nil { throw DossierError.untrustedSigner(fingerprint: inspection.manifest.issuer.fingerprint) }
        let me = try identity.load()
        let docs = try reader.open(identity: me, trust: trust, into: output, overwrite: force, durability: sync.durability,
                                   keyRelease: KeyReleaseClient()) { release in
            Terminal.note("the key-release service released the key: opening \(release.opening)\(release.maxOpens > 0 ? " of \(release.maxOpens)" : ""), logged as entry \(release.logSeq)")
        }
        if json { JSONOutput.print(docs); return }
        for d in docs { print(d.path) }
        Terminal.note("opened \(docs.count) document(s) from \(inspection.manifest.organisation)")
    }
}
