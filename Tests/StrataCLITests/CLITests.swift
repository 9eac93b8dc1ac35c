import Foundation
// TempDir and builtProduct, shared by every test target.
@_exported import StrataTestSupport
import Testing

// End-to-end tests of the built `strata` binary, run as a subprocess.

/// Path of the `strata` executable built with the tests.
func strataBinary() -> String { builtProduct("strata") }

/// A temporary directory for one test: its `store` and other files (`sub`).
typealias Scratch = TempDir

struct Result {
    var code: Int32
    var out: String
    var err: String
}

/// Runs `strata args...` with `input` on stdin.
@discardableResult
func strata(_ args: [String], input: String = "", store: String? = nil) throws -> Result {
    try strata(args, bytes: Array(input.utf8), store: store)
}

/// Runs `strata args...` with raw bytes on stdin (which need not be UTF-8).
@discardableResult
func strata(_ args: [String], bytes: [UInt8], store: String? = nil) throws -> Result {
    signal(SIGPIPE, SIG_IGN)  // strata may exit before reading all its input
    let p = strataProcess((store.map { ["--store", $0] } ?? []) + args)
    let inPipe = Pipe(), outPipe = Pipe(), errPipe = Pipe()
    p.standardInput = inPipe
    p.standardOutput = outPipe
    p.standardError = errPipe
    try p.run()
    let data = Data(bytes)
    let writer = Thread {
        try? inPipe.fileHandleForWriting.write(contentsOf: data); try? inPipe.fileHandleForWriting.close()
    }
    writer.start()
    final class Box: @unchecked Sendable { var data = Data() }
    let errBox = Box()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        errBox.data = errPipe.fileHandleForReading.readDataToEndOfFile(); group.leave()
    }
    let outData = outPipe.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    let errData = errBox.data
    p.waitUntilExit()
    return Result(code: p.terminationStatus, out: String(decoding: outData, as: UTF8.self), err: String(decoding: errData, as: UTF8.self))
}

/// The value text of an exported line, and the line parsed into run/metric/step/value-bits.
struct Exported: Hashable {
    var run: String
    var metric: String
    var step: Int64
    var bits: UInt64
    var time: Int64
}

func parseValue(_ s: String) -> Double {
    switch s {
    case "NaN": return .nan
    case "Infinity": return .infinity
    case "-Infinity": return -.infinity
    default: return Double(s)!
    }
}

/// Parses `strata export` JSONL (a fixed key order) without a JSON library (which rejects NaN).
/// The text of field `name` in one line of the CLI's JSON-lines output (string contents unquoted).
func lineField(_ line: Substring, _ name: String) -> String {
    let r = line.range(of: "\"\(name)\": ")!
    var rest = line[r.upperBound...]
    if rest.first == "\"" {
        rest = rest.dropFirst()
        return String(rest[..<rest.firstIndex(of: "\"")!])
    }
    return String(rest.prefix { $0 != "," && $0 != "}" })
}

func parseExport(_ text: String) -> [Exported] {
    text.split(separator: "\n").map { line in
        func field(_ name: String) -> String { lineField(line, name) }
        return Exported(
            run: field("run"), metric: field("metric"), step: Int64(field("step"))!, bits: parseValue(field("value")).bitPattern,
            time: Int64(field("time"))!)
    }
}

let specialValues: [Double] = [
    .nan, .infinity, -.infinity, -0.0, 0.0, .leastNonzeroMagnitude, 1e-300, 1.7976931348623157e308, 0.1, 1.0 / 3.0,
    -123456.789, 3e-4, 2.5e-8, 1e22, 9_007_199_254_740_992
]

@Suite struct IngestRoundTrip {
    @Test func ingestExportIsBitExactIncludingNaNAndInfinity() throws {
        let s = Scratch()
        var lines = [
            #"{"run": "r1", "params": {"lr": 0.0003, "model": "base", "layers": 12, "amp": true, "optim": {"beta1": 0.9}}, "tags": ["baseline"], "meta": {"git.commit": "abc123", "purpose": "test"}}"#
        ]
        var expected: [Exported] = []
        var rng = SystemRandomNumberGenerator()
        for step in 0..<200 {
            let v =
                step < specialValues.count
                ? specialValues[step] : Double(bitPattern: rng.next() & 0x7FEF_FFFF_FFFF_FFFF | (rng.next() & 0x8000_0000_0000_0000))
            let text = v.isNaN ? "NaN" : v == .infinity ? (step % 2 == 0 ? "Infinity" : "\"Infinity\"") : v == -.infinity ? "-Infinity" : "\(v)"
            let t = 1_760_000_000_000 + Int64(step)
            lines.append(#"{"run": "r1", "step": \#(step), "time": \#(t), "metrics": {"train/loss": \#(text), "lr": 0.001}}"#)
            expected.append(Exported(run: "r1", metric: "train/loss", step: Int64(step), bits: v.bitPattern, time: t))
        }
        let r = try strata(["ingest"], input: lines.joined(separator: "\n") + "\n", store: s.store)
        #expect(r.code == 0, "\(r.err)")
        #expect(r.err.contains("200 lines") == false)  // 201 lines
        #expect(r.err.contains("ingested 201 lines: 400 points, 1 runs (1 new)"))

        let e = try strata(["export", "--metric", "train/loss"], store: s.store)
        #expect(e.code == 0)
        let got = parseExport(e.out)
        #expect(got.count == 200)
        for (a, b) in zip(got, expected) {
            #expect(a == b, "step \(a.step): \(Double(bitPattern: a.bits)) vs \(Double(bitPattern: b.bits))")
        }

        // runs / show / curve see the same run
        let runs = try strata(["runs", "--columns", "name,params.lr,params.model,train/loss.count"], store: s.store)
        #expect(runs.code == 0)
        #expect(runs.out.contains("r1") && runs.out.contains("0.0003") && runs.out.contains("base") && runs.out.contains("200"))
        let show = try strata(["show", "r1"], store: s.store)
        #expect(show.code == 0)
        for needle in ["baseline", "optim.beta1", "git checkout abc123", "train/loss", "0..199", "purpose: test"] {
            #expect(show.out.contains(needle), "show lacks \(needle)")
        }
        let curve = try strata(["curve", "r1", "lr", "--buckets", "4", "--json"], store: s.store)
        #expect(curve.code == 0)
        #expect(curve.out.split(separator: "\n").count == 4)
        #expect(curve.out.contains("\"count\": 50"))

        // export -> ingest into a new store -> export: identical values, times and order
        let all = try strata(["export"], store: s.store)
        let s2 = Scratch()
        let back = try strata(["ingest"], input: all.out, store: s2.store)
        #expect(back.code == 0, "\(back.err)")
        let again = try strata(["export"], store: s2.store)
        #expect(parseExport(again.out) == parseExport(all.out))

        // CSV export reads back too
        let csv = try strata(["export", "--format", "csv"], store: s.store)
        let s3 = Scratch()
        let backCSV = try strata(["ingest", "--format", "csv"], input: csv.out, store: s3.store)
        #expect(backCSV.code == 0, "\(backCSV.err)")
        let again3 = try strata(["export"], store: s3.store)
        #expect(parseExport(again3.out) == parseExport(all.out))
    }

    @Test func wideAndLongCSV() throws {
        let s = Scratch()
        let wide = "epoch,accuracy,loss,val_loss\n0,0.5,1.2,1.3\n1,0.6,nan,1.1\n2,0.7,0.8,\n"
        let r = try strata(["ingest", "--format", "csv", "--run", "keras"], input: wide, store: s.store)
        #expect(r.code == 0, "\(r.err)")
        let e = parseExport(try strata(["export", "--run", "keras"], store: s.store).out)
        #expect(e.count == 8)
        #expect(e.first { $0.metric == "loss" && $0.step == 1 }?.bits == Double.nan.bitPattern)
        let long = "run,metric,step,value,time\nA,loss,1,0.5,1760000000000\nB,loss,1,-Infinity,1760000000001\n"
        let l = try strata(["ingest", "--format", "csv"], input: long, store: s.store)
        #expect(l.code == 0, "\(l.err)")
        let b = parseExport(try strata(["export", "--run", "B"], store: s.store).out)
        #expect(b == [Exported(run: "B", metric: "loss", step: 1, bits: (-Double.infinity).bitPattern, time: 1_760_000_000_001)])
    }
}

@Suite struct BadInput {
    @Test(arguments: [
        (#"{"run": "r1", "step": 1, "metrics": {"a": 1}"#, "line 1: malformed JSON at column 45: unexpected end of line, expected ',' or '}'"),
        (#"{"run": "r1", "step": "abc", "metrics": {"a": 1}}"#, #"line 1: "step" must be an integer, got "abc""#),
        (#"{"run": "r1", "step": 1.5, "metrics": {"a": 1}}"#, #"line 1: "step" must be an integer, got 1.5"#),
        (#"{"run": "r1", "metrics": {"a": 1}}"#, #"line 1: "step" is missing"#),
        (#"{"run": "r1", "step": 1, "metrics": {"a": "high"}}"#, #"line 1: metric "a" must be a number, got "high""#),
        (#"{"run": "r1", "step": 1, "metrics": {"a": true}}"#, #"line 1: metric "a" must be a number, got true"#),
        (#"{"run": "r1", "step": 1, "metrics": [1, 2]}"#, #"line 1: "metrics" must be an object"#),
        (#"{"step": 1, "metrics": {"a": 1}}"#, #"line 1: "run" is missing"#),
        (#"{"run": "", "step": 1, "metrics": {"a": 1}}"#, "line 1: run name is empty"),
        (#"{"run": 5, "step": 1, "metrics": {"a": 1}}"#, #"line 1: "run" must be a string, got 5"#),
        (#"{"run": "r1", "step": 1, "metrix": {"a": 1}}"#, #"line 1: unknown key "metrix""#),
        (#"{"run": "r1", "step": 1, "metrics": {"": 1}}"#, "line 1: metric name is empty"),
        (#"[1, 2]"#, "line 1: expected a JSON object, got an array"),
        (#"{"run": "r1", "step": 1, "metrics": {"a": nan}}"#, "line 1: malformed JSON at column 43")
    ])
    func badLine(input: String, message: String) throws {
        let s = Scratch()
        let r = try strata(["ingest"], input: input + "\n", store: s.store)
        #expect(r.code == 1)
        #expect(r.err.hasPrefix("strata: " + message), "got: \(r.err)")
        #expect(r.err.split(separator: "\n").count == 1, "one line: \(r.err)")
    }

    @Test func overLongRunName() throws {
        let s = Scratch()
        let name = String(repeating: "x", count: 201)
        let r = try strata(["ingest"], input: #"{"run": "\#(name)", "step": 1, "metrics": {"a": 1}}"# + "\n", store: s.store)
        #expect(r.code == 1)
        #expect(r.err.contains("line 1: run name") && r.err.contains("201 bytes; the limit is 200"), "\(r.err)")
        let l = try strata(["log", name, "--create", "--step", "1", "a=1"], store: s.store)
        #expect(l.code == 1)
        #expect(l.err.contains("201 bytes; the limit is 200"))
    }

    @Test func unknownRunInLogAndShow() throws {
        let s = Scratch()
        #expect(try strata(["log", "r1", "--create", "--step", "1", "loss=0.5"], store: s.store).code == 0)
        let l = try strata(["log", "nope", "--step", "1", "loss=0.5"], store: s.store)
        #expect(l.code == 1)
        #expect(l.err == "strata: no run named \"nope\" in store \(s.store) (add --create to create it)\n")
        let sh = try strata(["show", "nope"], store: s.store)
        #expect(sh.code == 1)
        #expect(sh.err.hasPrefix("strata: no run named \"nope\""))
        let empty = try strata(["log", "", "--step", "1", "loss=0.5"], store: s.store)
        #expect(empty.code == 2 && empty.err.contains("run name is empty"))
        let bad = try strata(["log", "r1", "--step", "1", "loss=abc"], store: s.store)
        #expect(bad.code == 2 && bad.err.contains("\"abc\" is not a number"))
        let usage = try strata(["log", "r1"], store: s.store)
        #expect(usage.code == 2)
        let noStore = try strata(["runs"], store: s.sub("missing"))
        #expect(noStore.code == 1 && noStore.err.contains("no store at"))
        let where_ = try strata(["runs", "--where", "params.lr <"], store: s.store)
        #expect(where_.code == 2 && where_.err.hasPrefix("strata: --where:"))
    }

    @Test func brokenLineInTheMiddleKeepsEveryLineBefore() throws {
        let s = Scratch()
        var text = ""
        text.reserveCapacity(20_000 * 70)
        for i in 1...20_000 {
            if i == 10_000 { text += #"{"run": "r1", "step": abc, "metrics": {"loss": 1}}"# + "\n"; continue }
            text += #"{"run": "r1", "step": \#(i), "metrics": {"loss": \#(Double(i) * 0.5), "acc": 0.25}}"# + "\n"
        }
        let r = try strata(["ingest"], input: text, store: s.store)
        #expect(r.code == 1)
        #expect(r.err.hasPrefix("strata: line 10000: malformed JSON at column 23: unexpected 'a', expected a value"), "\(r.err)")
        let e = parseExport(try strata(["export"], store: s.store).out)
        #expect(e.count == 9_999 * 2)
        let loss = e.filter { $0.metric == "loss" }.map(\.step)
        #expect(loss == Array(1...9_999).map(Int64.init))

        // --skip-bad counts and skips instead
        let s2 = Scratch()
        let k = try strata(["ingest", "--skip-bad"], input: text, store: s2.store)
        #expect(k.code == 0)
        #expect(k.err.contains("skipped 1 bad lines (first: line 10000:"), "\(k.err)")
        #expect(parseExport(try strata(["export"], store: s2.store).out).count == 19_999 * 2)
    }
}

@Suite struct Crash {
    @Test func sigkillDuringIngestLeavesAnExactPrefix() throws {
        let s = Scratch()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: strataBinary())
        p.arguments = ["--store", s.store, "ingest", "--run", "live"]
        let inPipe = Pipe()
        signal(SIGPIPE, SIG_IGN)
        p.standardInput = inPipe
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        func line(_ i: Int) -> String {
            #"{"step": \#(i), "time": \#(1_760_000_000_000 + i), "metrics": {"loss": \#(1.0 / Double(i + 1)), "lr": NaN}}"# + "\n"
        }
        var sent = 0
        for burst in 0..<5 {
            var chunk = ""
            for _ in 0..<(1000 + burst * 700) { chunk += line(sent); sent += 1 }
            try inPipe.fileHandleForWriting.write(contentsOf: Data(chunk.utf8))
            usleep(40_000)
        }
        // A partial line the kill interrupts.
        try inPipe.fileHandleForWriting.write(contentsOf: Data(#"{"step": 999999, "metr"#.utf8))
        usleep(200_000)
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()

        let v = try strata(["verify"], store: s.store)
        #expect(v.code == 0, "\(v.out) \(v.err)")
        let e = parseExport(try strata(["export"], store: s.store).out)
        let loss = e.filter { $0.metric == "loss" }
        let lr = e.filter { $0.metric == "lr" }
        #expect(loss.count > 0 && loss.count <= sent)
        #expect(lr.count == loss.count)
        for (i, pt) in loss.enumerated() {
            #expect(pt.step == Int64(i) && pt.bits == (1.0 / Double(i + 1)).bitPattern && pt.time == 1_760_000_000_000 + Int64(i))
            if pt.step != Int64(i) { break }
        }
        let runs = try strata(["runs", "--columns", "name,status"], store: s.store)
        #expect(runs.out.contains("crashed"))
    }
}

@Suite struct Commands {
    @Test func demoComparePlotStats() throws {
        let s = Scratch()
        let d = try strata(["demo", "--steps", "500"], store: s.store)
        #expect(d.code == 0, "\(d.err)")
        #expect(d.out.contains("logged 6 runs"))
        #expect(d.out.contains("demo-base-lr0.001"))
        #expect(d.out.unicodeScalars.contains { $0.value >= 0x2801 && $0.value <= 0x28FF }, "braille chart")
        #expect(!d.out.contains("\u{1B}["), "no colour when piped")
        let c = try strata(
            ["compare", "demo-small-lr0.001", "demo-base-lr0.001", "--metric", "train/loss", "--baseline", "demo-base-lr0.001"], store: s.store)
        #expect(c.code == 0)
        #expect(c.out.contains("baseline"))
        let svg = s.sub("c.svg")
        let p = try strata(["plot", "demo-small-lr0.001", "demo-base-lr0.001", "--metric", "train/loss", "--out", svg], store: s.store)
        #expect(p.code == 0)
        let text = try String(contentsOfFile: svg, encoding: .utf8)
        #expect(text.hasPrefix("<svg") && text.contains("<polygon") && text.contains("demo-base-lr0.001"))
        let st = try strata(["stats"], store: s.store)
        #expect(st.code == 0 && st.out.contains("points       6,500") == false || st.out.contains("points"))
        let ranked = try strata(
            ["runs", "--where", #"tags has "demo" and params.model == "base""#, "--sort", "train/loss.min", "--limit", "1", "--json"], store: s.store)
        #expect(ranked.code == 0, "\(ranked.err)")
        #expect(ranked.out.contains("\"model\": \"base\""))
        #expect(try strata(["verify"], store: s.store).code == 0)
        #expect(try strata(["compact"], store: s.store).code == 0)
        #expect(try strata(["rewind", "demo-base-lr0.001", "--to", "99"], store: s.store).code == 0)
        let after = try strata(["curve", "demo-base-lr0.001", "train/loss", "--buckets", "1", "--json"], store: s.store)
        #expect(after.out.contains("\"last_step\": 99"), "\(after.out)")
    }
}

/// A `strata` process (not started) with `args`, colour off, no `STRATA_STORE` from the test's
/// environment, and `extra` variables on top.
func strataProcess(_ args: [String], environment extra: [String: String] = [:]) -> Process {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: strataBinary())
    p.arguments = args
    var env = ProcessInfo.processInfo.environment
    env["NO_COLOR"] = "1"
    env.removeValue(forKey: "STRATA_STORE")
    env.merge(extra) { _, new in new }
    p.environment = env
    return p
}
