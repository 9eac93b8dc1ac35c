import Testing

@testable import Strata

/// A run built by hand, and metric summaries built from aggregates.
private func makeRun(
    name: String = "sweep-7",
    project: String = "vision",
    status: RunStatus = .finished,
    params: [String: ParamValue] = [:],
    tags: Set<String> = [],
    metadata: [String: ParamValue] = [:],
    endedMs: Int64? = 2_000,
    parent: RunID? = nil
) -> RunInfo {
    RunInfo(
        id: RunID("01HZZZZZZZZZZZZZZZZZZZZZZZ")!, name: name, project: project, status: status, createdMs: 1_000,
        endedMs: endedMs, params: params, tags: tags, metadata: metadata, parent: parent, rewinds: [])
}

private func stats(
    count: Int = 3, nans: Int = 0, min: Double = 0.25, max: Double = 2, sum: Double = 3, first: Double = 2,
    last: Double = 0.25, firstStep: Int64 = 0, lastStep: Int64 = 200, minStep: Int64 = 200, maxStep: Int64 = 0
) -> Stats {
    var a = Aggregate()
    a.count = count
    a.nanCount = nans
    a.min = min
    a.max = max
    a.sum = sum
    a.m2 = 1.5
    a.minStep = minStep
    a.maxStep = maxStep
    a.firstStep = firstStep
    a.firstValue = first
    a.lastStep = lastStep
    a.lastValue = last
    return Stats(a)
}

private let standardRun = makeRun(
    params: [
        "lr": .double(5e-4), "layers": .int(12), "model": "base", "amp": true, "dropout": .double(0.1),
        "optim.beta1": .double(0.9), "warm up": .int(2), "big": .int(9_007_199_254_740_993), "bad": .double(.nan)
    ],
    tags: ["baseline", "sweep"],
    metadata: ["git.commit": "abc123", "git.dirty": false, "seed.data": .int(7)])

private func context(
    _ run: RunInfo = standardRun, metrics: [String: Stats] = ["val/loss": stats(), "train/loss": stats(nans: 1, min: .nan, max: .nan)]
) -> FilterContext {
    FilterContext(run: run, metric: { metrics[$0] })
}

/// Parses and evaluates; fails the test on a parse error.
private func eval(_ text: String, _ c: FilterContext = context(), sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
    do {
        return try Filter(text).matches(c)
    } catch {
        Issue.record("unexpected parse error for \(text): \(error)", sourceLocation: sourceLocation)
        return false
    }
}

/// The parse error of `text` (nil when it parses).
private func parseError(_ text: String) -> StrataError? {
    do {
        _ = try Filter(text)
        return nil
    } catch {
        return error
    }
}

@Suite("Filter expressions")
struct FilterTests {
    @Test func numbersCompareAsNumbers() {
        #expect(eval("params.lr < 1e-3"))
        #expect(!eval("params.lr > 1e-3"))
        #expect(eval("params.lr == 0.0005"))
        #expect(eval("params.lr <= 5e-4 and params.lr >= 5E-4"))
        #expect(eval("params.layers >= 1.5"))
        #expect(eval("params.layers == 12.0"))
        #expect(eval("params.layers = 12"))
        #expect(!eval("params.layers != 12"))
        #expect(eval("params.layers > -3"))
        #expect(eval("params.layers < 12.5 and params.layers > 11.99"))
        #expect(eval("params.dropout >= 0.1"))
        #expect(eval("params.optim.beta1 > .5"))
        #expect(eval("created == 1000 and ended > 1999 and ended < 2000.5"))
        // Int64 against double exactly: 2^53 + 1 is not equal to 2^53 (as it would be in doubles).
        #expect(!eval("params.big == 9007199254740992.0"))
        #expect(eval("params.big > 9007199254740992.0"))
        #expect(eval("params.big == 9007199254740993"))
        // Not string order: 12 > 9 although "12" < "9".
        #expect(eval("params.layers > 9"))
    }

    @Test func intAgainstDoubleIsExact() {
        #expect(FilterOp.eq.holds(.int(3), .double(3.0)))
        #expect(FilterOp.lt.holds(.int(2), .double(2.5)))
        #expect(FilterOp.gt.holds(.int(-2), .double(-2.5)))
        #expect(FilterOp.lt.holds(.int(.max), .double(9_223_372_036_854_775_808.0)))
        #expect(FilterOp.gt.holds(.int(.min), .double(-1e300)))
        #expect(!FilterOp.eq.holds(.int(3), .string("3")))
        #expect(!FilterOp.ne.holds(.int(3), .string("3")))
    }

    @Test func stringsAndBools() {
        #expect(eval("params.model == \"base\""))
        #expect(eval("params.model == 'base'"))
        #expect(eval("params.model < \"large\" and params.model > \"abc\""))
        #expect(!eval("params.model != \"base\""))
        #expect(eval("name == \"sweep-7\" and project == 'vision' and status == \"finished\""))
        #expect(eval("status != \"running\""))
        #expect(eval("params.amp == true and params.amp != false"))
        #expect(eval("params.amp == TRUE"))
        #expect(eval("meta.git.dirty == false"))
        #expect(eval("meta.git.commit == \"abc123\" and meta.seed.data == 7"))
        #expect(eval("params[\"warm up\"] == 2"))
        #expect(eval("id == \"01hzzzzzzzzzzzzzzzzzzzzzzz\""))
        let escaped = makeRun(name: "say \"hi\" \\ 'x'")
        #expect(eval(#"name == "say \"hi\" \\ 'x'""#, context(escaped)))
        #expect(eval(#"name == 'say "hi" \\ \'x\''"#, context(escaped)))
    }

    @Test func typeMismatchIsFalseNotAnError() {
        #expect(!eval("params.layers == \"12\""))
        #expect(!eval("params.layers != \"12\""))
        #expect(!eval("params.model > 3"))
        #expect(!eval("params.amp == 1"))
        #expect(!eval("name < 5"))
        #expect(eval("not params.model == 3"))
    }

    @Test func inAndNotIn() {
        #expect(eval("params.layers in (6, 12, 24)"))
        #expect(eval("params.layers in (12.0)"))
        #expect(!eval("params.layers in (6, 24)"))
        #expect(eval("params.layers not in (6, 24)"))
        #expect(!eval("params.layers NOT IN (12, \"x\")"))
        #expect(eval("params.model in ('small', \"base\")"))
        #expect(eval("status in (\"finished\", \"crashed\")"))
        // Missing field: `in` is false, `not in` (= not (... in ...)) is true.
        #expect(!eval("params.absent in (1, 2)"))
        #expect(eval("params.absent not in (1, 2)"))
    }

    @Test func hasAndContains() {
        #expect(eval("tags has \"baseline\""))
        #expect(!eval("tags has \"broken\""))
        #expect(eval("not tags has \"broken\""))
        #expect(eval("params has \"lr\" and params HAS 'optim.beta1' and not params has \"momentum\""))
        #expect(eval("meta has \"git.commit\""))
        #expect(eval("name ~ \"eep-\""))
        #expect(!eval("name ~ \"EEP\""))
        #expect(eval("name ~ \"\""))
        #expect(eval("params.model ~ \"as\""))
        #expect(!eval("params.layers ~ \"1\""))
        #expect(!eval("params.absent ~ \"\""))
    }

    @Test func precedenceAndParentheses() {
        // a or b and c  ==  a or (b and c)
        let aTrue = "params.layers == 12", bFalse = "params.layers == 1", cFalse = "tags has \"x\""
        #expect(eval("\(aTrue) or \(bFalse) and \(cFalse)"))
        #expect(!eval("(\(aTrue) or \(bFalse)) and \(cFalse)"))
        // not binds tighter than and: not a and b == (not a) and b
        #expect(!eval("not \(bFalse) and \(cFalse)"))
        #expect(eval("not (\(bFalse) and \(cFalse))"))
        #expect(eval("not not \(aTrue)"))
        #expect(eval("((\(aTrue)))"))
        #expect(eval("\(bFalse) OR \(aTrue) And NOT \(cFalse)"))
        #expect(
            (try? Filter("params.a == 1 or params.b == 2 and params.c == 3"))?.description
                == "params.a == 1 or params.b == 2 and params.c == 3")
    }

    @Test func missingFieldsAreFalseAndNotMakesThemTrue() {
        #expect(!eval("params.momentum < 1"))
        #expect(!eval("params.momentum >= 1"))
        #expect(!eval("params.momentum != 1"))
        #expect(eval("not params.momentum == 1"))
        #expect(eval("not params.momentum != 1"))
        #expect(!eval("meta.host == \"x\""))
        #expect(!eval("parent == \"01HZZZZZZZZZZZZZZZZZZZZZZZ\""))
        #expect(!eval("metric(\"absent\").count >= 0"))
        #expect(eval("not metric(\"absent\").count >= 0"))
        let running = makeRun(status: .running, endedMs: nil)
        #expect(!eval("ended > 0", context(running)))
        #expect(!eval("ended <= 0", context(running)))
        #expect(eval("status == \"running\"", context(running)))
    }

    @Test func metricStatistics() {
        #expect(eval("metric(\"val/loss\").min < 0.5"))
        #expect(eval("metric(\"val/loss\").max == 2 and metric('val/loss').count == 3 and metric(\"val/loss\").nans == 0"))
        #expect(eval("metric(\"val/loss\").mean == 1"))
        #expect(eval("metric(\"val/loss\").first == 2 and metric(\"val/loss\").last == 0.25"))
        #expect(eval("metric(\"val/loss\").first_step == 0 and metric(\"val/loss\").last_step == 200"))
        #expect(eval("metric(\"val/loss\").min_step == 200 and metric(\"val/loss\").max_step == 0"))
        #expect(eval("metric(\"val/loss\").std > 0"))
        #expect(eval("metric(\"train/loss\").nans == 1"))
        let f = try? Filter("metric(\"val/loss\").min < 1 or metric('train/loss').last > 0 and params.lr < 1")
        #expect(f?.metricNames == ["val/loss", "train/loss"])
        #expect((try? Filter("params.lr < 1"))?.metricNames == [])
    }

    @Test func nanComparesFalseWithEverything() {
        for op in ["<", "<=", ">", ">=", "==", "!="] {
            #expect(!eval("metric(\"train/loss\").min \(op) 0"), "NaN \(op) 0")
            #expect(!eval("params.bad \(op) 1"), "NaN param \(op) 1")
            #expect(eval("not metric(\"train/loss\").min \(op) 0"))
        }
        #expect(!eval("metric(\"train/loss\").max in (0, 1)"))
    }

    @Test func canonicalTextRoundTrips() throws {
        let cases: [(String, String)] = [
            (
                "params.lr<1e-3 AND params.dropout>=0.1 and NOT tags has 'broken'",
                "params.lr < 0.001 and params.dropout >= 0.1 and not tags has \"broken\""
            ),
            (
                "(params.a == 1 or params.b = 2) and not (params.c != 'x' and params.d in (1, 2.5, true))",
                "(params.a == 1 or params.b == 2) and not (params.c != \"x\" and params.d in (1, 2.5, true))"
            ),
            ("((params.x > 1) or (params.y > 2)) or params.z > 3", "params.x > 1 or params.y > 2 or params.z > 3"),
            ("((params.x > 1) OR (params.y > 2)) or params[\"z\"] = 'a'", "params.x > 1 or params.y > 2 or params.z == \"a\""),
            (
                "params[\"warm up\"] ~ 'a\"b' or params[\"simple\"] not in (\"q\")",
                "params[\"warm up\"] ~ \"a\\\"b\" or params.simple not in (\"q\")"
            ),
            (
                "metric('val/loss').min_step >= 10 and id = '01hzzzzzzzzzzzzzzzzzzzzzzz'",
                "metric(\"val/loss\").min_step >= 10 and id == \"01HZZZZZZZZZZZZZZZZZZZZZZZ\""
            )
        ]
        for (input, canonical) in cases {
            let text = input
            let f = try Filter(text)
            #expect(f.description == canonical, "\(text)")
            #expect(try Filter(f.description).description == canonical)
        }
    }

    @Test func invalidExpressionsPointAtTheProblem() {
        let cases: [(String, Int, String)] = [
            ("params.lr <", 11, "expected a value after '<', found end of expression"),
            ("params.lr < and", 12, "expected a value after '<', found keyword 'and'"),
            ("status == running", 10, "strings need quotes"),
            ("parms.lr < 1", 0, "unknown field \"parms.lr\" (did you mean params.lr?)"),
            ("lr < 1", 0, "did you mean params.lr?"),
            ("stauts == \"x\"", 0, "did you mean status?"),
            ("name == 'abc", 8, "unterminated string starting at position 8"),
            ("name == \"abc\\\"", 8, "unterminated string starting at position 8"),
            ("(  (params.a == 1)", 18, "expected ')' to close '(' at position 0, found end of expression"),
            ("not (params.a == 1 or", 21, "found end of expression"),
            ("params.a == 1)", 13, "unexpected ')'"),
            (
                "metric(\"val/loss\").minn < 1", 19,
                "unknown metric statistic \"minn\" (one of: count, nans, min, max, mean, std, first, last, first_step, last_step, min_step, max_step, or a quantile p50, p90, p99, p999)"
            ),
            ("metric(\"val/loss\") < 1", 19, "expected '.' and a statistic"),
            ("metric(val) < 1", 7, "expected a metric name in quotes"),
            ("metric.val < 1", 0, "metric(\"<name>\").<stat>"),
            ("params.lr 1", 10, "expected an operator"),
            ("params.lr < 1 params.x < 2", 14, "expected 'and', 'or' or end of expression, found 'params.x'"),
            ("params.lr < 1 and", 17, "expected a field such as params.lr, tags or metric(\"val/loss\").min after 'and', found end of expression"),
            ("", 0, "empty expression"),
            ("   ", 3, "empty expression"),
            ("params.amp < true", 13, "booleans compare only with == and !="),
            ("tags == \"x\"", 5, "expected 'has' after tags"),
            ("tags has baseline", 9, "expected a string in quotes after 'has', found 'baseline'"),
            ("name has \"x\"", 5, "'has' applies to tags, params and meta"),
            ("params.x in 1, 2", 12, "expected '(' after 'in'"),
            ("params.x in (1 2)", 15, "expected ',' or ')' in the list opened at position 12, found number 2"),
            ("params.x in ()", 13, "expected a value after '(', found ')'"),
            ("params.x not (1)", 13, "expected 'in' after 'not'"),
            ("params.x ~ 3", 11, "expected a string in quotes after '~'"),
            ("status in ('running', 'runing')", 22, "unknown status \"runing\""),
            ("params.x == 1.2.3", 12, "malformed number \"1.2.3\""),
            ("params.x == 1e", 12, "malformed number \"1e\""),
            ("params.x == 1e999", 12, "out of range"),
            ("params.x == 1 @", 14, "unexpected character '@'"),
            ("params.x ! 1", 9, "unexpected character '!'"),
            ("name == 'a\\qb'", 10, "unknown escape '\\q'"),
            ("params. < 1", 8, "expected a key after 'params.', found '<'"),
            ("params[3] == 1", 7, "expected a key in quotes after 'params['"),
            ("params['x' == 1", 11, "expected ']' to close 'params[' at position 6"),
            ("name.first == 'x'", 0, "name has no keys"),
            ("and params.x == 1", 0, "found keyword 'and'"),
            ("params.x == params.y", 12, "fields can only be compared with values")
        ]
        for (text, position, fragment) in cases {
            guard let e = parseError(text) else {
                Issue.record("expected an error for \(text)")
                continue
            }
            #expect(e.code == .parse, "\(text)")
            #expect(e.offset == position, "\(text): \(e.message)")
            #expect(e.message.contains(fragment), "\(text): \(e.message)")
        }
    }

    @Test func limits() {
        // Length: 4096 characters is accepted, 4097 is not.
        let filler = "params.x == \"" + String(repeating: "a", count: 4096 - 14) + "\""
        #expect(filler.count == 4096)
        #expect(parseError(filler) == nil)
        let tooLong = parseError(filler + " ")
        #expect(tooLong?.offset == 4096)
        #expect(tooLong?.message.contains("longer than 4096 characters") == true)

        // Depth: 64 levels of parentheses are accepted, 65 are not.
        let ok = String(repeating: "(", count: 64) + "params.x == 1" + String(repeating: ")", count: 64)
        #expect(parseError(ok) == nil)
        let deep = String(repeating: "(", count: 65) + "params.x == 1" + String(repeating: ")", count: 65)
        let e = parseError(deep)
        #expect(e?.offset == 64)
        #expect(e?.message.contains("nested more than 64 levels") == true)
        let nots = parseError(String(repeating: "not ", count: 1000) + "params.x == 1")
        #expect(nots?.offset == 64 * 4)
        #expect(nots?.message.contains("nested more than 64 levels") == true)

        // Long and/or chains are not nesting.
        let chain = (0..<150).map { "params.p\($0) == \($0)" }.joined(separator: " or ")
        #expect(parseError(chain) == nil)
    }

    @Test func errorDescriptionShowsPosition() {
        let e = parseError("params.lr <")
        #expect(e?.description == "expected a value after '<', found end of expression (at position 11)")
    }

    @Test func unicodePositionsAreCharacters() {
        // "é" and the flag are one character each.
        let e = parseError("name == \"é🇫🇷\" and @")
        #expect(e?.offset == 17)
        #expect(eval("name ~ \"🇫🇷\"", context(makeRun(name: "run-🇫🇷"))))
    }
}

/// Params kept as another tool's text (`ParamValue.text`): shown as written, compared as typed.
@Suite struct TextParamTests {
    @Test func typedValueIsDerivedFromTheText() {
        #expect(ParamValue.text("0.10").typed == .double(0.1))
        #expect(ParamValue.text("007").typed == .int(7))
        #expect(ParamValue.text("True").typed == .bool(true))
        #expect(ParamValue.text("adam").typed == .string("adam"))
        #expect(ParamValue.text(" 1").typed == .string(" 1"))
        #expect(ParamValue.text("nan").number?.isNaN == true)
        #expect(ParamValue.text("0.10").description == "0.10")
        #expect(ParamValue.text("007").typeName == "int")
    }

    @Test func filtersCompareTextAsWrittenAndAsANumber() {
        let run = makeRun(params: ["lr": .text("0.10"), "seed": .text("007"), "opt": .text("adam")])
        let c = context(run)
        #expect(eval("params.lr == '0.10'", c))
        #expect(!eval("params.lr == '0.1'", c))
        #expect(eval("params.lr == 0.1", c))
        #expect(eval("params.lr < 0.2 and params.lr > 0.05", c))
        #expect(eval("params.seed == 7", c))
        #expect(eval("params.seed == '007'", c))
        #expect(eval("params.opt == 'adam'", c))
        #expect(!eval("params.opt < 1", c))
    }

    @Test func textSurvivesTheCatalog() throws {
        let dir = TempDir()
        do {
            let store = try Store.open(at: dir.path)
            let run = try store.createRun(name: "mlflow", params: ["lr": .text("0.10"), "seed": .text("007")])
            try run.finish()
            try store.close()
        }
        let store = try Store.open(at: dir.path)
        let info = try #require(try store.runs().first)
        #expect(info.params["lr"] == .text("0.10"))
        #expect(info.params["seed"] == .text("007"))
        let hits = try store.runs(where: Filter("params.seed == 7"))
        #expect(hits.map(\.id) == [info.id])
        try store.close()
    }
}
