import Foundation
import XCTest

/// The fuzz targets' seeds replayed on every `make test` (docs/fuzzing-and-sanitizers.md):
/// every file of `Tests/Fuzz/corpus/TARGET/` (the valid seeds, and the minimised inputs that
/// once crashed a parser, `fixed-*`), and any finding still waiting in `Tests/Fuzz/crashes/`,
/// goes through the same target code libFuzzer drives, by the `DossierFuzz` executable of this
/// build (`DossierFuzz TARGET FILE`, no libFuzzer). A crash, a hang or a broken property (a
/// `precondition` in Sources/DossierFuzz/FuzzTarget.swift) fails the test and names the input.
/// The targets live in an executable, so each input runs in its own process: a trap then stops
/// that input only, and the others are still checked.
final class FuzzSeedReplayTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let seeds = root + "/Tests/Fuzz/corpus"
    static let crashes = root + "/Tests/Fuzz/crashes"
    static let hostileCorpus = root + "/Tests/dossierTests/Corpus"

    /// Every seed of every target: no crash, no broken property, and a `valid-*` seed is still
    /// accepted (a seed the parser now refuses no longer leads the fuzzer into the format).
    func testEverySeedReplaysThroughItsTarget() throws {
        let targets = try Self.targets()
        let folders = try FileManager.default.contentsOfDirectory(atPath: Self.seeds).filter { !$0.hasPrefix(".") }
        XCTAssertEqual(Set(folders), Set(targets), "Tests/Fuzz/corpus/ must hold one folder per fuzz target, and no other")
        var replayed = 0
        for target in targets {
            let files = Self.files(in: Self.seeds + "/" + target) + Self.files(in: Self.crashes + "/" + target)
            XCTAssertFalse(files.isEmpty, "no seed for the \(target) target in Tests/Fuzz/corpus/\(target)")
            for file in files {
                let name = (file as NSString).lastPathComponent
                let outcome = try Self.replay(target, [file])
                if let problem = outcome.problem {
                    XCTFail("\(target)/\(name): \(problem)")
                    continue
                }
                if name.hasPrefix("valid-") {
                    XCTAssertEqual(outcome.accepted, 1, "\(target)/\(name): a valid seed is refused by its target; remake the seeds (scripts/fuzz.sh --seed)")
                }
                replayed += 1
            }
        }
        XCTAssertGreaterThanOrEqual(replayed, targets.count)
        print("fuzz seeds: \(replayed) inputs replayed through \(targets.count) targets")
    }

    /// The hostile-input corpus through the fuzz targets of the same formats: its inputs must not
    /// crash the targets or break their round-trip properties (they are fuzzing inputs too).
    func testHostileCorpusThroughTheFuzzTargets() throws {
        let targets = try Self.targets()
        var replayed = 0
        for kind in ["package", "identity", "public-identity", "policy", "checkpoint", "export", "request"] {
            XCTAssertTrue(targets.contains(kind), "no fuzz target for the hostile corpus kind \(kind)")
            let files = Self.files(in: Self.hostileCorpus + "/" + kind).filter { !$0.hasSuffix(".txt") }
            XCTAssertGreaterThan(files.count, 10, "Tests/dossierTests/Corpus/\(kind) is nearly empty")
            // One process for the whole kind; only if it fails, one per file to name the input.
            let all = try Self.replay(kind, files)
            if all.problem == nil {
                XCTAssertEqual(all.replayed, files.count, "\(kind): not every input was replayed")
            } else {
                for file in files {
                    if let problem = try Self.replay(kind, [file]).problem {
                        XCTFail("\(kind)/\((file as NSString).lastPathComponent): \(problem)")
                    }
                }
            }
            replayed += files.count
        }
        print("hostile corpus: \(replayed) inputs replayed through the fuzz targets")
    }

    // MARK: - Running DossierFuzz

    struct Outcome {
        /// What went wrong, or nil if the replay ended normally.
        var problem: String?
        var replayed = 0
        var accepted = 0
    }

    /// The `DossierFuzz` executable built next to `dossier`.
    static func binary() throws -> String {
        guard let dossier = HostileBinary.path else {
            throw HostileError("the dossier executable was not found next to the test bundle; build with `swift build --build-tests`")
        }
        let path = (dossier as NSString).deletingLastPathComponent + "/DossierFuzz"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw HostileError("no DossierFuzz executable at \(path); build everything with `swift build --build-tests`")
        }
        return path
    }

    /// The target names, as `DossierFuzz` lists them in its usage text.
    static func targets() throws -> [String] {
        let scratch = try HostileFolder(prefix: "dossier-fuzz-replay")
        defer { scratch.remove() }
        let run = try runHostile([], environment: ["TMPDIR": scratch.path], in: scratch.path, executable: binary())
        guard !run.endedBySignal, run.status == 64 else { throw HostileError("DossierFuzz without arguments should print its usage:\n\(run)") }
        let lines = run.stderrText.split(separator: "\n").drop { $0 != "targets:" }.dropFirst()
        let names = lines.compactMap { $0.split(separator: " ").first.map(String.init) }
        guard names.count >= 8 else { throw HostileError("DossierFuzz lists too few targets:\n\(run)") }
        return names
    }

    /// Replays `files` through `target` in one process, in a private TMPDIR (the package target
    /// writes a scratch file there).
    static func replay(_ target: String, _ files: [String]) throws -> Outcome {
        let scratch = try HostileFolder(prefix: "dossier-fuzz-replay")
        defer { scratch.remove() }
        // SWIFT_BACKTRACE=enable=no: a trap ends the process at once, with its message.
        let run = try runHostile([target] + files, environment: ["TMPDIR": scratch.path, "SWIFT_BACKTRACE": "enable=no"],
                                 in: scratch.path, timeout: 60, executable: binary())
        if run.timedOut { return Outcome(problem: "did not finish within 60 s (a hang)") }
        let stderr = HostileText.visible(run.stderr, limit: 1500)
        if run.endedBySignal { return Outcome(problem: "crashed (signal \(run.status)):\n\(stderr)") }
        if run.status != 0 { return Outcome(problem: "exit \(run.status):\n\(stderr)") }
        // "DossierFuzz: TARGET: N input(s) replayed without a crash; A accepted, R refused"
        let words = run.stdoutText.split(whereSeparator: { $0 == " " || $0 == "\n" })
        func number(before word: String) -> Int? {
            words.firstIndex { $0.hasPrefix(word) }.flatMap { $0 > 0 ? Int(words[$0 - 1]) : nil }
        }
        guard let replayed = number(before: "input(s)"), let accepted = number(before: "accepted") else {
            return Outcome(problem: "no summary on stdout: \(run.stdoutText)")
        }
        guard replayed == files.count else { return Outcome(problem: "replayed \(replayed) of \(files.count) inputs") }
        return Outcome(problem: nil, replayed: replayed, accepted: accepted)
    }

    /// The files of a folder (none if it does not exist), hidden files aside, sorted.
    static func files(in folder: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { folder + "/" + $0 }
    }
}
