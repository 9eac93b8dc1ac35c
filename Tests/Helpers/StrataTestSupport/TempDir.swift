import Foundation

// Helpers shared by every test target: temporary directories and stores, and the built binaries.

/// A temporary directory, created now and removed with everything in it when the value is released.
public final class TempDir: Sendable {
    /// The directory's path (unique: the name, the process id and a random suffix).
    public let path: String

    /// Creates a directory named after `name` in the system's temporary folder.
    public init(_ name: String = "strata-test") {
        path = NSTemporaryDirectory() + "\(name)-\(getpid())-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// The path of `name` inside the directory.
    public func sub(_ name: String) -> String { path + "/" + name }

    /// The path of a store inside the directory (not created: a store is created on first use).
    public var store: String { sub("store") }
}

/// The path of the executable `name` (`strata`, `strata-test-writer`) built with the tests: next to
/// the test bundle, else in the package's `.build/debug` or `.build/release` (`swift test` runs
/// from the package root); `name` itself when none is found.
public func builtProduct(_ name: String) -> String {
    let files = FileManager.default
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<5 {
        let candidate = dir.appendingPathComponent(name).path
        var isDir: ObjCBool = false
        if files.fileExists(atPath: candidate, isDirectory: &isDir), !isDir.boolValue, files.isExecutableFile(atPath: candidate) {
            return candidate
        }
        dir = dir.deletingLastPathComponent()
    }
    for folder in [".build/debug", ".build/release"] {
        let p = files.currentDirectoryPath + "/" + folder + "/" + name
        if files.isExecutableFile(atPath: p) { return p }
    }
    return name
}
