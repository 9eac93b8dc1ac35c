import Foundation
import Hummingbird
import HummingbirdTesting
import Strata
import StrataParquet
import Testing

@testable import StrataServer

/// `GET /api/export?format=parquet`: one Parquet file of the points or runs table, bit-exact,
/// selected by `where`, `metric` and `project`, behind the read token like every read.
@Suite struct ExportRouteTests {
    static let awkward: [Double] = [
        Double(bitPattern: 0x7FF8_0000_0000_0001), Double(bitPattern: 0xFFF8_DEAD_BEEF_0001), .infinity, -.infinity, -0.0,
        Double(bitPattern: 1), Double(bitPattern: 0x800F_FFFF_FFFF_FFFF), 0.1, -1e300
    ]

    /// Two runs in two projects: `a` (lr 0.1) with the awkward values, `b` (lr 0.2) with others.
    static func fill(_ store: Store) throws {
        let a = try store.createRun(name: "a", project: "p1", params: ["lr": 0.1])
        try a.append(
            "loss", steps: Array(0..<Int64(awkward.count)), values: awkward, times: Array(repeating: 1_700_000_000_000, count: awkward.count))
        try a.append("acc", labels: ["split": "val"], steps: [5], values: [0.5], times: [1_700_000_000_001])
        let b = try store.createRun(name: "b", project: "p2", params: ["lr": 0.2])
        try b.append("loss", steps: [0, 1], values: [2, 3], times: [1, 2])
        try store.flush()
    }

    static func table(_ bytes: [UInt8]) throws -> [String: ParquetColumnData] {
        let r = try ParquetReader(bytes: bytes, name: "export")
        var out: [String: ParquetColumnData] = [:]
        for (c, leaf) in r.columns.enumerated() {
            #expect(r.rowGroupCount == 1)
            out[leaf.name] = try r.read(rowGroup: 0, column: c)
        }
        return out
    }

    static func strings(_ d: ParquetColumnData?) -> [String?] {
        guard let d, case .bytes(let a) = d.values else { return [] }
        return a.indices.map { d.valid?[$0] == false ? nil : String(decoding: a[$0], as: UTF8.self) }
    }

    @Test func pointsAreBitExactAndSelectedByWhereMetricAndProject() async throws {
        let t = try TempStore()
        try Self.fill(t.store)
        let app = StrataServer.buildApplication(store: t.store)
        try await app.test(.router) { client in
            let lrBelow = "params.lr < 0.15".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            try await client.execute(uri: "/api/export?format=parquet&where=\(lrBelow)&metric=loss", method: .get) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.contentType] == "application/vnd.apache.parquet")
                let cols = try Self.table(Array(r.body.readableBytesView))
                #expect(Self.strings(cols["run_name"]) == Array(repeating: "a", count: Self.awkward.count))
                #expect(Self.strings(cols["project"]) == Array(repeating: "p1", count: Self.awkward.count))
                guard case .double(let v)? = cols["value"]?.values, case .int64(let s)? = cols["step"]?.values else {
                    Issue.record("no value or step column"); return
                }
                #expect(v.map(\.bitPattern) == Self.awkward.map(\.bitPattern))
                #expect(s == Array(0..<Int64(Self.awkward.count)))
            }
            try await client.execute(uri: "/api/export?format=parquet&project=p1", method: .get) { r in
                let cols = try Self.table(Array(r.body.readableBytesView))
                #expect(Self.strings(cols["metric"]).filter { $0 == "acc" }.count == 1)
                #expect(Self.strings(cols["label.split"]).compactMap { $0 } == ["val"])
                #expect(Set(Self.strings(cols["project"])) == ["p1"])
            }
            try await client.execute(uri: "/api/export?format=parquet&table=runs", method: .get) { r in
                let cols = try Self.table(Array(r.body.readableBytesView))
                #expect(Self.strings(cols["name"]) == ["a", "b"])
                guard case .double(let lr)? = cols["param.lr"]?.values else { Issue.record("no param.lr"); return }
                #expect(lr == [0.1, 0.2])
            }
            for bad in ["format=csv", "format=parquet&table=nope", "format=parquet&compression=lzo", "format=parquet&where=params.lr%20%3C", ""] {
                try await client.execute(uri: "/api/export?\(bad)", method: .get) { r in #expect(r.status == .badRequest, "\(bad)") }
            }
        }
    }

    @Test func exportNeedsAReadTokenWhenTokensExist() async throws {
        let t = try TempStore()
        try Self.fill(t.store)
        let read = try Tokens.create(store: t.path, scope: .read, name: "viewer").token
        let app = StrataServer.buildApplication(store: t.store)
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/export?format=parquet", method: .get) { r in #expect(r.status == .unauthorized) }
            try await client.execute(uri: "/api/export?format=parquet", method: .get, headers: [.authorization: "Bearer \(read)"]) { r in
                #expect(r.status == .ok)
                let cols = try Self.table(Array(r.body.readableBytesView))
                #expect(cols["value"]?.count == Self.awkward.count + 3)
            }
        }
    }
}
