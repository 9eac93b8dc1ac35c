import StrataCodecs

/// The idempotency keys of committed batches, kept after the log they were committed in is cut:
/// `keys/<writer>-<generation>.keys`, written atomically before the segment cut from that log, so
/// a log's keys exist whenever its segment does. Byte layout: `docs/FORMAT.md`, "Batch keys".
enum BatchKeys {
    static let magic: [UInt8] = Array("STRATKEY".utf8)
    static let version: UInt32 = 1

    static func fileName(writer: String, generation: UInt64) -> String { "\(writer)-\(generation).keys" }

    static func write(_ commits: [BatchCommit], writer: String, generation: UInt64, paths: StorePaths) throws(StrataError) {
        if commits.isEmpty { return }
        if Sys.kind(paths.batchKeys) != .directory { try Sys.mkdir(paths.batchKeys) }
        var w = ByteWriter()
        w.raw(magic)
        w.u32(version)
        w.u32(UInt32(commits.count))
        for c in commits { c.write(into: &w) }
        w.u64(Checksum.xxh64(w.bytes))
        try Sys.writeAtomically(w.bytes, to: paths.batchKeys + "/" + fileName(writer: writer, generation: generation), tmpDir: paths.tmp)
    }

    /// Every key committed no earlier than `sinceMs`, oldest first, from the key files; files
    /// holding only older keys are deleted. A damaged file is skipped.
    static func read(paths: StorePaths, sinceMs: Int64) -> [BatchCommit] {
        var out: [BatchCommit] = []
        for name in ((try? Sys.list(paths.batchKeys)) ?? []) where name.hasSuffix(".keys") {
            let path = paths.batchKeys + "/" + name
            guard let commits = try? parse(path) else { continue }
            if commits.allSatisfy({ $0.committedMs < sinceMs }) {
                try? Sys.unlink(path)
                continue
            }
            out += commits.filter { $0.committedMs >= sinceMs }
        }
        return out.sorted { $0.committedMs < $1.committedMs }
    }

    static func parse(_ path: String) throws(StrataError) -> [BatchCommit] {
        let bytes = try Sys.readFile(path)
        return try ByteView.with(bytes) { (b) throws(StrataError) -> [BatchCommit] in
            guard b.count >= 24, b[0..<8].equals(magic) else {
                throw StrataError.corrupt("not a Strata key file (bad magic number)", path: path, offset: 0)
            }
            let body = b[0..<(b.count - 8)]
            guard body.xxh64() == b.load(UInt64.self, at: b.count - 8) else {
                throw StrataError.corrupt("key file checksum mismatch", path: path)
            }
            var r = ByteReader(body, from: 8, path: path)
            let v = try r.u32()
            guard v <= version else {
                throw StrataError(.unsupportedVersion, "key file version \(v) is newer than this Strata", path: path, offset: 8)
            }
            let n = Int(try r.u32())
            var out: [BatchCommit] = []
            for _ in 0..<n { out.append(try BatchCommit.read(&r)) }
            return out
        }
    }
}
