import Strata

/// Library calls the CLI needs that `Sources/Strata/API` does not have yet.
///
/// Each function is the one place to swap in the library call when it lands (see the comments).
enum Lib {
    /// Runs matching a filter expression, oldest first.
    /// Library call wanted: `Store.runs(where expression: String) throws(StrataError) -> [RunInfo]`.
    static func runs(_ store: Store, where expression: String?) throws -> [RunRow] {
        let all = try store.runs().map { RunRow(info: $0, store: store) }
        guard let expression, !expression.trimmingCharactersSpaces().isEmpty else { return all }
        let filter = try Filter.parse(expression)
        return try all.filter { try filter.matches($0) }
    }

    /// Library call wanted: `Store.compact(run: RunID? = nil) throws(StrataError) -> CompactReport`.
    static func compact(_ store: Store) throws -> String {
        try store.checkpoint()
        throw CLIError("compaction is not in this build of the library yet (Store.compact); this store was checkpointed only")
    }

    /// Library call wanted: `Store.rewind(_ run: RunID, to step: Int64) throws(StrataError)` (or `Run.rewind(to:)`).
    static func rewind(_ store: Store, run: RunInfo, to step: Int64) throws {
        throw CLIError("rewind is not in this build of the library yet (Store.rewind(_:to:)); nothing was changed")
    }

    /// Bytes on disk by kind, and per codec when the library reports it.
    /// Library call wanted: `Store.storageStats() throws(StrataError) -> StorageStats`
    /// (segments, chunks, points, bytes per column kind and per codec name from `CodecUsage`).
    static func diskUsage(_ path: String) -> (segments: Int, segmentBytes: Int, logs: Int, logBytes: Int, other: Int) {
        var r = (segments: 0, segmentBytes: 0, logs: 0, logBytes: 0, other: 0)
        walk(path) { file, size in
            if file.hasSuffix(".seg") { r.segments += 1; r.segmentBytes += size }
            else if file.hasSuffix(".wal") { r.logs += 1; r.logBytes += size }
            else { r.other += size }
        }
        return r
    }

    static func walk(_ dir: String, _ body: (String, Int) -> Void) {
        guard let d = opendir(dir) else { return }
        defer { closedir(d) }
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name == "." || name == ".." { continue }
            let p = dir + "/" + name
            var st = stat()
            guard lstat(p, &st) == 0 else { continue }
            if (st.st_mode & S_IFMT) == S_IFDIR { walk(p, body) } else { body(p, Int(st.st_blocks) * 512 > 0 ? min(Int(st.st_size), Int(st.st_blocks) * 512) : Int(st.st_size)) }
        }
    }
}

/// A run and (loaded on demand) its series summaries: what tables, sorting and filters read.
final class RunRow {
    let info: RunInfo
    let store: Store
    private var _series: [Store.SeriesInfo]?

    init(info: RunInfo, store: Store) {
        self.info = info
        self.store = store
    }

    var series: [Store.SeriesInfo] {
        if let s = _series { return s }
        let s = ((try? store.series(of: info.id)) ?? []).sorted { $0.key.canonical < $1.key.canonical }
        _series = s
        return s
    }

    /// The value of a column key: name, id, project, status, created, ended, tags, params.K, meta.K,
    /// or METRIC.AGG with AGG one of last, min, max, count, first_step, last_step.
    func value(_ key: String) -> ColumnValue? {
        switch key {
        case "name": return .text(info.name)
        case "id": return .text(info.id.text)
        case "project": return .text(info.project)
        case "status": return .text(info.status.rawValue)
        case "created": return .number(Double(info.createdMs), display: formatTime(info.createdMs))
        case "ended": return info.endedMs.map { .number(Double($0), display: formatTime($0)) }
        case "tags": return .text(info.tags.sorted().joined(separator: ","))
        case "parent": return info.parent.map { .text($0.text) }
        default: break
        }
        if key.hasPrefix("params.") { return info.params[String(key.dropFirst(7))].map(ColumnValue.param) }
        if key.hasPrefix("meta.") { return info.metadata[String(key.dropFirst(5))].map(ColumnValue.param) }
        guard let dot = key.lastIndex(of: ".") else { return nil }
        var metric = String(key[..<dot])
        if metric.hasPrefix("metrics.") { metric = String(metric.dropFirst(8)) }
        let agg = key[key.index(after: dot)...]
        guard let s = series.first(where: { $0.key.canonical == metric }) else { return nil }
        switch agg {
        case "last": return .number(s.lastValue, display: short(s.lastValue))
        case "min": return .number(s.min, display: short(s.min))
        case "max": return .number(s.max, display: short(s.max))
        case "count": return .number(Double(s.count), display: String(s.count))
        case "first_step": return .number(Double(s.firstStep), display: String(s.firstStep))
        case "last_step", "step": return .number(Double(s.lastStep), display: String(s.lastStep))
        default: return nil
        }
    }

    static let metricAggregates: Set<String> = ["last", "min", "max", "count", "first_step", "last_step", "step"]
}

enum ColumnValue {
    case text(String)
    case number(Double, display: String)

    static func param(_ p: ParamValue) -> ColumnValue {
        switch p {
        case .int(let i): return .number(Double(i), display: String(i))
        case .double(let d): return .number(d, display: short(d))
        case .bool(let b): return .text(b ? "true" : "false")
        case .string(let s): return .text(s)
        }
    }

    var display: String {
        switch self {
        case .text(let s): return s
        case .number(_, let d): return d
        }
    }
    var number: Double? { if case .number(let d, _) = self { return d }; return nil }
}

/// A filter expression (a stand-in for the library's, same spirit):
/// `params.lr < 1e-3 and status = finished and train/loss.min < 0.5 and tags ~ baseline`.
/// Operators: = == != < <= > >= and ~ (contains); and, or, not, parentheses; values are numbers,
/// "quoted strings" or bare words.
indirect enum Filter {
    case and(Filter, Filter)
    case or(Filter, Filter)
    case not(Filter)
    case compare(key: String, op: String, value: String, number: Double?)

    func matches(_ row: RunRow) throws -> Bool {
        switch self {
        case let .and(a, b): return try a.matches(row) && b.matches(row)
        case let .or(a, b): return try a.matches(row) || b.matches(row)
        case let .not(a): return try !a.matches(row)
        case let .compare(key, op, value, number):
            if key == "tags" {
                let has = row.info.tags.contains(value)
                switch op {
                case "~", "=", "==": return has
                case "!=": return !has
                default: throw CLIError("tags can only be compared with ~, = or !=")
                }
            }
            guard let v = row.value(key) else { return op == "!=" }
            if let n = number, let x = v.number {
                switch op {
                case "=", "==": return x == n
                case "!=": return x != n
                case "<": return x < n
                case "<=": return x <= n
                case ">": return x > n
                case ">=": return x >= n
                default: return v.display.contains(value)
                }
            }
            let s: String
            if case .text(let t) = v { s = t } else { s = v.display }
            switch op {
            case "=", "==": return s == value
            case "!=": return s != value
            case "<": return s < value
            case "<=": return s <= value
            case ">": return s > value
            case ">=": return s >= value
            default: return s.contains(value)
            }
        }
    }

    static func parse(_ text: String) throws -> Filter {
        var p = FilterParser(tokens: try FilterParser.tokenize(text))
        let f = try p.or()
        if p.pos < p.tokens.count { throw CLIError("--where: unexpected \(jsonString(p.tokens[p.pos].text)) at position \(p.tokens[p.pos].offset + 1)", exitCode: 2) }
        return f
    }
}

struct FilterParser {
    struct Token { var text: String; var quoted: Bool; var offset: Int }
    var tokens: [Token]
    var pos = 0

    static func tokenize(_ s: String) throws -> [Token] {
        let chars = Array(s)
        var out: [Token] = []
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == " " || c == "\t" { i += 1; continue }
            if c == "(" || c == ")" { out.append(Token(text: String(c), quoted: false, offset: i)); i += 1; continue }
            if "<>!=~".contains(c) {
                var op = String(c)
                if i + 1 < chars.count, chars[i + 1] == "=" { op.append("="); i += 1 }
                out.append(Token(text: op, quoted: false, offset: i)); i += 1; continue
            }
            if c == "\"" || c == "'" {
                let start = i
                i += 1
                var t = ""
                while i < chars.count, chars[i] != c { t.append(chars[i]); i += 1 }
                if i >= chars.count { throw CLIError("--where: unterminated string at position \(start + 1)", exitCode: 2) }
                i += 1
                out.append(Token(text: t, quoted: true, offset: start)); continue
            }
            let start = i
            var t = ""
            while i < chars.count, !" \t()<>!=~\"'".contains(chars[i]) { t.append(chars[i]); i += 1 }
            out.append(Token(text: t, quoted: false, offset: start))
        }
        return out
    }

    mutating func or() throws -> Filter {
        var f = try and()
        while pos < tokens.count, !tokens[pos].quoted, tokens[pos].text.lowercased() == "or" { pos += 1; f = .or(f, try and()) }
        return f
    }
    mutating func and() throws -> Filter {
        var f = try unary()
        while pos < tokens.count, !tokens[pos].quoted, tokens[pos].text.lowercased() == "and" || tokens[pos].text == "&&" { pos += 1; f = .and(f, try unary()) }
        return f
    }
    mutating func unary() throws -> Filter {
        guard pos < tokens.count else { throw CLIError("--where: expression ends too early", exitCode: 2) }
        let t = tokens[pos]
        if !t.quoted, t.text.lowercased() == "not" { pos += 1; return .not(try unary()) }
        if !t.quoted, t.text == "(" {
            pos += 1
            let f = try or()
            guard pos < tokens.count, tokens[pos].text == ")" else { throw CLIError("--where: missing ')' for '(' at position \(t.offset + 1)", exitCode: 2) }
            pos += 1
            return f
        }
        let ops: Set<String> = ["=", "==", "!=", "<", "<=", ">", ">=", "~"]
        guard pos + 2 < tokens.count else { throw CLIError("--where: expected KEY OP VALUE at position \(t.offset + 1)", exitCode: 2) }
        let op = tokens[pos + 1]
        guard ops.contains(op.text), !op.quoted else { throw CLIError("--where: expected an operator (= != < <= > >= ~) at position \(op.offset + 1), got \(jsonString(op.text))", exitCode: 2) }
        let v = tokens[pos + 2]
        pos += 3
        let key = t.text
        return .compare(key: key, op: op.text, value: v.text, number: v.quoted ? nil : parseNumberText(v.text))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
