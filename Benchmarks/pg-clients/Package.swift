// swift-tools-version:6.0
// libpq against PostgresNIO on one workload (issue 18). A package of its own: the main package
// does not depend on it and `make test` does not build it. ./run.sh builds both clients, starts
// a throwaway cluster and prints the table; docs/performance.md has the figures.
import PackageDescription

let package = Package(
    name: "pg-clients",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
    ],
    targets: [
        // libpq from Debian's libpq-dev, as the main package's Sources/CLibPQ.
        .systemLibrary(
            name: "CLibPQBench",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // The workload, the payload and the report, shared so that both clients do the same.
        .target(name: "PGClientsBench"),
        .executableTarget(
            name: "libpq-client",
            dependencies: ["CLibPQBench", "PGClientsBench"]
        ),
        .executableTarget(
            name: "nio-client",
            dependencies: [
                "PGClientsBench",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)
