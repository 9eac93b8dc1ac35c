import Strata

/// The text formats points are exported in: JSON lines that `strata ingest` reads back (one
/// record per point, the `metric`+`value` form) and CSV (`run,metric,step,value,time,labels,run_id`,
/// read back by `strata ingest --format csv`). Doubles are written in the shortest form that
/// reads back bit-exactly; NaN and the infinities as `NaN`, `Infinity`, `-Infinity`.
public enum PointFormat: String, Sendable, CaseIterable {
    case jsonl, csv

    /// The line before the rows (CSV's header), if any.
    public var header: String? { self == .csv ? "run,metric,step,value,time,labels,run_id" : nil }
}

/// Writes the points of one series as export rows: the run's and series' parts of a row are
/// built once, each point adds its step, value and time.
public struct PointRows: Sendable {
    /// The format written.
    public let format: PointFormat
    private let head: String
    private let tail: String

    /// Rows of the series `key` of `run`.
    public init(format: PointFormat, run: RunInfo, key: SeriesKey) {
        self.format = format
        switch format {
        case .jsonl:
            head = "{\"run\": \(jsonString(run.name)), \"metric\": \(jsonString(key.metric)), \"step\": "
            tail =
                (key.labels.isEmpty
                    ? "" : ", \"labels\": {" + key.labels.map { "\(jsonString($0.key)): \(jsonString($0.value))" }.joined(separator: ", ") + "}")
                + ", \"run_id\": \(jsonString(run.id.text))}\n"
        case .csv:
            head = csvField(run.name) + "," + csvField(key.metric) + ","
            tail = "," + csvField(key.labels.map { "\($0.key)=\($0.value)" }.joined(separator: ";")) + "," + run.id.text + "\n"
        }
    }

    /// One point's row, `\n` included, handed to `emit` in pieces (no string per row is built).
    @inline(__always)
    public func write(step: Int64, value: Double, time: Int64, _ emit: (String) -> Void) {
        emit(head)
        emit(String(step))
        emit(format == .jsonl ? ", \"value\": " : ",")
        emit(fmt(value))
        emit(format == .jsonl ? ", \"time\": " : ",")
        emit(String(time))
        emit(tail)
    }
}

/// A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180).
package func csvField(_ s: String) -> String {
    if s.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
        var out = "\""
        for u in s.unicodeScalars {
            if u == "\"" { out += "\"\"" } else { out.unicodeScalars.append(u) }
        }
        return out + "\""
    }
    return s
}
