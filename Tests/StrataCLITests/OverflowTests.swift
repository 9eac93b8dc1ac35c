import Foundation
import StrataTestSupport
import Testing

/// The CLI on series whose steps and times sit at the Int64 extremes: curve, export, compare,
/// plot, show and runs must answer exactly (against the Int128 reference) and never trap.
@Suite struct CLIOverflowTests {
    static func ingestLines(_ pts: [XPoint]) -> String {
        pts.map { #"{"step": \#($0.step), "time": \#($0.time), "metrics": {"m": \#($0.value.isNaN ? "NaN" : "\($0.value)")}}"# }
            .joined(separator: "\n") + "\n"
    }

    static func curveRows(_ text: String) -> [Int: XStats] {
        var out: [Int: XStats] = [:]
        for line in text.split(separator: "\n") {
            func f(_ k: String) -> String { lineField(line, k) }
            out[Int(f("bucket"))!] = XStats(
                count: Int(f("count"))!, nan: Int(f("nan"))!, min: parseValue(f("min")), max: parseValue(f("max")),
                mean: parseValue(f("mean")), first: parseValue(f("first")), last: parseValue(f("last")),
                firstStep: Int64(f("first_step"))!, lastStep: Int64(f("last_step"))!)
        }
        return out
    }

    @Test(arguments: [0, 1, 2, 3, 4, 5, 6, 7] as [UInt64])
    func curveExportCompareAtTheExtremes(seed: UInt64) throws {
        guard #available(macOS 15.0, *) else { return }
        let s = Scratch()
        let pts = Extremes.series(seed: seed), other = Extremes.series(seed: seed + 500)
        #expect(try strata(["ingest", "--run", "r"], input: Self.ingestLines(pts), store: s.store).code == 0)
        #expect(try strata(["ingest", "--run", "q"], input: Self.ingestLines(other), store: s.store).code == 0)
        let ctx = "seed \(seed): \(pts.map { "(\($0.step),\($0.time))" }.joined())"
        let ordered = Extremes.ordered(pts)
        let lo = ordered.first!.step, last = ordered.last!.step

        // Default range: every point, Int64.max included.
        for b in [1, 3, 20] {
            let r = try strata(["curve", "r", "m", "--json", "--buckets", String(b)], store: s.store)
            #expect(r.code == 0, "\(ctx): \(r.err)")
            #expect(
                Self.curveRows(r.out) == Extremes.curve(pts, x: { Int128($0.step) }, lo: Int128(lo), last: Int128(last), buckets: b),
                "\(ctx) curve × \(b)")
        }
        var rng = Extremes.Random(seed: seed &+ 5)
        for _ in 0..<3 {
            let (a, z) = Extremes.range(&rng)
            // --to is exclusive: a range ending at Int64.max is given without --to.
            let args = ["curve", "r", "m", "--json", "--buckets", "7", "--from=\(a)"] + (z < .max ? ["--to=\(z + 1)"] : [])
            let r = try strata(args, store: s.store)
            let z2 = z < .max ? z : last
            if a > z2 {
                #expect(r.code == 2 && r.err.contains("empty step range"), "\(ctx) \(args): \(r.err)")
            } else {
                #expect(r.code == 0, "\(ctx) \(args): \(r.err)")
                #expect(
                    Self.curveRows(r.out) == Extremes.curve(pts, x: { Int128($0.step) }, lo: Int128(a), last: Int128(z2), buckets: 7),
                    "\(ctx) \(args)")
            }
        }
        // Export: every point, bit-exact.
        let e = parseExport(try strata(["export", "--run", "r"], store: s.store).out)
        #expect(
            e.map(\.step) == ordered.map(\.step) && e.map(\.time) == ordered.map(\.time)
                && e.map(\.bits) == ordered.map(\.value.bitPattern), "\(ctx) export")
        // Tables and charts over the full span do not trap.
        for args in [
            ["compare", "r", "q", "--metric", "m"], ["compare", "r", "q", "--metric", "m", "--from=-9223372036854775808", "--to=9223372036854775807"],
            ["plot", "r", "q", "--metric", "m", "--out", s.sub("p.svg")], ["show", "r"], ["runs"], ["runs", "--json"]
        ] {
            let r = try strata(args, store: s.store)
            #expect(r.code == 0, "\(ctx) \(args): \(r.err)")
        }
    }

    /// A run whose recorded start and end lie 2^64 - 1 ms apart (an MLflow import) is shown with
    /// its exact duration.
    @Test func showsADurationLongerThanInt64() throws {
        let s = Scratch()
        let root = s.sub("mlruns")
        try FileManager.default.copyItem(atPath: Fixture.dir + "/mlruns", toPath: root)
        let metas = FileManager.default.enumerator(atPath: root)!.compactMap { $0 as? String }.filter {
            $0.hasSuffix("meta.yaml") && $0.split(separator: "/").count == 3
        }
        for m in metas {
            var text = try String(contentsOfFile: root + "/" + m, encoding: .utf8)
            text = text.split(separator: "\n", omittingEmptySubsequences: false).map { l in
                l.hasPrefix("start_time:")
                    ? "start_time: -9223372036854775808" : l.hasPrefix("end_time:") ? "end_time: 9223372036854775807" : String(l)
            }.joined(separator: "\n")
            try text.write(toFile: root + "/" + m, atomically: true, encoding: .utf8)
        }
        #expect(!metas.isEmpty)
        let r = try strata(["import", "mlflow", root], store: s.store)
        #expect(r.code == 0, "\(r.err)")
        let show = try strata(["show", "mlflow-run-2"], store: s.store)
        #expect(show.code == 0, "\(show.err)")
        // (2^64 - 1) ms = 18446744073709551 s = 5124095576030 h 25 m.
        #expect(show.out.contains("(5124095576030h25m)"), "\(show.out)")
    }
}
