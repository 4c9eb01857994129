// Makes large inputs for the scale benchmarks (docs/performance.md, scripts/bench.sh). Not part
// of the product: `swift run -c release DossierBench catalogue VAULT IDENTITY N [six-scripts]`.
@_spi(Benchmark) import DossierCore
import DossierCrypto
import Foundation

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("DossierBench: \(message)\n".utf8))
    exit(1)
}

/// A vault at VAULT whose founder is the new passphrase-less identity IDENTITY, holding N
/// documents without content (titles, file names, tags, cases and jurisdictions vary). With
/// `sixScripts`, the titles are in the six UN languages in turn (accents, Cyrillic, Arabic
/// with harakat, Chinese), as a search that folds must read them.
func catalogue(vault path: String, identity identityPath: String, count: Int, sixScripts: Bool) throws(DossierError) {
    let founder = SecretIdentity.generate()
    try founder.write(to: identityPath, protection: .none)
    let vault = try Vault.create(at: path, organisation: "example.org/bench", founder: founder, founderName: "Bench")
    let session = try vault.unlock(founder)
    let words = ["prison", "conditions", "assurances", "torture", "detention", "medical", "transfer", "hearing",
                 "Tashkent", "Ankara", "Minsk", "Cairo", "appeal", "extradition", "witness", "statement"]
    let languages = ["en", "fr", "ru", "ar", "es", "zh-Hans", "pt-BR", "und"]
    let jurisdictions = ["UK", "Germany", "France", "Netherlands", "Spain"]
    let titleWords = [["Réfutation", "garanties", "témoignage", "détention", "procès"],
                      ["decisión", "año", "extradición", "audiencia", "prisión"],
                      ["протокол", "отчёт", "свидетель", "тюрьма", "допрос"],
                      ["مُحَاكَمَة", "أدلة", "شاهد", "سجن", "تسليم"],
                      ["外交保证", "驳斥", "证人", "监狱", "引渡"],
                      ["prison", "conditions", "report", "hearing", "appeal"]]
    try session.documents.recordSyntheticDocuments(count: count) { i in
        var title = "\(words[i % 16]) \(words[(i / 16) % 16]) report \(i + 1)"
        if sixScripts {
            let w = titleWords[i % 6]
            title = "\(w[(i / 6) % 5]) \(w[(i / 30) % 5]) \(i + 1)"
        }
        let meta = DocumentMetadata(title: title, fileName: "file-\(i + 1).pdf", tags: i % 3 == 0 ? [] : [words[(i / 7) % 16]],
                                    jurisdiction: i % 4 == 0 ? nil : jurisdictions[i % 5],
                                    caseReference: i % 2 == 0 ? "EXT-2026-\(String(format: "%04d", i % 500))" : nil)
        return (DocumentKind.allCases[i % DocumentKind.allCases.count], languages[i % languages.count], UInt64(1000 + i * 37 % 5_000_000), meta)
    }
}

/// Appends N signed retrieval entries to the vault at VAULT, as IDENTITY (staff), for the
/// document DOC: a long log for timing decisions.
func log(vault path: String, identity identityPath: String, document: String, count: Int) throws(DossierError) {
    let identity = try SecretIdentity.load(path: identityPath) { () throws(DossierError) -> SecureBytes in fail("the identity needs a passphrase") }
    let session = try Vault.open(at: path).unlock(identity)
    try session.documents.recordSyntheticRetrievals(of: document, count: count)
}

let args = CommandLine.arguments
let usage = "usage: DossierBench catalogue VAULT IDENTITY N [six-scripts] | DossierBench log VAULT IDENTITY DOC N"
do throws(DossierError) {
    if args.count >= 2 && args[1] == "log" {
        guard args.count == 6, let n = Int(args[5]), n >= 0 else { fail(usage) }
        try log(vault: args[2], identity: args[3], document: args[4], count: n)
    } else {
        guard args.count == 5 || (args.count == 6 && args[5] == "six-scripts"), args[1] == "catalogue", let n = Int(args[4]), n >= 0 else {
            fail(usage)
        }
        try catalogue(vault: args[2], identity: args[3], count: n, sixScripts: args.count == 6)
    }
} catch {
    fail("\(error)")
}
