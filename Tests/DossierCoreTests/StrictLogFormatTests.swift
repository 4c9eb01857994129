import DossierCrypto
import Foundation
import XCTest
@testable import DossierCore

/// One value, one encoding, in the log's formats (docs/formats/log.md): a checkpoint's signature
/// line in canonical base64 only, and an export's checkpoints smallest first, each size once.
final class StrictLogFormatTests: XCTestCase {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")

    /// A vault with two checkpoints (sizes 1 and 2) and its export, as text lines.
    private func exportLines() throws -> (v: VaultFixture, lines: [String]) {
        let v = try makeVault()
        _ = try v.session.audit.checkpoint()
        _ = try v.session.sharing.setPolicy(DefaultPolicy.text, source: "default")
        _ = try v.session.audit.checkpoint()
        let text = String(decoding: LogExport.bytes(try v.vault.logSnapshot()), as: UTF8.self)
        return (v, text.split(separator: "\n").map(String.init))
    }

    private func parse(_ lines: [String]) throws -> LogSnapshot {
        try LogExport.parse(Data((lines.joined(separator: "\n") + "\n").utf8), path: "test.dlog")
    }

    func testAnExportWithItsCheckpointsSmallestFirstParses() throws {
        let (v, lines) = try exportLines()
        defer { v.folder.remove() }
        XCTAssertEqual(lines.filter { $0.hasPrefix("checkpoint ") }.count, 2)
        XCTAssertEqual(try parse(lines).checkpoints.count, 2)
    }

    func testAnExportWithCheckpointsReorderedOrRepeatedIsRefused() throws {
        let (v, lines) = try exportLines()
        defer { v.folder.remove() }
        let at = lines.indices.filter { lines[$0].hasPrefix("checkpoint ") }
        var swapped = lines
        swapped.swapAt(at[0], at[1])
        var repeated = lines
        repeated[at[1]] = lines[at[0]]
        for (label, bad) in [("reordered", swapped), ("repeated", repeated)] {
            XCTAssertThrowsError(try parse(bad), label) { error in
                guard case DossierError.malformedExport(_, let reason) = error else { return XCTFail("\(label): \(error)") }
                XCTAssertTrue(reason.contains("out of order or repeated"), "\(label): \(reason)")
            }
        }
    }

    func testASignatureLineInNonCanonicalBase64IsRefused() throws {
        let v = try makeVault()
        defer { v.folder.remove() }
        let note = try v.session.audit.checkpoint()
        let org = try v.vault.organisation()
        let key = try OrganisationKey(line: org.publicKey).signingKey
        XCTAssertNoThrow(try SignedNote.verify(note, name: org.name, publicKey: key))
        // The 68-byte payload ends in one '=': the character before it has two unused low
        // bits. Setting one decodes to the same bytes in a lenient decoder.
        var chars = Array(note)
        guard let pad = chars.lastIndex(of: "="), let i = Self.alphabet.firstIndex(of: chars[pad - 1]) else {
            return XCTFail("no padded signature line in \(note)")
        }
        chars[pad - 1] = Self.alphabet[i ^ 1]
        let altered = String(chars)
        XCTAssertEqual(Data(base64Encoded: String(altered.split(separator: " ").last!.dropLast())),
                       Data(base64Encoded: String(note.split(separator: " ").last!.dropLast())), "the two encodings decode alike")
        XCTAssertThrowsError(try SignedNote.verify(altered, name: org.name, publicKey: key)) { error in
            guard case DossierError.malformedCheckpoint = error else { return XCTFail("\(error)") }
        }
    }
}
