/// Stable sort of parallel arrays by step (only when not already sorted).
enum StableSort {
    /// True when the steps never decrease (any random-access column: an array or a buffer).
    static func isSorted<C: RandomAccessCollection>(_ steps: C) -> Bool where C.Element == Int64 {
        var it = steps.makeIterator()
        guard var prev = it.next() else { return true }
        while let s = it.next() {
            if s < prev { return false }
            prev = s
        }
        return true
    }

    static func sort(steps: inout [Int64], values: inout [Double], times: inout [Int64]) {
        if isSorted(steps) { return }
        var order = Array(0..<steps.count)
        let s = steps
        order.sort { (s[$0], $0) < (s[$1], $1) }
        steps = order.map { s[$0] }
        let v = values, t = times
        values = order.map { v[$0] }
        times = order.map { t[$0] }
    }
}
