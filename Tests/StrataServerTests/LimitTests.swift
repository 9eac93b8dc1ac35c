import Foundation
import Hummingbird
import HummingbirdTesting
import Strata
import Testing

@testable import StrataServer

/// The library's write limits on the server's ingest path: at the limit the batch is stored and
/// reads back; one past it, 400 naming the limit and the field, and nothing is written.
@Suite struct ServerLimitTests {
    static func record(_ fields: String) -> String { #"{"run": "r", \#(fields)}"# + "\n" }

    @Test func tagsAndParamsAtAndPastTheirLimits() async throws {
        let t = try TempStore()
        let app = StrataServer.buildApplication(store: t.store)
        let tags = (0..<Limits.maxTagsPerCall).map { "\"t\($0)\"" }
        let params = (0..<Limits.maxParamsPerCall).map { "\"p\($0)\": \($0)" }
        let longTag = String(repeating: "x", count: Limits.maxRunNameBytes)
        let cases: [(String, String, String)] = [
            (#""tags": [\#((tags + ["\"extra\""]).joined(separator: ","))]"#, "tags", "10001 tags in one call; the limit is 10000"),
            (
                #""params": {\#((params + ["\"extra\": 1"]).joined(separator: ","))}"#, "params",
                #"run "r": 100001 params entries in one call; the limit is 100000"#
            ),
            (#""meta": {\#((params + ["\"extra\": 1"]).joined(separator: ","))}"#, "meta", "the limit is 100000"),
            (#""tags": ["\#(longTag)x"]"#, "tags", "must be 1 to 200 bytes"),
            (#""tags": ["a\u001b[2J"]"#, "tags", "control character"),
            (#""params": {"\#(String(repeating: "k", count: 257))": 1}"#, "params", "must be 1 to 256 bytes"),
            (#""meta": {"s": "\#(String(repeating: "v", count: Limits.maxStringValueBytes + 1))"}"#, "meta.s", "the limit is 65536")
        ]
        try await app.test(.router) { client in
            for (fields, field, message) in cases {
                try await client.execute(uri: "/api/ingest", method: .post, headers: jsonType, body: buffer(Self.record(fields))) { r in
                    #expect(r.status == .badRequest, "\(field): \(r.status)")
                    let e = try json(r.body)["error"] as? [String: Any] ?? [:]
                    #expect(e["field"] as? String == field, "\(e)")
                    #expect((e["message"] as? String ?? "").contains(message), "\(e)")
                }
            }
            #expect(try t.store.runs().isEmpty, "a refused batch wrote nothing")
            // At the limits: stored, and read back.
            let body =
                Self.record(#""tags": [\#(tags.dropLast().joined(separator: ",")), "\#(longTag)"]"#)
                + Self.record(#""params": {\#(params.joined(separator: ","))}"#)
                + Self.record(#""meta": {"s": "\#(String(repeating: "v", count: Limits.maxStringValueBytes))"}"#)
            try await client.execute(uri: "/api/ingest", method: .post, headers: jsonType, body: buffer(body)) { r in
                #expect(r.status == .ok, "\(String(buffer: r.body).prefix(300))")
            }
        }
        let info = try t.store.run("r")
        #expect(info.tags.count == Limits.maxTagsPerCall && info.tags.contains(longTag))
        #expect(info.params.count == Limits.maxParamsPerCall)
        #expect(info.metadata["s"] == .string(String(repeating: "v", count: Limits.maxStringValueBytes)))
        #expect(try t.store.verify().isHealthy)
    }
}
