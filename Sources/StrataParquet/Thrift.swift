// The Thrift compact protocol, as far as Parquet's metadata needs it: field headers with delta
// ids, zigzag varints, binary, lists and nested structs. The reader checks every length against
// the bytes it has, limits nesting, and skips fields it does not know (any type).

/// Compact-protocol type ids.
enum TType {
    static let boolTrue: UInt8 = 1
    static let boolFalse: UInt8 = 2
    static let byte: UInt8 = 3
    static let i16: UInt8 = 4
    static let i32: UInt8 = 5
    static let i64: UInt8 = 6
    static let double: UInt8 = 7
    static let binary: UInt8 = 8
    static let list: UInt8 = 9
    static let set: UInt8 = 10
    static let map: UInt8 = 11
    static let `struct`: UInt8 = 12
}

struct ThriftWriter {
    var bytes: [UInt8] = []
    private var lastField: [Int16] = [0]

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func zigzag(_ v: Int64) { varint(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }

    mutating func field(_ id: Int16, _ type: UInt8) {
        let delta = Int(id) - Int(lastField[lastField.count - 1])
        if delta > 0 && delta <= 15 {
            bytes.append(UInt8(delta) << 4 | type)
        } else {
            bytes.append(type)
            zigzag(Int64(id))
        }
        lastField[lastField.count - 1] = id
    }

    mutating func i32(_ id: Int16, _ v: Int32) { field(id, TType.i32); zigzag(Int64(v)) }
    mutating func i64(_ id: Int16, _ v: Int64) { field(id, TType.i64); zigzag(v) }
    mutating func bool(_ id: Int16, _ v: Bool) { field(id, v ? TType.boolTrue : TType.boolFalse) }
    mutating func binary(_ id: Int16, _ v: [UInt8]) { field(id, TType.binary); varint(UInt64(v.count)); bytes += v }
    mutating func string(_ id: Int16, _ v: String) { binary(id, Array(v.utf8)) }

    /// A struct-valued field: `body` writes its fields.
    mutating func structField(_ id: Int16, _ body: (inout ThriftWriter) -> Void) {
        field(id, TType.struct)
        structBody(body)
    }

    /// The fields of a struct and its stop byte (a list element, or the top-level struct).
    mutating func structBody(_ body: (inout ThriftWriter) -> Void) {
        lastField.append(0)
        body(&self)
        bytes.append(0)
        lastField.removeLast()
    }

    mutating func listHeader(_ id: Int16, _ elementType: UInt8, _ count: Int) {
        field(id, TType.list)
        if count < 15 {
            bytes.append(UInt8(count) << 4 | elementType)
        } else {
            bytes.append(0xF0 | elementType)
            varint(UInt64(count))
        }
    }

    mutating func structList<T>(_ id: Int16, _ items: [T], _ body: (inout ThriftWriter, T) -> Void) {
        listHeader(id, TType.struct, items.count)
        for item in items { structBody { body(&$0, item) } }
    }
}

struct ThriftReader {
    let bytes: [UInt8]
    private(set) var pos: Int
    let end: Int
    private var lastField: [Int16] = [0]
    static let maxDepth = 32

    init(_ bytes: [UInt8], from: Int, to: Int) {
        self.bytes = bytes
        self.pos = from
        self.end = to
    }

    mutating func byte() throws(DecodeFailure) -> UInt8 {
        guard pos < end else { throw .corrupt("Thrift metadata ends early", at: pos) }
        defer { pos += 1 }
        return bytes[pos]
    }

    mutating func varint() throws(DecodeFailure) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            if shift == 63 && b > 1 { throw .corrupt("Thrift varint overflows 64 bits", at: pos - 1) }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw .corrupt("Thrift varint longer than 10 bytes", at: pos - 1) }
        }
    }

    mutating func zigzag() throws(DecodeFailure) -> Int64 {
        let v = try varint()
        return Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1)
    }

    mutating func i32() throws(DecodeFailure) -> Int32 {
        let at = pos
        let v = try zigzag()
        guard let r = Int32(exactly: v) else { throw .corrupt("Thrift i32 out of range", at: at) }
        return r
    }

    mutating func i64() throws(DecodeFailure) -> Int64 { try zigzag() }

    mutating func binary() throws(DecodeFailure) -> [UInt8] {
        let at = pos
        let n = try varint()
        guard n <= UInt64(end - pos) else { throw .corrupt("Thrift binary of \(n) bytes runs past the end", at: at) }
        defer { pos += Int(n) }
        return Array(bytes[pos..<(pos + Int(n))])
    }

    mutating func string() throws(DecodeFailure) -> String { String(decoding: try binary(), as: UTF8.self) }

    /// The value of a bool field, whose value is in its type id.
    func bool(_ type: UInt8) throws(DecodeFailure) -> Bool {
        switch type {
        case TType.boolTrue: return true
        case TType.boolFalse: return false
        default: throw .corrupt("Thrift bool field has type \(type)", at: pos)
        }
    }

    /// A list header: element type and count (the count checked against the bytes left: every
    /// element takes at least one byte).
    mutating func listHeader() throws(DecodeFailure) -> (type: UInt8, count: Int) {
        let at = pos
        let h = try byte()
        var count = UInt64(h >> 4)
        if count == 15 { count = try varint() }
        guard count <= UInt64(end - pos) else { throw .corrupt("Thrift list of \(count) elements runs past the end", at: at) }
        return (h & 0x0F, Int(count))
    }

    /// Reads a struct's fields, calling `field` with each id and type; `field` must read the value
    /// or return false (then the value is skipped).
    mutating func readStruct(depth: Int = 0, _ field: (inout ThriftReader, Int16, UInt8) throws(DecodeFailure) -> Bool) throws(DecodeFailure) {
        guard depth < Self.maxDepth else { throw .corrupt("Thrift structs nested too deeply", at: pos) }
        lastField.append(0)
        defer { lastField.removeLast() }
        while true {
            let at = pos
            let h = try byte()
            if h == 0 { return }
            let type = h & 0x0F
            var id: Int16
            if h >> 4 != 0 {
                let sum = Int(lastField[lastField.count - 1]) + Int(h >> 4)
                guard sum <= Int(Int16.max) else { throw .corrupt("Thrift field id overflows", at: at) }
                id = Int16(sum)
            } else {
                let v = try zigzag()
                guard let i = Int16(exactly: v) else { throw .corrupt("Thrift field id out of range", at: at) }
                id = i
            }
            lastField[lastField.count - 1] = id
            if try !field(&self, id, type) { try skip(type, depth: depth + 1) }
        }
    }

    /// Reads a list of structs.
    mutating func structList<T>(depth: Int, _ element: (inout ThriftReader) throws(DecodeFailure) -> T) throws(DecodeFailure) -> [T] {
        let (type, count) = try listHeader()
        guard type == TType.struct else { throw .corrupt("Thrift list of type \(type) where structs were expected", at: pos) }
        var out: [T] = []
        for _ in 0..<count { out.append(try element(&self)) }
        return out
    }

    mutating func skip(_ type: UInt8, depth: Int) throws(DecodeFailure) {
        guard depth < Self.maxDepth else { throw .corrupt("Thrift values nested too deeply", at: pos) }
        switch type {
        case TType.boolTrue, TType.boolFalse: return
        case TType.byte: _ = try byte()
        case TType.i16, TType.i32, TType.i64: _ = try varint()
        case TType.double:
            guard end - pos >= 8 else { throw .corrupt("Thrift double runs past the end", at: pos) }
            pos += 8
        case TType.binary: _ = try binary()
        case TType.list, TType.set:
            let (t, n) = try listHeader()
            for _ in 0..<n {
                if t == TType.boolTrue || t == TType.boolFalse { _ = try byte() } else { try skip(t, depth: depth + 1) }
            }
        case TType.map:
            let at = pos
            let n = try varint()
            guard n <= UInt64(end - pos) else { throw .corrupt("Thrift map of \(n) entries runs past the end", at: at) }
            if n == 0 { return }
            let kv = try byte()
            for _ in 0..<n {
                try skipElement(kv >> 4, depth: depth + 1)
                try skipElement(kv & 0x0F, depth: depth + 1)
            }
        case TType.struct: try readStruct(depth: depth) { _, _, _ in false }
        default: throw .corrupt("unknown Thrift type \(type)", at: pos)
        }
    }

    private mutating func skipElement(_ t: UInt8, depth: Int) throws(DecodeFailure) {
        if t == TType.boolTrue || t == TType.boolFalse { _ = try byte() } else { try skip(t, depth: depth) }
    }
}
