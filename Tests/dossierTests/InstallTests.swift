import Foundation
import XCTest

/// `make install` and `make uninstall` (issue 19, part 4): the binary, a manual page per command
/// that `man` reads, and completions that bash loads, under a throwaway prefix. The test installs
/// the binary the tests run (`BIN=`, building nothing: a `swift build` inside `swift test` would
/// wait for the test run's own lock on .build). It needs `make`, `man` and `bash`, and fails,
/// saying so, when one is missing (scripts/install-deps.sh installs man-db).
final class InstallTests: XCTestCase {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    private func tool(_ name: String) -> String? {
        ["/usr/bin/", "/bin/", "/usr/local/bin/"].map { $0 + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `executable` with `arguments` in the repository; exit status, standard output and error.
    private func run(_ executable: String, _ arguments: [String], env: [String: String] = [:]) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        p.currentDirectoryURL = URL(fileURLWithPath: Self.root)
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    private func files(under path: String) -> [String] {
        (FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? []).filter { f in
            var isDir: ObjCBool = false
            return FileManager.default.fileExists(atPath: path + "/" + f, isDirectory: &isDir) && !isDir.boolValue
        }.sorted()
    }

    func testMakeInstallPutsManPagesAndCompletionsThatWorkAndUninstallRemovesThem() throws {
        let binary = try XCTUnwrap(DossierBinary.path, "the dossier binary is not built")
        let make = try XCTUnwrap(tool("make"), "make is missing")
        let man = try XCTUnwrap(tool("man"), "man is missing: install man-db (scripts/install-deps.sh does), which the test needs to read the installed pages")
        let bash = try XCTUnwrap(tool("bash"), "bash is missing")
        let folder = try CLIFolder()
        defer { folder.remove() }
        let prefix = folder.file("prefix with space")
        let bin = (binary as NSString).deletingLastPathComponent

        let (status, _, installErr) = try run(make, ["-s", "install", "PREFIX=\(prefix)", "BIN=\(bin)"])
        XCTAssertEqual(status, 0, installErr)
        let installed = files(under: prefix)
        let pages = installed.filter { $0.hasPrefix("share/man/man1/") }
        for expected in ["bin/dossier", "share/bash-completion/completions/dossier", "share/zsh/site-functions/_dossier",
                         "share/fish/vendor_completions.d/dossier.fish", "share/man/man1/dossier.1", "share/man/man1/dossier-search.1",
                         "share/man/man1/dossier-audit-verify.1", "share/man/man1/dossier-identity-new.1"] {
            XCTAssertTrue(installed.contains(expected), "\(expected) not installed: \(installed)")
        }
        // The resource bundle beside the binary: the messages of counsel's commands (docs/translations.md).
        let resources = installed.filter { $0.hasPrefix("bin/Dossier_dossier.resources/") }
        for language in ["ar", "en", "es", "fr", "ru", "zh-hans"] {
            XCTAssertTrue(resources.contains("bin/Dossier_dossier.resources/\(language).lproj/Localizable.strings"), "\(language): \(resources)")
        }
        XCTAssertEqual(installed.count, pages.count + 4 + resources.count, "nothing else is installed: \(installed)")
        XCTAssertGreaterThan(pages.count, 40, "a page per command")
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: prefix + "/bin/dossier"))
        // The installed binary finds its messages there, and speaks French under a French locale.
        let (showStatus, shown, showErr) = try run(prefix + "/bin/dossier", ["identity", "show", "dossier1abc"], env: ["LANG": "fr_FR.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""])
        XCTAssertEqual(showStatus, 65, showErr)
        XCTAssertEqual(shown, "")
        XCTAssertTrue(showErr.contains("identité publique non valide"), showErr)

        // Every page reads with man, without a warning; search's page says what its --help says.
        let env = ["LC_ALL": "C.UTF-8", "MANWIDTH": "80", "MANPAGER": "cat", "PAGER": "cat"]
        for page in pages {
            let (status, out, err) = try run(man, ["--warnings", "-l", prefix + "/" + page], env: env)
            XCTAssertEqual(status, 0, "\(page): \(err)")
            XCTAssertEqual(err, "", "\(page) has roff warnings")
            XCTAssertTrue(out.contains("NAME") && out.contains("SYNOPSIS"), page)
        }
        let (_, searchPage, _) = try run(man, ["-l", prefix + "/share/man/man1/dossier-search.1"], env: env)
        let search = searchPage.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for text in ["dossier search", "--json", "--vault DIR", "WORD...", "Réfutation", "ПРОТОКОЛ", "ＡＢＣ", "dossier(1)"] {
            XCTAssertTrue(search.contains(text), "dossier-search(1) lacks \(text):\n\(search)")
        }
        let (_, topPage, _) = try run(man, ["-l", prefix + "/share/man/man1/dossier.1"], env: env)
        // man justifies lines by widening spaces: compare with runs of white space as one.
        let top = topPage.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        XCTAssertTrue(top.contains("dossier-search(1)") && top.contains("Exit codes"), top)

        // bash loads the completion and binds it to dossier.
        let completion = prefix + "/share/bash-completion/completions/dossier"
        let (bashStatus, bound, bashErr) = try run(bash, ["--norc", "--noprofile", "-c", "source \"$1\" && complete -p dossier", "bash", completion])
        XCTAssertEqual(bashStatus, 0, bashErr)
        XCTAssertTrue(bound.contains("-F _dossier dossier"), bound)
        let zsh = try String(contentsOfFile: prefix + "/share/zsh/site-functions/_dossier", encoding: .utf8)
        XCTAssertTrue(zsh.hasPrefix("#compdef dossier"))
        let fish = try String(contentsOfFile: prefix + "/share/fish/vendor_completions.d/dossier.fish", encoding: .utf8)
        XCTAssertTrue(fish.contains("complete -c 'dossier'"))

        // uninstall removes exactly what install put, and nothing of anyone else's.
        try "other".write(toFile: prefix + "/share/man/man1/other.1", atomically: true, encoding: .utf8)
        try "other".write(toFile: prefix + "/bin/dossierish", atomically: true, encoding: .utf8)
        let (uninstallStatus, _, uninstallErr) = try run(make, ["-s", "uninstall", "PREFIX=\(prefix)"])
        XCTAssertEqual(uninstallStatus, 0, uninstallErr)
        XCTAssertEqual(files(under: prefix), ["bin/dossierish", "share/man/man1/other.1"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: prefix + "/bin/Dossier_dossier.resources"))
    }
}
