// swift-tools-version: 6.1
import PackageDescription

// libFuzzer harnesses for the column decoders (codec-fuzz) and the storage engine's on-disk readers
// (store-fuzz). Sources/CLZ4, Sources/StrataCodecs and Sources/Strata are symlinks to the main
// package's folders. See README.md.
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
        .executableTarget(
            name: "make-store-corpus", dependencies: ["Strata"], path: "Sources/make-store-corpus",
            swiftSettings: [.swiftLanguageMode(.v5)]),
    ]
)
