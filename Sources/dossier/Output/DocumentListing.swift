import DossierCore
import DossierCrypto
import Foundation

func printDocuments(_ docs: [Document], json: Bool) {
    if json {
        // Written straight (DocumentJSON: JSONOutput's bytes, without JSONEncoder, in pieces made
        // on all cores), then zeroed.
        var parts = DocumentJSON.arrayParts(docs)
        for i in parts.indices {
            parts[i].withUnsafeBytes { StandardOutput.write($0) }
            parts[i].withUnsafeMutableBytes { secureZero($0) }
        }
        return
    }
    if Terminal.stdoutIsTerminal {
        Table.print(headers: ["ID", "KIND", "LANGUAGE", "SIZE", "DEPOSITED", "TITLE"], rows: docs.map { d in
            [d.id, d.kind.rawValue, Language.displayName(d.language), Table.size(d.size), String(d.depositedAt.prefix(10)),
             d.metadata?.title ?? "(removed)"]
        })
        return
    }
    StandardOutput.write(ListingLines(docs))
}

/// Ends a listing that succeeded without releasing its documents one by one: for a large
/// catalogue that is a noticeable share of the command's time (docs/performance.md), and the
/// system reclaims the memory at once. Output is already written; what C stdio holds is flushed first.
/// The documents are passed in so that they stay alive until then: a temporary would be
/// released, all of it, as soon as the printing returned.
func exitKeepingMemory(_ docs: [Document]) -> Never {
    withExtendedLifetime(docs) {
        StandardOutput.finish()
        Foundation.exit(0)
    }
}
