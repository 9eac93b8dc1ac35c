/// Creates or checks the store directory and its version file.
enum StoreLayout {
    static let magic: [UInt8] = Array("STRATA\u{0}\u{0}".utf8)
    static let version: UInt32 = 1

    static func prepare(_ paths: StorePaths, create: Bool) throws(StrataError) {
        switch Sys.kind(paths.root) {
        case .file, .symbolicLink, .other:
            throw StrataError(.notAStore, "store path is not a directory", path: paths.root)
        case nil:
            guard create else { throw StrataError(.notFound, "no store at this path (it is created on first write)", path: paths.root) }
            try Sys.mkdirs(paths.root)
            try initialize(paths)
        case .directory:
            if Sys.kind(paths.versionFile) == .file {
                try check(paths)
            } else {
                // Only our own folders: another process is creating the store right now.
                let entries = Set(try Sys.list(paths.root)).subtracting(["wal", "segments", "tmp"])
                if !entries.isEmpty {
                    // The other process may have finished between the check above and the listing:
                    // its STRATA file is written (atomically) before anything else of the store.
                    guard Sys.kind(paths.versionFile) == .file else {
                        throw StrataError(.notAStore, "directory is not a Strata store (no STRATA file) and is not empty", path: paths.root)
                    }
                    try check(paths)
                } else {
                    guard create else { throw StrataError(.notFound, "empty directory is not a store yet", path: paths.root) }
                    try initialize(paths)
                }
            }
        }
        for dir in [paths.logs, paths.segments, paths.tmp] where Sys.kind(dir) != .directory {
            // Opening an existing store must not need to write: a writer creates what it needs.
            if create { try Sys.mkdir(dir) } else { try? Sys.mkdir(dir) }
        }
    }

    /// Idempotent: several processes may create the same store at once.
    private static func initialize(_ paths: StorePaths) throws(StrataError) {
        for dir in [paths.tmp, paths.logs, paths.segments] { try Sys.mkdir(dir) }
        var w = ByteWriter()
        w.raw(magic)
        w.u32(version)
        w.u32(0)
        if Sys.kind(paths.versionFile) == nil {
            try Sys.writeAtomically(w.bytes, to: paths.versionFile, tmpDir: paths.tmp)
        }
    }

    private static func check(_ paths: StorePaths) throws(StrataError) {
        let bytes = try Sys.readFile(paths.versionFile)
        guard bytes.count >= 12, Array(bytes[0..<8]) == magic else {
            throw StrataError(.notAStore, "STRATA file is damaged or foreign (bad magic number)", path: paths.versionFile, offset: 0)
        }
        let v = ByteView.with(bytes) { $0.load(UInt32.self, at: 8) }
        if v > version {
            throw StrataError(
                .unsupportedVersion, "store format version \(v) is newer than this Strata (supports up to \(version)); upgrade Strata",
                path: paths.versionFile, offset: 8)
        }
    }
}
