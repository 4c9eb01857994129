import Foundation
import GRDB
import XCTest
@testable import DossierCore

// The PostgreSQL server the backend tests use: DOSSIER_TEST_POSTGRES, a URI that `make test`
// sets to a throwaway cluster (scripts/pg-cluster.sh run). Each vault gets a database of its
// own, dropped when the test ends. Without the variable a PostgreSQL test FAILS, saying how to
// run it: a backend that no test reached must never look like a backend that passed.

enum PostgresTestServer {
    static let variable = "DOSSIER_TEST_POSTGRES"
    static let howToRun = """
        DOSSIER_TEST_POSTGRES is not set, so the PostgreSQL backend was not tested. Run `make test`, \
        which starts a throwaway cluster and sets it; or start one with `scripts/pg-cluster.sh run swift test …`, \
        or set DOSSIER_TEST_POSTGRES=postgresql://USER@HOST:PORT/DATABASE for a server where the user may create databases
        """

    /// The server's URI, or a test failure that says how to get one.
    static func uri(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        guard let uri = ProcessInfo.processInfo.environment[variable], !uri.isEmpty else {
            XCTFail(howToRun, file: file, line: line)
            throw XCTSkip("no PostgreSQL server (reported as a failure above)")
        }
        return uri
    }

    /// `uri` with its database replaced by `database`.
    static func uri(_ uri: String, database: String) -> String {
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let base = String(parts[0]), query = parts.count > 1 ? "?" + parts[1] : ""
        let afterScheme = base.range(of: "://").map { base[$0.upperBound...] } ?? base[...]
        let authority = afterScheme.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)[0]
        return base[..<afterScheme.startIndex] + authority + "/" + database + query
    }

    /// Runs SQL on the server's own database (creating and dropping test databases).
    static func administer(_ sql: String) throws {
        let c = try PostgresConnection(conninfo: try uri())
        try c.execute(sql)
    }
}

extension XCTestCase {
    /// A new empty database on the test server, dropped when the test ends; its URI.
    func makePostgresDatabase(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let server = try PostgresTestServer.uri(file: file, line: line)
        let name = "dossier_t_" + Data((0..<6).map { _ in UInt8.random(in: 0...255) }).map { String(format: "%02x", $0) }.joined()
        try PostgresTestServer.administer("CREATE DATABASE \(name)")
        addTeardownBlock { try? PostgresTestServer.administer("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
        return PostgresTestServer.uri(server, database: name)
    }
}

/// Which backend a vault of a backend-parameterised test lives in.
enum TestBackend {
    case folder, postgres

    /// A location for a new vault: a folder path inside `folder`, or a new database.
    func newLocation(_ test: XCTestCase, folder: String) throws -> String {
        switch self {
        case .folder: return folder + "/vault"
        case .postgres: return try test.makePostgresDatabase()
        }
    }
}

extension Vault {
    /// Runs raw SQL inside a write transaction of the vault's own store, below every check, as
    /// someone editing the database (sqlite3, psql) would: the tests of the signed-facts rule.
    func editRows(_ sql: String) throws {
        try store.write { tx in
            switch tx {
            case let t as SQLiteTransaction: try t.db.execute(sql: sql)
            case let t as PostgresTransaction: try t.connection.execute(sql)
            default: XCTFail("unknown backend")
            }
        }
    }

    /// Counts rows with raw SQL (`SELECT count(*) …`).
    func countRows(_ sql: String) throws -> Int {
        try store.read { tx in
            switch tx {
            case let t as SQLiteTransaction: return try Int.fetchOne(t.db, sql: sql) ?? -1
            case let t as PostgresTransaction: return Int(try t.connection.query(sql).int(0, 0) ?? -1)
            default: return -1
            }
        }
    }
}

/// Every byte whoever hosts the vault holds: the folder's files, or a `pg_dump` of the database
/// (plain SQL, as a database administrator would take it). Fails the test when pg_dump cannot run.
func storedBytes(_ backend: TestBackend, _ location: String, file: StaticString = #filePath, line: UInt = #line) throws -> Data {
    switch backend {
    case .folder:
        var all = Data()
        let walker = FileManager.default.enumerator(atPath: location)
        while let relative = walker?.nextObject() as? String {
            var isDir: ObjCBool = false
            let path = location + "/" + relative
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue {
                all.append(try Data(contentsOf: URL(fileURLWithPath: path)))
            }
        }
        return all
    case .postgres:
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["pg_dump", "--no-owner", location]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let dump = out.fileHandleForReading.readDataToEndOfFile()
        let message = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "pg_dump failed: \(String(decoding: message, as: UTF8.self))", file: file, line: line)
        XCTAssertGreaterThan(dump.count, 1000, "pg_dump wrote almost nothing", file: file, line: line)
        return dump
    }
}
