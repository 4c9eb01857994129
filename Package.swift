// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Dossier",
    // Counsel's commands speak the user's language (docs/translations.md); English is the fallback.
    defaultLocalization: "en",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "dossier", targets: ["dossier"]),
        .library(name: "DossierCore", targets: ["DossierCore"]),
        .library(name: "DossierCrypto", targets: ["DossierCrypto"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
    ],
    targets: [
        // libsodium, from Debian's libsodium-dev. Only DossierCrypto imports it.
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        // libpq, PostgreSQL's client library, from Debian's libpq-dev. Only Storage/Postgres/ imports it.
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .target(
            name: "DossierCrypto",
            dependencies: ["CSodium"]
        ),
        .target(
            name: "DossierCore",
            dependencies: [
                "DossierCrypto",
                "CLibPQ",
                .product(name: "GRDB", package: "GRDB.swift"),
                // The SQLite C API, for the catalogue listing's row loop only (Storage/SQLite/SQLiteListing.swift).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]
        ),
        // The key-release service (`dossier serve`): HTTP on Hummingbird, decisions in DossierCore.
        .target(
            name: "DossierServer",
            dependencies: [
                "DossierCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "dossier",
            dependencies: [
                "DossierCore",
                "DossierCrypto",
                "DossierServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // Resources/<language>.lproj/Localizable.strings: the messages of counsel's commands.
            resources: [.process("Resources")]
        ),
        // Fuzz targets for the parsers of hostile input (docs/fuzzing-and-sanitizers.md). A normal
        // build replays files; scripts/fuzz.sh builds it with libFuzzer (-DFUZZING).
        .executableTarget(
            name: "DossierFuzz",
            dependencies: ["DossierCore", "DossierCrypto"]
        ),
        // Load test of the key-release service (scripts/load-test.sh; not part of the tests).
        .executableTarget(
            name: "KeyReleaseLoad",
            dependencies: ["DossierServer", "DossierCore", "DossierCrypto", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/KeyReleaseLoad"
        ),
        // Makes large inputs for the scale benchmarks (scripts/bench.sh); not part of the product.
        .executableTarget(
            name: "DossierBench",
            dependencies: ["DossierCore", "DossierCrypto"],
            path: "Benchmarks/DossierBench"
        ),
        .testTarget(
            name: "DossierCryptoTests",
            // DossierCore for its file-descriptor sources and sinks, which some stream tests use.
            dependencies: ["DossierCrypto", "DossierCore"],
            resources: [.copy("Vectors")]
        ),
        .testTarget(
            name: "DossierCoreTests",
            dependencies: ["DossierCore", "DossierCrypto"],
            resources: [.copy("Vectors")]
        ),
        .testTarget(
            name: "DossierServerTests",
            dependencies: ["DossierServer", "DossierCore", "DossierCrypto", .product(name: "Logging", package: "swift-log"),
                           .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "dossierTests",
            // GRDB to hold a reader open on a vault, as another process would, while a command runs.
            dependencies: ["DossierCore", "DossierCrypto", .product(name: "GRDB", package: "GRDB.swift")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
