// strata-parquet-tool: a test helper around StrataParquet, for the interoperability tests in
// Tests/python/test_parquet.py.
//
//   strata-parquet-tool write OUT.parquet < spec.json
//     spec: {"options": {"compression": "zstd", "rowGroupRows": N, "pageRows": N, "dataPageVersion": 1|2,
//                        "dictionaryMaxEntries": N, "metadata": {"k": "v"}},
//            "columns": [{"name": "x", "kind": "int64|double|string|boolean|timestamp_millis",
//                         "optional": false, "encoding": "plain|dictionary|delta|byte_stream_split",
//                         "values": [...]}]}
//     int64, timestamp and double values are 16 hex digits of their 64-bit pattern; strings are
//     JSON strings; booleans JSON booleans; null is a null row.
//   strata-parquet-tool read IN.parquet
//     prints JSON: {"rows", "createdBy", "metadata", "rowGroups": [{"rows", "statistics": [...]}],
//                   "columns": [{"name", "physical", "logical", "optional", "values"} or {"name", "error"}]}
//     fixed-width values as hex bit patterns (8 digits for 32-bit types), byte arrays as hex.
// Errors go to stderr with exit status 1.
import Foundation
import StrataParquet

func die(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(1)
}

func hex(_ v: UInt64, digits: Int) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: max(0, digits - s.count)) + s
}

func hexBytes(_ b: [UInt8]) -> String { b.map { hex(UInt64($0), digits: 2) }.joined() }

func json(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        default:
            if u.value < 0x20 { out += "\\u" + hex(UInt64(u.value), digits: 4) } else { out.unicodeScalars.append(u) }
        }
    }
    return out + "\""
}

func parseHex(_ any: Any) -> UInt64 {
    guard let s = any as? String, let v = UInt64(s, radix: 16) else { die("expected a hex bit pattern, got \(any)") }
    return v
}

func write(_ path: String) {
    let input = FileHandle.standardInput.readDataToEndOfFile()
    guard let spec = (try? JSONSerialization.jsonObject(with: input)) as? [String: Any],
        let cols = spec["columns"] as? [[String: Any]]
    else { die("spec: expected {\"columns\": [...]}") }
    var options = ParquetWriterOptions()
    if let o = spec["options"] as? [String: Any] {
        if let c = o["compression"] as? String {
            guard let codec = ParquetCompression(rawValue: c) else { die("unknown compression \(c)") }
            options.compression = codec
        }
        if let n = o["rowGroupRows"] as? Int { options.rowGroupRows = n }
        if let n = o["pageRows"] as? Int { options.pageRows = n }
        if let n = o["dataPageVersion"] as? Int { options.dataPageVersion = n }
        if let n = o["dictionaryMaxEntries"] as? Int { options.dictionaryMaxEntries = n }
        if let m = o["metadata"] as? [String: String] { options.metadata = m }
    }
    var columns: [ParquetColumn] = []
    var data: [ParquetColumnData] = []
    for c in cols {
        guard let name = c["name"] as? String, let kindName = c["kind"] as? String, let values = c["values"] as? [Any] else {
            die("spec: a column needs name, kind and values")
        }
        let kinds: [String: ParquetColumn.Kind] = [
            "int64": .int64, "double": .double, "string": .string, "boolean": .boolean, "timestamp_millis": .timestampMillis
        ]
        let encodings: [String: ParquetColumn.Encoding] = [
            "plain": .plain, "dictionary": .dictionary, "delta": .deltaBinaryPacked, "byte_stream_split": .byteStreamSplit
        ]
        guard let kind = kinds[kindName] else { die("unknown kind \(kindName)") }
        var encoding: ParquetColumn.Encoding? = nil
        if let e = c["encoding"] as? String {
            guard let v = encodings[e] else { die("unknown encoding \(e)") }
            encoding = v
        }
        let optional = c["optional"] as? Bool ?? false
        columns.append(ParquetColumn(name, kind, optional: optional, encoding: encoding))
        let valid = values.map { !($0 is NSNull) }
        let vals: ParquetValues
        switch kind {
        case .int64, .timestampMillis: vals = .int64(values.map { $0 is NSNull ? 0 : Int64(bitPattern: parseHex($0)) })
        case .double: vals = .double(values.map { $0 is NSNull ? 0 : Double(bitPattern: parseHex($0)) })
        case .string: vals = .string(values.map { $0 as? String ?? "" })
        case .boolean: vals = .boolean(values.map { ($0 as? Bool) ?? false })
        }
        data.append(ParquetColumnData(vals, valid: valid.contains(false) ? valid : nil))
    }
    do {
        let w = try ParquetWriter(path: path, columns: columns, options: options)
        // Appended in two batches, so batches that cross row groups are exercised.
        let rows = data.first?.count ?? 0
        let half = rows / 2
        for range in [0..<half, half..<rows] {
            try w.append(
                data.map { d in
                    let valid = d.valid.map { Array($0[range]) }
                    switch d.values {
                    case .int64(let a): return ParquetColumnData(.int64(Array(a[range])), valid: valid)
                    case .double(let a): return ParquetColumnData(.double(Array(a[range])), valid: valid)
                    case .string(let a): return ParquetColumnData(.string(Array(a[range])), valid: valid)
                    case .boolean(let a): return ParquetColumnData(.boolean(Array(a[range])), valid: valid)
                    default: return d
                    }
                })
        }
        try w.close()
    } catch {
        die("\(error)")
    }
}

func logicalName(_ l: ParquetLogicalType?) -> String {
    switch l {
    case nil: return "null"
    case .string: return json("STRING")
    case .timestamp(let unit, let utc): return json("TIMESTAMP(\(unit.rawValue.uppercased()),\(utc))")
    case .decimal(let p, let s): return json("DECIMAL(\(p),\(s))")
    case .integer(let bits, let signed): return json("INTEGER(\(bits),\(signed))")
    case .other(let name): return json(name)
    }
}

func read(_ path: String) {
    let r: ParquetReader
    do { r = try ParquetReader(path: path) } catch { die("\(error)") }
    var out = "{\"rows\": \(r.rowCount), \"createdBy\": \(r.createdBy.map(json) ?? "null"), \"metadata\": {"
    out += r.metadata.sorted { $0.key < $1.key }.map { "\(json($0.key)): \(json($0.value))" }.joined(separator: ", ")
    out += "}, \"rowGroups\": ["
    out += (0..<r.rowGroupCount).map { g in
        let stats = r.columns.indices.map { c -> String in
            guard let s = r.statistics(rowGroup: g, column: c) else { return "null" }
            return
                "{\"min\": \(s.min.map { json(hexBytes($0)) } ?? "null"), \"max\": \(s.max.map { json(hexBytes($0)) } ?? "null"), \"nullCount\": \(s.nullCount.map(String.init) ?? "null")}"
        }
        return "{\"rows\": \(r.rowCount(rowGroup: g)), \"statistics\": [\(stats.joined(separator: ", "))]}"
    }.joined(separator: ", ")
    out += "], \"columns\": ["
    var cols: [String] = []
    for (c, leaf) in r.columns.enumerated() {
        var head = "{\"name\": \(json(leaf.name)), \"physical\": \(json(leaf.physicalType?.rawValue ?? "?")), "
        head += "\"logical\": \(logicalName(leaf.logicalType)), \"optional\": \(leaf.optional), "
        var items: [String] = []
        do {
            for g in 0..<r.rowGroupCount {
                let d = try r.read(rowGroup: g, column: c)
                for i in 0..<d.count {
                    if let v = d.valid, !v[i] { items.append("null"); continue }
                    switch d.values {
                    case .boolean(let a): items.append(a[i] ? "true" : "false")
                    case .int32(let a): items.append(json(hex(UInt64(UInt32(bitPattern: a[i])), digits: 8)))
                    case .float(let a): items.append(json(hex(UInt64(a[i].bitPattern), digits: 8)))
                    case .int64(let a): items.append(json(hex(UInt64(bitPattern: a[i]), digits: 16)))
                    case .double(let a): items.append(json(hex(a[i].bitPattern, digits: 16)))
                    case .bytes(let a): items.append(json(hexBytes(a[i])))
                    case .string(let a): items.append(json(a[i]))
                    case .indexed(let a, let d): items.append(json(d[Int(a[i])]))
                    }
                }
            }
            cols.append(head + "\"values\": [\(items.joined(separator: ", "))]}")
        } catch {
            cols.append(head + "\"error\": \(json("\(error)"))}")
        }
    }
    out += cols.joined(separator: ", ") + "]}\n"
    FileHandle.standardOutput.write(Data(out.utf8))
}

let args = CommandLine.arguments
guard args.count == 3 else { die("usage: strata-parquet-tool write OUT.parquet < spec.json | read IN.parquet") }
switch args[1] {
case "write": write(args[2])
case "read": read(args[2])
default: die("usage: strata-parquet-tool write OUT.parquet < spec.json | read IN.parquet")
}
