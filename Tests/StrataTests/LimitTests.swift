import Foundation
import Testing

@testable import Strata

/// Every limit of the write path, at the limit (accepted, reads back after a reopen, verify
/// healthy) and one past it (refused with an error naming the limit, nothing written).
@Suite("Write-path limits")
struct LimitTests {
    /// The catalog's size in bytes (what a refused call must leave unchanged).
    static func catalogBytes(_ dir: String) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: dir + "/catalog.log")[.size] as? Int) ?? 0
    }

    static func refused(_ what: String, _ dir: String, contains text: String, _ body: () throws -> Void) {
        let before = catalogBytes(dir)
        do {
            try body()
            Issue.record("\(what): accepted past its limit")
        } catch let e as StrataError {
            #expect(e.code == .invalidArgument, "\(what): \(e)")
            #expect(e.message.contains(text), "\(what): \(e.message)")
        } catch {
            Issue.record("\(what): \(error)")
        }
        #expect(catalogBytes(dir) == before, "\(what): the catalog changed")
    }

    static func varintBytes(_ v: Int) -> Int { v < 128 ? 1 : v < 16_384 ? 2 : v < 2_097_152 ? 3 : 4 }

    /// Bytes of a params catalog record (docs/FORMAT.md): kind, run id, varint count, entries.
    static func recordBytes(_ p: [String: ParamValue]) -> Int {
        var n = 1 + 1 + 26 + varintBytes(p.count)
        for (k, v) in p {
            n += varintBytes(k.utf8.count) + k.utf8.count + 1
            switch v {
            case .string(let s), .text(let s): n += varintBytes(s.utf8.count) + s.utf8.count
            case .int, .double: n += 8
            case .bool: n += 1
            default: Issue.record("recordBytes counts scalars only")
            }
        }
        return n
    }

    @Test func namesLabelsAndMetricsPerCall() throws {
        let dir = TempDir()
        let path = dir.sub("s")
        var store = try Store.open(at: path)
        let ok = String(repeating: "n", count: Limits.maxRunNameBytes)
        let run = try store.createRun(name: ok, project: ok)
        Self.refused("run name", path, contains: "the limit is 200") { _ = try store.createRun(name: ok + "n") }
        Self.refused("project", path, contains: "the limit is 200") { _ = try store.createRun(name: "x", project: ok + "n") }
        let metric = String(repeating: "m", count: Limits.maxMetricNameBytes)
        try run.log(metric, 1, step: 0)
        Self.refused("metric name", path, contains: "the limit is 200") { try run.log(metric + "m", 1, step: 0) }
        let key = "k" + String(repeating: "k", count: Limits.maxLabelKeyBytes - 1)
        let value = String(repeating: "v", count: Limits.maxLabelValueBytes)
        var labels: [String: String] = [key: value]
        for i in 1..<Limits.maxLabels { labels["l\(i)"] = "x" }
        try run.log("lab", 1, step: 0, labels: labels)
        Self.refused("label key", path, contains: "1 to 64 bytes") { try run.log("lab", 1, step: 0, labels: [key + "k": "x"]) }
        Self.refused("label value", path, contains: "1 to 200 bytes") { try run.log("lab", 1, step: 0, labels: ["a": value + "v"]) }
        labels["l\(Limits.maxLabels)"] = "x"
        Self.refused("labels", path, contains: "the limit is 16") { try run.log("lab", 1, step: 0, labels: labels) }
        var many: [String: Double] = [:]
        for i in 0..<Limits.maxMetricsPerLog { many["m\(i)"] = Double(i) }
        try run.log(many, step: 1)
        many["one-more"] = 0
        Self.refused("metrics per log", path, contains: "the limit is 4096") { try run.log(many, step: 2) }
        try run.finish()
        try store.close()
        store = try Store.open(at: path)
        defer { try? store.close() }
        let info = try store.run(run.id.text)
        #expect(info.name == ok && info.project == ok)
        #expect(try store.points(run.id, metric).count == 1)
        #expect(
            try store.points(
                run.id, "lab", labels: Dictionary(uniqueKeysWithValues: labels.filter { $0.key != "l\(Limits.maxLabels)" }.map { ($0.key, $0.value) })
            ).count == 1)
        #expect(try store.series(of: run.id).count == 2 + Limits.maxMetricsPerLog)
        #expect(try store.verify().isHealthy)
    }

    @Test func paramsMetadataAndTags() throws {
        let dir = TempDir()
        let path = dir.sub("s")
        var store = try Store.open(at: path)
        // Tags: count and length, at creation and through tag().
        let tags = Set((0..<Limits.maxTagsPerCall).map { "t\($0)" })
        let run = try store.createRun(name: "r", tags: tags)
        Self.refused("tags at creation", path, contains: "the limit is 10000") { _ = try store.createRun(name: "r2", tags: tags.union(["extra"])) }
        Self.refused("tags added", path, contains: "the limit is 10000") { try run.tag(add: (0...Limits.maxTagsPerCall).map { "u\($0)" }) }
        let longTag = String(repeating: "t", count: Limits.maxRunNameBytes)
        try run.tag(add: [longTag])
        Self.refused("tag length", path, contains: "1 to 200 bytes") { try run.tag(add: [longTag + "t"]) }
        Self.refused("tag control character", path, contains: "control character") { try run.tag(add: ["a\u{1b}[31m"]) }

        // Params and metadata: count, key length, string length.
        var params: [String: ParamValue] = [:]
        for i in 0..<Limits.maxParamsPerCall { params["p\(i)"] = .int(Int64(i)) }
        try run.setParams(params)
        try run.setMetadata(params)
        params["one-more"] = .bool(true)
        Self.refused("params count", path, contains: "the limit is 100000") { try run.setParams(params) }
        Self.refused("metadata count", path, contains: "the limit is 100000") { try run.setMetadata(params) }
        let key = String(repeating: "k", count: Limits.maxParamKeyBytes)
        let text = String(repeating: "v", count: Limits.maxStringValueBytes)
        try run.setParams([key: .string(text)])
        Self.refused("param key", path, contains: "1 to 256 bytes") { try run.setParams([key + "k": .int(1)]) }
        Self.refused("param value", path, contains: "the limit is 65536") { try run.setParams(["s": .string(text + "v")]) }
        Self.refused("metadata value", path, contains: "the limit is 65536") { try run.setMetadata(["s": .string(text + "v")]) }

        // A record of exactly the catalog limit, then one byte more.
        var big: [String: ParamValue] = [:]
        var i = 0
        while Self.recordBytes(big) + 70_000 < Limits.maxCatalogRecordBytes { big["b\(i)"] = .string(text); i += 1 }
        big["fill"] = .string("")
        let room = Limits.maxCatalogRecordBytes - Self.recordBytes(big)
        big["fill"] = .string(String(repeating: "f", count: room - 2))  // its length varint grows to 3 bytes
        #expect(Self.recordBytes(big) == Limits.maxCatalogRecordBytes)
        try run.setMetadata(big)
        big["fill"] = .string(String(repeating: "f", count: room - 1))
        #expect(Self.recordBytes(big) == Limits.maxCatalogRecordBytes + 1)
        Self.refused("record size", path, contains: "the limit of a run record is 16777216 bytes") { try run.setParams(big) }
        try run.finish()
        try store.close()

        store = try Store.open(at: path)
        defer { try? store.close() }
        let info = try store.run("r")
        #expect(info.tags.count == Limits.maxTagsPerCall + 1 && info.tags.contains(longTag))
        #expect(info.params.count == Limits.maxParamsPerCall + 1 && info.params[key] == .string(text))
        #expect(info.metadata["fill"] == .string(String(repeating: "f", count: room - 2)))
        #expect(try store.runs().count == 1)
        let report = try store.verify()
        #expect(report.isHealthy, "\(report.problems)")
    }
}
