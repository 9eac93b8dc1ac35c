/// Stable sort of parallel arrays by step (only when not already sorted).
enum StableSort {
    static func isSorted(_ steps: UnsafeBufferPointer<Int64>) -> Bool {
        if steps.count < 2 { return true }
        for i in 1..<steps.count where steps[i] < steps[i - 1] { return false }
        return true
    }

    static func sort(steps: inout [Int64], values: inout [Double], times: inout [Int64]) {
        let sorted = steps.withUnsafeBufferPointer { isSorted($0) }
        if sorted { return }
        var order = Array(0..<steps.count)
        let s = steps
        order.sort { (s[$0], $0) < (s[$1], $1) }
        steps = order.map { s[$0] }
        let v = values, t = times
        values = order.map { v[$0] }
        times = order.map { t[$0] }
    }
}
