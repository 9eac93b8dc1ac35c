/// Remembers the last encoded steps and times columns of one run so that the metrics logged
/// together (same steps, same times) store those columns once. Segment writing deduplicates the
/// identical byte strings.
///
/// Unsafe memory: the buffers compared are the encoder's input columns, read only during the
/// call (`memcmpEqual` after an equal-count check); what is remembered is copied into arrays.
final class ColumnReuse {
    private var lastSteps: [Int64] = [], lastStepsBytes: [UInt8] = []
    private var lastTimes: [Int64] = [], lastTimesBytes: [UInt8] = []

    func steps(matching s: UnsafeBufferPointer<Int64>) -> [UInt8]? {
        Self.equal(lastSteps, s) ? lastStepsBytes : nil
    }
    func times(matching t: UnsafeBufferPointer<Int64>) -> [UInt8]? {
        Self.equal(lastTimes, t) ? lastTimesBytes : nil
    }
    func rememberSteps(_ s: UnsafeBufferPointer<Int64>, _ bytes: [UInt8]) { lastSteps = Array(s); lastStepsBytes = bytes }
    func rememberTimes(_ t: UnsafeBufferPointer<Int64>, _ bytes: [UInt8]) { lastTimes = Array(t); lastTimesBytes = bytes }

    /// Whether a steps or times column is remembered.
    var remembers: Bool { !lastSteps.isEmpty || !lastTimes.isEmpty }

    /// Lets go of the remembered columns (the run's later chunks are encoded afresh).
    func forget() { lastSteps = []; lastStepsBytes = []; lastTimes = []; lastTimesBytes = [] }

    private static func equal(_ a: [Int64], _ b: UnsafeBufferPointer<Int64>) -> Bool {
        guard a.count == b.count, a.count > 0 else { return false }
        return a.withUnsafeBytes { x in memcmpEqual(x, UnsafeRawBufferPointer(b)) }
    }
}
