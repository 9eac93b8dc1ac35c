// swift-tools-version: 6.1
import PackageDescription

// libFuzzer harnesses for the column decoders (codec-fuzz), the storage engine's on-disk readers
// (store-fuzz) and the Parquet reader (parquet-fuzz). Sources/CLZ4, CZstd, CSnappy, CZlib,
// StrataCodecs, Strata and StrataParquet are symlinks to the main package's folders. See README.md.
let package = Package(
    name: "StrataCodecsFuzz",
    dependencies: [.package(url: "https://github.com/apple/swift-system", from: "1.8.1")],
    targets: [
        .systemLibrary(name: "CLZ4", path: "Sources/CLZ4", pkgConfig: "liblz4"),
        .target(name: "StrataCodecs", dependencies: ["CLZ4"], path: "Sources/StrataCodecs"),
        .executableTarget(name: "codec-fuzz", dependencies: ["StrataCodecs"], path: "Sources/codec-fuzz"),
        .executableTarget(
            name: "make-corpus", dependencies: ["StrataCodecs"], path: "Sources/make-corpus",
            swiftSettings: [.swiftLanguageMode(.v5)]),
        .target(
            name: "Strata", dependencies: ["StrataCodecs", .product(name: "SystemPackage", package: "swift-system")],
            path: "Sources/Strata"),
        .executableTarget(
            name: "store-fuzz", dependencies: ["Strata", "StrataCodecs"], path: "Sources/store-fuzz",
            swiftSettings: [.swiftLanguageMode(.v5)]),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd"),
        .systemLibrary(name: "CSnappy", path: "Sources/CSnappy", pkgConfig: "snappy"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib"),
        .target(name: "StrataParquet", dependencies: ["CLZ4", "CZstd", "CSnappy", "CZlib"], path: "Sources/StrataParquet"),
        .executableTarget(name: "parquet-fuzz", dependencies: ["StrataParquet"], path: "Sources/parquet-fuzz"),
        .executableTarget(name: "make-parquet-corpus", dependencies: ["StrataParquet"], path: "Sources/make-parquet-corpus"),
        .executableTarget(
            name: "make-store-corpus", dependencies: ["Strata"], path: "Sources/make-store-corpus",
            swiftSettings: [.swiftLanguageMode(.v5)]),
    ]
)
