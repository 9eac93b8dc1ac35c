// A child process for the crash and concurrency tests: logs a run and acknowledges each step on
// stdout once `log` has returned (so the parent knows which points must survive a SIGKILL).
//
//   strata-test-writer STORE RUN PREFIX STEPS [--resume] [--ack] [--capacity BYTES] [--bulk] [--phases]
//
// --stamped: with --ack, each ack also gives the wall clock (ns) just before and just after the
// step's `log` call: "ack STEP BEFORE AFTER".
// --phases: instead of logging STEPS steps at once, reads a count N per stdin line, logs the next N
// steps, then prints "idle" (the parent does something between phases); EOF ends the run.
//
// Values are a function of (prefix, step) so the parent can check them: value(step) = step * 0.5 + k
// where k is the metric index.
import Strata

#if canImport(Glibc)
import Glibc
#endif

func nowNs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

func emit(_ fd: Int32, _ text: String) {
    var t = text + "\n"
    t.withUTF8 { b in _ = write(fd, b.baseAddress, b.count) }
}

let args = CommandLine.arguments
guard args.count >= 5, let steps = Int64(args[4]) ?? (["compact", "runs", "checkpoints", "trials", "manage"].contains(args[4]) ? 0 : nil) else {
    emit(2, "usage: strata-test-writer STORE RUN PREFIX STEPS [--resume] [--ack] [--capacity BYTES] [--bulk]")
    exit(2)
}
let storePath = args[1], runName = args[2], prefix = args[3]
if args.count >= 6 && args[4] == "runs", let count = Int(args[5]) {
    // strata-test-writer STORE NAME - runs N [--batch B]: creates runs NAME-0 … NAME-(N-1) with
    // params; after every B runs (100 by default) flushes and prints "ack K" (the last run index
    // flushed, so durable). Then closes and prints "done".
    var batch = 100
    if let i = args.firstIndex(of: "--batch"), i + 1 < args.count, let b = Int(args[i + 1]) { batch = b }
    do {
        let store = try Store.open(at: storePath)
        for k in 0..<count {
            _ = try store.createRun(name: "\(runName)-\(k)", params: ["k": .int(Int64(k)), "lr": .double(Double(k) * 1e-4)], tags: ["bulk"])
            if (k + 1) % batch == 0 {
                try store.flush()
                emit(1, "ack \(k)")
            }
        }
        try store.close()
        emit(1, "ack \(count - 1)")
        emit(1, "done")
        exit(0)
    } catch {
        emit(2, "strata-test-writer: \(error)")
        exit(1)
    }
}
if args.count >= 6 && args[4] == "trials", let count = Int(args[5]) {
    // strata-test-writer STORE NAME - trials N [--capacity BYTES]: bulk ingest of many short runs
    // (issue 10, I3): creates runs NAME-0 … NAME-(N-1) with params {"k": K, "opt": {"name": …}}
    // and appends series "a", "b", "c" of 3 + K % 7 points each (value = step * 0.5 + metric
    // index + K); prints "ack K" once the appends of run K returned (no flush: they must survive
    // kill -9). Then closes and prints "done".
    var capacity = 64 << 20
    if let i = args.firstIndex(of: "--capacity"), i + 1 < args.count, let c = Int(args[i + 1]) { capacity = c }
    do {
        let store = try Store.open(at: storePath, options: .init(logCapacity: capacity))
        for k in 0..<count {
            let run = try store.createRun(
                name: "\(runName)-\(k)",
                params: ["k": .int(Int64(k)), "opt.name": .string(k % 2 == 0 ? "adam" : "sgd"), "tags": .list([.int(1), .null])])
            let steps = (0..<Int64(3 + k % 7)).map { $0 }
            for (m, metric) in ["a", "b", "c"].enumerated() {
                try run.append(metric, steps: steps, values: steps.map { Double($0) * 0.5 + Double(m + k) }, times: steps)
            }
            emit(1, "ack \(k)")
        }
        try store.close()
        emit(1, "done")
        exit(0)
    } catch {
        emit(2, "strata-test-writer: \(error)")
        exit(1)
    }
}
if args[4] == "checkpoints" {
    // strata-test-writer STORE - - checkpoints: checkpoints the catalog (through compact) again
    // and again, printing "ack I" after each, until killed.
    do {
        var i = 0
        while true {
            let store = try Store.open(at: storePath)
            _ = try store.compact(graceSeconds: 1000)
            try store.close()
            emit(1, "ack \(i)")
            i += 1
        }
    } catch {
        emit(2, "strata-test-writer: \(error)")
        exit(1)
    }
}
if args[4] == "manage" {
    // strata-test-writer STORE NAME ROUND manage: run management in a loop until killed. For
    // cycle C = 0, 1, …: creates run NAME-C and prints "run C ID"; then tags it t<C>, sets its note
    // to "note C", logs artifact "model" with digest manageDigest(ROUND, C) (twice: the second is
    // idempotent), deploys it to prod at C, renames it NAME-C-renamed, deletes it when C is even
    // and restores it when C % 4 == 0, printing "op KIND C" once each call has returned.
    func manageDigest(_ round: Int, _ c: Int) -> String {
        func pad(_ n: Int) -> String { let h = String(n, radix: 16); return String(repeating: "0", count: 32 - h.count) + h }
        return pad(round) + pad(c)
    }
    do {
        let round = Int(prefix) ?? 0
        let store = try Store.open(at: storePath)
        var c = 0
        while true {
            let id = try store.createRun(name: "\(runName)-\(c)").id.text
            emit(1, "run \(c) \(id)")
            try store.tagRun(id, add: ["t\(c)"])
            emit(1, "op tag \(c)")
            try store.annotateRun(id, "note \(c)")
            emit(1, "op note \(c)")
            for _ in 0..<2 {
                try store.logArtifact(run: id, name: "model", uri: "s3://b/\(c)", digest: manageDigest(round, c), size: Int64(c), step: Int64(c))
                emit(1, "op artifact \(c)")
            }
            try store.deploy(artifact: "\(id):model", environment: "prod", at: Int64(c))
            emit(1, "op deploy \(c)")
            try store.renameRun(id, to: "\(runName)-\(c)-renamed")
            emit(1, "op rename \(c)")
            if c % 2 == 0 {
                try store.deleteRun(id)
                emit(1, "op delete \(c)")
            }
            if c % 4 == 0 {
                try store.restoreRun(id)
                emit(1, "op restore \(c)")
            }
            c += 1
        }
    } catch {
        emit(2, "strata-test-writer: \(error)")
        exit(1)
    }
}
if args[4] == "compact" {
    // strata-test-writer STORE - - compact: compacts once (grace 0) and reports.
    do {
        let store = try Store.open(at: storePath)
        let r = try store.compact(graceSeconds: 0)
        emit(1, "compacted \(r.inputSegments) \(r.points)")
        try store.close()
        emit(1, "done")
        exit(0)
    } catch {
        emit(2, "strata-test-writer: \(error)")
        exit(1)
    }
}
let resume = args.contains("--resume"), ack = args.contains("--ack"), bulk = args.contains("--bulk"), phases = args.contains("--phases")
var capacity = 64 << 20
if let i = args.firstIndex(of: "--capacity"), i + 1 < args.count, let c = Int(args[i + 1]) { capacity = c }

do {
    let store = try Store.open(at: storePath, options: .init(logCapacity: capacity))
    let run = resume ? try store.resumeRun(runName) : try store.createRun(name: runName, params: ["prefix": .string(prefix)])
    let names = [prefix + "a", prefix + "b", prefix + "c"]
    if phases {
        let group = try run.metrics(names)
        var step: Int64 = 0
        while let line = readLine(), let n = Int64(line) {
            for _ in 0..<n {
                try run.log(
                    group, step: step, values: [Double(step) * 0.5, Double(step) * 0.5 + 1, Double(step) * 0.5 + 2],
                    time: 1_700_000_000_000 + step)
                step += 1
            }
            emit(1, "idle")
        }
    } else if bulk {
        var step: Int64 = 0
        while step < steps {
            let n = min(Int64(1000), steps - step)
            let s = Array(step..<(step + n))
            for (k, name) in names.enumerated() {
                try run.append(name, steps: s, values: s.map { Double($0) * 0.5 + Double(k) }, times: s.map { 1_700_000_000_000 + $0 })
            }
            step += n
            if ack { emit(1, "ack \(step - 1)") }
        }
    } else {
        let group = try run.metrics(names)
        let stamped = args.contains("--stamped")
        for step in 0..<steps {
            let before = stamped ? nowNs() : 0
            try run.log(
                group, step: step, values: [Double(step) * 0.5, Double(step) * 0.5 + 1, Double(step) * 0.5 + 2],
                time: 1_700_000_000_000 + step)
            if stamped { emit(1, "ack \(step) \(before) \(nowNs())") } else if ack { emit(1, "ack \(step)") }
        }
    }
    try run.finish()
    try store.close()
    emit(1, "done")
} catch {
    emit(2, "strata-test-writer: \(error)")
    exit(1)
}
