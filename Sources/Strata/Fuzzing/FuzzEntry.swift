#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Sources/Strata/Fuzzing holds the fuzz entry points: the only code in the library that exists for
// the fuzzers in `Fuzz/` (see Fuzz/README.md) and their regression tests
// (Tests/StrataTests/FuzzRegressionTests.swift). Nothing here is API; nothing else calls it.

/// Entry points for the store fuzzer (`Fuzz/`, target `store-fuzz`) and its regression tests:
/// drive the on-disk readers over arbitrary file contents. `StrataError`s are expected; a trap, a
/// crash or a sanitizer report is a bug. Not API: the underscore says so.
///
/// Each call works in a private scratch store (under /dev/shm when it exists) that it empties
/// first. Mapped files are read through `mmap`, which rounds up to whole pages: when the process
/// runs under AddressSanitizer, the bytes past the end of each mapped segment are poisoned while
/// it is read, so a read past the end of the file is reported instead of reading zeros.
package enum _FuzzEntry {
    /// A segment file: open, every series' chunk table, every chunk decoded and checked like
    /// `verify`, then reads, scans, aggregates, curves and quantiles of every series (with and without a rewind).
    package static func segment(_ bytes: [UInt8]) {
        let paths = prepare()
        write(bytes, to: paths.segment("0000000000000000000000000A-1.seg"))
        let reader = StoreReader(paths: paths)
        try? reader.refresh()
        let poisoned = reader.allSegments.map(\.file)
        for f in poisoned { Poison.tail(f.bytes, poison: true) }
        defer { for f in poisoned { Poison.tail(f.bytes, poison: false) } }
        for seg in reader.allSegments {
            _ = seg.checkPackedSummaries()
            for s in seg.series {
                guard let entries = try? s.chunks() else { continue }
                for e in entries { try? Store.verifyChunk(ChunkHandle(segment: seg, entry: e, rankBase: 0), e) }
            }
        }
        queryEverything(reader)
    }

    /// A write-ahead log: scanned from an exactly sized heap copy to the end, read as a live tail
    /// (and queried), then recovered into a segment like a dead writer's log, which is read back.
    package static func log(_ bytes: [UInt8]) {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 8)
        defer { copy.deallocate() }
        bytes.withUnsafeBytes { if $0.count > 0 { copy.copyMemory(from: $0) } }
        let exact = UnsafeRawBufferPointer(start: copy.baseAddress, count: bytes.count)
        if var scanner = try? LogScanner(bytes: ByteView(unsafe: exact), path: "fuzz.wal") {
            while let record = try? scanner.next() {
                if case .chunk(_, let count, let steps, let values, let times) = record {
                    _ = try? ChunkColumns(LogChunkRecord(count: count, steps: steps, values: values, times: times), path: "fuzz.wal")
                }
            }
        }
        let paths = prepare()
        let logPath = paths.logs + "/0000000000000000000000000A-1.wal"
        write(bytes, to: logPath)
        do {
            let reader = StoreReader(paths: paths)
            try? reader.refresh()
            queryEverything(reader)
        }
        // Nobody holds the log's lock: recovery treats it as a dead writer's.
        _ = try? Recovery.recoverIfDead(logPath: logPath, paths: paths, catalog: Catalog(path: paths.catalog))
        let reader = StoreReader(paths: paths)
        try? reader.refresh()
        queryEverything(reader)
    }

    /// A catalog: read whole, then again as if it had grown from its first half (a reader that
    /// polls while writers append), and every run's state touched.
    package static func catalog(_ bytes: [UInt8]) {
        let paths = prepare()
        let half = Array(bytes.prefix(bytes.count / 2))
        for stages in [[bytes], [half, bytes]] {
            let catalog = Catalog(path: paths.catalog)
            for stage in stages {
                write(stage, to: paths.catalog)
                try? catalog.refresh()
            }
            for info in catalog.allRuns() {
                _ = info.params.count + info.metadata.count + info.tags.count + info.rewinds.count + info.name.utf8.count
            }
        }
    }

    // MARK: driving the query engine

    private static func queryEverything(_ reader: StoreReader) {
        let keys = reader.allSeriesKeys()
        var runs = Set<RunID>()
        for key in keys { runs.insert(key.run) }
        for run in runs { _ = reader.metricSummaries(of: run); _ = reader.seriesKeys(of: run) }
        var rewindAt: Int64? = nil
        reader.rewinds = { _ in rewindAt.map { [RunInfo.Rewind(step: $0, sequence: .max)] } ?? [] }
        for key in keys {
            _ = reader.summary(key)
            guard let chunks = try? reader.chunks(key) else { continue }
            query(SeriesQuery(chunks: chunks))
            // Again with a rewind to the middle of the series: chunks above it are cut in memory.
            let lo = chunks.map(\.stats.firstStep).min() ?? 0, hi = chunks.map(\.stats.lastStep).max() ?? 0
            rewindAt = lo / 2 + hi / 2
            _ = reader.summary(key)
            if let cut = try? reader.chunks(key) { query(SeriesQuery(chunks: cut)) }
            rewindAt = nil
        }
    }

    private static func query(_ q: SeriesQuery) {
        guard !q.chunks.isEmpty else { return }
        let lo = q.chunks.map(\.stats.firstStep).min()!, hi = q.chunks.map(\.stats.lastStep).max()!
        let mid = lo / 2 + hi / 2
        _ = try? q.aggregate(.all)
        _ = try? q.aggregate(.init(lo: mid, hi: hi))
        _ = try? q.aggregate(.init(lo: lo &+ 1, hi: mid))
        _ = try? q.read(.all, times: true)
        _ = try? q.read(.init(lo: mid, hi: .max), times: false)
        try? q.scan(.all, times: true) { _, _, _ in }
        try? q.scan(.init(lo: lo, hi: mid)) { _, _ in }
        // Curves as `Store.curve` would be asked for them: any range, 1 to 1,000,000 buckets.
        // (Hostile statistics may claim first > last: only ranges a caller could ask for.)
        if hi >= lo { _ = try? q.curve(Buckets(lo...hi, count: 37)) }
        if mid > lo { _ = try? q.curve(Buckets(lo...(mid - 1), count: 1000)) }
        _ = try? q.curve(Buckets(.min ... .max, count: 7))
        _ = try? q.curve(Buckets(-1000...99_999, count: 64))
        // Quantiles: chunk sketches (decoded from hostile bytes) and exact reads.
        _ = try? q.quantiles(.all, exact: false).quantiles([0.01, 0.5, 0.99])
        _ = try? q.quantiles(.init(lo: lo &+ 1, hi: mid), exact: true).quantiles([0.5])
        if hi >= lo { _ = try? q.quantileCurve(Buckets(lo...hi, count: 5), exact: false) }
        let tlo = q.chunks.map(\.minTime).min()!, thi = q.chunks.map(\.maxTime).max()!
        if thi >= tlo { _ = try? q.timeCurve(Buckets(tlo...thi, count: 13), origin: nil) }
        _ = try? q.timeCurve(Buckets(0...(1 << 20) - 1, count: 16), origin: tlo)
    }

    // MARK: scratch store

    /// This process's scratch store, emptied for each input.
    private static let root: String = {
        let base = Sys.kind("/dev/shm") == .directory ? "/dev/shm" : "/tmp"
        return base + "/strata-fuzz-\(getpid())"
    }()

    /// Removes the scratch store when the process exits (a crashed fuzzer leaves it behind).
    private static let removeAtExit: Void = { atexit { _FuzzEntry.empty(remove: true) } }()

    private static func prepare() -> StorePaths {
        _ = removeAtExit
        let paths = StorePaths(root: root)
        for dir in [paths.root, paths.logs, paths.segments, paths.tmp] {
            try? Sys.mkdirs(dir)
        }
        empty(remove: false)
        return paths
    }

    private static func empty(remove: Bool) {
        let paths = StorePaths(root: root)
        for dir in [paths.logs, paths.segments, paths.tmp, paths.damaged] {
            for name in (try? Sys.list(dir)) ?? [] { try? Sys.unlink(dir + "/" + name) }
            if remove { rmdir(dir) }
        }
        for name in (try? Sys.list(paths.root)) ?? [] where Sys.kind(paths.root + "/" + name) == .file {
            try? Sys.unlink(paths.root + "/" + name)
        }
        if remove { rmdir(paths.root) }
    }

    private static func write(_ bytes: [UInt8], to path: String) {
        try? Sys.writeAtomically(bytes, to: path, tmpDir: StorePaths(root: root).tmp)
    }
}

/// AddressSanitizer's manual poisoning, looked up at run time (absent without the sanitizer).
private enum Poison {
    typealias Fn = @convention(c) (UnsafeRawPointer?, Int) -> Void
    static let poison: Fn? = lookup("__asan_poison_memory_region")
    static let unpoison: Fn? = lookup("__asan_unpoison_memory_region")

    static func lookup(_ name: String) -> Fn? {
        #if canImport(Darwin)
        let everywhere = UnsafeMutableRawPointer(bitPattern: -2)  // RTLD_DEFAULT
        #else
        let everywhere: UnsafeMutableRawPointer? = nil  // RTLD_DEFAULT
        #endif
        guard let p = dlsym(everywhere, name) else { return nil }
        return unsafeBitCast(p, to: Fn.self)
    }

    /// (Un)poisons the rest of the last page after a mapping of `bytes`.
    static func tail(_ bytes: UnsafeRawBufferPointer, poison on: Bool) {
        guard let base = bytes.baseAddress, let f = on ? poison : unpoison else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let end = bytes.count
        let pageEnd = (end + page - 1) / page * page
        if pageEnd > end { f(base + end, pageEnd - end) }
    }
}
