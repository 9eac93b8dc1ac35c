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
                lines += #"{"run": "\#(name)", "step": \#(step), "time": \#(1_760_000_000_000 + step * 1000), "metrics": {"loss": \#(Double(r + 1) / Double(step + 1))}}"# + "\n"
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
                if kv.count == 2 { attrs[String(kv[0]).trimmingCharacters(in: .whitespaces)] = kv[1].replacingOccurrences(of: "\"", with: "").replacingOccurrences(of: "/", with: "") }
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
        let svg = s.file("p.svg")
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
        let png = s.file("x.png")
        let r = try strata(["plot", "run-0", "--metric", "loss", "--out", png], store: s.store)
        #expect(r.code == 2 && r.err.contains("SVG") && r.err.contains(".png"), "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: png), "nothing written into a .png")
        let ok = try strata(["plot", "run-0", "--metric", "loss", "--out", s.file("x.svg")], store: s.store)
        #expect(ok.code == 0 && ok.err.contains("(1 run, loss)"), "\(ok.err)")
    }
}
