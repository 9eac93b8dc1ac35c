/// Array entry points of the log writer for `Run` (the writer itself works on buffers).
///
/// Unsafe memory: each array's buffer is lent to the writer for the duration of the call only;
/// the writer copies what it keeps (into the log and the series buffers) before returning.
extension LogWriter {
    /// Logs one row: `values[i]` for series `ids[i]` at `step` (same count).
    @inline(__always)
    func logRow(step: Int64, time: Int64, ids: [Int32], values: [Double]) throws(StrataError) {
        try ids.withUnsafeBufferPointer { (ip) throws(StrataError) in
            try values.withUnsafeBufferPointer { (vp) throws(StrataError) in try logRow(step: step, time: time, ids: ip, values: vp) }
        }
    }

    /// Appends whole columns of one series (same count).
    func append(id: Int, steps: [Int64], values: [Double], times: [Int64]) throws(StrataError) {
        try steps.withUnsafeBufferPointer { (sp) throws(StrataError) in
            try values.withUnsafeBufferPointer { (vp) throws(StrataError) in
                try times.withUnsafeBufferPointer { (tp) throws(StrataError) in try append(id: id, steps: sp, values: vp, times: tp) }
            }
        }
    }
}
