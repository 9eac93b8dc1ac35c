import ArgumentParser
import Strata

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `strata import tensorboard DIR`: scalars from TensorBoard event files (TFRecord framing, both
/// checksums verified, Event protobufs parsed by hand).
struct ImportTensorBoard: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tensorboard",
        abstract: "Import scalars from TensorBoard event files (events.out.tfevents.*) under DIR.",
        discussion: """
        Every directory holding event files becomes one run, named by its path relative to DIR (DIR itself: \
        its own name). Metric = tag, step = step, time = wall time. Classic scalars (simple_value) and TF2 \
        scalar tensors are imported; histograms, images, text and other non-scalar values are counted and skipped.
        """)

    @OptionGroup var options: ImportOptions
    @Argument(help: "A log directory (searched recursively) or one event file.") var dir: String
    @Option(help: "Project of the imported runs.") var project: String = "default"

    func run() throws {
        let groups = try TensorBoardImporter.findRuns(dir)
        if groups.isEmpty { throw CLIError("no TensorBoard event files (events.out.tfevents.*) under \(dir)") }
        let session = try ImportSession(kind: "tensorboard", options: options)
        var failure: Error?
        do {
            let importer = TensorBoardImporter(session: session, project: project)
            let totalFiles = groups.reduce(0) { $0 + $1.files.count }
            importer.totalFiles = totalFiles
            for g in groups { try importer.importRun(g) }
        } catch { failure = error }
        try session.finish(failure: failure)
    }
}

final class TensorBoardImporter {
    struct RunFiles {
        var name: String
        var dir: String
        var files: [String]
    }

    let session: ImportSession
    let project: String
    var totalFiles = 0
    private var filesDone = 0
    private var pointsRead = 0

    init(session: ImportSession, project: String) {
        self.session = session
        self.project = project
    }

    static func isEventFile(_ name: String) -> Bool { name.hasPrefix("events.out.tfevents.") }

    /// Directories holding event files, each with its files in name order (a restarted job's files in time order).
    static func findRuns(_ root: String) throws -> [RunFiles] {
        guard let kind = fileKind(root) else { throw CLIError("no such directory: \(root)") }
        if kind == .file {
            let parent = root.contains("/") ? String(root[..<root.lastIndex(of: "/")!]) : "."
            return [RunFiles(name: baseName(realPath(parent.isEmpty ? "/" : parent)), dir: parent, files: [root])]
        }
        guard kind == .directory else { throw CLIError("\(root) is not a directory") }
        var out: [RunFiles] = []
        var seen: Set<[UInt64]> = []
        func walk(_ dir: String, _ rel: String, depth: Int) throws {
            var st = stat()
            guard stat(dir, &st) == 0, seen.insert([UInt64(st.st_dev), UInt64(st.st_ino)]).inserted, depth < 64 else { return }
            let names = try listDirectory(dir)
            var files: [String] = []
            var subdirs: [String] = []
            for n in names {
                let p = joinPath(dir, n)
                switch fileKind(p) {
                case .file? where isEventFile(n): files.append(p)
                case .directory?: subdirs.append(n)
                default: break
                }
            }
            if !files.isEmpty {
                let name = rel.isEmpty ? baseName(realPath(dir)) : rel
                out.append(RunFiles(name: name, dir: dir, files: files))
            }
            for s in subdirs { try walk(joinPath(dir, s), rel.isEmpty ? s : rel + "/" + s, depth: depth + 1) }
        }
        try walk(root, "", depth: 0)
        return out
    }

    func importRun(_ g: RunFiles) throws {
        let source = "tensorboard:" + realPath(g.dir)
        if session.alreadyImported(source) { filesDone += g.files.count; return }
        var run = ImportedRun(name: g.name, project: project, source: source)
        var plugins: [String: String] = [:]   // tag -> plugin name (TF2 sends metadata with a tag's first value only)
        for f in g.files {
            try readFile(f, into: &run, plugins: &plugins)
            filesDone += 1
        }
        try session.write(run)
    }

    private func readFile(_ path: String, into run: inout ImportedRun, plugins: inout [String: String]) throws {
        let bytes = try readWholeFile(path)
        try bytes.withUnsafeBufferPointer { p in
            var reader = TFRecordReader(p)
            while true {
                let record: Range<Int>
                switch reader.next() {
                case .end: return
                case .record(let r): record = r
                case .truncated(let at):
                    // A writer still running (or killed) leaves a partial last record; TensorBoard ignores it too.
                    session.summary.skip("incomplete records at file ends")
                    if session.summary.firstBad == nil {
                        session.summary.firstBad = "\(path): byte \(at): incomplete record at the end of the file (still being written, or cut short)"
                    }
                    return
                case .badChecksum(let at, let what, let stored, let computed, let resumeAt):
                    try session.bad("damaged records", "\(path): byte \(at): \(what) checksum mismatch (stored \(hex32(stored)), computed \(hex32(computed))): the file is damaged")
                    guard let resumeAt else { return }
                    reader.offset = resumeAt
                    continue
                }
                do {
                    try parseEvent(UnsafeBufferPointer(rebasing: p[record]), into: &run, plugins: &plugins)
                } catch let e as ProtoError {
                    try session.bad("damaged records", "\(path): byte \(record.lowerBound - 12): Event record does not parse (\(e.message))")
                }
                session.progress.update("importing tensorboard: file \(filesDone + 1)/\(totalFiles) (\(run.name)), \(withCommas(pointsRead)) points read")
            }
        }
    }

    private func parseEvent(_ b: UnsafeBufferPointer<UInt8>, into run: inout ImportedRun, plugins: inout [String: String]) throws(ProtoError) {
        var r = ProtoReader(b)
        var wall = 0.0
        var step: Int64 = 0
        var summary: Range<Int>?
        while let (field, wire) = try r.field() {
            switch (field, wire) {
            case (1, 1): wall = Double(bitPattern: try r.fixed64())
            case (2, 0): step = Int64(bitPattern: try r.varint())
            case (5, 2): summary = try r.bytes()
            default: try r.skip(wire)
            }
        }
        guard let summary else { return }   // file_version, graph, session log, ...
        let time = wall.isFinite && abs(wall) < 9e15 ? Int64((wall * 1000).rounded()) : 0
        var s = ProtoReader(UnsafeBufferPointer(rebasing: b[summary]))
        while let (field, wire) = try s.field() {
            guard field == 1, wire == 2 else { try s.skip(wire); continue }
            let v = try s.bytes()
            let value = try parseValue(UnsafeBufferPointer(rebasing: s.buffer[v]))
            if let plugin = value.plugin, plugins[value.tag] == nil { plugins[value.tag] = plugin }
            switch value.kind {
            case .simple(let x):
                run.add(value.tag, step: step, value: x, time: time)
                pointsRead += 1
            case .tensor(let x?) where (plugins[value.tag] ?? "scalars") == "scalars" || (plugins[value.tag] ?? "").isEmpty:
                run.add(value.tag, step: step, value: x, time: time)
                pointsRead += 1
            default:
                session.summary.skip("non-scalar values")
            }
        }
    }

    private struct SummaryValue {
        enum Kind { case simple(Double), tensor(Double?), other }
        var tag = ""
        var plugin: String?
        var kind = Kind.other
    }

    /// Summary.Value: tag 1, simple_value 2 (float), node_name 7, tensor 8, metadata 9 (plugin_data 1: plugin_name 1).
    private func parseValue(_ b: UnsafeBufferPointer<UInt8>) throws(ProtoError) -> SummaryValue {
        var r = ProtoReader(b)
        var out = SummaryValue()
        var nodeName = ""
        while let (field, wire) = try r.field() {
            switch (field, wire) {
            case (1, 2): out.tag = r.string(try r.bytes())
            case (7, 2): nodeName = r.string(try r.bytes())
            case (2, 5): out.kind = .simple(Double(Float(bitPattern: try r.fixed32())))
            case (8, 2): out.kind = .tensor(try TensorScalar.parse(UnsafeBufferPointer(rebasing: b[try r.bytes()])))
            case (9, 2):
                var m = ProtoReader(UnsafeBufferPointer(rebasing: b[try r.bytes()]))
                while let (mf, mw) = try m.field() {
                    guard mf == 1, mw == 2 else { try m.skip(mw); continue }
                    let pd = try m.bytes()
                    var pr = ProtoReader(UnsafeBufferPointer(rebasing: m.buffer[pd]))
                    while let (pf, pw) = try pr.field() {
                        if pf == 1, pw == 2 { out.plugin = pr.string(try pr.bytes()) } else { try pr.skip(pw) }
                    }
                }
            default:
                try r.skip(wire)
            }
        }
        if out.tag.isEmpty { out.tag = nodeName }
        return out
    }
}

func hex32(_ v: UInt32) -> String { cformat("0x%08x", v) }

// MARK: TFRecord

/// TFRecord framing: uint64 length, masked CRC32C of the length, data, masked CRC32C of the data.
struct TFRecordReader {
    enum Item {
        case record(Range<Int>)
        case end
        /// Fewer bytes than the record needs at the end of the file, at this record offset.
        case truncated(at: Int)
        /// A checksum that does not match; `resumeAt` is the next offset where a valid record starts (if any).
        case badChecksum(at: Int, what: String, stored: UInt32, computed: UInt32, resumeAt: Int?)
    }

    let p: UnsafeBufferPointer<UInt8>
    var offset = 0

    init(_ p: UnsafeBufferPointer<UInt8>) { self.p = p }

    private func u32(_ at: Int) -> UInt32 {
        UInt32(p[at]) | UInt32(p[at + 1]) << 8 | UInt32(p[at + 2]) << 16 | UInt32(p[at + 3]) << 24
    }
    private func u64(_ at: Int) -> UInt64 { UInt64(u32(at)) | UInt64(u32(at + 4)) << 32 }

    mutating func next() -> Item {
        let o = offset
        if o >= p.count { return .end }
        if p.count - o < 12 { return .truncated(at: o) }
        let lenCRC = CRC32C.masked(UnsafeBufferPointer(rebasing: p[o..<o + 8]))
        let storedLen = u32(o + 8)
        if lenCRC != storedLen {
            return .badChecksum(at: o, what: "length", stored: storedLen, computed: lenCRC, resumeAt: resync(from: o + 1))
        }
        let len = u64(o)
        guard len <= UInt64(p.count - o - 12), p.count - o - 12 - Int(len) >= 4 else { return .truncated(at: o) }
        let start = o + 12, end = start + Int(len)
        let dataCRC = CRC32C.masked(UnsafeBufferPointer(rebasing: p[start..<end]))
        let storedData = u32(end)
        offset = end + 4
        if dataCRC != storedData {
            return .badChecksum(at: o, what: "data", stored: storedData, computed: dataCRC, resumeAt: end + 4)
        }
        return .record(start..<end)
    }

    /// The next offset from `from` where a whole record with valid checksums starts.
    private func resync(from: Int) -> Int? {
        var o = from
        while p.count - o >= 16 {
            if CRC32C.masked(UnsafeBufferPointer(rebasing: p[o..<o + 8])) == u32(o + 8) {
                let len = u64(o)
                if len <= UInt64(p.count - o - 16) {
                    let start = o + 12, end = start + Int(len)
                    if CRC32C.masked(UnsafeBufferPointer(rebasing: p[start..<end])) == u32(end) { return o }
                }
            }
            o += 1
        }
        return nil
    }
}

/// CRC-32C (Castagnoli), slicing by 8, and TFRecord's masked form.
enum CRC32C {
    static let tables: [[UInt32]] = {
        var t = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
            t[0][i] = c
        }
        for i in 0..<256 {
            for k in 1..<8 { t[k][i] = (t[k - 1][i] >> 8) ^ t[0][Int(t[k - 1][i] & 0xff)] }
        }
        return t
    }()
    static let flat: [UInt32] = tables.flatMap { $0 }

    static func checksum(_ p: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        flat.withUnsafeBufferPointer { t in
            var i = 0
            let n = p.count
            while n - i >= 8 {
                let lo = crc ^ (UInt32(p[i]) | UInt32(p[i + 1]) << 8 | UInt32(p[i + 2]) << 16 | UInt32(p[i + 3]) << 24)
                crc = t[7 * 256 + Int(lo & 0xff)] ^ t[6 * 256 + Int((lo >> 8) & 0xff)]
                    ^ t[5 * 256 + Int((lo >> 16) & 0xff)] ^ t[4 * 256 + Int(lo >> 24)]
                    ^ t[3 * 256 + Int(p[i + 4])] ^ t[2 * 256 + Int(p[i + 5])]
                    ^ t[1 * 256 + Int(p[i + 6])] ^ t[Int(p[i + 7])]
                i += 8
            }
            while i < n {
                crc = (crc >> 8) ^ t[Int((crc ^ UInt32(p[i])) & 0xff)]
                i += 1
            }
        }
        return ~crc
    }

    static func masked(_ p: UnsafeBufferPointer<UInt8>) -> UInt32 {
        let c = checksum(p)
        return ((c >> 15) | (c << 17)) &+ 0xa282_ead8
    }
}

// MARK: protobuf

struct ProtoError: Error {
    var message: String
}

/// A minimal protobuf wire-format reader.
struct ProtoReader {
    let buffer: UnsafeBufferPointer<UInt8>
    private var i: Int
    private let end: Int

    init(_ b: UnsafeBufferPointer<UInt8>) {
        buffer = b
        i = b.startIndex
        end = b.endIndex
    }

    var atEnd: Bool { i >= end }

    mutating func varint() throws(ProtoError) -> UInt64 {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard i < end else { throw ProtoError(message: "varint runs past the end") }
            let b = buffer[i]
            i += 1
            if shift == 63 && b > 1 { throw ProtoError(message: "varint longer than 64 bits") }
            v |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { return v }
            shift += 7
            if shift > 63 { throw ProtoError(message: "varint longer than 64 bits") }
        }
    }

    /// The next field number and wire type, or nil at the end.
    mutating func field() throws(ProtoError) -> (Int, Int)? {
        if i >= end { return nil }
        let key = try varint()
        let field = Int(truncatingIfNeeded: key >> 3)
        if field == 0 { throw ProtoError(message: "field number 0") }
        return (field, Int(key & 7))
    }

    mutating func fixed32() throws(ProtoError) -> UInt32 {
        guard end - i >= 4 else { throw ProtoError(message: "fixed32 runs past the end") }
        let v = UInt32(buffer[i]) | UInt32(buffer[i + 1]) << 8 | UInt32(buffer[i + 2]) << 16 | UInt32(buffer[i + 3]) << 24
        i += 4
        return v
    }

    mutating func fixed64() throws(ProtoError) -> UInt64 {
        let lo = UInt64(try fixed32())
        return lo | UInt64(try fixed32()) << 32
    }

    /// A length-delimited field's byte range (indices into `buffer`).
    mutating func bytes() throws(ProtoError) -> Range<Int> {
        let n = try varint()
        guard n <= UInt64(end - i) else { throw ProtoError(message: "length \(n) runs past the end") }
        let r = i..<(i + Int(n))
        i += Int(n)
        return r
    }

    func string(_ r: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: buffer[r]), as: UTF8.self) }

    mutating func skip(_ wire: Int) throws(ProtoError) {
        switch wire {
        case 0: _ = try varint()
        case 1: _ = try fixed64()
        case 2: _ = try bytes()
        case 5: _ = try fixed32()
        default: throw ProtoError(message: "unsupported wire type \(wire)")
        }
    }
}

/// The single number of a scalar TensorProto, or nil when the tensor is not one number.
///
/// TensorProto: dtype 1, tensor_shape 2 (dim 2: size 1), tensor_content 4, half_val 13, float_val 5,
/// double_val 6, int_val 7, int64_val 10, bool_val 11, uint32_val 16, uint64_val 17.
enum TensorScalar {
    // DataType enum values.
    static let float = 1, double = 2, int32 = 3, uint8 = 4, int16 = 5, int8 = 6, string = 7, int64 = 9, bool = 10,
               bfloat16 = 14, uint16 = 17, half = 19, uint32 = 22, uint64 = 23

    static func parse(_ b: UnsafeBufferPointer<UInt8>) throws(ProtoError) -> Double? {
        var r = ProtoReader(b)
        var dtype = 0
        var elements: UInt64 = 1
        var content: Range<Int>?
        var numbers: [Double] = []   // from the typed repeated fields
        var fieldOfNumbers = 0
        func collect(_ field: Int, _ wire: Int, _ r: inout ProtoReader) throws(ProtoError) {
            // Packed (wire type 2) or one value (wire type 0, 1, 5).
            func one(_ r: inout ProtoReader, _ wire: Int) throws(ProtoError) -> Double {
                switch (field, wire) {
                case (5, 5): return Double(Float(bitPattern: try r.fixed32()))
                case (6, 1): return Double(bitPattern: try r.fixed64())
                case (7, 0): return Double(Int32(truncatingIfNeeded: Int64(bitPattern: try r.varint())))
                case (10, 0): return Double(Int64(bitPattern: try r.varint()))
                case (11, 0): return try r.varint() != 0 ? 1 : 0
                case (13, 0): return halfBits(UInt16(truncatingIfNeeded: try r.varint()), bfloat: dtype == bfloat16)
                case (16, 0), (17, 0): return Double(try r.varint())
                default: throw ProtoError(message: "tensor field \(field) has wire type \(wire)")
                }
            }
            fieldOfNumbers = field
            if wire == 2 {
                let range = try r.bytes()
                var sub = ProtoReader(UnsafeBufferPointer(rebasing: b[range]))
                let elementWire = field == 5 ? 5 : field == 6 ? 1 : 0
                while !sub.atEnd { numbers.append(try one(&sub, elementWire)) }
            } else {
                numbers.append(try one(&r, wire))
            }
        }
        while let (field, wire) = try r.field() {
            switch (field, wire) {
            case (1, 0): dtype = Int(truncatingIfNeeded: try r.varint())
            case (2, 2):
                var shape = ProtoReader(UnsafeBufferPointer(rebasing: b[try r.bytes()]))
                while let (sf, sw) = try shape.field() {
                    guard sf == 2, sw == 2 else { try shape.skip(sw); continue }
                    var dim = ProtoReader(UnsafeBufferPointer(rebasing: shape.buffer[try shape.bytes()]))
                    var size: Int64 = 0
                    while let (df, dw) = try dim.field() {
                        if df == 1, dw == 0 { size = Int64(bitPattern: try dim.varint()) } else { try dim.skip(dw) }
                    }
                    elements = size < 0 ? 0 : elements.multipliedReportingOverflow(by: UInt64(size)).partialValue
                }
            case (4, 2): content = try r.bytes()
            case (5, _), (6, _), (7, _), (10, _), (11, _), (13, _), (16, _), (17, _): try collect(field, wire, &r)
            default: try r.skip(wire)
            }
        }
        guard elements == 1, dtype != string, dtype != 0 else { return nil }
        if let content, !content.isEmpty {
            let c = UnsafeBufferPointer(rebasing: b[content])
            func le(_ n: Int) -> UInt64? {
                guard c.count == n else { return nil }
                var v: UInt64 = 0
                for k in 0..<n { v |= UInt64(c[c.startIndex + k]) << (8 * UInt64(k)) }
                return v
            }
            switch dtype {
            case float: return le(4).map { Double(Float(bitPattern: UInt32($0))) }
            case double: return le(8).map { Double(bitPattern: $0) }
            case int32: return le(4).map { Double(Int32(bitPattern: UInt32($0))) }
            case int64: return le(8).map { Double(Int64(bitPattern: $0)) }
            case uint8: return le(1).map { Double($0) }
            case int8: return le(1).map { Double(Int8(bitPattern: UInt8($0))) }
            case int16: return le(2).map { Double(Int16(bitPattern: UInt16($0))) }
            case uint16: return le(2).map { Double($0) }
            case uint32, uint64: return le(dtype == uint32 ? 4 : 8).map { Double($0) }
            case bool: return le(1).map { $0 != 0 ? 1 : 0 }
            case half, bfloat16: return le(2).map { halfBits(UInt16($0), bfloat: dtype == bfloat16) }
            default: return nil
            }
        }
        let expected: Int
        switch dtype {
        case float: expected = 5
        case double: expected = 6
        case int32, int16, int8, uint8, uint16: expected = 7
        case int64: expected = 10
        case bool: expected = 11
        case half, bfloat16: expected = 13
        case uint32: expected = 16
        case uint64: expected = 17
        default: return nil
        }
        guard numbers.count == 1, fieldOfNumbers == expected else { return nil }
        return numbers[0]
    }

    static func halfBits(_ bits: UInt16, bfloat: Bool) -> Double {
        if bfloat { return Double(Float(bitPattern: UInt32(bits) << 16)) }
        let sign = (bits >> 15) & 1, exp = Int((bits >> 10) & 0x1f), frac = Double(bits & 0x3ff)
        var v: Double
        if exp == 0 { v = frac * 0x1p-24 }
        else if exp == 31 { v = frac == 0 ? .infinity : .nan }
        else { v = (1 + frac / 1024) * Double(sign: .plus, exponent: exp - 15, significand: 1) }
        if sign == 1 { v = -v }
        return v
    }
}
