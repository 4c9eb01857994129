#if !FUZZING
import Foundation

/// Replays inputs through a fuzz target without libFuzzer, so that a normal build can check
/// the seed corpus and every saved crash: `DossierFuzz TARGET FILE-OR-FOLDER...`.
/// Exits 0 if every input was handled; a broken property or a crash stops the process.
/// (Built with `-DFUZZING`, this type is left out and libFuzzer's `main` runs instead.)
@main
enum Replay {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name), arguments.count >= 2 else { usage() }
        var files: [String] = []
        for path in arguments.dropFirst() {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { fail(66, "\(path) does not exist") }
            if isDirectory.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                files += names.filter { !$0.hasPrefix(".") }.sorted().map { path + "/" + $0 }
            } else {
                files.append(path)
            }
        }
        var accepted = 0
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { fail(66, "cannot read \(file)") }
            if target.run(data) { accepted += 1 }
        }
        print("DossierFuzz: \(target.rawValue): \(files.count) input(s) replayed without a crash; \(accepted) accepted, \(files.count - accepted) refused")
    }

    static func usage() -> Never {
        var text = "usage: DossierFuzz TARGET FILE-OR-FOLDER...\ntargets:\n"
        for t in FuzzTarget.allCases { text += "  \(t.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)) \(t.summary)\n" }
        FileHandle.standardError.write(Data(text.utf8))
        exit(64)
    }

    static func fail(_ code: Int32, _ message: String) -> Never {
        FileHandle.standardError.write(Data("DossierFuzz: error: \(message)\n".utf8))
        exit(code)
    }
}
#endif
