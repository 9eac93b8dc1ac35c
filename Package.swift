// swift-tools-version: 6.1
import PackageDescription

// Dependency direction (one way only):
//   CLZ4 (system liblz4) → StrataCodecs (unsafe codec loops, checksums)
//   → Strata (log, segments, catalog, tiers, queries, public API)
//   → strata (CLI) / strata-bench (benchmark)
let package = Package(
    name: "Strata",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Strata", targets: ["Strata"]),
        .library(name: "StrataParquet", targets: ["StrataParquet"]),
        .executable(name: "strata", targets: ["strata"]),
        .executable(name: "strata-bench", targets: ["strata-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.34.1"),
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
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // Parquet writer and reader (self-contained: no dependency on Strata).
        .target(
            name: "StrataParquet",
            dependencies: ["CLZ4", "CZstd", "CSnappy", "CZlib"]
        ),
        .target(
            name: "StrataCodecs",
            dependencies: ["CLZ4"]
        ),
        .target(
            name: "Strata",
            dependencies: ["StrataCodecs"]
        ),
        .target(
            name: "StrataServer",
            dependencies: [
                "Strata",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ]
        ),
        .executableTarget(
            name: "strata",
            dependencies: [
                "Strata",
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
        .executableTarget(
            name: "strata-parquet-tool",
            dependencies: ["StrataParquet"],
            path: "Tests/Helpers/ParquetTool"
        ),
        // Brute-force references shared by the test targets (extreme steps and times).
        .target(name: "StrataTestExtremes", path: "Tests/Helpers/Extremes"),
        .testTarget(name: "StrataCodecsTests", dependencies: ["StrataCodecs"]),
        .testTarget(name: "StrataParquetTests", dependencies: ["StrataParquet", "strata-parquet-tool"], exclude: ["Fixtures"]),
        .testTarget(name: "StrataTests", dependencies: ["Strata", "StrataCodecs", "strata-test-writer", "StrataTestExtremes"]),
        .testTarget(name: "StrataCLITests", dependencies: ["strata", "StrataTestExtremes"], exclude: ["Fixtures"]),
        .testTarget(
            name: "StrataServerTests",
            dependencies: [
                "StrataServer",
                "StrataTestExtremes",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
    ]
)
