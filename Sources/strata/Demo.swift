import ArgumentParser
import Strata
import StrataInterop

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Log a small simulated sweep (6 runs, lr × model, 3,000 steps) and show a comparison chart.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Steps per run.") var steps: Int = 3000
    @Flag(help: "Table only, no chart.") var noChart = false

    func run() throws {
        let store = try global.openForWriting()
        var rng = SplitMix64(seed: 42)
        var created: [RunInfo] = []
        let t0 = nowMs() - Int64(steps) * 100
        let sweep = UInt64(nowMs())
        for model in ["small", "base"] {
            for lr in [3e-4, 1e-3, 3e-3] {
                let name = "demo-\(model)-lr\(short(lr))"
                let run = try store.createRun(
                    name: name, project: "demo", params: ["lr": .double(lr), "model": .string(model), "batch_size": 64, "seed": 42],
                    tags: ["demo"],
                    metadata: [
                        "purpose": "strata demo sweep", "seed.numpy": 42, "dataset.train": "synthetic-v1",
                        "sweep": .string(String(sweep, radix: 36))
                    ])
                let hot = try run.metrics(["train/loss", "lr"])
                let floor = model == "base" ? 0.35 : 0.55
                let speed = lr * (model == "base" ? 2.2 : 3.0)
                let unstable = lr >= 3e-3
                for step in 0..<steps {
                    let warm = min(1, Double(step) / 200)
                    let lrNow = lr * warm * (0.5 + 0.5 * cos(Double.pi * Double(step) / Double(steps)))
                    var loss = floor + 2.0 * exp(-speed * Double(step) * 0.9)
                    loss *= 1 + 0.025 * rng.gauss()
                    if unstable && step % 700 == 350 { loss *= 2.5 }  // loss spikes: the envelope keeps them
                    try run.log(hot, step: Int64(step), values: [loss, lrNow], time: t0 + Int64(step) * 100)
                    if step % 100 == 99 {
                        let acc = min(0.99, (1 - floor / 2) * (1 - exp(-speed * Double(step) * 0.7)) + 0.01 * rng.gauss())
                        try run.log("val/accuracy", acc, step: Int64(step), time: t0 + Int64(step) * 100)
                    }
                }
                try run.finish()
                if let info = run.info { created.append(info) }
            }
        }
        try store.flush()
        let out = Output()
        out.line("logged \(created.count) runs × \(withCommas(steps)) steps into \(store.path) (project \"demo\")")
        out.line("")
        // The chart compares the "base" runs across learning rates (all six crowd a terminal).
        let charted = created.filter { $0.params["model"] == .string("base") }
        try renderComparison(
            store: store, runs: charted, metric: "train/loss", from: nil, to: nil, height: 14, logScale: true, chart: !noChart, out: out)
        out.line("")
        out.line("next: strata runs --where 'tags has \"demo\"' --sort 'train/loss.min'")
        out.line("      strata show \(created.first?.name ?? "demo-small-lr0.0003")")
        out.line("      strata plot \(created.map(\.name).prefix(3).joined(separator: " ")) --metric train/loss --out demo.svg")
        out.flush()
        try store.close()
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
