import Foundation

/// A leaf column of a Parquet file's schema.
public struct ParquetLeafColumn: Sendable, Equatable {
    /// The dotted path (`a.b` for field `b` of group `a`).
    public var name: String
    public var path: [String]
    /// `nil` when the file names a physical type this module does not know.
    public var physicalType: ParquetPhysicalType?
    /// The byte length of FIXED_LEN_BYTE_ARRAY values.
    public var typeLength: Int?
    public var logicalType: ParquetLogicalType?
    /// The legacy `ConvertedType` number, when present (e.g. 5 DECIMAL, 9 TIMESTAMP_MILLIS).
    public var convertedType: Int?
    /// DECIMAL scale and precision (from the logical or the converted type).
    public var scale: Int?
    public var precision: Int?
    /// The maximum definition level: 0 for a required column, 1 for an optional top-level column.
    public var maxDefinitionLevel: Int
    /// Above 0 for columns inside a LIST/MAP/repeated group, which ``ParquetReader/read(rowGroup:column:)`` refuses.
    public var maxRepetitionLevel: Int

    /// Whether rows may be null.
    public var optional: Bool { maxDefinitionLevel > 0 }
}

/// A column chunk's statistics as stored (min_value/max_value, else the legacy min/max), raw bytes
/// in the column's PLAIN form without length prefix.
public struct ParquetColumnStatistics: Sendable, Equatable {
    public var min: [UInt8]?
    public var max: [UInt8]?
    public var nullCount: Int64?
}

/// Limits that keep a hostile file from making the reader allocate without bound.
public struct ParquetReaderLimits: Sendable {
    /// Rows of one row group that ``ParquetReader/read(rowGroup:column:)`` accepts.
    public var maxRowGroupRows = 1 << 26
    /// The declared uncompressed size of one page.
    public var maxPageBytes = 1 << 28
    /// The footer's size.
    public var maxFooterBytes = 1 << 28

    public init() {}
}

/// Reads a Parquet file: the footer when opened, then one column chunk at a time.
///
/// Supported: flat columns (required or optional, also leaves of non-repeated groups) of every
/// physical type but INT96; data pages v1 and v2 and dictionary pages; encodings PLAIN,
/// PLAIN_DICTIONARY / RLE_DICTIONARY, RLE (booleans and levels), DELTA_BINARY_PACKED and
/// BYTE_STREAM_SPLIT; codecs UNCOMPRESSED, SNAPPY, GZIP, ZSTD and LZ4_RAW. Anything else, and any
/// damage, is a ``ParquetError`` naming the file, row group, column, byte offset and feature.
public final class ParquetReader {
    private enum Source {
        case memory([UInt8])
        case file(FileHandle)
    }

    /// The file's path, or the name given to an in-memory reader.
    public let name: String
    public let columns: [ParquetLeafColumn]
    /// Rows in the file, as the footer says.
    public let rowCount: Int64
    /// The footer's key-value metadata (for a key given twice, the last value).
    public let metadata: [String: String]
    public let createdBy: String?
    public let limits: ParquetReaderLimits
    private let source: Source
    private let size: Int
    private let dataEnd: Int
    private let groups: [RowGroup]

    /// Opens the file at `path` and reads its footer.
    public convenience init(path: String, limits: ParquetReaderLimits = .init()) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ParquetError(.io, file: path, "cannot open the file") }
        let size: UInt64
        do { size = try handle.seekToEnd() } catch { throw ParquetError(.io, file: path, "cannot read the file: \(error)") }
        try self.init(source: .file(handle), size: Int(size), name: path, limits: limits)
    }

    /// Reads a Parquet file held in memory; `name` is used in errors.
    public convenience init(bytes: [UInt8], name: String = "<memory>", limits: ParquetReaderLimits = .init()) throws {
        try self.init(source: .memory(bytes), size: bytes.count, name: name, limits: limits)
    }

    deinit {
        if case .file(let h) = source { try? h.close() }
    }

    private init(source: Source, size: Int, name: String, limits: ParquetReaderLimits) throws {
        self.source = source
        self.size = size
        self.name = name
        self.limits = limits
        func fail(_ k: ParquetError.Kind, _ at: Int?, _ m: String) -> ParquetError { ParquetError(k, file: name, offset: at, m) }
        guard size >= 12 else { throw fail(.notParquet, nil, "\(size) bytes is too short to be a Parquet file") }
        let tail = try Self.read(source, name: name, offset: size - 8, count: 8)
        if tail[4...] == Array("PARE".utf8)[...] { throw fail(.unsupported, size - 4, "encrypted footer (PARE) is not supported") }
        guard tail[4...] == Array("PAR1".utf8)[...] else {
            throw fail(.notParquet, size - 4, "no PAR1 magic at the end: not a Parquet file, or truncated")
        }
        guard try Self.read(source, name: name, offset: 0, count: 4) == Array("PAR1".utf8) else {
            throw fail(.notParquet, 0, "no PAR1 magic at the start: not a Parquet file")
        }
        let footerLength = Int(tail[0]) | Int(tail[1]) << 8 | Int(tail[2]) << 16 | Int(tail[3]) << 24
        guard footerLength <= size - 12 else {
            throw fail(.corrupt, size - 8, "footer length \(footerLength) does not fit in a file of \(size) bytes")
        }
        guard footerLength <= limits.maxFooterBytes else {
            throw fail(.unsupported, size - 8, "footer of \(footerLength) bytes is more than the reader's limit of \(limits.maxFooterBytes)")
        }
        let footerStart = size - 8 - footerLength
        dataEnd = footerStart
        let footer = try Self.read(source, name: name, offset: footerStart, count: footerLength)
        var r = ThriftReader(footer, from: 0, to: footer.count)
        let meta: FileMetaData
        do { meta = try FileMetaData.read(&r) } catch {
            throw fail(error.unsupported ? .unsupported : .corrupt, footerStart + (error.offset ?? 0), "footer: " + error.message)
        }
        do { columns = try Self.leaves(meta.schema) } catch {
            throw fail(.corrupt, footerStart, "schema: " + error.message)
        }
        for (i, g) in meta.rowGroups.enumerated() where g.columns.count != columns.count {
            throw ParquetError(
                .corrupt, file: name, rowGroup: i, offset: footerStart, "\(g.columns.count) column chunks for \(columns.count) columns")
        }
        groups = meta.rowGroups
        rowCount = meta.numRows
        var kv: [String: String] = [:]
        for (k, v) in meta.keyValue { kv[k] = v }
        metadata = kv
        createdBy = meta.createdBy
    }

    private static func read(_ source: Source, name: String, offset: Int, count: Int) throws -> [UInt8] {
        switch source {
        case .memory(let b):
            guard offset >= 0, count >= 0, offset <= b.count, count <= b.count - offset else {
                throw ParquetError(.corrupt, file: name, offset: offset, "\(count) bytes past the end of the file")
            }
            return Array(b[offset..<(offset + count)])
        case .file(let h):
            do {
                try h.seek(toOffset: UInt64(offset))
                let d = try h.read(upToCount: count) ?? Data()
                guard d.count == count else { throw ParquetError(.corrupt, file: name, offset: offset, "file ends \(count - d.count) bytes early") }
                return [UInt8](d)
            } catch let e as ParquetError { throw e } catch {
                throw ParquetError(.io, file: name, offset: offset, "read failed: \(error)")
            }
        }
    }

    /// The leaves of the flattened schema tree, with their definition and repetition levels.
    private static func leaves(_ schema: [SchemaElement]) throws(DecodeFailure) -> [ParquetLeafColumn] {
        guard let root = schema.first else { throw .corrupt("the schema is empty") }
        var out: [ParquetLeafColumn] = []
        var next = 1
        func walk(_ count: Int, _ path: [String], _ def: Int, _ rep: Int, _ depth: Int) throws(DecodeFailure) {
            guard depth < 64 else { throw .corrupt("schema nested more than 64 levels") }
            for _ in 0..<count {
                guard next < schema.count else { throw .corrupt("schema has fewer elements than its groups declare") }
                let e = schema[next]
                next += 1
                let r = e.repetition ?? 0
                guard (0...2).contains(r) else { throw .corrupt("schema element '\(e.name)' has repetition \(r)") }
                let d2 = def + (r >= 1 ? 1 : 0), r2 = rep + (r == 2 ? 1 : 0)
                let children = Int(e.numChildren ?? 0)
                guard children >= 0, children <= schema.count else { throw .corrupt("schema element '\(e.name)' has \(children) children") }
                if children > 0 || (e.type == nil && e.numChildren != nil) {
                    try walk(children, path + [e.name], d2, r2, depth + 1)
                } else {
                    var scale = e.scale.map(Int.init), precision = e.precision.map(Int.init)
                    if case .decimal(let p, let s) = e.logicalType { scale = s; precision = p }
                    out.append(
                        ParquetLeafColumn(
                            name: (path + [e.name]).joined(separator: "."), path: path + [e.name],
                            physicalType: e.type.flatMap(ParquetPhysicalType.init(code:)), typeLength: e.typeLength.map(Int.init),
                            logicalType: e.logicalType, convertedType: e.convertedType.map(Int.init), scale: scale, precision: precision,
                            maxDefinitionLevel: d2, maxRepetitionLevel: r2))
                }
            }
        }
        let n = Int(root.numChildren ?? 0)
        guard n >= 0, n < schema.count else { throw .corrupt("the root has \(n) children in a schema of \(schema.count) elements") }
        try walk(n, [], 0, 0, 0)
        return out
    }

    /// The number of row groups.
    public var rowGroupCount: Int { groups.count }

    /// The rows of row group `index`, as the footer says.
    public func rowCount(rowGroup index: Int) -> Int64 { groups[index].numRows }

    /// The index of the leaf column with dotted name `name`.
    public func columnIndex(_ name: String) -> Int? { columns.firstIndex { $0.name == name } }

    /// The statistics of a column chunk, when the writer stored any.
    public func statistics(rowGroup: Int, column: Int) -> ParquetColumnStatistics? {
        guard let s = groups[rowGroup].columns[column].metaData?.statistics else { return nil }
        return ParquetColumnStatistics(min: s.minValue ?? s.min, max: s.maxValue ?? s.max, nullCount: s.nullCount)
    }

    /// Reads one column of one row group: one entry per row.
    public func read(rowGroup: Int, column: Int) throws -> ParquetColumnData {
        guard rowGroup >= 0, rowGroup < groups.count, column >= 0, column < columns.count else {
            throw ParquetError(.invalidArgument, file: name, "no row group \(rowGroup) / column \(column)")
        }
        let leaf = columns[column]
        func fail(_ k: ParquetError.Kind, _ at: Int?, _ m: String) -> ParquetError {
            ParquetError(k, file: name, rowGroup: rowGroup, column: leaf.name, offset: at, m)
        }
        let group = groups[rowGroup]
        let chunk = group.columns[column]
        guard leaf.maxRepetitionLevel == 0 else { throw fail(.unsupported, nil, "nested column with repeated values (LIST/MAP) is not supported") }
        guard let type = leaf.physicalType else { throw fail(.unsupported, nil, "unknown physical type") }
        guard type != .int96 else { throw fail(.unsupported, nil, "INT96 values are not supported") }
        if type == .fixedLenByteArray && (leaf.typeLength ?? 0) <= 0 { throw fail(.corrupt, nil, "FIXED_LEN_BYTE_ARRAY without a positive length") }
        guard chunk.filePath == nil else { throw fail(.unsupported, nil, "column chunk stored in another file (\(chunk.filePath!))") }
        guard let meta = chunk.metaData else { throw fail(.unsupported, nil, "column chunk without metadata (encrypted columns are not supported)") }
        guard meta.type == type.code else { throw fail(.corrupt, nil, "column chunk of physical type \(meta.type) in a \(type.rawValue) column") }
        guard let codec = ParquetCompression(code: meta.codec) else { throw fail(.unsupported, nil, "compression codec \(meta.codec)") }
        guard [.uncompressed, .snappy, .gzip, .zstd, .lz4Raw].contains(codec) else {
            throw fail(.unsupported, nil, "\(codec.rawValue.uppercased()) compression is not supported")
        }
        guard group.numRows >= 0 else { throw fail(.corrupt, nil, "row group of \(group.numRows) rows") }
        guard group.numRows <= Int64(limits.maxRowGroupRows) else {
            throw fail(.unsupported, nil, "row group of \(group.numRows) rows is more than the reader's limit of \(limits.maxRowGroupRows)")
        }
        let rows = Int(group.numRows)
        var start = Int(clamping: meta.dataPageOffset)
        if let d = meta.dictionaryPageOffset, d > 0, d < meta.dataPageOffset { start = Int(clamping: d) }
        let length = Int(clamping: meta.totalCompressedSize)
        guard start >= 4, length >= 0, start <= dataEnd, length <= dataEnd - start else {
            throw fail(.corrupt, start, "column chunk of \(length) bytes at offset \(start) lies outside the file's data (which ends at \(dataEnd))")
        }
        let bytes = try Self.read(source, name: name, offset: start, count: length)
        var decoder = ChunkDecoder(type: type, typeLength: leaf.typeLength ?? 0, maxDef: leaf.maxDefinitionLevel, codec: codec, limits: limits)
        var pos = 0
        var pageAt = start
        do throws(DecodeFailure) {
            while decoder.rows < rows {
                pageAt = start + pos
                guard pos < bytes.count else {
                    throw DecodeFailure.corrupt("column chunk ends after \(decoder.rows) of \(rows) rows")
                }
                var r = ThriftReader(bytes, from: pos, to: bytes.count)
                let header: PageHeader
                do { header = try PageHeader.read(&r) } catch {
                    throw DecodeFailure(unsupported: error.unsupported, offset: nil, message: "page header: " + error.message)
                }
                let bodyStart = r.pos
                guard header.compressedSize >= 0, header.uncompressedSize >= 0, Int(header.compressedSize) <= bytes.count - bodyStart else {
                    throw DecodeFailure.corrupt("page of \(header.compressedSize) bytes runs past the end of the column chunk")
                }
                guard Int(header.uncompressedSize) <= limits.maxPageBytes else {
                    throw DecodeFailure.unsupported(
                        "page of \(header.uncompressedSize) bytes is more than the reader's limit of \(limits.maxPageBytes)")
                }
                pos = bodyStart + Int(header.compressedSize)
                try decoder.page(header, bytes[bodyStart..<pos], rowsLeft: rows - decoder.rows)
            }
        } catch {
            throw fail(error.unsupported ? .unsupported : .corrupt, pageAt, error.message)
        }
        return decoder.result()
    }
}

/// Non-null values as they are decoded: fixed-width bit patterns or byte arrays.
enum RawValues {
    case fixed([UInt64])
    case bytes([[UInt8]])

    var count: Int {
        switch self {
        case .fixed(let a): a.count
        case .bytes(let a): a.count
        }
    }

    mutating func append(_ other: RawValues) {
        switch (self, other) {
        case (.fixed(var a), .fixed(let b)): self = .fixed([]); a += b; self = .fixed(a)
        case (.bytes(var a), .bytes(let b)): self = .bytes([]); a += b; self = .bytes(a)
        default: preconditionFailure("mixed value kinds")
        }
    }
}

/// The pages of one column chunk, decoded in order.
struct ChunkDecoder {
    let type: ParquetPhysicalType
    let typeLength: Int
    let maxDef: Int
    let codec: ParquetCompression
    let limits: ParquetReaderLimits
    var rows = 0
    var valid: [Bool] = []
    var values: RawValues
    var dictionary: RawValues?

    init(type: ParquetPhysicalType, typeLength: Int, maxDef: Int, codec: ParquetCompression, limits: ParquetReaderLimits) {
        self.type = type
        self.typeLength = typeLength
        self.maxDef = maxDef
        self.codec = codec
        self.limits = limits
        values = type == .byteArray || type == .fixedLenByteArray ? .bytes([]) : .fixed([])
    }

    var width: Int {
        switch type {
        case .int32, .float: 4
        case .int64, .double: 8
        case .boolean: 1
        default: typeLength
        }
    }

    mutating func page(_ h: PageHeader, _ body: ArraySlice<UInt8>, rowsLeft: Int) throws(DecodeFailure) {
        switch h.type {
        case PageType.dictionary:
            guard let d = h.dictionary else { throw .corrupt("dictionary page without its header") }
            guard dictionary == nil, rows == 0 else { throw .corrupt("a dictionary page after the first page of the chunk") }
            guard d.encoding == EncodingCode.plain || d.encoding == EncodingCode.plainDictionary else {
                throw .unsupported("dictionary page encoded \(EncodingCode.name(d.encoding))")
            }
            guard d.numValues >= 0 else { throw .corrupt("dictionary of \(d.numValues) values") }
            let data = try Codecs.decompress(codec, body, size: Int(h.uncompressedSize))
            var c = ByteCursor(data)
            dictionary = try plain(&c, count: Int(d.numValues))
        case PageType.data:
            guard let d = h.dataV1 else { throw .corrupt("data page without its header") }
            let n = Int(d.numValues)
            guard n >= 0, n <= rowsLeft else { throw .corrupt("data page of \(n) values where \(rowsLeft) rows are left") }
            let data = try Codecs.decompress(codec, body, size: Int(h.uncompressedSize))
            var c = ByteCursor(data)
            var present = n
            if maxDef > 0 {
                guard d.definitionLevelEncoding == EncodingCode.rle else {
                    throw .unsupported("definition levels encoded \(EncodingCode.name(d.definitionLevelEncoding))")
                }
                let len = Int(try c.u32le())
                try c.need(len, "the definition levels")
                var lc = ByteCursor(data, from: c.pos, to: c.pos + len)
                present = try levels(&lc, count: n)
                c.pos += len
            }
            try decodeValues(d.encoding, &c, count: present)
            rows += n
        case PageType.dataV2:
            guard let d = h.dataV2 else { throw .corrupt("data page v2 without its header") }
            let n = Int(d.numValues)
            guard n >= 0, n <= rowsLeft else { throw .corrupt("data page of \(n) values where \(rowsLeft) rows are left") }
            let defLen = Int(d.definitionLevelsByteLength), repLen = Int(d.repetitionLevelsByteLength)
            guard defLen >= 0, repLen == 0, defLen <= body.count, defLen <= Int(h.uncompressedSize) else {
                throw .corrupt("data page v2 declares \(defLen) + \(repLen) level bytes in a page of \(body.count)")
            }
            let levelBytes = Array(body.prefix(defLen))
            let rest = body.dropFirst(defLen)
            let size = Int(h.uncompressedSize) - defLen
            let data = d.isCompressed ? try Codecs.decompress(codec, rest, size: size) : try Codecs.decompress(.uncompressed, rest, size: size)
            var present = n
            if maxDef > 0 {
                var lc = ByteCursor(levelBytes)
                present = try levels(&lc, count: n)
            }
            var c = ByteCursor(data)
            try decodeValues(d.encoding, &c, count: present)
            rows += n
        default:
            break  // index pages and unknown page types carry no values
        }
    }

    /// Decodes `count` definition levels, records which rows are present and returns how many are.
    private mutating func levels(_ c: inout ByteCursor, count: Int) throws(DecodeFailure) -> Int {
        let lv = try RLEHybrid.decode(&c, width: bitWidth(UInt64(maxDef)), count: count)
        var present = 0
        for l in lv {
            guard Int(l) <= maxDef else { throw .corrupt("definition level \(l) above the column's maximum \(maxDef)") }
            let p = Int(l) == maxDef
            valid.append(p)
            if p { present += 1 }
        }
        return present
    }

    private func plain(_ c: inout ByteCursor, count: Int) throws(DecodeFailure) -> RawValues {
        switch type {
        case .boolean: .fixed(try Plain.decodeBooleans(&c, count: count))
        case .byteArray: .bytes(try Plain.decodeBytes(&c, count: count, fixed: nil))
        case .fixedLenByteArray: .bytes(try Plain.decodeBytes(&c, count: count, fixed: typeLength))
        default: .fixed(try Plain.decodeFixed(&c, width: width, count: count))
        }
    }

    private mutating func decodeValues(_ encoding: Int32, _ c: inout ByteCursor, count: Int) throws(DecodeFailure) {
        let got: RawValues
        switch encoding {
        case EncodingCode.plain:
            got = try plain(&c, count: count)
        case EncodingCode.plainDictionary, EncodingCode.rleDictionary:
            guard let dictionary else { throw .corrupt("dictionary-encoded page without a dictionary page") }
            if count == 0 { return }
            let w = Int(try c.byte())
            let ids = try RLEHybrid.decode(&c, width: w, count: count)
            switch dictionary {
            case .fixed(let d):
                var out = [UInt64]()
                out.reserveCapacity(count)
                for i in ids {
                    guard Int(i) < d.count else { throw .corrupt("dictionary index \(i) of a dictionary of \(d.count)") }
                    out.append(d[Int(i)])
                }
                got = .fixed(out)
            case .bytes(let d):
                var out = [[UInt8]]()
                out.reserveCapacity(count)
                for i in ids {
                    guard Int(i) < d.count else { throw .corrupt("dictionary index \(i) of a dictionary of \(d.count)") }
                    out.append(d[Int(i)])
                }
                got = .bytes(out)
            }
        case EncodingCode.rle where type == .boolean:
            let len = Int(try c.u32le())
            try c.need(len, "RLE booleans")
            var sub = ByteCursor(c.bytes, from: c.pos, to: c.pos + len)
            got = .fixed(try RLEHybrid.decode(&sub, width: 1, count: count).map { UInt64($0) })
            c.pos += len
        case EncodingCode.deltaBinaryPacked where type == .int32 || type == .int64:
            let v = try DeltaBinaryPacked.decode(&c, count: count)
            got = .fixed(type == .int32 ? v.map { UInt64(UInt32(truncatingIfNeeded: $0)) } : v.map { UInt64(bitPattern: $0) })
        case EncodingCode.byteStreamSplit where type != .boolean && type != .byteArray:
            got =
                type == .fixedLenByteArray
                ? .bytes(try ByteStreamSplit.decodeBytes(&c, width: typeLength, count: count))
                : .fixed(try ByteStreamSplit.decode(&c, width: width, count: count))
        default:
            throw .unsupported("encoding \(EncodingCode.name(encoding)) of \(type.rawValue) values is not supported")
        }
        values.append(got)
    }

    /// One entry per row (placeholders at nulls).
    func result() -> ParquetColumnData {
        let flags: [Bool]? = maxDef > 0 ? valid : nil
        func spread<T>(_ a: [T], _ zero: T) -> [T] {
            guard let flags else { return a }
            var out = [T]()
            out.reserveCapacity(flags.count)
            var k = 0
            for f in flags {
                if f { out.append(a[k]); k += 1 } else { out.append(zero) }
            }
            return out
        }
        switch values {
        case .bytes(let a):
            return ParquetColumnData(.bytes(spread(a, [])), valid: flags)
        case .fixed(let a):
            let v = spread(a, 0)
            switch type {
            case .boolean: return ParquetColumnData(.boolean(v.map { $0 != 0 }), valid: flags)
            case .int32: return ParquetColumnData(.int32(v.map { Int32(truncatingIfNeeded: $0) }), valid: flags)
            case .float: return ParquetColumnData(.float(v.map { Float(bitPattern: UInt32(truncatingIfNeeded: $0)) }), valid: flags)
            case .double: return ParquetColumnData(.double(v.map { Double(bitPattern: $0) }), valid: flags)
            default: return ParquetColumnData(.int64(v.map { Int64(bitPattern: $0) }), valid: flags)
            }
        }
    }
}

/// Entry point for fuzzing the reader: opens `bytes` as a Parquet file (with small limits) and
/// reads every column of every row group. ``ParquetError``s are expected; a trap or crash is a
/// bug. Returns the number of values read. Not API: the underscore says so.
public enum _ParquetFuzz {
    public static func readEverything(_ bytes: [UInt8]) -> Int {
        var limits = ParquetReaderLimits()
        limits.maxRowGroupRows = 1 << 20
        limits.maxPageBytes = 1 << 22
        limits.maxFooterBytes = 1 << 22
        guard let r = try? ParquetReader(bytes: bytes, name: "fuzz", limits: limits) else { return 0 }
        var n = 0
        for g in 0..<r.rowGroupCount {
            for c in r.columns.indices {
                _ = r.statistics(rowGroup: g, column: c)
                if let d = try? r.read(rowGroup: g, column: c) { n += d.count }
            }
        }
        return n
    }
}
