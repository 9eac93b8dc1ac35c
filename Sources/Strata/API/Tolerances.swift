#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A tolerance and direction declared for a metric of a project, kept in the store's
/// `tolerances` file (see `docs/FORMAT.md`) and used by ``Store/compare(baseline:candidate:metric:options:)``.
public struct StoredTolerance: Sendable, Hashable {
    /// The project.
    public var project: String
    /// The metric (canonical series text when it has labels).
    public var metric: String
    /// The tolerance (nil: none declared).
    public var tolerance: Tolerance?
    /// The direction (nil: guessed from the name).
    public var direction: MetricDirection?

    /// A declaration.
    ///
    /// - Parameters:
    ///   - project: The project.
    ///   - metric: The metric.
    ///   - tolerance: The tolerance, or nil.
    ///   - direction: The direction, or nil.
    public init(project: String, metric: String, tolerance: Tolerance?, direction: MetricDirection?) {
        self.project = project
        self.metric = metric
        self.tolerance = tolerance
        self.direction = direction
    }
}

extension Store {
    static let tolerancesHeader = "strata-tolerances 1"

    /// The tolerances declared in the store, by project then metric.
    ///
    /// - Returns: The declarations (none when the store has no `tolerances` file).
    /// - Throws: ``StrataError``: `.corrupt` naming the line of a malformed file, `.io`.
    public func tolerances() throws(StrataError) -> [StoredTolerance] {
        let file = path + "/tolerances"
        guard try Sys.status(file) != nil else { return [] }
        let bytes = try Sys.readFile(file)
        let text = String(decoding: bytes, as: UTF8.self)
        var out: [StoredTolerance] = []
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if i == 0 {
                guard line == Self.tolerancesHeader else {
                    throw StrataError(.corrupt, "line 1 must be \"\(Self.tolerancesHeader)\"", path: file)
                }
                continue
            }
            if line.isEmpty { continue }
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 4, !f[0].isEmpty, !f[1].isEmpty else {
                throw StrataError(.corrupt, "line \(i + 1): expected project, metric, tolerance and direction separated by tabs", path: file)
            }
            var t: Tolerance?
            if f[2] != "-" {
                do { t = try Tolerance(parsing: f[2]) } catch { throw StrataError(.corrupt, "line \(i + 1): \(error.message)", path: file) }
            }
            var d: MetricDirection?
            if f[3] != "-" {
                guard let dir = MetricDirection(rawValue: f[3]) else {
                    throw StrataError(.corrupt, "line \(i + 1): direction must be lower, higher or -, got \"\(f[3].prefix(40))\"", path: file)
                }
                d = dir
            }
            out.append(StoredTolerance(project: f[0], metric: f[1], tolerance: t, direction: d))
        }
        return out.sorted { ($0.project, $0.metric) < ($1.project, $1.metric) }
    }

    /// Declares (or with both nil, removes) the tolerance and direction of a metric of a project.
    /// The file is rewritten atomically under `tolerances.lock`, so concurrent declarations are
    /// all kept.
    ///
    /// - Parameters:
    ///   - project: The project.
    ///   - metric: The metric (a valid metric name, labels allowed as `m{k=v}`).
    ///   - tolerance: The tolerance, or nil for none.
    ///   - direction: The direction, or nil to guess it from the name.
    /// - Throws: ``StrataError``: `.invalidArgument` for an empty project or a bad metric name,
    ///   `.io`/`.noSpace` when the file cannot be written.
    public func setTolerance(project: String, metric: String, tolerance: Tolerance?, direction: MetricDirection?) throws(StrataError) {
        guard !project.isEmpty, !project.contains(where: { $0.isASCII && ($0.asciiValue! < 0x20 || $0.asciiValue! == 0x7F) }) else {
            throw StrataError(.invalidArgument, "project must be 1-200 bytes without control characters")
        }
        let (name, labels) = Self.splitSeriesText(metric)
        let canonical = try SeriesKey(run: RunID(validated: "00000000000000000000000000"), metric: name, labels: labels).canonical
        let lockPath = path + "/tolerances.lock"
        let fd = try Sys.open(lockPath, O_RDWR | O_CREAT)
        defer { Sys.close(fd) }
        try Sys.lockExclusive(fd, lockPath)
        defer { Sys.unlock(fd) }
        var all = try tolerances().filter { !($0.project == project && $0.metric == canonical) }
        if tolerance != nil || direction != nil {
            all.append(StoredTolerance(project: project, metric: canonical, tolerance: tolerance, direction: direction))
        }
        all.sort { ($0.project, $0.metric) < ($1.project, $1.metric) }
        var text = Self.tolerancesHeader + "\n"
        for t in all {
            text += "\(t.project)\t\(t.metric)\t\(t.tolerance?.description ?? "-")\t\(t.direction?.rawValue ?? "-")\n"
        }
        try Sys.mkdirs(path + "/tmp")
        try Sys.writeAtomically(Array(text.utf8), to: path + "/tolerances", tmpDir: path + "/tmp")
    }

    /// Splits the text form of a series, `metric{k=v,k2=v2}`, into its name and labels (a name
    /// without braces has none). The CLI and the API read series arguments through this.
    ///
    /// - Parameter spec: The series text.
    /// - Returns: The metric name and its labels.
    public static func splitSeriesText(_ spec: String) -> (String, [String: String]) {
        guard let brace = spec.firstIndex(of: "{"), spec.hasSuffix("}") else { return (spec, [:]) }
        var labels: [String: String] = [:]
        for part in spec[spec.index(after: brace)..<spec.index(before: spec.endIndex)].split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1)
            labels[String(kv[0])] = kv.count > 1 ? String(kv[1]) : ""
        }
        return (String(spec[..<brace]), labels)
    }
}
