// swift-tools-version: 6.1
import PackageDescription

// Dependency direction (one way only):
//   CLZ4 (system liblz4) → StrataCodecs (unsafe codec loops, checksums)
//   → Strata (log, segments, catalog, tiers, queries, public API)
//   → StrataInterop (other formats: importers, ingest decoding, CSV, JSON, TFRecord; CSQLite, the
//     system libsqlite3, for MLflow databases; Parquet export and import through StrataParquet,
//     which depends on nothing of Strata)
//   → StrataServer (HTTP API)
//   → strata (CLI) / strata-bench (benchmark)
// StrataParquet is compiled with -O in debug builds too: its encoders run per value, and the tests
// export and import millions of rows through them (unoptimised generic code is 6 times slower:
// a debug export of 3 M points took 21 s instead of 3.4 s). Not when this package is built as
// another package's dependency (checked out under `checkouts/`), where unsafe flags are refused.
let parquetSettings: [SwiftSetting] =
    Context.packageDirectory.contains("/checkouts/") ? [] : [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "Strata",
    // Linux only: the I/O layer (Sources/Strata/IO) calls Glibc for what swift-system lacks.
    products: [
        .library(name: "Strata", targets: ["Strata"]),
        .library(name: "StrataInterop", targets: ["StrataInterop"]),
        .library(name: "StrataParquet", targets: ["StrataParquet"]),
        .executable(name: "strata", targets: ["strata"]),
        .executable(name: "strata-bench", targets: ["strata-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.34.1"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        // `swift package generate-documentation` (the DocC catalog, built in CI by scripts/test.sh).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLZ4",
            pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"])]
        ),
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]
        ),
        .systemLibrary(
            name: "CSnappy",
            pkgConfig: "snappy",
            providers: [.apt(["libsnappy-dev"])]
        ),
        // Reading MLflow tracking databases (mlflow.db); only StrataInterop's SQLiteUnsafe.swift uses it.
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // Parquet writer and reader (self-contained: no dependency on Strata).
        // Optimised in debug builds too (see `parquetSettings` below).
        .target(
            name: "StrataParquet",
            dependencies: ["CLZ4", "CZstd", "CSnappy", "CZlib"],
            swiftSettings: parquetSettings
        ),
        .target(
            name: "StrataCodecs",
            dependencies: ["CLZ4"]
        ),
        .target(
            name: "Strata",
            dependencies: ["StrataCodecs", "CZstd", .product(name: "SystemPackage", package: "swift-system")]
        ),
        // Reading and writing other formats: importers, ingest decoding, CSV, JSON, TFRecord.
        .target(
            name: "StrataInterop",
            dependencies: ["Strata", "CSQLite", "StrataParquet"]
        ),
        .target(
            name: "StrataServer",
            dependencies: [
                "Strata",
                "StrataInterop",
                "StrataParquet",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            // The web page's files, compiled into the binary (WebPage.swift serves them).
            resources: [
                .embedInCode("Web/index.html"),
                .embedInCode("Web/style.css"),
                .embedInCode("Web/api.js"),
                .embedInCode("Web/state.js"),
                .embedInCode("Web/ticks.js"),
                .embedInCode("Web/panel.js"),
                .embedInCode("Web/table.js"),
                .embedInCode("Web/workspace.js"),
                .embedInCode("Web/runpage.js"),
                .embedInCode("Web/sweeps.js"),
                .embedInCode("Web/compare.js"),
                .embedInCode("Web/app.js"),
            ]
        ),
        .executableTarget(
            name: "strata",
            dependencies: [
                "Strata",
                "StrataInterop",
                "StrataParquet",
                "StrataServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "strata-bench",
            dependencies: ["Strata", "StrataCodecs"],
            path: "Benchmarks/strata-bench"
        ),
        .executableTarget(
            name: "strata-test-writer",
            dependencies: ["Strata"],
            path: "Tests/Helpers/TestWriter"
        ),
        // Helpers shared by the test targets: temporary directories, the built binaries, and
        // brute-force references for extreme steps and times.
        .target(name: "StrataTestSupport", dependencies: ["StrataInterop"], path: "Tests/Helpers/StrataTestSupport"),
        .executableTarget(
            name: "strata-parquet-tool",
            dependencies: ["StrataParquet"],
            path: "Tests/Helpers/ParquetTool"
        ),
        .testTarget(name: "StrataCodecsTests", dependencies: ["StrataCodecs", "StrataTestSupport"]),
        .testTarget(name: "StrataParquetTests", dependencies: ["StrataParquet", "strata-parquet-tool", "StrataTestSupport"], exclude: ["Fixtures"]),
        .testTarget(
            name: "StrataTests",
            dependencies: [
                "Strata", "StrataCodecs", "strata-test-writer", "StrataTestSupport",
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            exclude: ["Fixtures"]),
        .testTarget(name: "StrataCLITests", dependencies: ["strata", "StrataTestSupport"], exclude: ["Fixtures"]),
        .testTarget(
            name: "StrataServerTests",
            dependencies: [
                "StrataServer",
                "StrataInterop",
                "StrataParquet",
                "StrataTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
    ]
)

// Warnings are errors when STRATA_WARNINGS_AS_ERRORS=1 (scripts/test.sh and CI set it): for this
// package's own library and executable targets, not for its dependencies, nor for the test targets
// (with the flag, Swift 6.3.1 reports every @Test and @Suite expansion of swift-testing with
// "'@const' value should be initialized with a compile-time value").
if Context.environment["STRATA_WARNINGS_AS_ERRORS"] == "1" {
    for target in package.targets where target.type == .regular || target.type == .executable {
        target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-warnings-as-errors"])]
    }
}
