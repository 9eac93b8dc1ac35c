// Public types shared by the Parquet writer and reader: values, schema, codecs, errors.

/// The values of one column, one entry per row. Where a row is null (see
/// ``ParquetColumnData/valid``), the entry holds a placeholder (0, `false` or empty).
public enum ParquetValues: Sendable, Equatable {
    case boolean([Bool])
    case int32([Int32])
    case int64([Int64])
    case float([Float])
    case double([Double])
    /// BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY values, as read (the writer accepts this for string columns too).
    case bytes([[UInt8]])
    /// Strings, written as UTF-8 BYTE_ARRAY values (writer input only; the reader returns ``bytes(_:)``).
    case string([String])
    /// Strings given as an index per row into `dictionary` (writer input only, for string
    /// columns): row `k` holds `dictionary[Int(indices[k])]`. The cheap way to append a string
    /// that repeats over many rows: no string is copied per row.
    case indexed(indices: [UInt32], dictionary: [String])

    /// The number of entries.
    public var count: Int {
        switch self {
        case .boolean(let v): v.count
        case .int32(let v): v.count
        case .int64(let v): v.count
        case .float(let v): v.count
        case .double(let v): v.count
        case .bytes(let v): v.count
        case .string(let v): v.count
        case .indexed(let v, _): v.count
        }
    }
}

/// One column of a batch of rows: the values and, for an optional column, which rows are not null.
public struct ParquetColumnData: Sendable, Equatable {
    /// One entry per row.
    public var values: ParquetValues
    /// `nil` when every row has a value; else one flag per row, `false` where the row is null.
    public var valid: [Bool]?

    public init(_ values: ParquetValues, valid: [Bool]? = nil) {
        self.values = values
        self.valid = valid
    }

    /// The number of rows.
    public var count: Int { values.count }
}

/// Compression codecs of Parquet pages. The writer supports ``uncompressed``, ``lz4Raw``,
/// ``zstd`` and ``snappy``; the reader those and ``gzip`` (the others it names in its errors).
public enum ParquetCompression: String, Sendable, CaseIterable {
    case uncompressed, snappy, gzip, lzo, brotli, lz4, zstd, lz4Raw = "lz4_raw"

    /// The Thrift `CompressionCodec` number.
    var code: Int32 {
        switch self {
        case .uncompressed: 0
        case .snappy: 1
        case .gzip: 2
        case .lzo: 3
        case .brotli: 4
        case .lz4: 5
        case .zstd: 6
        case .lz4Raw: 7
        }
    }

    init?(code: Int32) {
        guard let c = Self.allCases.first(where: { $0.code == code }) else { return nil }
        self = c
    }
}

/// Parquet physical types.
public enum ParquetPhysicalType: String, Sendable, CaseIterable {
    case boolean = "BOOLEAN", int32 = "INT32", int64 = "INT64", int96 = "INT96"
    case float = "FLOAT", double = "DOUBLE", byteArray = "BYTE_ARRAY", fixedLenByteArray = "FIXED_LEN_BYTE_ARRAY"

    var code: Int32 { Int32(Self.allCases.firstIndex(of: self)!) }

    init?(code: Int32) {
        guard code >= 0, Int(code) < Self.allCases.count else { return nil }
        self = Self.allCases[Int(code)]
    }
}

/// Units of TIMESTAMP columns.
public enum ParquetTimeUnit: String, Sendable {
    case millis, micros, nanos
}

/// The logical types the reader names (others are reported as ``other(_:)``).
public enum ParquetLogicalType: Sendable, Equatable {
    case string
    case timestamp(unit: ParquetTimeUnit, utc: Bool)
    case decimal(precision: Int, scale: Int)
    case integer(bits: Int, signed: Bool)
    /// Another logical type: its name in parquet.thrift's `LogicalType` union.
    case other(String)
}

/// Encodings of data pages (the Thrift `Encoding` enum).
enum EncodingCode {
    static let plain: Int32 = 0
    static let plainDictionary: Int32 = 2
    static let rle: Int32 = 3
    static let bitPacked: Int32 = 4
    static let deltaBinaryPacked: Int32 = 5
    static let deltaLengthByteArray: Int32 = 6
    static let deltaByteArray: Int32 = 7
    static let rleDictionary: Int32 = 8
    static let byteStreamSplit: Int32 = 9

    static func name(_ code: Int32) -> String {
        switch code {
        case 0: "PLAIN"
        case 2: "PLAIN_DICTIONARY"
        case 3: "RLE"
        case 4: "BIT_PACKED"
        case 5: "DELTA_BINARY_PACKED"
        case 6: "DELTA_LENGTH_BYTE_ARRAY"
        case 7: "DELTA_BYTE_ARRAY"
        case 8: "RLE_DICTIONARY"
        case 9: "BYTE_STREAM_SPLIT"
        default: "encoding \(code)"
        }
    }
}

/// An error reading or writing Parquet: what went wrong and where.
public struct ParquetError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The file could not be opened, read or written.
        case io
        /// The file is not Parquet at all (no `PAR1` magic, too short).
        case notParquet
        /// The file is truncated or damaged: a length, offset or count does not fit.
        case corrupt
        /// A valid Parquet feature this module does not implement (the message names it).
        case unsupported
        /// The caller's input does not fit the schema (writer) or names no such column.
        case invalidArgument
    }

    public var kind: Kind
    /// The file's path (or the name given to an in-memory reader).
    public var file: String
    public var rowGroup: Int?
    /// The column's dotted path.
    public var column: String?
    /// The byte offset in the file where the problem was found, when known.
    public var offset: Int?
    public var message: String

    public init(_ kind: Kind, file: String, rowGroup: Int? = nil, column: String? = nil, offset: Int? = nil, _ message: String) {
        self.kind = kind
        self.file = file
        self.rowGroup = rowGroup
        self.column = column
        self.offset = offset
        self.message = message
    }

    public var description: String {
        var parts = [file]
        if let rowGroup { parts.append("row group \(rowGroup)") }
        if let column { parts.append("column '\(column)'") }
        if let offset { parts.append("byte offset \(offset)") }
        return parts.joined(separator: ", ") + ": " + message
    }
}

/// A low-level decoding failure, before the reader adds the file, row group and column.
struct DecodeFailure: Error {
    var unsupported: Bool
    var offset: Int?
    var message: String

    static func corrupt(_ message: String, at offset: Int? = nil) -> DecodeFailure {
        DecodeFailure(unsupported: false, offset: offset, message: message)
    }

    static func unsupported(_ message: String, at offset: Int? = nil) -> DecodeFailure {
        DecodeFailure(unsupported: true, offset: offset, message: message)
    }
}
