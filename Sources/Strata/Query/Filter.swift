/// A parsed filter expression over runs: typed params, metadata, tags, status, name, times and
/// metric summaries, combined with `and`, `or`, `not` and parentheses.
///
/// ```swift
/// let f = try Filter(#"params.lr < 1e-3 and not tags has "broken" and metric("val/loss").min < 0.5"#)
/// f.metricNames   // ["val/loss"]: load only these summaries
/// ```
///
/// Numbers compare as numbers (`.int(3) == 3.0`), strings as strings; a comparison with a missing
/// field, a NaN or a value of another type is false (and `not` makes it true). The full language
/// is described in `docs/FILTERS.md`. Parse errors are ``StrataError/Code/parse`` errors whose
/// ``StrataError/offset`` is the 0-based character position of the problem.
public struct Filter: Sendable, CustomStringConvertible {
    /// Longest accepted expression, in characters.
    static let maxLength = 4096
    /// Deepest accepted nesting of parentheses and `not`.
    static let maxDepth = 64

    let root: FilterNode
    /// Metric names the expression refers to via `metric("...")` (so the caller loads only those summaries).
    public let metricNames: Set<String>

    /// Parses `text`; throws ``StrataError`` with code `.parse` and the character position of the problem.
    ///
    /// - Parameter text: The expression, such as `params.lr < 1e-3 and tags contains "baseline"`.
    /// - Throws: ``StrataError`` with code `.parse` for text that is not an expression.
    public init(_ text: String) throws(StrataError) {
        var parser = try FilterParser(text)
        root = try parser.parseExpression()
        var names = Set<String>()
        root.collectMetrics(into: &names)
        metricNames = names
    }

    /// The canonical text: lower-case keywords, `==` for `=`, double-quoted strings, minimal
    /// parentheses. Parsing it gives the same filter.
    public var description: String { root.text }

    /// Whether the run described by `context` satisfies the expression.
    func matches(_ context: FilterContext) -> Bool { root.evaluate(context) }
}

// MARK: - Syntax tree

/// A field a comparison looks at.
indirect enum FilterField: Sendable, Hashable {
    case param(String)
    case meta(String)
    case status, name, project, id, parent, created, ended
    case metric(String, FilterStat)
    /// `metric("m").p99`: a quantile of the whole series (from chunk sketches; docs/QUERIES.md).
    case quantile(String, Double)
    /// Element `i` of a list-valued field (`params.layers[0]`; negative counts from the end).
    case element(FilterField, Int)
    /// The number of elements of a list-valued field (`len(params.layers)`).
    case length(FilterField)
    /// `artifact("model").digest`: a field of the run's artifact of that name (FilterArtifact.swift).
    case artifact(String, String)

    /// The field's value for one run; nil when it is missing (param not set, run not ended,
    /// no parent, metric absent, min/max step unknown).
    func value(in c: FilterContext) -> ParamValue? {
        switch self {
        case .param(let k): return c.run.params[k]
        case .meta(let k): return c.run.metadata[k]
        case .status: return .string(c.run.status.rawValue)
        case .name: return .string(c.run.name)
        case .project: return .string(c.run.project)
        case .id: return .string(c.run.id.text)
        case .parent: return c.run.parent.map { .string($0.text) }
        case .created: return .int(c.run.createdMs)
        case .ended: return c.run.endedMs.map { .int($0) }
        case .metric(let name, let stat):
            guard let s = c.metric(name) else { return nil }
            return stat.value(s)
        case .quantile(let name, let q):
            return c.quantile(name, q).map { .double($0) }
        case .element(let base, let i):
            return FilterField.element(base.value(in: c), i)
        case .length(let base):
            return FilterField.length(base.value(in: c))
        case .artifact(let name, let attribute):
            return FilterField.artifactValue(c.run, name, attribute)
        }
    }

    /// Element `i` of a list value (from the end when negative); nil for anything else or out of range.
    static func element(_ v: ParamValue?, _ i: Int) -> ParamValue? {
        guard case .list(let xs)? = v else { return nil }
        let j = i < 0 ? xs.count + i : i
        return j >= 0 && j < xs.count ? xs[j] : nil
    }

    /// The length of a list value; nil for anything else.
    static func length(_ v: ParamValue?) -> ParamValue? {
        guard case .list(let xs)? = v else { return nil }
        return .int(Int64(xs.count))
    }

    /// The field's value given the value of the param it reads (`paramKey`): what `value(in:)` gives for
    /// a run whose param has that value.
    func value(param v: ParamValue?) -> ParamValue? {
        switch self {
        case .element(let base, let i): return FilterField.element(base.value(param: v), i)
        case .length(let base): return FilterField.length(base.value(param: v))
        default: return v
        }
    }

    /// Whether the field is a metric statistic or quantile (answered from the run's id alone).
    var isMetric: Bool {
        switch self {
        case .metric, .quantile: return true
        default: return false
        }
    }

    /// Whether the field is a param or metadata value, or an element of one (what `has` and
    /// `is null` apply to).
    var isKeyed: Bool {
        switch self {
        case .param, .meta: return true
        case .element(let base, _): return base.isKeyed
        default: return false
        }
    }

    var text: String {
        switch self {
        case .param(let k): return FilterField.isSimpleKey(k) ? "params." + k : "params[" + FilterField.quote(k) + "]"
        case .meta(let k): return FilterField.isSimpleKey(k) ? "meta." + k : "meta[" + FilterField.quote(k) + "]"
        case .status: return "status"
        case .name: return "name"
        case .project: return "project"
        case .id: return "id"
        case .parent: return "parent"
        case .created: return "created"
        case .ended: return "ended"
        case .metric(let n, let s): return "metric(" + FilterField.quote(n) + ")." + s.rawValue
        case .quantile(let n, let q): return "metric(" + FilterField.quote(n) + ")." + Quantile.name(q)
        case .element(let base, let i): return base.text + "[" + String(i) + "]"
        case .length(let base): return "len(" + base.text + ")"
        case .artifact(let n, let a): return "artifact(" + FilterField.quote(n) + ")." + a
        }
    }

    /// A key that reads back as one word after `params.`.
    static func isSimpleKey(_ k: String) -> Bool { !k.isEmpty && k.allSatisfy(FilterLexer.isWordContinue) }

    static func quote(_ s: String) -> String {
        var out = "\""
        for c in s {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default: out.append(c)
            }
        }
        return out + "\""
    }
}

/// A statistic of a metric summary.
enum FilterStat: String, Sendable, Hashable, CaseIterable {
    case count, nans, min, max, mean, std, first, last
    case firstStep = "first_step", lastStep = "last_step", minStep = "min_step", maxStep = "max_step"

    func value(_ s: Stats) -> ParamValue? {
        switch self {
        case .count: return .int(Int64(s.count))
        case .nans: return .int(Int64(s.nanCount))
        case .min: return .double(s.min)
        case .max: return .double(s.max)
        case .mean: return .double(s.mean)
        case .std: return .double(s.std)
        case .first: return .double(s.first)
        case .last: return .double(s.last)
        case .firstStep: return .int(s.firstStep)
        case .lastStep: return .int(s.lastStep)
        case .minStep: return s.minStep.map { .int($0) }
        case .maxStep: return s.maxStep.map { .int($0) }
        }
    }

    static let list = allCases.map(\.rawValue).joined(separator: ", ")
}

extension Stats {
    /// The names of the statistics, as written after a metric in filters (`metric("m").mean`),
    /// in the CLI's `METRIC.STAT` keys and in the HTTP API: count, nans, min, max, mean, std,
    /// first, last, first_step, last_step, min_step, max_step.
    public static let names: [String] = FilterStat.allCases.map(\.rawValue)

    /// The statistic called `name` (one of ``names``); nil for another name or when it is not
    /// known (`min_step` of an all-NaN series).
    ///
    /// - Parameter name: A statistic's name.
    /// - Returns: Its value, or nil.
    public func value(named name: String) -> ParamValue? { FilterStat(rawValue: name)?.value(self) }
}

/// A comparison operator.
enum FilterOp: String, Sendable, Hashable {
    case lt = "<", le = "<=", gt = ">", ge = ">=", eq = "==", ne = "!="

    var isOrdering: Bool { self != .eq && self != .ne }

    /// `value op literal`: numbers as numbers (int and double exactly), strings as strings, bools
    /// with `==` / `!=` only; false for NaN and for values of different types, `!=` included.
    func holds(_ value: ParamValue, _ literal: ParamValue) -> Bool {
        if case .text(let t) = value {
            // Text from another tool: a string literal compares with the text as written,
            // anything else with the value the text spells.
            if case .string = literal { return holds(.string(t), literal) }
            return holds(value.typed, literal)
        }
        let order: Int
        switch (value, literal) {
        case (.string(let a), .string(let b)):
            order = a < b ? -1 : (a == b ? 0 : 1)
        case (.bool(let a), .bool(let b)):
            switch self {
            case .eq: return a == b
            case .ne: return a != b
            default: return false
            }
        default:
            guard let o = FilterOp.compareNumbers(value, literal) else { return false }
            order = o
        }
        switch self {
        case .lt: return order < 0
        case .le: return order <= 0
        case .gt: return order > 0
        case .ge: return order >= 0
        case .eq: return order == 0
        case .ne: return order != 0
        }
    }

    /// -1, 0 or 1; nil when either side is not a number or is NaN. Int against double is exact.
    static func compareNumbers(_ a: ParamValue, _ b: ParamValue) -> Int? {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x < y ? -1 : (x == y ? 0 : 1)
        case (.int(let x), .double(let y)): return compare(x, y)
        case (.double(let x), .int(let y)): return compare(y, x).map { -$0 }
        case (.double(let x), .double(let y)):
            if x.isNaN || y.isNaN { return nil }
            return x < y ? -1 : (x == y ? 0 : 1)
        case (.bigInt(let x), .bigInt(let y)): return compareBig(x, y)
        // A big integer lies outside Int64: its sign orders it against any int.
        case (.bigInt(let x), .int): return x.hasPrefix("-") ? -1 : 1
        case (.int, .bigInt(let y)): return y.hasPrefix("-") ? 1 : -1
        case (.bigInt, .double), (.double, .bigInt):
            guard let x = a.number, let y = b.number, !x.isNaN, !y.isNaN else { return nil }
            return x < y ? -1 : (x == y ? 0 : 1)
        default: return nil
        }
    }

    /// Exact order of two big integers' decimal texts (no leading zeros).
    static func compareBig(_ x: String, _ y: String) -> Int {
        let nx = x.hasPrefix("-"), ny = y.hasPrefix("-")
        if nx != ny { return nx ? -1 : 1 }
        let dx = x.utf8.drop { $0 == UInt8(ascii: "-") }, dy = y.utf8.drop { $0 == UInt8(ascii: "-") }
        var order = dx.count < dy.count ? -1 : (dx.count > dy.count ? 1 : 0)
        if order == 0 { order = dx.lexicographicallyPrecedes(dy) ? -1 : (dx.elementsEqual(dy) ? 0 : 1) }
        return nx ? -order : order
    }

    /// Exact order of an Int64 and a Double (no rounding of large integers).
    static func compare(_ i: Int64, _ d: Double) -> Int? {
        if d.isNaN { return nil }
        if d >= 9_223_372_036_854_775_808.0 { return -1 }
        if d < -9_223_372_036_854_775_808.0 { return 1 }
        let floor = d.rounded(.down)
        let f = Int64(floor)
        if i < f { return -1 }
        if i > f { return 1 }
        return floor == d ? 0 : -1
    }
}

/// What `has` looks into.
enum FilterSet: String, Sendable, Hashable {
    case tags, params, meta
}

/// A node of a parsed expression.
indirect enum FilterNode: Sendable {
    case or([FilterNode])
    case and([FilterNode])
    case not(FilterNode)
    case compare(FilterField, FilterOp, ParamValue)
    case list(FilterField, [ParamValue], negated: Bool)
    case has(FilterSet, String)
    case contains(FilterField, String)
    /// `field has value`: the field is a list with an element equal to the value.
    case element(FilterField, ParamValue)
    /// `field is null` (or, negated, `field is not null`, which is `not (field is null)`).
    case isNull(FilterField, negated: Bool)

    func evaluate(_ c: FilterContext) -> Bool {
        switch self {
        case .or(let xs): return xs.contains { $0.evaluate(c) }
        case .and(let xs): return xs.allSatisfy { $0.evaluate(c) }
        case .not(let x): return !x.evaluate(c)
        case .compare(let f, _, _), .list(let f, _, _), .contains(let f, _), .element(let f, _), .isNull(let f, _):
            return holds(f.value(in: c))
        case .has(let set, let s):
            switch set {
            case .tags: return c.run.tags.contains(s)
            case .params: return c.run.params[s] != nil
            case .meta: return c.run.metadata[s] != nil
            }
        }
    }

    /// Whether a leaf that tests a field (compare, list, contains, element, is null) holds for
    /// the field's value `v` (nil: missing). False for the other nodes.
    func holds(_ v: ParamValue?) -> Bool {
        switch self {
        case .compare(_, let op, let lit):
            guard let v else { return false }
            return op.holds(v, lit)
        case .list(_, let lits, let negated):
            var found = false
            if let v { found = lits.contains { FilterOp.eq.holds(v, $0) } }
            return negated ? !found : found
        case .contains(_, let s):
            guard case .string(let v)? = v else { return false }
            return s.isEmpty || v.contains(s)
        case .element(_, let lit):
            guard case .list(let xs)? = v else { return false }
            return xs.contains { FilterOp.eq.holds($0, lit) }
        case .isNull(_, let negated):
            var null = false
            if case .null? = v { null = true }
            return negated ? !null : null
        case .or, .and, .not, .has: return false
        }
    }

    func collectMetrics(into names: inout Set<String>) {
        switch self {
        case .or(let xs), .and(let xs): for x in xs { x.collectMetrics(into: &names) }
        case .not(let x): x.collectMetrics(into: &names)
        case .compare(let f, _, _), .list(let f, _, _), .contains(let f, _), .element(let f, _), .isNull(let f, _):
            if case .metric(let n, _) = f { names.insert(n) }
            if case .quantile(let n, _) = f { names.insert(n) }
        case .has: break
        }
    }

    var text: String {
        switch self {
        case .or(let xs):
            return xs.map(\.text).joined(separator: " or ")
        case .and(let xs):
            return xs.map { x in
                if case .or = x { return "(" + x.text + ")" }
                return x.text
            }.joined(separator: " and ")
        case .not(let x):
            switch x {
            case .or, .and: return "not (" + x.text + ")"
            default: return "not " + x.text
            }
        case .compare(let f, let op, let lit):
            return f.text + " " + op.rawValue + " " + FilterNode.literalText(lit)
        case .list(let f, let lits, let negated):
            return f.text + (negated ? " not in (" : " in (") + lits.map(FilterNode.literalText).joined(separator: ", ") + ")"
        case .has(let set, let s):
            return set.rawValue + " has " + FilterField.quote(s)
        case .contains(let f, let s):
            return f.text + " ~ " + FilterField.quote(s)
        case .element(let f, let lit):
            return f.text + " has " + FilterNode.literalText(lit)
        case .isNull(let f, let negated):
            return f.text + (negated ? " is not null" : " is null")
        }
    }

    static func literalText(_ v: ParamValue) -> String {
        switch v {
        case .string(let s): return FilterField.quote(s)
        case .int(let i): return String(i)
        case .double(let d): return "\(d)"
        case .bool(let b): return b ? "true" : "false"
        case .text(let t): return FilterField.quote(t)
        case .bigInt(let t): return t
        case .null, .list, .object: return v.json
        }
    }

    /// `or` / `and` of `items`, flattening nested nodes of the same kind.
    static func joined(_ items: [FilterNode], or: Bool) -> FilterNode {
        if items.count == 1 { return items[0] }
        var flat: [FilterNode] = []
        for item in items {
            switch item {
            case .or(let xs) where or: flat += xs
            case .and(let xs) where !or: flat += xs
            default: flat.append(item)
            }
        }
        return or ? .or(flat) : .and(flat)
    }
}

// MARK: - Lexer

struct FilterToken {
    enum Kind: Equatable {
        case word(String)
        case number(ParamValue)
        case string(String)
        case symbol(String)
        case end
    }
    var kind: Kind
    /// 0-based character position of the first character.
    var position: Int
    /// The source text of the token.
    var text: String

    static let keywords: Set<String> = ["and", "or", "not", "in", "has", "is", "null", "true", "false"]

    /// The keyword this token is (lower case), if it is one.
    var keyword: String? {
        guard case .word(let w) = kind else { return nil }
        let l = w.lowercased()
        return FilterToken.keywords.contains(l) ? l : nil
    }

    func isSymbol(_ s: String) -> Bool { kind == .symbol(s) }

    /// How an error message names the token.
    var found: String {
        var t = text
        if t.count > 40 { t = String(t.prefix(40)) + "…" }
        switch kind {
        case .end: return "end of expression"
        case .word: return keyword != nil ? "keyword '\(t)'" : "'\(t)'"
        case .number: return "number \(t)"
        case .string: return "string \(t)"
        case .symbol: return "'\(t)'"
        }
    }
}

/// Splits an expression into tokens on demand (so an error is reported at the first problem).
struct FilterLexer {
    let chars: [Character]
    var index = 0

    init(_ text: String) { chars = Array(text) }

    static func isDigit(_ c: Character) -> Bool {
        guard let a = c.asciiValue else { return false }
        return a >= 48 && a <= 57
    }
    static func isWordStart(_ c: Character) -> Bool { c.isLetter || c == "_" }
    static func isWordContinue(_ c: Character) -> Bool {
        c.isLetter || c.isNumber || c == "_" || c == "-" || c == "/" || c == "."
    }

    func at(_ i: Int) -> Character? { i < chars.count ? chars[i] : nil }

    func text(_ start: Int, _ end: Int) -> String { String(chars[start..<end]) }

    mutating func next() throws(StrataError) -> FilterToken {
        while index < chars.count, chars[index].isWhitespace { index += 1 }
        let start = index
        guard let c = at(start) else { return FilterToken(kind: .end, position: chars.count, text: "") }
        if c == "\"" || c == "'" { return try string(quote: c) }
        let next = at(start + 1).map(FilterLexer.isDigit) ?? false
        if FilterLexer.isDigit(c) || (c == "." && next)
            || (c == "-" && (next || (at(start + 1) == "." && (at(start + 2).map(FilterLexer.isDigit) ?? false))))
        {
            return try number()
        }
        if FilterLexer.isWordStart(c) {
            index += 1
            while let d = at(index), FilterLexer.isWordContinue(d) { index += 1 }
            return FilterToken(kind: .word(text(start, index)), position: start, text: text(start, index))
        }
        let two = at(start + 1).map { String(c) + String($0) } ?? ""
        let symbol: String
        if ["<=", ">=", "==", "!="].contains(two) {
            symbol = two
        } else if "()[],.<>=~".contains(c) {
            symbol = String(c)
        } else if c == "!" {
            throw StrataError(.parse, "unexpected character '!' (use '!=' to compare or 'not' to negate)", offset: start)
        } else {
            throw StrataError(.parse, "unexpected character '\(c)'", offset: start)
        }
        index += symbol.count
        return FilterToken(kind: .symbol(symbol), position: start, text: symbol)
    }

    mutating func digits() -> Int {
        let s = index
        while let d = at(index), FilterLexer.isDigit(d) { index += 1 }
        return index - s
    }

    /// `-? digits? (. digits)? ([eE] [+-]? digits)?` with at least one digit before the exponent.
    mutating func number() throws(StrataError) -> FilterToken {
        let start = index
        if at(index) == "-" { index += 1 }
        var count = digits()
        var integral = true
        var ok = true
        if at(index) == "." {
            index += 1
            integral = false
            let frac = digits()
            if frac == 0 { ok = false }
            count += frac
        }
        if ok, count > 0, let e = at(index), e == "e" || e == "E" {
            index += 1
            integral = false
            if at(index) == "+" || at(index) == "-" { index += 1 }
            if digits() == 0 { ok = false }
        }
        if let d = at(index), FilterLexer.isWordContinue(d) { ok = false }
        if !ok || count == 0 {
            while let d = at(index), FilterLexer.isWordContinue(d) || d == "+" { index += 1 }
            throw StrataError(.parse, "malformed number \"\(text(start, index))\"", offset: start)
        }
        let t = text(start, index)
        if integral, let i = Int64(t) {
            return FilterToken(kind: .number(.int(i)), position: start, text: t)
        }
        if integral, let big = ParamValue.bigInteger(t) {
            return FilterToken(kind: .number(big), position: start, text: t)
        }
        guard let d = Double(t), d.isFinite else {
            throw StrataError(.parse, "number \(t) is out of range", offset: start)
        }
        return FilterToken(kind: .number(.double(d)), position: start, text: t)
    }

    /// A string in single or double quotes; escapes `\"`, `\'`, `\\`, `\n`, `\t`.
    mutating func string(quote: Character) throws(StrataError) -> FilterToken {
        let start = index
        index += 1
        var value = ""
        while true {
            guard let c = at(index) else {
                throw StrataError(.parse, "unterminated string starting at position \(start) (missing closing \(quote))", offset: start)
            }
            if c == quote { index += 1; break }
            if c == "\\" {
                guard let e = at(index + 1) else {
                    throw StrataError(.parse, "unterminated string starting at position \(start) (missing closing \(quote))", offset: start)
                }
                switch e {
                case "\"", "'", "\\": value.append(e)
                case "n": value.append("\n")
                case "t": value.append("\t")
                default:
                    throw StrataError(.parse, "unknown escape '\\\(e)' in string (use \\\" \\' \\\\ \\n or \\t)", offset: index)
                }
                index += 2
                continue
            }
            value.append(c)
            index += 1
        }
        return FilterToken(kind: .string(value), position: start, text: text(start, index))
    }
}

// MARK: - Parser

/// Recursive descent: `or` of `and` of unary (`not`, parentheses, predicate).
struct FilterParser {
    var lexer: FilterLexer
    var token: FilterToken
    var depth = 0

    static let fieldNames = ["params", "meta", "tags", "status", "name", "project", "id", "parent", "created", "ended", "metric", "len", "artifact"]
    static let fieldList =
        "params.<key>, meta.<key>, params.<key>[<index>], len(params.<key>), tags, status, name, project, id, parent, created, ended, metric(\"<name>\").<stat>, artifact(\"<name>\").<digest|uri|kind|size|step|role>"

    init(_ text: String) throws(StrataError) {
        if text.utf8.count > Filter.maxLength, text.prefix(Filter.maxLength + 1).count > Filter.maxLength {
            throw StrataError(.parse, "expression is longer than \(Filter.maxLength) characters", offset: Filter.maxLength)
        }
        lexer = FilterLexer(text)
        token = FilterToken(kind: .end, position: 0, text: "")
        token = try lexer.next()
    }

    func error(_ message: String, at position: Int? = nil) -> StrataError {
        StrataError(.parse, message, offset: position ?? token.position)
    }

    mutating func advance() throws(StrataError) { token = try lexer.next() }

    mutating func parseExpression() throws(StrataError) -> FilterNode {
        if token.kind == .end {
            throw error("empty expression: expected a condition such as params.lr < 1e-3")
        }
        let node = try parseOr(after: nil)
        if token.isSymbol(")") {
            throw error("unexpected ')' with no matching '('")
        }
        guard token.kind == .end else {
            throw error("expected 'and', 'or' or end of expression, found \(token.found)")
        }
        return node
    }

    mutating func parseOr(after: String?) throws(StrataError) -> FilterNode {
        var items = [try parseAnd(after: after)]
        while token.keyword == "or" {
            try advance()
            items.append(try parseAnd(after: "'or'"))
        }
        return FilterNode.joined(items, or: true)
    }

    mutating func parseAnd(after: String?) throws(StrataError) -> FilterNode {
        var items = [try parseUnary(after: after)]
        while token.keyword == "and" {
            try advance()
            items.append(try parseUnary(after: "'and'"))
        }
        return FilterNode.joined(items, or: false)
    }

    mutating func enter() throws(StrataError) {
        depth += 1
        if depth > Filter.maxDepth {
            throw error("expression is nested more than \(Filter.maxDepth) levels deep (parentheses and 'not' count)")
        }
    }

    mutating func parseUnary(after: String?) throws(StrataError) -> FilterNode {
        if token.keyword == "not" {
            try enter()
            try advance()
            let inner = try parseUnary(after: "'not'")
            depth -= 1
            return .not(inner)
        }
        if token.isSymbol("(") {
            let open = token.position
            try enter()
            try advance()
            let inner = try parseOr(after: "'('")
            guard token.isSymbol(")") else {
                throw error("expected ')' to close '(' at position \(open), found \(token.found)")
            }
            try advance()
            depth -= 1
            return inner
        }
        return try parsePredicate(after: after)
    }

    mutating func parsePredicate(after: String?) throws(StrataError) -> FilterNode {
        let context = after.map { " after \($0)" } ?? ""
        guard case .word(let word) = token.kind, token.keyword == nil else {
            throw error("expected a field such as params.lr, tags or metric(\"val/loss\").min\(context), found \(token.found)")
        }
        let fieldPosition = token.position
        switch word {
        case "tags":
            try advance()
            guard token.keyword == "has" else {
                throw error("expected 'has' after tags (as in tags has \"baseline\"), found \(token.found)")
            }
            return .has(.tags, try parseHas())
        case "params", "meta":
            try advance()
            if token.keyword == "has" { return .has(word == "params" ? .params : .meta, try parseHas()) }
            guard token.isSymbol("[") else {
                throw error("expected '.<key>', '[\"<key>\"]' or 'has' after \(word), found \(token.found)")
            }
            let open = token.position
            try advance()
            guard case .string(let key) = token.kind else {
                throw error("expected a key in quotes after '\(word)[', found \(token.found)")
            }
            try advance()
            guard token.isSymbol("]") else {
                throw error("expected ']' to close '\(word)[' at position \(open), found \(token.found)")
            }
            try advance()
            return try parseOperator(try parseIndexes(word == "params" ? .param(key) : .meta(key)))
        case "status": try advance(); return try parseOperator(.status)
        case "name": try advance(); return try parseOperator(.name)
        case "project": try advance(); return try parseOperator(.project)
        case "id": try advance(); return try parseOperator(.id)
        case "parent": try advance(); return try parseOperator(.parent)
        case "created": try advance(); return try parseOperator(.created)
        case "ended": try advance(); return try parseOperator(.ended)
        case "metric": return try parseOperator(try parseMetric())
        case "len": return try parseOperator(try parseLength())
        case "artifact": return try parseOperator(try parseArtifact())
        default:
            for prefix in ["params.", "meta."] where word.hasPrefix(prefix) {
                let key = String(word.dropFirst(prefix.count))
                try advance()
                if key.isEmpty {
                    throw error("expected a key after '\(prefix)', found \(token.found)")
                }
                return try parseOperator(try parseIndexes(prefix == "params." ? .param(key) : .meta(key)))
            }
            throw error(FilterParser.unknownField(word), at: fieldPosition)
        }
    }

    /// A param or metadata field (`params.x`, `params["x"]`, `meta.x`, `meta["x"]`) with optional
    /// element indexes, starting at that field.
    mutating func parseKeyedField(after: String) throws(StrataError) -> FilterField {
        guard case .word(let word) = token.kind, token.keyword == nil else {
            throw error("expected params.<key> or meta.<key> after \(after), found \(token.found)")
        }
        if word == "params" || word == "meta" {
            try advance()
            guard token.isSymbol("[") else { throw error("expected '.<key>' or '[\"<key>\"]' after \(word), found \(token.found)") }
            let open = token.position
            try advance()
            guard case .string(let key) = token.kind else { throw error("expected a key in quotes after '\(word)[', found \(token.found)") }
            try advance()
            guard token.isSymbol("]") else { throw error("expected ']' to close '\(word)[' at position \(open), found \(token.found)") }
            try advance()
            return try parseIndexes(word == "params" ? .param(key) : .meta(key))
        }
        for prefix in ["params.", "meta."] where word.hasPrefix(prefix) && word.count > prefix.count {
            let key = String(word.dropFirst(prefix.count))
            try advance()
            return try parseIndexes(prefix == "params." ? .param(key) : .meta(key))
        }
        throw error("expected params.<key> or meta.<key> after \(after), found \(token.found)")
    }

    /// `[<int>]` element indexes after a param or metadata field (`params.grid[0][-1]`).
    mutating func parseIndexes(_ field: FilterField) throws(StrataError) -> FilterField {
        var field = field
        while token.isSymbol("[") {
            let open = token.position
            try advance()
            guard case .number(.int(let i)) = token.kind else {
                throw error("expected an integer index after '[' (as in \(field.text)[0]), found \(token.found)")
            }
            guard i >= Int64(Int32.min), i <= Int64(Int32.max) else { throw error("index \(i) is out of range") }
            try advance()
            guard token.isSymbol("]") else { throw error("expected ']' to close '[' at position \(open), found \(token.found)") }
            try advance()
            field = .element(field, Int(i))
        }
        return field
    }

    /// `len(<param or metadata field>)`, starting at the word `len`.
    mutating func parseLength() throws(StrataError) -> FilterField {
        try advance()
        guard token.isSymbol("(") else {
            throw error("expected '(' after len (as in len(params.layers) > 2), found \(token.found)")
        }
        let open = token.position
        try advance()
        let inner = try parseKeyedField(after: "'len('")
        guard token.isSymbol(")") else {
            throw error("expected ')' to close 'len(' at position \(open), found \(token.found)")
        }
        try advance()
        return .length(inner)
    }

    /// After `has`: the string to look for.
    mutating func parseHas() throws(StrataError) -> String {
        try advance()
        guard case .string(let s) = token.kind else {
            throw error("expected a string in quotes after 'has', found \(token.found)")
        }
        try advance()
        return s
    }

    /// `metric("<name>").<stat>`, starting at the word `metric`.
    mutating func parseMetric() throws(StrataError) -> FilterField {
        try advance()
        guard token.isSymbol("(") else {
            throw error("expected '(' after metric (as in metric(\"val/loss\").min), found \(token.found)")
        }
        let open = token.position
        try advance()
        guard case .string(let name) = token.kind else {
            throw error("expected a metric name in quotes after 'metric(', found \(token.found)")
        }
        try advance()
        guard token.isSymbol(")") else {
            throw error("expected ')' to close 'metric(' at position \(open), found \(token.found)")
        }
        try advance()
        let shown = "metric(\(FilterField.quote(name)))"
        guard token.isSymbol(".") else {
            throw error("expected '.' and a statistic after \(shown) (one of: \(FilterStat.list)), found \(token.found)")
        }
        try advance()
        guard case .word(let s) = token.kind else {
            throw error("expected a statistic after '\(shown).' (one of: \(FilterStat.list)), found \(token.found)")
        }
        if let q = Quantile.parseName(s) {
            try advance()
            return .quantile(name, q)
        }
        guard let stat = FilterStat(rawValue: s) else {
            throw error("unknown metric statistic \"\(s)\" (one of: \(FilterStat.list), or a quantile p50, p90, p99, p999)")
        }
        try advance()
        return .metric(name, stat)
    }

    /// The operator and right-hand side after a field.
    mutating func parseOperator(_ field: FilterField) throws(StrataError) -> FilterNode {
        if case .symbol(let s) = token.kind, let op: FilterOp = (s == "=" ? .eq : FilterOp(rawValue: s)) {
            let opText = s
            try advance()
            let position = token.position
            let value = try parseValue(after: "'\(opText)'")
            if case .bool = value, op.isOrdering {
                throw error("booleans compare only with == and !=, found '\(opText)' before \(FilterNode.literalText(value))", at: position)
            }
            if op == .eq || op == .ne { try validateStatus(field, value, at: position) }
            return .compare(field, op, normalize(field, value))
        }
        if token.isSymbol("~") {
            try advance()
            guard case .string(let s) = token.kind else {
                throw error("expected a string in quotes after '~', found \(token.found)")
            }
            try advance()
            return .contains(field, normalize(field, .string(s)).description)
        }
        if token.keyword == "in" {
            return .list(field, try parseList(field), negated: false)
        }
        if token.keyword == "not" {
            try advance()
            guard token.keyword == "in" else {
                throw error("expected 'in' after 'not' (as in \(field.text) not in (1, 2)), found \(token.found)")
            }
            return .list(field, try parseList(field), negated: true)
        }
        if token.keyword == "has" {
            guard field.isKeyed else { throw error("'has' applies to tags, params and meta, not to \(field.text)") }
            try advance()
            let value = try parseValue(after: "'has'")
            return .element(field, value)
        }
        if token.keyword == "is" {
            guard field.isKeyed else { throw error("'is null' applies to params and meta, not to \(field.text)") }
            try advance()
            var negated = false
            if token.keyword == "not" {
                negated = true
                try advance()
            }
            guard token.keyword == "null" else {
                throw error("expected 'null' after 'is\(negated ? " not" : "")', found \(token.found)")
            }
            try advance()
            return .isNull(field, negated: negated)
        }
        throw error("expected an operator (<, <=, >, >=, ==, !=, in, not in, ~, has, is null) after \(field.text), found \(token.found)")
    }

    /// `in ( value, ... )`, starting at `in`.
    mutating func parseList(_ field: FilterField) throws(StrataError) -> [ParamValue] {
        try advance()
        guard token.isSymbol("(") else {
            throw error("expected '(' after 'in' (as in \(field.text) in (1, 2)), found \(token.found)")
        }
        let open = token.position
        try advance()
        var values: [ParamValue] = []
        var after = "'('"
        while true {
            let position = token.position
            let v = try parseValue(after: after)
            try validateStatus(field, v, at: position)
            values.append(normalize(field, v))
            if token.isSymbol(",") {
                try advance()
                after = "','"
            } else if token.isSymbol(")") {
                try advance()
                return values
            } else {
                throw error("expected ',' or ')' in the list opened at position \(open), found \(token.found)")
            }
        }
    }

    /// A literal: number, quoted string, true or false.
    mutating func parseValue(after: String) throws(StrataError) -> ParamValue {
        switch token.kind {
        case .number(let v):
            try advance()
            return v
        case .string(let s):
            try advance()
            return .string(s)
        case .word(let w):
            if let k = token.keyword, k == "true" || k == "false" {
                try advance()
                return .bool(k == "true")
            }
            if token.keyword == "null" {
                throw error("null is not a value to compare with; write 'is null' or 'is not null' (as in params.x is null)")
            }
            if token.keyword == nil {
                throw error(
                    "expected a value after \(after), found \(token.found) (strings need quotes: \(FilterField.quote(w)); fields can only be compared with values)"
                )
            }
            throw error("expected a value after \(after), found \(token.found)")
        default:
            throw error("expected a value after \(after), found \(token.found)")
        }
    }

    /// `status == "runing"` is a typo, not an empty result.
    func validateStatus(_ field: FilterField, _ value: ParamValue, at position: Int) throws(StrataError) {
        guard field == .status, case .string(let s) = value, RunStatus(rawValue: s) == nil else { return }
        let all = RunStatus.allCases.map(\.rawValue).joined(separator: ", ")
        throw error("unknown status \(FilterField.quote(s)) (one of: \(all))", at: position)
    }

    /// Run ids are upper case: `id == "01h..."` compares as `"01H..."`.
    func normalize(_ field: FilterField, _ value: ParamValue) -> ParamValue {
        if field == .id || field == .parent, case .string(let s) = value { return .string(s.uppercased()) }
        return value
    }

    /// Message for a word that is not a field, with a suggestion.
    static func unknownField(_ word: String) -> String {
        let head = word.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? word
        let rest = String(word.dropFirst(head.count))
        if head == "metric" {
            return "unknown field \"\(word)\" (metric statistics are written metric(\"<name>\").<stat>)"
        }
        if fieldNames.contains(head) {
            return "unknown field \"\(word)\" (\(head) has no keys; keys are written params.<key> or meta.<key>)"
        }
        if let best = Suggest.closest(to: head, in: fieldNames) {
            let suggestion = best == "metric" ? "metric(\"<name>\").<stat>" : best + rest
            return "unknown field \"\(word)\" (did you mean \(suggestion)?)"
        }
        return "unknown field \"\(word)\" (did you mean params.\(word)? fields are \(fieldList))"
    }
}
