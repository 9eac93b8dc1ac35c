// Parquet's Thrift metadata structs (parquet.thrift), only the fields this module writes or reads,
// with their field ids. Unknown fields are skipped when reading.

struct Statistics: Equatable {
    var max: [UInt8]? = nil  // 1 (deprecated, signed order)
    var min: [UInt8]? = nil  // 2 (deprecated, signed order)
    var nullCount: Int64? = nil  // 3
    var distinctCount: Int64? = nil  // 4
    var maxValue: [UInt8]? = nil  // 5
    var minValue: [UInt8]? = nil  // 6

    func write(_ w: inout ThriftWriter) {
        if let max { w.binary(1, max) }
        if let min { w.binary(2, min) }
        if let nullCount { w.i64(3, nullCount) }
        if let distinctCount { w.i64(4, distinctCount) }
        if let maxValue { w.binary(5, maxValue) }
        if let minValue { w.binary(6, minValue) }
    }

    static func read(_ r: inout ThriftReader, depth: Int) throws(DecodeFailure) -> Statistics {
        var s = Statistics()
        try r.readStruct(depth: depth) { (r, id, t) throws(DecodeFailure) in
            switch (id, t) {
            case (1, TType.binary): s.max = try r.binary()
            case (2, TType.binary): s.min = try r.binary()
            case (3, TType.i64): s.nullCount = try r.i64()
            case (4, TType.i64): s.distinctCount = try r.i64()
            case (5, TType.binary): s.maxValue = try r.binary()
            case (6, TType.binary): s.minValue = try r.binary()
            default: return false
            }
            return true
        }
        return s
    }
}

/// `LogicalType` union, as far as it is named here.
enum LogicalTypeCodec {
    static func write(_ t: ParquetLogicalType, _ w: inout ThriftWriter) {
        switch t {
        case .string: w.structField(1) { _ in }
        case .timestamp(let unit, let utc):
            w.structField(8) { w in
                w.bool(1, utc)
                w.structField(2) { w in
                    w.structField(unit == .millis ? 1 : unit == .micros ? 2 : 3) { _ in }
                }
            }
        case .decimal(let precision, let scale):
            w.structField(5) { w in
                w.i32(1, Int32(scale)); w.i32(2, Int32(precision))
            }
        case .integer(let bits, let signed):
            w.structField(10) { w in
                w.field(1, TType.byte); w.bytes.append(UInt8(bits)); w.bool(2, signed)
            }
        case .other: break
        }
    }

    static let names: [Int16: String] = [
        1: "STRING", 2: "MAP", 3: "LIST", 4: "ENUM", 5: "DECIMAL", 6: "DATE", 7: "TIME", 8: "TIMESTAMP",
        10: "INTEGER", 11: "UNKNOWN", 12: "JSON", 13: "BSON", 14: "UUID", 15: "FLOAT16", 16: "VARIANT",
        17: "GEOMETRY", 18: "GEOGRAPHY"
    ]

    static func read(_ r: inout ThriftReader, depth: Int) throws(DecodeFailure) -> ParquetLogicalType? {
        var result: ParquetLogicalType?
        try r.readStruct(depth: depth) { (r, id, t) throws(DecodeFailure) in
            guard t == TType.struct else { return false }
            switch id {
            case 1: result = .string; return false
            case 5:
                var scale: Int32 = 0, precision: Int32 = 0
                try r.readStruct(depth: depth + 1) { (r, id, t) throws(DecodeFailure) in
                    guard t == TType.i32 else { return false }
                    if id == 1 { scale = try r.i32() } else if id == 2 { precision = try r.i32() } else { return false }
                    return true
                }
                result = .decimal(precision: Int(precision), scale: Int(scale))
            case 8:
                var utc = false
                var unit = ParquetTimeUnit.millis
                try r.readStruct(depth: depth + 1) { (r, id, t) throws(DecodeFailure) in
                    if id == 1 { utc = try r.bool(t); return true }
                    guard id == 2, t == TType.struct else { return false }
                    try r.readStruct(depth: depth + 2) { (_, id, _) throws(DecodeFailure) in
                        unit = id == 2 ? .micros : id == 3 ? .nanos : .millis
                        return false
                    }
                    return true
                }
                result = .timestamp(unit: unit, utc: utc)
            case 10:
                var bits = 0, signed = true
                try r.readStruct(depth: depth + 1) { (r, id, t) throws(DecodeFailure) in
                    if id == 1 && t == TType.byte { bits = Int(try r.byte()); return true }
                    if id == 2 { signed = try r.bool(t); return true }
                    return false
                }
                result = .integer(bits: bits, signed: signed)
            default:
                result = .other(names[id] ?? "logical type \(id)")
                return false
            }
            return true
        }
        return result
    }
}

struct SchemaElement {
    var type: Int32? = nil  // 1
    var typeLength: Int32? = nil  // 2
    var repetition: Int32? = nil  // 3: 0 required, 1 optional, 2 repeated
    var name = ""  // 4
    var numChildren: Int32? = nil  // 5
    var convertedType: Int32? = nil  // 6
    var scale: Int32? = nil  // 7
    var precision: Int32? = nil  // 8
    var logicalType: ParquetLogicalType? = nil  // 10

    func write(_ w: inout ThriftWriter) {
        if let type { w.i32(1, type) }
        if let typeLength { w.i32(2, typeLength) }
        if let repetition { w.i32(3, repetition) }
        w.string(4, name)
        if let numChildren { w.i32(5, numChildren) }
        if let convertedType { w.i32(6, convertedType) }
        if let scale { w.i32(7, scale) }
        if let precision { w.i32(8, precision) }
        if let logicalType { w.structField(10) { LogicalTypeCodec.write(logicalType, &$0) } }
    }

    static func read(_ r: inout ThriftReader, depth: Int) throws(DecodeFailure) -> SchemaElement {
        var e = SchemaElement()
        var named = false
        try r.readStruct(depth: depth) { (r, id, t) throws(DecodeFailure) in
            switch (id, t) {
            case (1, TType.i32): e.type = try r.i32()
            case (2, TType.i32): e.typeLength = try r.i32()
            case (3, TType.i32): e.repetition = try r.i32()
            case (4, TType.binary): e.name = try r.string(); named = true
            case (5, TType.i32): e.numChildren = try r.i32()
            case (6, TType.i32): e.convertedType = try r.i32()
            case (7, TType.i32): e.scale = try r.i32()
            case (8, TType.i32): e.precision = try r.i32()
            case (10, TType.struct): e.logicalType = try LogicalTypeCodec.read(&r, depth: depth + 1)
            default: return false
            }
            return true
        }
        guard named else { throw .corrupt("schema element without a name", at: r.pos) }
        return e
    }
}

struct ColumnMetaData {
    var type: Int32 = 0  // 1
    var encodings: [Int32] = []  // 2
    var path: [String] = []  // 3
    var codec: Int32 = 0  // 4
    var numValues: Int64 = 0  // 5
    var totalUncompressedSize: Int64 = 0  // 6
    var totalCompressedSize: Int64 = 0  // 7
    var dataPageOffset: Int64 = 0  // 9
    var dictionaryPageOffset: Int64? = nil  // 11
    var statistics: Statistics? = nil  // 12

    func write(_ w: inout ThriftWriter) {
        w.i32(1, type)
        w.listHeader(2, TType.i32, encodings.count)
        for e in encodings { w.zigzag(Int64(e)) }
        w.listHeader(3, TType.binary, path.count)
        for p in path { let b = Array(p.utf8); w.varint(UInt64(b.count)); w.bytes += b }
        w.i32(4, codec)
        w.i64(5, numValues)
        w.i64(6, totalUncompressedSize)
        w.i64(7, totalCompressedSize)
        w.i64(9, dataPageOffset)
        if let dictionaryPageOffset { w.i64(11, dictionaryPageOffset) }
        if let statistics { w.structField(12) { statistics.write(&$0) } }
    }

    static func read(_ r: inout ThriftReader, depth: Int) throws(DecodeFailure) -> ColumnMetaData {
        var m = ColumnMetaData()
        var seen = Set<Int16>()
        try r.readStruct(depth: depth) { (r, id, t) throws(DecodeFailure) in
            switch (id, t) {
            case (1, TType.i32): m.type = try r.i32()
            case (2, TType.list):
                let (et, n) = try r.listHeader()
                guard et == TType.i32 else { throw .corrupt("encodings list of type \(et)", at: r.pos) }
                for _ in 0..<n { m.encodings.append(try r.i32()) }
            case (3, TType.list):
                let (et, n) = try r.listHeader()
                guard et == TType.binary else { throw .corrupt("path list of type \(et)", at: r.pos) }
                for _ in 0..<n { m.path.append(try r.string()) }
            case (4, TType.i32): m.codec = try r.i32()
            case (5, TType.i64): m.numValues = try r.i64()
            case (6, TType.i64): m.totalUncompressedSize = try r.i64()
            case (7, TType.i64): m.totalCompressedSize = try r.i64()
            case (9, TType.i64): m.dataPageOffset = try r.i64()
            case (11, TType.i64): m.dictionaryPageOffset = try r.i64()
            case (12, TType.struct): m.statistics = try Statistics.read(&r, depth: depth + 1)
            default: return false
            }
            seen.insert(id)
            return true
        }
        for required: Int16 in [1, 2, 3, 4, 5, 6, 7, 9] where !seen.contains(required) {
            throw .corrupt("column metadata lacks required field \(required)", at: r.pos)
        }
        return m
    }
}

struct ColumnChunk {
    var filePath: String? = nil  // 1
    var fileOffset: Int64 = 0  // 2
    var metaData: ColumnMetaData? = nil  // 3

    func write(_ w: inout ThriftWriter) {
        if let filePath { w.string(1, filePath) }
        w.i64(2, fileOffset)
        if let metaData { w.structField(3) { metaData.write(&$0) } }
    }

    static func read(_ r: inout ThriftReader, depth: Int) throws(DecodeFailure) -> ColumnChunk {
        var c = ColumnChunk()
        try r.readStruct(depth: depth) { (r, id, t) throws(DecodeFailure) in
            switch (id, t) {
            case (1, TType.binary): c.filePath = try r.string()
            case (2, TType.i64): c.fileOffset = try r.i64()
            case (3, TType.struct): c.metaData = try ColumnMetaData.read(&r, depth: depth + 1)
            default: return false
            }
            return true
        }
        return c
    }
}

struct RowGroup {
    var columns: [ColumnChunk] = []  // 1
    var totalByteSize: Int64 = 0  // 2
    var numRows: Int64 = 0  // 3
    var fileOffset: Int64? = nil  // 5
    var totalCompressedSize: Int64? = nil  // 6
    var ordinal: Int16? = nil  // 7

    func write(_ w: inout ThriftWriter) {
        w.structList(1, columns) { w, c in c.write(&w) }
        w.i64(2, totalByteSize)
        w.i64(3, numRows)
        if let fileOffset { w.i64(5, fileOffset) }
        if let totalCompressedSize { w.i64(6, totalCompressedSize) }
        if let ordinal { w.field(7, TType.i16); w.zigzag(Int64(ordinal)) }
    }

    static func read(_ r: inout ThriftReader, depth: Int) throws(DecodeFailure) -> RowGroup {
        var g = RowGroup()
        var rows = false
        try r.readStruct(depth: depth) { (r, id, t) throws(DecodeFailure) in
            switch (id, t) {
            case (1, TType.list):
                g.columns = try r.structList(depth: depth + 1) { (r) throws(DecodeFailure) in try ColumnChunk.read(&r, depth: depth + 1) }
            case (2, TType.i64): g.totalByteSize = try r.i64()
            case (3, TType.i64): g.numRows = try r.i64(); rows = true
            default: return false
            }
            return true
        }
        guard rows else { throw .corrupt("row group without num_rows", at: r.pos) }
        return g
    }
}

struct FileMetaData {
    var version: Int32 = 2  // 1
    var schema: [SchemaElement] = []  // 2
    var numRows: Int64 = 0  // 3
    var rowGroups: [RowGroup] = []  // 4
    var keyValue: [(String, String?)] = []  // 5
    var createdBy: String? = nil  // 6
    var columnOrders = 0  // 7: a TypeDefinedOrder for each of this many leaves

    func write(_ w: inout ThriftWriter) {
        w.i32(1, version)
        w.structList(2, schema) { w, e in e.write(&w) }
        w.i64(3, numRows)
        w.structList(4, rowGroups) { w, g in g.write(&w) }
        if !keyValue.isEmpty {
            w.structList(5, keyValue) { w, kv in
                w.string(1, kv.0)
                if let v = kv.1 { w.string(2, v) }
            }
        }
        if let createdBy { w.string(6, createdBy) }
        if columnOrders > 0 {
            w.structList(7, Array(repeating: 0, count: columnOrders)) { w, _ in w.structField(1) { _ in } }
        }
    }

    static func read(_ r: inout ThriftReader) throws(DecodeFailure) -> FileMetaData {
        var m = FileMetaData()
        try r.readStruct(depth: 0) { (r, id, t) throws(DecodeFailure) in
            switch (id, t) {
            case (1, TType.i32): m.version = try r.i32()
            case (2, TType.list): m.schema = try r.structList(depth: 1) { (r) throws(DecodeFailure) in try SchemaElement.read(&r, depth: 1) }
            case (3, TType.i64): m.numRows = try r.i64()
            case (4, TType.list): m.rowGroups = try r.structList(depth: 1) { (r) throws(DecodeFailure) in try RowGroup.read(&r, depth: 1) }
            case (5, TType.list):
                m.keyValue = try r.structList(depth: 1) { (r) throws(DecodeFailure) in
                    var k = "", v: String? = nil
                    try r.readStruct(depth: 1) { (r, id, t) throws(DecodeFailure) in
                        guard t == TType.binary, id == 1 || id == 2 else { return false }
                        if id == 1 { k = try r.string() } else { v = try r.string() }
                        return true
                    }
                    return (k, v)
                }
            case (6, TType.binary): m.createdBy = try r.string()
            default: return false
            }
            return true
        }
        return m
    }
}

struct DataPageHeader {
    var numValues: Int32 = 0  // 1
    var encoding: Int32 = 0  // 2
    var definitionLevelEncoding: Int32 = EncodingCode.rle  // 3
    var repetitionLevelEncoding: Int32 = EncodingCode.rle  // 4
    var statistics: Statistics? = nil  // 5
}

struct DataPageHeaderV2 {
    var numValues: Int32 = 0  // 1
    var numNulls: Int32 = 0  // 2
    var numRows: Int32 = 0  // 3
    var encoding: Int32 = 0  // 4
    var definitionLevelsByteLength: Int32 = 0  // 5
    var repetitionLevelsByteLength: Int32 = 0  // 6
    var isCompressed = true  // 7
    var statistics: Statistics? = nil  // 8
}

struct DictionaryPageHeader {
    var numValues: Int32 = 0  // 1
    var encoding: Int32 = 0  // 2
}

enum PageType {
    static let data: Int32 = 0
    static let index: Int32 = 1
    static let dictionary: Int32 = 2
    static let dataV2: Int32 = 3
}

struct PageHeader {
    var type: Int32 = 0  // 1
    var uncompressedSize: Int32 = 0  // 2
    var compressedSize: Int32 = 0  // 3
    var dataV1: DataPageHeader? = nil  // 5
    var dictionary: DictionaryPageHeader? = nil  // 7
    var dataV2: DataPageHeaderV2? = nil  // 8

    func encoded() -> [UInt8] {
        var w = ThriftWriter()
        w.structBody { w in
            w.i32(1, type)
            w.i32(2, uncompressedSize)
            w.i32(3, compressedSize)
            if let d = dataV1 {
                w.structField(5) { w in
                    w.i32(1, d.numValues)
                    w.i32(2, d.encoding)
                    w.i32(3, d.definitionLevelEncoding)
                    w.i32(4, d.repetitionLevelEncoding)
                    if let s = d.statistics { w.structField(5) { s.write(&$0) } }
                }
            }
            if let d = dictionary {
                w.structField(7) { w in
                    w.i32(1, d.numValues); w.i32(2, d.encoding)
                }
            }
            if let d = dataV2 {
                w.structField(8) { w in
                    w.i32(1, d.numValues)
                    w.i32(2, d.numNulls)
                    w.i32(3, d.numRows)
                    w.i32(4, d.encoding)
                    w.i32(5, d.definitionLevelsByteLength)
                    w.i32(6, d.repetitionLevelsByteLength)
                    w.bool(7, d.isCompressed)
                    if let s = d.statistics { w.structField(8) { s.write(&$0) } }
                }
            }
        }
        return w.bytes
    }

    static func read(_ r: inout ThriftReader) throws(DecodeFailure) -> PageHeader {
        var h = PageHeader()
        var seen = Set<Int16>()
        try r.readStruct(depth: 0) { (r, id, t) throws(DecodeFailure) in
            switch (id, t) {
            case (1, TType.i32): h.type = try r.i32()
            case (2, TType.i32): h.uncompressedSize = try r.i32()
            case (3, TType.i32): h.compressedSize = try r.i32()
            case (5, TType.struct):
                var d = DataPageHeader()
                try r.readStruct(depth: 1) { (r, id, t) throws(DecodeFailure) in
                    switch (id, t) {
                    case (1, TType.i32): d.numValues = try r.i32()
                    case (2, TType.i32): d.encoding = try r.i32()
                    case (3, TType.i32): d.definitionLevelEncoding = try r.i32()
                    case (4, TType.i32): d.repetitionLevelEncoding = try r.i32()
                    case (5, TType.struct): d.statistics = try Statistics.read(&r, depth: 2)
                    default: return false
                    }
                    return true
                }
                h.dataV1 = d
            case (7, TType.struct):
                var d = DictionaryPageHeader()
                try r.readStruct(depth: 1) { (r, id, t) throws(DecodeFailure) in
                    switch (id, t) {
                    case (1, TType.i32): d.numValues = try r.i32()
                    case (2, TType.i32): d.encoding = try r.i32()
                    default: return false
                    }
                    return true
                }
                h.dictionary = d
            case (8, TType.struct):
                var d = DataPageHeaderV2()
                try r.readStruct(depth: 1) { (r, id, t) throws(DecodeFailure) in
                    switch (id, t) {
                    case (1, TType.i32): d.numValues = try r.i32()
                    case (2, TType.i32): d.numNulls = try r.i32()
                    case (3, TType.i32): d.numRows = try r.i32()
                    case (4, TType.i32): d.encoding = try r.i32()
                    case (5, TType.i32): d.definitionLevelsByteLength = try r.i32()
                    case (6, TType.i32): d.repetitionLevelsByteLength = try r.i32()
                    case (7, _): d.isCompressed = try r.bool(t)
                    case (8, TType.struct): d.statistics = try Statistics.read(&r, depth: 2)
                    default: return false
                    }
                    return true
                }
                h.dataV2 = d
            default: return false
            }
            seen.insert(id)
            return true
        }
        for required: Int16 in [1, 2, 3] where !seen.contains(required) {
            throw .corrupt("page header lacks required field \(required)", at: r.pos)
        }
        return h
    }
}
