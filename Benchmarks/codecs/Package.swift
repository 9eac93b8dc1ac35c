// swift-tools-version: 6.1
// Micro-benchmarks of the column decoders with ordo-one/benchmark (package-benchmark), kept in a
// package of their own so that the main build does not build the benchmark framework. The codec
// sources are the main package's (symbolic links under Sources/), so the benchmarks can reach
// their `package` API.
//
//   cd Benchmarks/codecs && swift package benchmark
import PackageDescription

let package = Package(
    name: "strata-codec-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"])
    ],
    targets: [
        .systemLibrary(name: "CLZ4", path: "Sources/CLZ4"),
        .target(name: "StrataCodecs", dependencies: ["CLZ4"], path: "Sources/StrataCodecs"),
        .executableTarget(
            name: "CodecDecode",
            dependencies: [.product(name: "Benchmark", package: "benchmark"), "StrataCodecs"],
            path: "Benchmarks/CodecDecode",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
