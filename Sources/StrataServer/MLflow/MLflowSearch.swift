import Foundation
import Strata

/// MLflow's run search language (`filter` and `order_by` of `runs/search`), evaluated on the
/// MLflow view of each run (docs/MLFLOW.md, "Search").
///
/// A filter is comparisons joined by `AND`: `metrics.KEY` with `= != < <= > >=` against a number
/// (the run's latest value); `params.KEY` and `tags.KEY` with `= != LIKE ILIKE IN NOT IN` against
/// text, and `IS NULL`/`IS NOT NULL`; `attributes.NAME` (`run_id`, `run_name`, `status`,
/// `user_id`, `artifact_uri`, `lifecycle_stage`, `start_time`, `end_time`, `created`);
/// `datasets.name|digest|context`. Keys with other characters are quoted with backticks or
/// double quotes. A run without the key never matches.
struct MLflowFilter: Sendable {
    enum Entity: Sendable { case metric, param, tag, attribute, dataset }

    enum Value: Sendable {
        case text(String)
        case number(Double)
        case list([String])
        case null
    }

    struct Clause: Sendable {
        var entity: Entity
        var key: String
        var op: String
        var value: Value
    }

    let clauses: [Clause]

    static let numericAttributes: Set<String> = ["start_time", "end_time", "created", "creation_time", "last_update_time"]
    static let textAttributes: Set<String> = ["run_id", "run_name", "status", "user_id", "artifact_uri", "lifecycle_stage"]
    static let experimentAttributes: Set<String> = ["name", "experiment_id", "creation_time", "last_update_time"]

    /// True when experiment `e` passes every clause.
    func matches(_ e: MLflowExperiments.Experiment) -> Bool {
        clauses.allSatisfy { c in
            switch (c.entity, c.key) {
            case (.tag, _): return Self.matchText(e.tags[c.key], c)
            case (.attribute, "name"): return Self.matchText(e.name, c)
            case (.attribute, "experiment_id"): return Self.matchText(e.id, c)
            case (.attribute, "creation_time"):
                guard case .number(let x) = c.value else { return false }
                return Self.compare(Double(e.createdMs), c.op, x)
            case (.attribute, "last_update_time"):
                guard case .number(let x) = c.value else { return false }
                return Self.compare(Double(e.updatedMs), c.op, x)
            default: return false
            }
        }
    }

    /// - Parameter experiments: a filter of `experiments/search` (attributes `name`,
    ///   `experiment_id`, `creation_time`, `last_update_time`; a bare `name` is `attributes.name`).
    init(_ text: String, experiments: Bool = false) throws(MLflowError) {
        var lexer = Lexer(Array(text.utf8), text: text)
        lexer.experiments = experiments
        var out: [Clause] = []
        if lexer.atEnd() { clauses = []; return }
        while true {
            out.append(try lexer.clause())
            if lexer.atEnd() { break }
            let word = try lexer.word()
            guard word.lowercased() == "and" else {
                throw .invalid(
                    "Invalid filter '\(text)': expected AND between comparisons, got '\(word)' (OR is not supported by MLflow's run search)")
            }
        }
        clauses = out
    }

    /// An order_by entry: `metrics.KEY [ASC|DESC]` and the like.
    struct Order: Sendable {
        var entity: Entity
        var key: String
        var ascending: Bool

        init(_ text: String) throws(MLflowError) {
            var lexer = Lexer(Array(text.utf8), text: text)
            let (e, k) = try lexer.identifier()
            entity = e
            key = k
            ascending = true
            if !lexer.atEnd() {
                switch try lexer.word().lowercased() {
                case "asc": ascending = true
                case "desc": ascending = false
                default: throw .invalid("Invalid order_by clause '\(text)': the direction must be ASC or DESC")
                }
            }
            guard lexer.atEnd() else { throw .invalid("Invalid order_by clause '\(text)': unexpected text after the direction") }
            if entity == .dataset { throw .invalid("Invalid order_by clause '\(text)': cannot order by datasets") }
            if entity == .attribute, !MLflowFilter.numericAttributes.contains(key), !MLflowFilter.textAttributes.contains(key) {
                throw .invalid("Invalid order_by clause '\(text)': unknown attribute '\(key)'")
            }
        }
    }

    // MARK: evaluation

    func matches(_ r: MLflowRunView) -> Bool {
        clauses.allSatisfy { Self.matches($0, r) }
    }

    static func attributeText(_ key: String, _ r: MLflowRunView) -> String? {
        switch key {
        case "run_id": return r.id
        case "run_name": return r.runName
        case "status": return r.status
        case "user_id": return r.userId
        case "artifact_uri": return r.artifactURI
        case "lifecycle_stage": return r.lifecycleStage
        default: return nil
        }
    }

    static func attributeNumber(_ key: String, _ r: MLflowRunView) -> Double? {
        switch key {
        case "start_time", "created": return Double(r.info.createdMs)
        case "end_time": return r.info.status == .running ? nil : r.info.endedMs.map(Double.init)
        default: return nil
        }
    }

    private static func matches(_ c: Clause, _ r: MLflowRunView) -> Bool {
        switch c.entity {
        case .metric:
            guard let m = r.metrics[c.key], case .number(let x) = c.value else { return false }
            return compare(m.value, c.op, x)
        case .param: return matchText(r.params[c.key], c)
        case .tag: return matchText(r.tags[c.key], c)
        case .attribute:
            if numericAttributes.contains(c.key) {
                guard let v = attributeNumber(c.key, r), case .number(let x) = c.value else { return false }
                return compare(v, c.op, x)
            }
            return matchText(attributeText(c.key, r), c)
        case .dataset:
            return r.datasets.contains { d in
                let v: String?
                switch c.key {
                case "name": v = d.name
                case "digest": v = d.digest
                default: v = d.context
                }
                return matchText(v, c)
            }
        }
    }

    static func compare(_ v: Double, _ op: String, _ x: Double) -> Bool {
        switch op {
        case "=": return v == x
        case "!=": return v != x && !v.isNaN
        case "<": return v < x
        case "<=": return v <= x
        case ">": return v > x
        case ">=": return v >= x
        default: return false
        }
    }

    static func matchText(_ v: String?, _ c: Clause) -> Bool {
        switch (c.op, c.value) {
        case ("is", .null): return v == nil
        case ("is not", .null): return v != nil
        default: break
        }
        guard let v else { return false }
        switch (c.op, c.value) {
        case ("=", .text(let x)): return v == x
        case ("!=", .text(let x)): return v != x
        case ("like", .text(let x)): return like(Array(v.unicodeScalars), Array(x.unicodeScalars))
        case ("ilike", .text(let x)):
            return like(Array(v.lowercased().unicodeScalars), Array(x.lowercased().unicodeScalars))
        case ("in", .list(let xs)): return xs.contains(v)
        case ("not in", .list(let xs)): return !xs.contains(v)
        default: return false
        }
    }

    /// SQL LIKE: `%` any run of characters, `_` one character.
    static func like(_ s: [Unicode.Scalar], _ p: [Unicode.Scalar]) -> Bool {
        var si = 0, pi = 0, starP = -1, starS = 0
        while si < s.count {
            if pi < p.count, p[pi] == "_" || (p[pi] != "%" && p[pi] == s[si]) {
                si += 1; pi += 1
            } else if pi < p.count, p[pi] == "%" {
                starP = pi; starS = si; pi += 1
            } else if starP >= 0 {
                pi = starP + 1; starS += 1; si = starS
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "%" { pi += 1 }
        return pi == p.count
    }

    /// Sorts by the order_by clauses, then start time (newest first) and run id, as MLflow does.
    /// Runs without the key come after the others in either direction, and a NaN metric after
    /// the numbers but before them.
    static func sorted(_ runs: [MLflowRunView], by orders: [Order]) -> [MLflowRunView] {
        enum Key: Comparable {
            case number(Double)
            case text(String)
            var isNaN: Bool {
                if case .number(let d) = self { return d.isNaN }
                return false
            }
            static func < (a: Key, b: Key) -> Bool {
                switch (a, b) {
                case let (.number(x), .number(y)):
                    if x.isNaN { return false }
                    if y.isNaN { return true }
                    return x < y
                case let (.text(x), .text(y)): return x < y
                case (.number, .text): return true
                case (.text, .number): return false
                }
            }
        }
        func key(_ o: Order, _ r: MLflowRunView) -> Key? {
            switch o.entity {
            case .metric: return r.metrics[o.key].map { .number($0.value) }
            case .param: return r.params[o.key].map { .text($0) }
            case .tag: return r.tags[o.key].map { .text($0) }
            case .attribute:
                if numericAttributes.contains(o.key) { return attributeNumber(o.key, r).map { .number($0) } }
                return attributeText(o.key, r).map { .text($0) }
            case .dataset: return nil
            }
        }
        let keyed = runs.map { r in (r, orders.map { key($0, r) }) }
        return keyed.sorted { a, b in
            for (i, o) in orders.enumerated() {
                switch (a.1[i], b.1[i]) {
                case (nil, nil): continue
                case (nil, _): return false
                case (_, nil): return true
                case let (x?, y?):
                    // NaN comes after the numbers (before runs without the metric) either way.
                    let (xn, yn) = (x.isNaN, y.isNaN)
                    if xn != yn { return yn }
                    if x == y || xn { continue }
                    return o.ascending ? x < y : y < x
                }
            }
            if a.0.info.createdMs != b.0.info.createdMs { return a.0.info.createdMs > b.0.info.createdMs }
            return a.0.id < b.0.id
        }.map(\.0)
    }

    // MARK: parsing

    struct Lexer {
        let b: [UInt8]
        let text: String
        var i = 0
        var experiments = false

        init(_ b: [UInt8], text: String) {
            self.b = b
            self.text = text
        }

        func fail(_ why: String) -> MLflowError {
            .invalid("Invalid filter '\(text)': \(why) at character \(i)")
        }

        mutating func skipSpace() {
            while i < b.count, b[i] == 32 || b[i] == 9 || b[i] == 10 || b[i] == 13 { i += 1 }
        }

        mutating func atEnd() -> Bool {
            skipSpace()
            return i >= b.count
        }

        static func isWordByte(_ c: UInt8) -> Bool {
            (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 || c >= 0x80
        }

        static func isKeyByte(_ c: UInt8) -> Bool {
            isWordByte(c) || c == UInt8(ascii: ".") || c == UInt8(ascii: "/") || c == UInt8(ascii: ":") || c == UInt8(ascii: "-")
        }

        mutating func word() throws(MLflowError) -> String {
            skipSpace()
            let start = i
            while i < b.count, Lexer.isWordByte(b[i]) { i += 1 }
            guard i > start else { throw fail("expected a word") }
            return String(decoding: b[start..<i], as: UTF8.self)
        }

        /// A quoted text: `'…'`, `"…"` or `` `…` ``; a doubled or backslash-escaped quote is the quote.
        mutating func quoted() throws(MLflowError) -> String {
            let q = b[i]
            i += 1
            var out: [UInt8] = []
            while i < b.count {
                let c = b[i]
                if c == UInt8(ascii: "\\"), i + 1 < b.count { out.append(b[i + 1]); i += 2; continue }
                if c == q {
                    if i + 1 < b.count, b[i + 1] == q { out.append(q); i += 2; continue }
                    i += 1
                    return String(decoding: out, as: UTF8.self)
                }
                out.append(c)
                i += 1
            }
            throw fail("unterminated quote")
        }

        static func isQuote(_ c: UInt8) -> Bool { c == 39 || c == 34 || c == 96 }

        /// `entity.key`: the key bare (letters, digits, `_ . / : -`) or quoted.
        mutating func identifier() throws(MLflowError) -> (Entity, String) {
            let start = i
            let prefix = try word()
            if experiments, i >= b.count || b[i] != UInt8(ascii: "."), MLflowFilter.experimentAttributes.contains(prefix) {
                return (.attribute, prefix)
            }
            guard i < b.count, b[i] == UInt8(ascii: ".") else {
                i = start
                throw fail("expected an identifier such as metrics.KEY, params.KEY, tags.KEY or attributes.NAME")
            }
            i += 1
            let entity: Entity
            switch prefix.lowercased() {
            case "metric", "metrics": entity = .metric
            case "param", "params", "parameter", "parameters": entity = .param
            case "tag", "tags": entity = .tag
            case "attribute", "attributes", "attr", "run": entity = .attribute
            case "dataset", "datasets": entity = .dataset
            default:
                throw .invalid(
                    "Invalid filter '\(text)': invalid entity type '\(prefix)'; valid types are metrics, params, tags, attributes and datasets")
            }
            var key: String
            if i < b.count, Lexer.isQuote(b[i]) {
                key = try quoted()
            } else {
                let ks = i
                while i < b.count, Lexer.isKeyByte(b[i]) { i += 1 }
                // A trailing '-' belongs to no key (`metrics.a-1` is a key; `-` alone starts a number).
                key = String(decoding: b[ks..<i], as: UTF8.self)
            }
            guard !key.isEmpty else { throw fail("empty key after '\(prefix).'") }
            if entity == .attribute, experiments {
                guard MLflowFilter.experimentAttributes.contains(key) else {
                    throw .invalid(
                        "Invalid filter '\(text)': invalid attribute key '\(key)'; valid keys are name, experiment_id, creation_time and last_update_time"
                    )
                }
            } else if experiments, entity != .tag {
                throw .invalid("Invalid filter '\(text)': experiments are searched by attributes and tags only")
            } else if entity == .attribute {
                if key == "run_uuid" { key = "run_id" }
                if key == "name" { key = "run_name" }
                guard MLflowFilter.numericAttributes.contains(key) || MLflowFilter.textAttributes.contains(key) else {
                    throw .invalid(
                        "Invalid filter '\(text)': invalid attribute key '\(key)'; valid keys are \((MLflowFilter.numericAttributes.union(MLflowFilter.textAttributes)).sorted().joined(separator: ", "))"
                    )
                }
            }
            if entity == .dataset, !["name", "digest", "context"].contains(key) {
                throw .invalid("Invalid filter '\(text)': invalid dataset key '\(key)'; valid keys are name, digest and context")
            }
            return (entity, key)
        }

        mutating func comparator() throws(MLflowError) -> String {
            skipSpace()
            guard i < b.count else { throw fail("expected a comparator") }
            for op in ["!=", "<=", ">=", "<>", "==", "=", "<", ">"] where b[i...].starts(with: Array(op.utf8)) {
                i += op.utf8.count
                return op == "==" ? "=" : (op == "<>" ? "!=" : op)
            }
            let w = try word().lowercased()
            switch w {
            case "like", "ilike", "in": return w
            case "not":
                let n = try word().lowercased()
                if n == "in" { return "not in" }
                if n == "like" || n == "ilike" { throw fail("NOT \(n.uppercased()) is not supported") }
                throw fail("expected IN after NOT")
            case "is":
                let n = try word().lowercased()
                if n == "null" { return "is" }
                if n == "not", try word().lowercased() == "null" { return "is not" }
                throw fail("expected NULL or NOT NULL after IS")
            default: throw fail("invalid comparator '\(w)'")
            }
        }

        mutating func number() throws(MLflowError) -> Double {
            skipSpace()
            let start = i
            while i < b.count, Lexer.isWordByte(b[i]) || b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+") {
                i += 1
            }
            let t = String(decoding: b[start..<i], as: UTF8.self)
            switch t.lowercased() {
            case "nan": return .nan
            case "inf", "infinity", "+inf", "+infinity": return .infinity
            case "-inf", "-infinity": return -.infinity
            default: break
            }
            guard let d = Double(t) else { i = start; throw fail("expected a number, got '\(t)'") }
            return d
        }

        mutating func string() throws(MLflowError) -> String {
            skipSpace()
            guard i < b.count, b[i] == 39 || b[i] == 34 else { throw fail("expected a quoted string") }
            return try quoted()
        }

        mutating func list() throws(MLflowError) -> [String] {
            skipSpace()
            guard i < b.count, b[i] == UInt8(ascii: "(") else { throw fail("expected a list such as ('a', 'b')") }
            i += 1
            var out: [String] = []
            while true {
                out.append(try string())
                skipSpace()
                guard i < b.count else { throw fail("unterminated list") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: ")") { i += 1; return out }
                throw fail("expected , or ) in the list")
            }
        }

        mutating func clause() throws(MLflowError) -> Clause {
            skipSpace()
            let (entity, key) = try identifier()
            let op = try comparator()
            let numeric = entity == .metric || (entity == .attribute && MLflowFilter.numericAttributes.contains(key))
            let value: Value
            switch op {
            case "is", "is not":
                guard entity == .tag || entity == .param || (entity == .attribute && !numeric) else {
                    throw fail("IS NULL applies to params, tags and text attributes")
                }
                value = .null
            case "in", "not in":
                if numeric { throw fail("IN applies to params, tags, datasets and text attributes") }
                value = .list(try list())
            case "like", "ilike":
                if numeric { throw fail("\(op.uppercased()) applies to params, tags, datasets and text attributes") }
                value = .text(try string())
            case "=", "!=":
                value = numeric ? .number(try number()) : .text(try string())
            default:
                if !numeric { throw fail("'\(op)' compares numbers: it applies to metrics and time attributes") }
                value = .number(try number())
            }
            return Clause(entity: entity, key: key, op: op, value: value)
        }
    }
}
