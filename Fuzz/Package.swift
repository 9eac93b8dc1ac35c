// swift-tools-version: 6.1
import PackageDescription

// libFuzzer harness for the column decoders. Sources/CLZ4 and Sources/StrataCodecs are symlinks to
// the main package's folders. See README.md.
let package = Package(
    name: "StrataCodecsFuzz",
    targets: [
        .systemLibrary(name: "CLZ4", path: "Sources/CLZ4", pkgConfig: "liblz4"),
        .target(name: "StrataCodecs", dependencies: ["CLZ4"], path: "Sources/StrataCodecs"),
        .executableTarget(name: "codec-fuzz", dependencies: ["StrataCodecs"], path: "Sources/codec-fuzz"),
        .executableTarget(
            name: "make-corpus", dependencies: ["StrataCodecs"], path: "Sources/make-corpus",
            swiftSettings: [.swiftLanguageMode(.v5)]),
    ]
)
