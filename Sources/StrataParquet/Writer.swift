import Foundation

/// A column of a file written by ``ParquetWriter``: flat (not nested), required or optional.
public struct ParquetColumn: Sendable, Equatable {
    /// What the column holds, and so its Parquet types.
    public enum Kind: Sendable, Equatable {
        /// INT64.
        case int64
        /// DOUBLE.
        case double
        /// BYTE_ARRAY with logical type STRING (converted type UTF8).
        case string
        /// BOOLEAN.
        case boolean
        /// INT64 with logical type TIMESTAMP(MILLIS, isAdjustedToUTC) (converted type TIMESTAMP_MILLIS):
        /// milliseconds since the Unix epoch, given as ``ParquetValues/int64(_:)``.
        case timestampMillis
    }

    /// How the values of data pages are encoded (levels always use the RLE/bit-packed hybrid).
    public enum Encoding: Sendable, Equatable {
        case plain
        /// RLE_DICTIONARY data pages and a PLAIN dictionary page per column chunk; falls back to
        /// PLAIN for a chunk whose dictionary would pass the options' limits. Not for booleans.
        case dictionary
        /// DELTA_BINARY_PACKED (int64 and timestamp columns).
        case deltaBinaryPacked
        /// BYTE_STREAM_SPLIT (double, int64 and timestamp columns).
        case byteStreamSplit
    }

    public var name: String
    public var kind: Kind
    /// Whether rows may be null (an OPTIONAL column with definition levels).
    public var optional: Bool
    public var encoding: Encoding

    /// A column; the encoding defaults to dictionary for strings, DELTA_BINARY_PACKED for int64
    /// and timestamps, BYTE_STREAM_SPLIT for doubles and PLAIN for booleans.
    public init(_ name: String, _ kind: Kind, optional: Bool = false, encoding: Encoding? = nil) {
        self.name = name
        self.kind = kind
        self.optional = optional
        switch kind {
        case .string: self.encoding = encoding ?? .dictionary
        case .int64, .timestampMillis: self.encoding = encoding ?? .deltaBinaryPacked
        case .double: self.encoding = encoding ?? .byteStreamSplit
        case .boolean: self.encoding = encoding ?? .plain
        }
    }

    var allowed: Bool {
        switch (kind, encoding) {
        case (.boolean, .plain): true
        case (.boolean, _): false
        case (.string, .plain), (.string, .dictionary): true
        case (.string, _): false
        case (.double, .deltaBinaryPacked): false
        default: true
        }
    }
}

/// Settings of a ``ParquetWriter``.
public struct ParquetWriterOptions: Sendable {
    /// The page codec: ``ParquetCompression/uncompressed``, ``ParquetCompression/lz4Raw``,
    /// ``ParquetCompression/zstd`` or ``ParquetCompression/snappy``.
    public var compression: ParquetCompression = .zstd
    /// The ZSTD level (1 is fast; higher is smaller and slower).
    public var zstdLevel: Int32 = 1
    /// Rows per row group: the writer holds at most this many rows in memory.
    public var rowGroupRows = 1_048_576
    /// Rows per data page.
    public var pageRows = 65_536
    /// A column chunk whose dictionary would hold more distinct values than this is written PLAIN.
    public var dictionaryMaxEntries = 65_536
    /// ... or whose dictionary page would be larger than this many bytes.
    public var dictionaryMaxBytes = 1 << 20
    /// Data page header version: 1 (DataPageHeader) or 2 (DataPageHeaderV2).
    public var dataPageVersion = 1
    /// String min/max statistics longer than this are left out (they stay exact, never truncated).
    public var statisticsMaxBytes = 1024
    /// Key-value metadata of the file footer.
    public var metadata: [String: String] = [:]
    /// The footer's `created_by`.
    public var createdBy = "strata-parquet version 1.0.0"

    public init() {}
}

/// Writes a Parquet file as a stream: rows are appended in column batches and written out a row
/// group at a time (``ParquetWriterOptions/rowGroupRows``), so memory stays bounded whatever the
/// file's size. ``close()`` writes the footer; a file without it is not readable.
public final class ParquetWriter {
    public let columns: [ParquetColumn]
    public let options: ParquetWriterOptions
    private let name: String
    private let output: ([UInt8]) throws -> Void
    private var onClose: (() throws -> Void)?
    private var offset = 0
    private var fixed: [[UInt64]]
    private var bytes: [[[UInt8]]]
    private var valid: [[Bool]]
    /// String columns encoded with a dictionary keep, per row group, the distinct values in
    /// first-seen order and one index per non-null row (no copy of a string per row).
    private var dictionaries: [StringDictionary]
    private var bufferedRows = 0
    private var rowGroups: [RowGroup] = []
    private var closed = false

    /// The number of rows appended so far.
    public private(set) var rowCount: Int64 = 0

    /// A writer that hands the file's bytes, in order, to `output` (a file, a socket, memory).
    /// `name` is used in errors.
    public init(
        columns: [ParquetColumn], options: ParquetWriterOptions = .init(), name: String = "<stream>", output: @escaping ([UInt8]) throws -> Void
    ) throws {
        func fail(_ m: String) -> ParquetError { ParquetError(.invalidArgument, file: name, m) }
        guard !columns.isEmpty else { throw fail("a Parquet file needs at least one column") }
        var names = Set<String>()
        for c in columns {
            guard !c.name.isEmpty, names.insert(c.name).inserted else { throw fail("column names must be non-empty and distinct ('\(c.name)')") }
            guard c.allowed else { throw fail("column '\(c.name)': encoding \(c.encoding) does not fit a \(c.kind) column") }
        }
        guard [ParquetCompression.uncompressed, .lz4Raw, .zstd, .snappy].contains(options.compression) else {
            throw fail("the writer does not support \(options.compression.rawValue) compression")
        }
        guard options.rowGroupRows > 0, options.pageRows > 0, options.dataPageVersion == 1 || options.dataPageVersion == 2 else {
            throw fail("rowGroupRows and pageRows must be positive, dataPageVersion 1 or 2")
        }
        self.columns = columns
        self.options = options
        self.name = name
        self.output = output
        fixed = Array(repeating: [], count: columns.count)
        bytes = Array(repeating: [], count: columns.count)
        valid = Array(repeating: [], count: columns.count)
        dictionaries = Array(repeating: StringDictionary(), count: columns.count)
        try emit(Array("PAR1".utf8))
    }

    /// A writer to a new file at `path` (replaced if it exists).
    public convenience init(path: String, columns: [ParquetColumn], options: ParquetWriterOptions = .init()) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw ParquetError(.io, file: path, "cannot create the file")
        }
        try self.init(columns: columns, options: options, name: path) { chunk in
            do { try handle.write(contentsOf: chunk) } catch { throw ParquetError(.io, file: path, "write failed: \(error)") }
        }
        onClose = {
            do { try handle.synchronize(); try handle.close() } catch { throw ParquetError(.io, file: path, "close failed: \(error)") }
        }
    }

    private func emit(_ b: [UInt8]) throws {
        try output(b)
        offset += b.count
    }

    /// Appends rows: one ``ParquetColumnData`` per column, in schema order, all with the same count.
    /// Int64 and timestamp columns take ``ParquetValues/int64(_:)``, doubles ``ParquetValues/double(_:)``,
    /// strings ``ParquetValues/string(_:)`` or ``ParquetValues/bytes(_:)``, booleans
    /// ``ParquetValues/boolean(_:)``. A batch that does not fit is refused whole.
    public func append(_ batch: [ParquetColumnData]) throws {
        func fail(_ m: String) -> ParquetError { ParquetError(.invalidArgument, file: name, m) }
        guard !closed else { throw fail("append after close") }
        guard batch.count == columns.count else { throw fail("a batch of \(batch.count) columns for \(columns.count) columns") }
        let rows = batch[0].count
        for (c, d) in zip(columns, batch) {
            guard d.count == rows else { throw fail("column '\(c.name)' has \(d.count) rows where the batch has \(rows)") }
            if let v = d.valid {
                guard v.count == rows else { throw fail("column '\(c.name)' has \(v.count) validity flags for \(rows) rows") }
                guard c.optional || !v.contains(false) else { throw fail("column '\(c.name)' is required but a row is null") }
            }
            let fits: Bool
            switch (c.kind, d.values) {
            case (.int64, .int64), (.timestampMillis, .int64), (.double, .double), (.string, .string), (.string, .bytes), (.boolean, .boolean):
                fits = true
            case (.string, .indexed(let ids, let dictionary)):
                fits = true
                let n = UInt32(truncatingIfNeeded: dictionary.count)
                for (k, id) in ids.enumerated() where id >= n && d.valid?[k] != false {
                    throw fail("column '\(c.name)': row \(k) has index \(id) in a dictionary of \(dictionary.count)")
                }
            default: fits = false
            }
            guard fits else { throw fail("column '\(c.name)' of kind \(c.kind) cannot take these values") }
        }
        var done = 0
        while done < rows {
            let take = min(rows - done, options.rowGroupRows - bufferedRows)
            for (i, d) in batch.enumerated() {
                let range = done..<(done + take)
                let v = d.valid.map { Array($0[range]) } ?? Array(repeating: true, count: take)
                if columns[i].optional { valid[i] += v }
                func keep(_ k: Int) -> Bool { v[k - done] }
                let dict = columns[i].kind == .string && columns[i].encoding == .dictionary
                // The column's buffers are moved out of the object while rows are added: appending
                // to a local is free of the exclusivity and uniqueness checks that an element-wise
                // append to a stored property pays on every row.
                var f = fixed[i], by = bytes[i], sd = dictionaries[i]
                fixed[i] = []
                bytes[i] = []
                dictionaries[i] = StringDictionary()
                defer {
                    fixed[i] = f
                    bytes[i] = by
                    dictionaries[i] = sd
                }
                // Without nulls, fixed-width values are copied as a block.
                switch d.values {
                case .int64(let a) where d.valid == nil: f += a[range].lazy.map { UInt64(bitPattern: $0) }
                case .double(let a) where d.valid == nil: f += a[range].lazy.map { $0.bitPattern }
                case .int64(let a): for k in range where keep(k) { f.append(UInt64(bitPattern: a[k])) }
                case .double(let a): for k in range where keep(k) { f.append(a[k].bitPattern) }
                case .boolean(let a): for k in range where keep(k) { f.append(a[k] ? 1 : 0) }
                case .string(let a):
                    for k in range where keep(k) {
                        if dict { sd.add(Array(a[k].utf8)) } else { by.append(Array(a[k].utf8)) }
                    }
                case .bytes(let a):
                    for k in range where keep(k) {
                        if dict { sd.add(a[k]) } else { by.append(a[k]) }
                    }
                case .indexed(let ids, let source):
                    if dict {
                        // Each distinct source entry is looked up once per batch.
                        var local = [UInt32](repeating: .max, count: source.count)
                        sd.ids.reserveCapacity(sd.ids.count + take)
                        // Rows come in runs of one index (a series' run, metric, labels): a run is
                        // appended at once.
                        var k = range.lowerBound
                        while k < range.upperBound {
                            if d.valid != nil && !keep(k) {
                                k += 1
                                continue
                            }
                            let s = Int(ids[k])
                            var e = k + 1
                            if d.valid == nil { while e < range.upperBound && ids[e] == ids[k] { e += 1 } }
                            if local[s] == .max { local[s] = sd.id(Array(source[s].utf8)) }
                            sd.ids.append(contentsOf: repeatElement(local[s], count: e - k))
                            k = e
                        }
                    } else {
                        for k in range where keep(k) { by.append(Array(source[Int(ids[k])].utf8)) }
                    }
                case .int32, .float: break  // refused above
                }
            }
            bufferedRows += take
            rowCount += Int64(take)
            done += take
            if bufferedRows == options.rowGroupRows { try flushRowGroup() }
        }
    }

    /// Writes the rows still held, then the footer, and closes the output. The writer cannot be
    /// used afterwards.
    public func close() throws {
        guard !closed else { return }
        try flushRowGroup()
        closed = true
        var meta = FileMetaData()
        meta.schema = [SchemaElement(name: "schema", numChildren: Int32(columns.count))] + columns.map(Self.schemaElement)
        meta.numRows = rowCount
        meta.rowGroups = rowGroups
        meta.keyValue = options.metadata.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        meta.createdBy = options.createdBy
        meta.columnOrders = columns.count
        var w = ThriftWriter()
        w.structBody { meta.write(&$0) }
        var tail = w.bytes
        appendLE(UInt64(w.bytes.count), width: 4, to: &tail)
        tail += Array("PAR1".utf8)
        try emit(tail)
        try onClose?()
    }

    static func physical(_ k: ParquetColumn.Kind) -> ParquetPhysicalType {
        switch k {
        case .int64, .timestampMillis: .int64
        case .double: .double
        case .string: .byteArray
        case .boolean: .boolean
        }
    }

    static func schemaElement(_ c: ParquetColumn) -> SchemaElement {
        var e = SchemaElement(type: physical(c.kind).code, repetition: c.optional ? 1 : 0, name: c.name)
        switch c.kind {
        case .string: e.convertedType = 0; e.logicalType = .string
        case .timestampMillis: e.convertedType = 9; e.logicalType = .timestamp(unit: .millis, utc: true)
        default: break
        }
        return e
    }

    private func flushRowGroup() throws {
        guard bufferedRows > 0 else { return }
        let start = offset
        var chunks: [ColumnChunk] = []
        var uncompressed: Int64 = 0
        for i in columns.indices {
            let c = try writeColumnChunk(i)
            uncompressed += c.metaData!.totalUncompressedSize
            chunks.append(c)
        }
        rowGroups.append(
            RowGroup(
                columns: chunks, totalByteSize: uncompressed, numRows: Int64(bufferedRows), fileOffset: Int64(start),
                totalCompressedSize: Int64(offset - start), ordinal: Int16(truncatingIfNeeded: rowGroups.count)))
        bufferedRows = 0
        for i in columns.indices {
            fixed[i].removeAll(keepingCapacity: true)
            bytes[i].removeAll(keepingCapacity: true)
            valid[i].removeAll(keepingCapacity: true)
            dictionaries[i].reset()
        }
    }

    /// A page size as the Int32 of the page header.
    private func size32(_ n: Int) throws -> Int32 {
        guard let v = Int32(exactly: n) else {
            throw ParquetError(.invalidArgument, file: name, "a page of \(n) bytes is larger than a Parquet page can be (2 GiB): lower pageRows")
        }
        return v
    }

    private func compress(_ b: [UInt8]) throws -> [UInt8] {
        do { return try Codecs.compress(options.compression, b, zstdLevel: options.zstdLevel) } catch {
            throw ParquetError(.io, file: name, error.message)
        }
    }

    private func writeColumnChunk(_ i: Int) throws -> ColumnChunk {
        let col = columns[i]
        let rows = bufferedRows
        let isBytes = col.kind == .string
        let stringDict = isBytes && col.encoding == .dictionary
        let dictFits =
            stringDict && dictionaries[i].values.count <= options.dictionaryMaxEntries && dictionaries[i].pageBytes <= options.dictionaryMaxBytes
        let values = fixed[i]
        // A string dictionary past the limits falls back to PLAIN: the strings, row by row.
        let strings = stringDict && !dictFits ? dictionaries[i].ids.map { dictionaries[i].values[Int($0)] } : bytes[i]
        let nonNull = stringDict ? dictionaries[i].ids.count : isBytes ? strings.count : values.count
        let start = offset
        var uncompressedTotal = 0, compressedTotal = 0
        var encodings: Set<Int32> = [EncodingCode.rle]

        // The dictionary, if the column asks for one and it stays within the limits.
        var indices: [UInt32]? = nil
        var dictionaryOffset: Int64? = nil
        var dictCount = 0
        // The dictionary page's values and the data pages' indices, when the chunk is dictionary encoded.
        var dictionaryPage: (page: [UInt8], ids: [UInt32], count: Int)? = nil
        if dictFits {
            var page: [UInt8] = []
            Plain.encodeBytes(dictionaries[i].values, into: &page)
            dictionaryPage = (page, dictionaries[i].ids, dictionaries[i].values.count)
        } else if col.encoding == .dictionary && !isBytes {
            var ids: [UInt32] = []
            ids.reserveCapacity(nonNull)
            var page: [UInt8] = []
            var count = 0
            var fits = true
            var map: [UInt64: UInt32] = [:]
            for v in values {
                if let id = map[v] { ids.append(id); continue }
                map[v] = UInt32(count); ids.append(UInt32(count)); count += 1
                appendLE(v, width: 8, to: &page)
                if count > options.dictionaryMaxEntries || page.count > options.dictionaryMaxBytes { fits = false; break }
            }
            if fits { dictionaryPage = (page, ids, count) }
        }
        if let (page, ids, count) = dictionaryPage {
            indices = ids
            dictCount = count
            let body = try compress(page)
            let header = PageHeader(
                type: PageType.dictionary, uncompressedSize: try size32(page.count), compressedSize: try size32(body.count),
                dictionary: DictionaryPageHeader(numValues: Int32(count), encoding: EncodingCode.plain)
            ).encoded()
            dictionaryOffset = Int64(offset)
            try emit(header + body)
            uncompressedTotal += header.count + page.count
            compressedTotal += header.count + body.count
            encodings.insert(EncodingCode.plain)
        }
        let dictWidth = max(1, bitWidth(UInt64(max(dictCount - 1, 0))))

        let dataOffset = offset
        var rowStart = 0, valueStart = 0
        while rowStart < rows {
            let rowEnd = min(rows, rowStart + options.pageRows)
            var levels: [UInt8] = []
            var valueEnd = valueStart + (rowEnd - rowStart)
            if col.optional {
                let flags = valid[i][rowStart..<rowEnd]
                valueEnd = valueStart + flags.reduce(0) { $0 + ($1 ? 1 : 0) }
                RLEHybrid.encode(flags.map { $0 ? 1 : 0 }, width: 1, into: &levels)
            }
            let nulls = (rowEnd - rowStart) - (valueEnd - valueStart)
            var encoded: [UInt8] = []
            let encoding: Int32
            if let indices {
                encoding = EncodingCode.rleDictionary
                encoded.append(UInt8(dictWidth))
                RLEHybrid.encode(Array(indices[valueStart..<valueEnd]), width: dictWidth, into: &encoded)
            } else if isBytes {
                encoding = EncodingCode.plain
                Plain.encodeBytes(Array(strings[valueStart..<valueEnd]), into: &encoded)
            } else {
                let slice = Array(values[valueStart..<valueEnd])
                switch (col.kind, col.encoding) {
                case (.boolean, _):
                    encoding = EncodingCode.plain
                    Plain.encodeBooleans(slice, into: &encoded)
                case (_, .deltaBinaryPacked):
                    encoding = EncodingCode.deltaBinaryPacked
                    DeltaBinaryPacked.encode(slice.map { Int64(bitPattern: $0) }, into: &encoded)
                case (_, .byteStreamSplit):
                    encoding = EncodingCode.byteStreamSplit
                    ByteStreamSplit.encode(slice, width: 8, into: &encoded)
                default:
                    encoding = EncodingCode.plain
                    Plain.encodeFixed(slice, width: 8, into: &encoded)
                }
            }
            encodings.insert(encoding)
            let stats = statistics(col.kind, values: valueStart..<valueEnd, column: i, nulls: nulls, strings: strings, dictionary: dictFits)
            var header = PageHeader()
            let body: [UInt8]
            if options.dataPageVersion == 1 {
                var raw: [UInt8] = []
                if col.optional { appendLE(UInt64(levels.count), width: 4, to: &raw); raw += levels }
                raw += encoded
                body = try compress(raw)
                header.type = PageType.data
                header.uncompressedSize = try size32(raw.count)
                header.dataV1 = DataPageHeader(numValues: Int32(rowEnd - rowStart), encoding: encoding, statistics: stats)
            } else {
                body = try levels + compress(encoded)
                header.type = PageType.dataV2
                header.uncompressedSize = try size32(levels.count + encoded.count)
                header.dataV2 = DataPageHeaderV2(
                    numValues: Int32(rowEnd - rowStart), numNulls: Int32(nulls), numRows: Int32(rowEnd - rowStart),
                    encoding: encoding, definitionLevelsByteLength: Int32(levels.count), repetitionLevelsByteLength: 0,
                    isCompressed: options.compression != .uncompressed, statistics: stats)
            }
            header.compressedSize = try size32(body.count)
            let h = header.encoded()
            try emit(h + body)
            uncompressedTotal += h.count + Int(header.uncompressedSize)
            compressedTotal += h.count + body.count
            rowStart = rowEnd
            valueStart = valueEnd
        }
        var meta = ColumnMetaData()
        meta.type = Self.physical(col.kind).code
        meta.encodings = encodings.sorted()
        meta.path = [col.name]
        meta.codec = options.compression.code
        meta.numValues = Int64(rows)
        meta.totalUncompressedSize = Int64(uncompressedTotal)
        meta.totalCompressedSize = Int64(compressedTotal)
        meta.dataPageOffset = Int64(dataOffset)
        meta.dictionaryPageOffset = dictionaryOffset
        meta.statistics = statistics(col.kind, values: 0..<nonNull, column: i, nulls: rows - nonNull, strings: strings, dictionary: dictFits)
        return ColumnChunk(fileOffset: Int64(start), metaData: meta)
    }

    /// min_value / max_value (never NaN; a zero min is -0.0 and a zero max +0.0, as the spec asks)
    /// and null_count over the column's non-null values `range`.
    /// String columns take their values from `strings`, or with `dictionary` from the column's dictionary indices.
    private func statistics(
        _ kind: ParquetColumn.Kind, values range: Range<Int>, column i: Int, nulls: Int, strings: [[UInt8]], dictionary: Bool
    ) -> Statistics {
        var s = Statistics(nullCount: Int64(nulls))
        func le(_ v: UInt64, _ w: Int) -> [UInt8] { var o: [UInt8] = []; appendLE(v, width: w, to: &o); return o }
        switch kind {
        case .int64, .timestampMillis:
            if !range.isEmpty {
                var lo = Int64.max, hi = Int64.min
                for b in fixed[i][range] {
                    let x = Int64(bitPattern: b)
                    lo = Swift.min(lo, x)
                    hi = Swift.max(hi, x)
                }
                s.minValue = le(UInt64(bitPattern: lo), 8)
                s.maxValue = le(UInt64(bitPattern: hi), 8)
            }
        case .double:
            var lo = Double.nan, hi = Double.nan
            for b in fixed[i][range] {
                let d = Double(bitPattern: b)
                if d.isNaN { continue }
                if lo.isNaN || d < lo { lo = d }
                if hi.isNaN || d > hi { hi = d }
            }
            if !lo.isNaN {
                if lo == 0 { lo = -0.0 }
                if hi == 0 { hi = 0.0 }
                s.minValue = le(lo.bitPattern, 8)
                s.maxValue = le(hi.bitPattern, 8)
            }
        case .boolean:
            let a = fixed[i][range]
            if !a.isEmpty {
                s.minValue = [a.contains(0) ? 0 : 1]
                s.maxValue = [a.contains(1) ? 1 : 0]
            }
        case .string:
            var lo: [UInt8]? = nil, hi: [UInt8]? = nil
            func see(_ v: [UInt8]) {
                if lo == nil || v.lexicographicallyPrecedes(lo!) { lo = v }
                if hi == nil || hi!.lexicographicallyPrecedes(v) { hi = v }
            }
            if dictionary {
                // Each distinct index is compared once (runs of one index are the common case).
                let d = dictionaries[i]
                var seen = Set<UInt32>()
                var last = UInt32.max
                for id in d.ids[range] where id != last {
                    last = id
                    if seen.insert(id).inserted { see(d.values[Int(id)]) }
                }
            } else {
                for v in strings[range] { see(v) }
            }
            if let lo, let hi {
                if lo.count <= options.statisticsMaxBytes && hi.count <= options.statisticsMaxBytes {
                    s.minValue = lo
                    s.maxValue = hi
                }
            }
        }
        return s
    }
}

extension Error {
    var message: String { (self as? DecodeFailure)?.message ?? "\(self)" }
}

/// The dictionary of one string column in the row group being buffered.
struct StringDictionary {
    var values: [[UInt8]] = []
    var ids: [UInt32] = []
    /// The size of the PLAIN dictionary page (4-byte length + bytes per value).
    var pageBytes = 0
    private var map: [[UInt8]: UInt32] = [:]

    /// The index of `v`, added when new.
    mutating func id(_ v: [UInt8]) -> UInt32 {
        if let id = map[v] { return id }
        let id = UInt32(values.count)
        map[v] = id
        values.append(v)
        pageBytes += 4 + v.count
        return id
    }

    mutating func add(_ v: [UInt8]) { ids.append(id(v)) }

    mutating func reset() {
        values.removeAll(keepingCapacity: true)
        ids.removeAll(keepingCapacity: true)
        map.removeAll(keepingCapacity: true)
        pageBytes = 0
    }
}
