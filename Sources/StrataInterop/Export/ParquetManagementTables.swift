import Strata
import StrataParquet

// The artifacts and deployments tables of a Parquet export (issue 15; docs/EXPORT.md, "artifacts"
// and "deployments"): one row per artifact or deployment of the exported runs, every field, so that
// `strata import parquet` brings them back and a warehouse can join run → artifact → deployment.

extension ParquetTables {
    /// The artifacts table's columns.
    public static let artifactsColumns: [ParquetColumn] = [
        ParquetColumn("run_id", .string), ParquetColumn("run_name", .string), ParquetColumn("project", .string),
        ParquetColumn("name", .string), ParquetColumn("uri", .string), ParquetColumn("digest", .string), ParquetColumn("size", .int64),
        ParquetColumn("kind", .string), ParquetColumn("role", .string), ParquetColumn("step", .int64, optional: true),
        ParquetColumn("metadata", .string), ParquetColumn("logged", .timestampMillis)
    ]

    /// The deployments table's columns.
    public static let deploymentsColumns: [ParquetColumn] = [
        ParquetColumn("run_id", .string), ParquetColumn("run_name", .string), ParquetColumn("project", .string),
        ParquetColumn("artifact", .string), ParquetColumn("digest", .string), ParquetColumn("environment", .string),
        ParquetColumn("deployed_at", .timestampMillis), ParquetColumn("recorded", .timestampMillis)
    ]

    /// The artifacts of `runs` (run order, then logging order) as the artifacts table's columns.
    static func artifactsData(_ runs: [RunInfo]) -> [ParquetColumnData] {
        let rows = runs.flatMap { r in r.artifacts.map { (r, $0) } }
        return [
            ParquetColumnData(.string(rows.map(\.0.id.text))), ParquetColumnData(.string(rows.map(\.0.name))),
            ParquetColumnData(.string(rows.map(\.0.project))), ParquetColumnData(.string(rows.map(\.1.name))),
            ParquetColumnData(.string(rows.map(\.1.uri))), ParquetColumnData(.string(rows.map(\.1.digest))),
            ParquetColumnData(.int64(rows.map(\.1.size))), ParquetColumnData(.string(rows.map(\.1.kind))),
            ParquetColumnData(.string(rows.map(\.1.role.rawValue))),
            ParquetColumnData(.int64(rows.map { $0.1.step ?? 0 }), valid: rows.map { $0.1.step != nil }),
            ParquetColumnData(
                .string(
                    rows.map { row in
                        var o = JSONOut()
                        o.params(row.1.metadata)
                        return String(decoding: o.bytes, as: UTF8.self)
                    })),
            ParquetColumnData(.int64(rows.map(\.1.loggedMs)))
        ]
    }

    /// The deployments of `runs` (run order, then recording order) as the deployments table's columns.
    static func deploymentsData(_ runs: [RunInfo]) -> [ParquetColumnData] {
        let rows = runs.flatMap { r in r.deployments.map { (r, $0) } }
        return [
            ParquetColumnData(.string(rows.map(\.0.id.text))), ParquetColumnData(.string(rows.map(\.0.name))),
            ParquetColumnData(.string(rows.map(\.0.project))), ParquetColumnData(.string(rows.map(\.1.artifact))),
            ParquetColumnData(.string(rows.map(\.1.digest))), ParquetColumnData(.string(rows.map(\.1.environment))),
            ParquetColumnData(.int64(rows.map(\.1.atMs))), ParquetColumnData(.int64(rows.map(\.1.recordedMs)))
        ]
    }
}

extension ParquetExport {
    /// A table of the export other than points: what each holds.
    enum SmallTable: String, CaseIterable {
        case runs, artifacts, deployments
    }

    /// Writes the artifacts table of the runs of `project` (every project when nil) as one
    /// Parquet file to `output`. Returns the rows written.
    @discardableResult
    public func writeArtifacts(project: String? = nil, name: String = "artifacts.parquet", to output: @escaping ([UInt8]) throws -> Void) throws
        -> Int
    {
        try writeSmall(.artifacts, runs.filter { project == nil || $0.project == project }, name: name, to: output)
    }

    /// Writes the deployments table of the runs of `project` (every project when nil) as one
    /// Parquet file to `output`. Returns the rows written.
    @discardableResult
    public func writeDeployments(project: String? = nil, name: String = "deployments.parquet", to output: @escaping ([UInt8]) throws -> Void)
        throws -> Int
    {
        try writeSmall(.deployments, runs.filter { project == nil || $0.project == project }, name: name, to: output)
    }

    /// Rows of `table` for `chosen`.
    static func rows(_ table: SmallTable, _ chosen: [RunInfo]) -> Int {
        switch table {
        case .runs: chosen.count
        case .artifacts: chosen.reduce(0) { $0 + $1.artifacts.count }
        case .deployments: chosen.reduce(0) { $0 + $1.deployments.count }
        }
    }

    /// Writes the runs, artifacts or deployments table of `chosen` to `output`; returns its rows.
    func writeSmall(_ table: SmallTable, _ chosen: [RunInfo], name: String, to output: @escaping ([UInt8]) throws -> Void) throws -> Int {
        let columns: [ParquetColumn]
        let data: [ParquetColumnData]
        switch table {
        case .artifacts: (columns, data) = (ParquetTables.artifactsColumns, ParquetTables.artifactsData(chosen))
        case .deployments: (columns, data) = (ParquetTables.deploymentsColumns, ParquetTables.deploymentsData(chosen))
        case .runs:
            let t = try runsTable(chosen)
            (columns, data) = (t.columns, t.data)
        }
        let w = try writer(table.rawValue, columns, name: name, output)
        if Self.rows(table, chosen) > 0 { try w.append(data) }
        try w.close()
        return Self.rows(table, chosen)
    }
}
