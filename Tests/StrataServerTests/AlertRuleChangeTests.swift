import Foundation
import Hummingbird
import HummingbirdTesting
import Strata
import Testing

@testable import StrataServer

/// The server's alert rules index (issue 15, alert overhead): rules are matched per batch through
/// an index rebuilt when they change, so a rule added or removed through the API applies to the
/// very next batch, and a rule on a metric no run has logged yet fires when the metric appears.
@Suite struct AlertRuleChangeTests {
    @Test func rulesAddedOrRemovedWhileServingApplyToTheNextBatch() async throws {
        let t = try TempStore()
        let run = try t.store.createRun(name: "r", project: "p")
        try run.append("loss", steps: [0], values: [1])
        try run.finish(.finished)
        try t.store.flush()
        let app = StrataServer.buildApplication(store: t.store)
        try await app.test(.router) { client async throws in
            func send(_ method: HTTPRequest.Method, _ uri: String, _ body: String = "") async throws -> (Int, [String: Any]) {
                try await client.execute(uri: uri, method: method, headers: [.contentType: "application/json"], body: buffer(body)) {
                    (Int($0.status.code), (try? json($0.body)) ?? [:])
                }
            }
            func events() async throws -> [(String, Int, Double)] {
                let (s, b) = try await send(.get, "/api/alerts/events")
                #expect(s == 200, "\(b)")
                return (b["events"] as? [[String: Any]] ?? []).map {
                    ($0["series"] as? String ?? "", $0["step"] as? Int ?? -1, $0["value"] as? Double ?? .nan)
                }
            }
            // Added, then a columnar batch crossing it: fires in that batch (no wait for the timer).
            let (s1, above) = try await send(.post, "/api/alerts/rules", #"{"run": "r", "metric": "loss", "above": 5}"#)
            #expect(s1 == 200, "\(above)")
            let aboveId = try #require(above["id"] as? String)
            var (s, b) = try await send(.post, "/api/ingest", #"{"run": "r", "metric": "loss", "steps": [1, 2, 3], "values": [1, 10, 11]}"#)
            #expect(s == 200, "\(b)")
            var got = try await events()
            #expect(got.map(\.0) == ["loss"] && got.map(\.1) == [2] && got.map(\.2) == [10])

            // A rule on a metric not logged yet (project scope) fires when the metric first appears,
            // in a line record among other metrics.
            let (s2, later) = try await send(.post, "/api/alerts/rules", #"{"project": "p", "metric": "later", "below": 0, "new_metric": true}"#)
            #expect(s2 == 200, "\(later)")
            (s, b) = try await send(
                .post, "/api/ingest",
                #"{"run": "r", "step": 4, "metrics": {"loss": 1, "later": 2}}"# + "\n"
                    + #"{"run": "r", "step": 5, "metrics": {"loss": 2, "later": -1}}"#)
            #expect(s == 200, "\(b)")
            got = try await events()
            #expect(got.map(\.0) == ["loss", "later"] && got.map(\.1) == [2, 5])

            // Removed: the next batch crossing it (the rule re-armed at step 4) fires nothing.
            let (s3, removed) = try await send(.delete, "/api/alerts/rules/" + aboveId)
            #expect(s3 == 200, "\(removed)")
            (s, b) = try await send(.post, "/api/ingest", #"{"run": "r", "metric": "loss", "steps": [6], "values": [20]}"#)
            #expect(s == 200, "\(b)")
            #expect(try await events().count == 2)
            // Added back (a new rule): the same batch shape fires again at once.
            (s, b) = try await send(.post, "/api/alerts/rules", #"{"run": "r", "metric": "loss", "above": 5}"#)
            #expect(s == 200, "\(b)")
            (s, b) = try await send(.post, "/api/ingest", #"{"run": "r", "metric": "loss", "steps": [7], "values": [30]}"#)
            #expect(s == 200, "\(b)")
            got = try await events()
            #expect(got.map(\.1) == [2, 5, 7])
        }
    }
}
