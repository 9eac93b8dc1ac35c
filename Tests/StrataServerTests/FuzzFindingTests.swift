import Foundation
import Hummingbird
import HummingbirdTesting
import Strata
import Testing

@testable import StrataServer

/// Regression tests of what the HTTP fuzz pass (Tests/http/fuzz.py, docs/openapi.yaml) found.
@Suite struct FuzzFindingTests {
    /// A `run_id` beside a `run` name was not checked: one with control characters was accepted.
    @Test func runIdIsCheckedEvenBesideARunName() async throws {
        let t = try TempStore()
        let app = StrataServer.buildApplication(store: t.store)
        try await app.test(.router) { client in
            let body = #"[{"run": "ok", "step": 1, "metrics": {"l": 1}}, {"run": "r", "run_id": "a\u000fb", "step": 1, "metrics": {"l": 1}}]"#
            try await client.execute(uri: "/api/ingest", method: .post, headers: jsonType, body: buffer(body)) { r in
                #expect(r.status == .badRequest)
                let e = try #require(try json(r.body)["error"] as? [String: Any])
                #expect(e["index"] as? Int == 1)
                #expect(e["field"] as? String == "run_id")
                #expect((e["message"] as? String ?? "").contains("control character"))
            }
            #expect(try t.store.runs().isEmpty)
        }
    }

    /// `sync=` took any value: an unknown one (`sync=ture`) silently meant "no fsync".
    @Test func syncTakesOnlyYesOrNo() async throws {
        let t = try TempStore()
        let app = StrataServer.buildApplication(store: t.store)
        try await app.test(.router) { client in
            let body = buffer(#"[{"run": "s", "step": 1, "metrics": {"l": 1}}]"#)
            for bad in ["ture", "2", "Y"] {
                try await client.execute(uri: "/api/ingest?sync=" + bad, method: .post, headers: jsonType, body: body) { r in
                    #expect(r.status == .badRequest, "sync=\(bad)")
                    let e = try #require(try json(r.body)["error"] as? [String: Any])
                    #expect(e["field"] as? String == "sync")
                }
            }
            #expect(try t.store.runs().isEmpty)
            for (value, durable) in [("1", "fsync"), ("true", "fsync"), ("yes", "fsync"), ("0", "log"), ("false", "log"), ("no", "log"), ("", "log")]
            {
                try await client.execute(uri: "/api/ingest?sync=" + value, method: .post, headers: jsonType, body: body) { r in
                    #expect(r.status == .ok, "sync=\(value)")
                    let o = try json(r.body)
                    #expect(o["durable"] as? String == durable, "sync=\(value)")
                }
            }
        }
    }
}
