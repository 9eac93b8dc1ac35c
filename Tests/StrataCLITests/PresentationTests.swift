import Foundation
import Testing

/// How the CLI presents results: the SVG chart's layout, colours and output name.
@Suite struct PresentationTests {
    /// A store with `runs` runs named run-0, run-1… (the last one with a long name), 50 steps of `loss` each.
    static func store(runs: Int, longName: String? = nil) throws -> Scratch {
        let s = Scratch()
        var lines = ""
        for r in 0..<runs {
            let name = r == runs - 1 ? (longName ?? "run-\(r)") : "run-\(r)"
            for step in 0..<50 {
                lines +=
                    #"{"run": "\#(name)", "step": \#(step), "time": \#(1_760_000_000_000 + step * 1000), "metrics": {"loss": \#(Double(r + 1) / Double(step + 1))}}"#
                    + "\n"
            }
        }
        let r = try strata(["ingest"], input: lines, store: s.store)
        #expect(r.code == 0, "\(r.err)")
        return s
    }

    /// The elements `<tag ...>` of `svg` whose text contains `marker`, as attribute dictionaries.
    static func elements(_ svg: String, _ tag: String, marker: String = "") -> [[String: String]] {
        var out: [[String: String]] = []
        for part in svg.components(separatedBy: "<" + tag + " ").dropFirst() {
            let body = String(part.prefix { $0 != ">" })
            guard marker.isEmpty || body.contains(marker) else { continue }
            var attrs: [String: String] = [:]
            for chunk in body.components(separatedBy: "\" ") {
                let kv = chunk.split(separator: "=", maxSplits: 1)
                if kv.count == 2 {
                    attrs[String(kv[0]).trimmingCharacters(in: .whitespaces)] = kv[1].replacingOccurrences(of: "\"", with: "").replacingOccurrences(
                        of: "/", with: "")
                }
            }
            if let close = part.range(of: "</" + tag + ">"), let gt = part.firstIndex(of: ">") {
                attrs["#text"] = String(part[part.index(after: gt)..<close.lowerBound])
            }
            out.append(attrs)
        }
        return out
    }

    @Test func svgLegendBesideThePlotAndDistinctColours() throws {
        let long = "a-run-with-a-rather-long-name-to-see-where-it-ends"
        let s = try Self.store(runs: 12, longName: long)
        let svg = s.sub("p.svg")
        let names = (0..<11).map { "run-\($0)" } + [long]
        let p = try strata(["plot"] + names + ["--metric", "loss", "--out", svg], store: s.store)
        #expect(p.code == 0, "\(p.err)")
        #expect(p.err.contains("(12 runs, loss)"), "\(p.err)")
        let text = try String(contentsOfFile: svg, encoding: .utf8)
        let root = try #require(Self.elements(text, "svg").first, "\(text.prefix(200))")
        let width = try #require(Double(root["width"] ?? ""))
        let area = Self.elements(text, "rect", marker: "plot-area")
        try #require(area.count == 1, "one plot-area rect")
        let right = Double(area[0]["x"]!)! + Double(area[0]["width"]!)!
        let swatches = Self.elements(text, "rect", marker: "legend-swatch")
        #expect(swatches.count == 12)
        for sw in swatches { #expect(Double(sw["x"]!)! > right, "legend swatch at x \(sw["x"]!) is inside the plot area (right edge \(right))") }
        #expect(Set(swatches.compactMap { $0["fill"] }).count == 12, "12 runs, 12 colours: \(swatches.compactMap { $0["fill"] })")
        // The lines use the same 12 colours.
        #expect(Set(Self.elements(text, "polyline").compactMap { $0["stroke"] }).count == 12)
        // Every left-anchored text ends inside the canvas (about 0.6 em a character at 12 px).
        for t in Self.elements(text, "text") where t["text-anchor"] == nil {
            let x = Double(t["x"] ?? "0") ?? 0
            let chars = Double((t["#text"] ?? "").count)
            #expect(x + chars * 7.2 <= width, "text \(t["#text"] ?? "") at x \(x) runs past the right edge \(width)")
        }
        #expect(text.contains("class=\"caption\""))
    }

    @Test func plotRefusesANonSVGNameAndCountsRuns() throws {
        let s = try Self.store(runs: 1)
        let png = s.sub("x.png")
        let r = try strata(["plot", "run-0", "--metric", "loss", "--out", png], store: s.store)
        #expect(r.code == 2 && r.err.contains("SVG") && r.err.contains(".png"), "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: png), "nothing written into a .png")
        let ok = try strata(["plot", "run-0", "--metric", "loss", "--out", s.sub("x.svg")], store: s.store)
        #expect(ok.code == 0 && ok.err.contains("(1 run, loss)"), "\(ok.err)")
    }

    /// True when, in `lines` (a header and its rows), every row's cell under `column` ends where
    /// the header's name ends (right-aligned), `-` included.
    static func rightAligned(_ lines: [String], _ column: String) -> Bool {
        guard let header = lines.first, let r = header.range(of: column) else { return false }
        let end = header.distance(from: header.startIndex, to: r.upperBound)
        for l in lines.dropFirst() {
            let c = Array(l)
            guard c.count >= end, c[end - 1] != " ", c.count == end || c[end] == " " else { return false }
        }
        return true
    }

    @Test func tablesRightAlignNumbersAndPlaceholders() throws {
        let s = Scratch()
        let lines = """
            {"run": "d0", "params": {"dropout": 0.0, "lr": 0.001}, "step": 1, "metrics": {"loss": 1234567}}
            {"run": "d1", "params": {"lr": 0.01}, "step": 1, "metrics": {"loss": 12}}
            {"run": "d2", "params": {"lr": 0.1}, "step": 1, "metrics": {"acc": 0.5}}

            """
        #expect(try strata(["ingest"], input: lines, store: s.store).code == 0)
        let runs = try strata(["runs", "--columns", "name,params.dropout,params.lr,loss.last"], store: s.store)
        let table = runs.out.split(separator: "\n").map(String.init)
        #expect(table.count == 4, "\(runs.out)")
        for column in ["dropout", "lr", "loss.last"] { #expect(Self.rightAligned(table, column), "\(column):\n\(runs.out)") }
        // Thousands separators: the stats table's counts.
        var ingest = ""
        for i in 0..<1500 { ingest += #"{"run": "big", "step": \#(i), "metrics": {"m": \#(i % 7)}}"# + "\n" }
        #expect(try strata(["ingest"], input: ingest, store: s.store).code == 0)
        #expect(try strata(["compact"], store: s.store).code == 0)
        let stats = try strata(["stats"], store: s.store).out
        let codecTable = Array(stats.split(separator: "\n").map(String.init).drop { !$0.hasPrefix("column ") })
        #expect(codecTable.count > 2 && codecTable.contains { $0.contains(",") }, "\(stats)")
        for column in ["values", "bytes"] { #expect(Self.rightAligned(codecTable, column), "\(column):\n\(stats)") }
    }

    @Test func oneNumberOneText() throws {
        let s = Scratch()
        let lines = """
            {"run": "a", "params": {"dropout": 0.0, "wd": 1e-5}, "step": 1, "metrics": {"loss": 1}}
            {"run": "b", "params": {"dropout": 0.5, "wd": 1e-5}, "step": 1, "metrics": {"loss": 2}}

            """
        #expect(try strata(["ingest"], input: lines, store: s.store).code == 0)
        let show = try strata(["show", "a"], store: s.store).out
        let runs = try strata(["runs", "--columns", "name,params.dropout,params.wd"], store: s.store).out
        let compare = try strata(["compare", "a", "b", "--metric", "loss", "--no-chart"], store: s.store).out
        let shown = show.split(separator: "\n").first { $0.hasPrefix("  dropout") }.map { $0.split(separator: " ").last.map(String.init) ?? "" }
        let inRuns = runs.split(separator: "\n").first { $0.hasPrefix("a ") }.map { $0.split(separator: " ").map(String.init) }
        #expect(shown == "0" && inRuns?[1] == "0", "show: \(show)\nruns: \(runs)")
        let inCompare = compare.split(separator: "\n").first { $0.hasPrefix("a ") }.map { $0.split(separator: " ").map(String.init) }
        #expect(inCompare?[1] == "0", "\(compare)")
        let wd = show.split(separator: "\n").first { $0.hasPrefix("  wd") }.map { $0.split(separator: " ").last.map(String.init) ?? "" }
        #expect(wd == inRuns?[2], "show: \(show)\nruns: \(runs)")
    }

    @Test func compareFitsTheTerminal() throws {
        let s = Scratch()
        var lines = ""
        for r in 0..<3 {
            let params = (0..<8).map { #""param_number_\#($0)": "value-\#(r)-\#($0)""# }.joined(separator: ", ")
            lines += #"{"run": "a-fairly-long-run-name-\#(r)", "params": {\#(params)}, "step": 1, "metrics": {"loss": \#(r + 1)}}"# + "\n"
        }
        #expect(try strata(["ingest"], input: lines, store: s.store).code == 0)
        let c = try strata(
            ["compare", "a-fairly-long-run-name-0", "a-fairly-long-run-name-1", "a-fairly-long-run-name-2", "--metric", "loss", "--no-chart"],
            store: s.store)
        #expect(c.code == 0, "\(c.err)")
        let width = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init).flatMap { $0 > 20 ? $0 : nil } ?? 80
        for l in c.out.split(separator: "\n") { #expect(l.count <= width, "\(l.count) columns: \(l)") }
        // Every block names the runs, and every column is shown.
        let blocks = c.out.components(separatedBy: "\n\n")
        #expect(blocks.count > 1, "\(c.out)")
        for b in blocks { #expect(b.contains("a-fairly-long-run-name-2"), "\(b)") }
        for k in 0..<8 { #expect(c.out.contains("param_number_\(k)")) }
        #expect(c.out.contains("last vs base"))
    }

    /// A run of 1,500 points a second apart (25 minutes) with a loss from about 3.01 down to 0.44.
    static func timedStore() throws -> Scratch {
        let s = Scratch()
        var lines = ""
        let t0: Int64 = 1_764_680_000_000  // 2025-12-02 12:53:20Z
        for i in 0..<1500 {
            let v = 2.7 * exp(-Double(i) / 500) + 0.31
            lines += #"{"run": "r", "step": \#(i * 10), "time": \#(t0 + Int64(i) * 1000), "metrics": {"loss": \#(v)}}"# + "\n"
        }
        #expect(try strata(["ingest"], input: lines, store: s.store).code == 0)
        return s
    }

    /// The labels left of the terminal chart's `┤` marks.
    static func yLabels(_ out: String) -> [String] {
        out.split(separator: "\n").compactMap { l in l.firstIndex(of: "┤").map { l[..<$0].trimmingCharacters(in: .whitespaces) } }
    }

    /// True when `v` is 1, 1.5, 2, 3, 5 or 7 times a power of ten (what a person writes on a log axis).
    static func isRoundLogValue(_ v: Double) -> Bool {
        guard v > 0 else { return false }
        let m = v / pow(10, floor(log10(v)))
        return [1, 1.5, 2, 3, 5, 7, 10].contains { abs(m - $0) < 1e-9 }
    }

    @Test func axisTicksAreRoundNumbersDurationsAndTimes() throws {
        let s = try Self.timedStore()
        // Value axis, linear and log: round numbers only.
        let lin = try strata(["compare", "r", "--metric", "loss"], store: s.store)
        let linLabels = Self.yLabels(lin.out)
        #expect(linLabels.count >= 3, "\(lin.out)")
        for l in linLabels {
            let v = try #require(Double(l), "\(l)")
            #expect(abs(v * 2 - (v * 2).rounded()) < 1e-9, "linear tick \(l) is not a multiple of 0.5:\n\(lin.out)")
        }
        let log = try strata(["compare", "r", "--metric", "loss", "--log"], store: s.store)
        let logLabels = Self.yLabels(log.out)
        #expect(logLabels.count >= 3, "\(log.out)")
        for l in logLabels { #expect(Double(l).map(Self.isRoundLogValue) == true, "log tick \(l):\n\(log.out)") }
        // Step axis: round steps.
        #expect(lin.out.contains(" 5000 ") || lin.out.contains(" 4000 ") || lin.out.contains(" 6000 "), "\(lin.out)")
        // Relative time: durations in minutes.
        let rel = try strata(["compare", "r", "--metric", "loss", "--x", "relative"], store: s.store)
        #expect(rel.code == 0, "\(rel.err)")
        #expect(rel.out.contains(" 10m ") && rel.out.contains(" 20m") && rel.out.contains("time since first point"), "\(rel.out)")
        // Wall time: clock times on the day, the date in the axis title.
        let wall = try strata(["compare", "r", "--metric", "loss", "--x", "time"], store: s.store)
        #expect(wall.out.contains("13:00") && wall.out.contains("2025-12-02"), "\(wall.out)")
        // SVG: the same ticks.
        let svg = s.sub("r.svg")
        #expect(try strata(["plot", "r", "--metric", "loss", "--x", "relative", "--out", svg], store: s.store).code == 0)
        let text = try String(contentsOfFile: svg, encoding: .utf8)
        let xt = Self.elements(text, "text", marker: "x-tick").compactMap { $0["#text"] }
        #expect(xt.contains("10m") && xt.contains("20m") && xt.allSatisfy { $0 == "0" || $0.hasSuffix("m") }, "\(xt)")
        #expect(try strata(["plot", "r", "--metric", "loss", "--x", "time", "--out", svg], store: s.store).code == 0)
        let wallSVG = try String(contentsOfFile: svg, encoding: .utf8)
        #expect(Self.elements(wallSVG, "text", marker: "x-tick").compactMap { $0["#text"] }.contains("13:00"), "\(wallSVG)")
        // Steps bounds do not mix with a time axis.
        let mixed = try strata(["compare", "r", "--metric", "loss", "--x", "time", "--from", "5"], store: s.store)
        #expect(mixed.code == 2 && mixed.err.contains("--x step"), "\(mixed.err)")
    }

    /// Help texts (under 80 columns when piped) wrap at word boundaries: within a paragraph every line
    /// is as full as the next line's first word allows, and a JSON example stays on one line.
    @Test func helpWrapsAtWordBoundaries() throws {
        let commands = [
            ["ingest"], ["log"], ["runs"], ["show"], ["curve"], ["compare"], ["plot"], ["export"], ["import"],
            ["import", "tensorboard"], ["import", "mlflow"], ["import", "wandb"], ["stats"], ["verify"], ["compact"],
            ["rewind"], ["serve"], ["token"], ["demo"]
        ]
        for c in commands {
            let r = try strata(["help"] + c)
            #expect(r.code == 0, "\(c): \(r.err)")
            let lines = r.out.components(separatedBy: "\n")
            let usage = lines.firstIndex { $0.hasPrefix("USAGE:") } ?? lines.count
            let text = Array(lines[..<usage])
            for (a, b) in zip(text, text.dropFirst()) {
                #expect(a.count <= 80, "\(c): \(a)")
                if a.contains("{") || b.contains("{") || a.contains("}") {
                    let open = a.filter { $0 == "{" }.count, close = a.filter { $0 == "}" }.count
                    #expect(open == close, "\(c): a JSON example is cut: \(a)")
                }
                // An `Example:` line is a line of its own, not the continuation of a paragraph.
                guard !a.isEmpty, !b.isEmpty, !a.hasPrefix(" "), !b.hasPrefix(" "), !b.hasPrefix("Example:") else { continue }
                let next = b.prefix { $0 != " " }
                #expect(a.count + 1 + next.count >= 80, "\(c): \"\(a)\" is cut short before \"\(next)\"")
            }
        }
    }
}
