import Foundation
import Strata

/// The ingest workloads of QUERIES.md, each run in a child process (`strata-bench --child ...`)
/// so that its peak memory is its own.
enum Ingest {
    /// I1: log the long run step by step, the way a training loop does.
    static func stream(_ w: Workload, store path: String, dictionary: Bool) throws -> Double {
        let store = try Store.open(at: path)
        let start = DispatchTime.now().uptimeNanoseconds
        for r in w.runs {
            let run = try store.createRun(name: r.name, params: params(r.params))
            let perStep = r.series.filter { $0.count == r.series.map(\.count).max() }
            let sparse = r.series.filter { $0.count != perStep[0].count }
            let readers = try perStep.map { try SeriesReader(path: w.dir + "/" + $0.file, count: $0.count) }
            let sparseData = try sparse.map { try w.load($0) }
            let group = try run.metrics(perStep.map(\.metric))
            let sparseGroup = try run.metrics(sparse.map(\.metric))
            let names = perStep.map(\.metric), sparseNames = sparse.map(\.metric)
            let n = perStep[0].count
            let piece = 65_536
            var sparseIndex = 0
            var values = [Double](repeating: 0, count: perStep.count)
            var sv = [Double](repeating: 0, count: sparse.count)
            var from = 0
            while from < n {
                let to = min(n, from + piece)
                let cols = try readers.map { try $0.read(from..<to) }
                let steps = cols[0].steps, times = cols[0].times
                for i in 0..<(to - from) {
                    let step = steps[i]
                    for k in 0..<cols.count { values[k] = cols[k].values[i] }
                    if dictionary {
                        // Sized once, as a dictionary literal is (no growth while filling it).
                        var d = [String: Double](minimumCapacity: names.count)
                        for k in 0..<names.count { d[names[k]] = values[k] }
                        try run.log(d, step: step, time: times[i])
                    } else {
                        try run.log(group, step: step, values: values, time: times[i])
                    }
                    if !sparse.isEmpty && sparseIndex < sparseData[0].steps.count && sparseData[0].steps[sparseIndex] == step {
                        for k in 0..<sparse.count { sv[k] = sparseData[k].values[sparseIndex] }
                        if dictionary {
                            var d = [String: Double](minimumCapacity: sparseNames.count)
                            for k in 0..<sparseNames.count { d[sparseNames[k]] = sv[k] }
                            try run.log(d, step: step, time: sparseData[0].times[sparseIndex])
                        } else {
                            try run.log(sparseGroup, step: step, values: sv, time: sparseData[0].times[sparseIndex])
                        }
                        sparseIndex += 1
                    }
                }
                from = to
            }
            for reader in readers { reader.close() }
            try run.finish()
        }
        try store.close()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// I2: create each run with its params, append each series in one call.
    static func bulk(_ w: Workload, store path: String) throws -> Double {
        let store = try Store.open(at: path)
        var seconds = 0.0
        for r in w.runs {
            let data = try r.series.map { try w.load($0) }  // reading the workload is not timed
            let start = DispatchTime.now().uptimeNanoseconds
            let run = try store.createRun(name: r.name, params: params(r.params))
            for (s, d) in zip(r.series, data) {
                try run.append(s.metric, steps: d.steps, values: d.values, times: d.times)
            }
            seconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        let start = DispatchTime.now().uptimeNanoseconds
        try store.close()
        seconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return seconds
    }

    static func params(_ p: [String: ParamValue]) -> [String: ParamValue] { p }
}

/// Size of every file under a directory.
func directoryBytes(_ path: String) -> Int {
    guard let e = FileManager.default.enumerator(atPath: path) else { return 0 }
    var total = 0
    while let f = e.nextObject() as? String {
        if let a = try? FileManager.default.attributesOfItem(atPath: path + "/" + f), (a[.type] as? FileAttributeType) == .typeRegular {
            total += (a[.size] as? Int) ?? 0
        }
    }
    return total
}

/// Peak resident memory of this process (VmHWM from /proc/self/status; ru_maxrss can carry a
/// parent's peak across fork and exec).
func peakRSSBytes() -> Int {
    if let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) {
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
            return kb * 1024
        }
    }
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return u.ru_maxrss * 1024
}
