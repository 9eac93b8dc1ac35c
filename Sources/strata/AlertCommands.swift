import ArgumentParser
import Foundation
import Strata

#if canImport(Glibc)
import Glibc
#endif

/// `strata alert add|list|remove`: alert rules stored in the store (docs/CLI.md, "Alerts").
struct AlertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alert",
        abstract: "Add, list or remove alert rules (evaluated by `strata serve` and `strata watch`).",
        subcommands: [Add.self, List.self, Remove.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a rule on a run or a project with exactly one condition.",
            discussion: """
                Conditions: --nonfinite (NaN or ±Inf), --above X, --below X, --no-improvement N \
                [--mode min|max], --stalled MINUTES (no new point while running), --baseline RUN \
                --percent X (departs from RUN at the same step). Prints the rule's id.
                """)
        @OptionGroup var global: GlobalOptions
        @Option(name: .customLong("run"), help: "Run name or id the rule watches.") var runName: String?
        @Option(help: "Project whose runs (now and later) the rule watches.") var project: String?
        @Option(help: "Metric to watch (all its series).") var metric: String
        @Flag(help: "Fire when a value is NaN, +Inf or -Inf.") var nonfinite = false
        @Option(help: "Fire when a value is above X.") var above: Double?
        @Option(help: "Fire when a value is below X.") var below: Double?
        @Option(help: "Fire when the best value is N or more steps old.") var noImprovement: Int64?
        @Option(help: "min (smaller is better, default) or max, for --no-improvement.") var mode: String?
        @Option(help: "Fire when a running run has no new point for MINUTES.") var stalled: Double?
        @Option(help: "Baseline run for --percent.") var baseline: String?
        @Option(help: "Fire when a value departs from the baseline's at the same step by more than X %.") var percent: Double?
        @Option(help: "http:// URL that `strata serve` posts each event to.") var webhook: String?
        @Flag(help: "Accept a metric no run in the scope has logged yet.") var newMetric = false

        func run() throws {
            let store = try global.openForReading()
            defer { try? store.close() }
            let scope: AlertScope
            switch (runName, project) {
            case (let r?, nil): scope = .run(try lookupRun(store, r).id)
            case (nil, let p?): scope = .project(p)
            default: throw CLIError("give exactly one of --run or --project", exitCode: 2)
            }
            let base = try baseline.map { try lookupRun(store, $0).id }
            let (nonfinite, above, below, noImprovement, mode, stalled, percent, webhook, newMetric, metric) =
                (
                    self.nonfinite, self.above, self.below, self.noImprovement, self.mode, self.stalled, self.percent, self.webhook, self.newMetric,
                    self.metric
                )
            let result = Result { () throws(StrataError) -> AlertRule in
                let condition = try AlertCondition.from(
                    nonFinite: nonfinite, above: above, below: below, noImprovement: noImprovement, mode: mode,
                    stalledMinutes: stalled, baseline: base, percent: percent)
                return try store.addAlert(scope: scope, metric: metric, condition: condition, webhook: webhook, allowNewMetric: newMetric)
            }
            let rule: AlertRule
            switch result {
            case .success(let r): rule = r
            case .failure(let e) where e.code == .invalidArgument: throw CLIError(e.message, exitCode: 2)
            case .failure(let e): throw e
            }
            print(rule.id)
            if isTerminal(2) { warn("strata: alert on \(rule.scope) \(rule.metric): \(rule.condition)") }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the rules: id, scope, metric, condition, webhook.")
        @OptionGroup var global: GlobalOptions
        func run() throws {
            let store = try global.openForReading()
            defer { try? store.close() }
            let rules = try store.alertRules()
            if rules.isEmpty { print("no alert rules (add one with `strata alert add`)"); return }
            for r in rules { print("\(r.id)\t\(r.scope)\t\(r.metric)\t\(r.condition)\t\(r.webhook ?? "-")") }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a rule by its id (or a unique 4+ character beginning or end). Its events stay.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Rule id.") var id: String
        func run() throws {
            let store = try global.openForReading()
            defer { try? store.close() }
            let r = try store.removeAlert(id)
            print("removed alert \(r.id) (\(r.scope) \(r.metric): \(r.condition))")
        }
    }
}

/// `strata alerts [RUN]`: the events fired.
struct AlertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts", abstract: "List alert events: time, run, series, step, value, condition, delivery.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Only this run's events (name or id).") var runName: String?
    func run() throws {
        let store = try global.openForReading()
        defer { try? store.close() }
        let id = try runName.map { try lookupRun(store, $0).id }
        let rules = Dictionary(try store.alertRules().map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let events = try store.alertEvents(run: id)
        if events.isEmpty { print("no alert events"); return }
        for e in events {
            let cond = rules[e.rule].map(\.condition.description) ?? "rule \(e.rule) (removed)"
            let delivered = e.deliveredMs.map { "delivered \(formatTime($0))" } ?? (rules[e.rule]?.webhook == nil ? "-" : "not delivered yet")
            print("\(formatTime(e.timeMs))\t\(e.run.text)\t\(e.series)\tstep \(e.step)\t\(e.value)\t\(cond)\t\(delivered)\tevent \(e.id)")
        }
    }
}

/// `strata watch RUN…`: follows runs and exits 3 when a rule fires.
struct Watch: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Follow runs and evaluate the store's alert rules on their new points; exit 3 when one fires.",
        discussion: """
            Polls the store (new points are read by step range, never the whole history). Conditions \
            already true when it starts fire at once. Exits 0 when every run has ended, 3 when a \
            rule fires (after printing the event). Events are printed, not stored (`strata serve` \
            stores and delivers them).
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Run names or ids.") var runs: [String]
    @Option(help: "Seconds between polls.") var interval: Double = 1

    func run() throws {
        guard !runs.isEmpty else { throw CLIError("give at least one run", exitCode: 2) }
        guard interval.isFinite, interval >= 0.05, interval <= 3600 else { throw CLIError("--interval must be 0.05 to 3600 seconds", exitCode: 2) }
        let store = try global.openForReading()
        defer { try? store.close() }
        let ids = try runs.map { try lookupRun(store, $0).id }
        let evaluator = try AlertEvaluator(store: store, persist: false)
        evaluator.discoveryIntervalMs = Int64(interval * 1000)
        if evaluator.activeRules.isEmpty { warn("strata: the store has no alert rules yet; watching for rules added later") }
        var seen: [String: Int64] = [:]  // run/series → last step evaluated
        while true {
            try store.refresh()
            var fired: [AlertEvent] = try evaluator.tick().filter { ids.contains($0.run) }
            var ended = true
            for id in ids {
                let info = try store.run(id.text)
                if info.status == .running { ended = false }
                for s in try store.series(of: id) {
                    let k = id.text + "/" + s.key.canonical
                    let labels = Dictionary(s.key.labels.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
                    guard let w = evaluator.watch(run: id, metric: s.key.metric, labels: labels) else { continue }
                    var points: [AlertEvaluator.Observation] = []
                    if let last = seen[k] {
                        guard s.lastStep > last else { continue }
                        for p in try store.points(id, s.key.metric, labels: labels, steps: (last + 1)..<Int64.max) {
                            points.append(.init(w, step: p.step, value: p.value, timeMs: p.time))
                        }
                    } else {
                        points.append(.init(w, step: s.lastStep, value: s.lastValue, timeMs: s.maxTime))
                    }
                    seen[k] = s.lastStep
                    fired += try evaluator.observe(points)
                }
            }
            if !fired.isEmpty {
                let rules = Dictionary(evaluator.activeRules.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
                for e in fired {
                    print(
                        "ALERT \(e.run.text) \(e.series) step \(e.step) value \(e.value): \(rules[e.rule].map(\.condition.description) ?? e.rule) (rule \(e.rule))"
                    )
                }
                throw ExitCode(3)
            }
            if ended { return }
            usleep(UInt32(interval * 1_000_000))
        }
    }
}
