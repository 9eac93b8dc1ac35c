import Foundation
import Hummingbird
import HummingbirdTesting
import Strata
import Testing

@testable import StrataServer

/// The server names runs as the CLI does (one lookup in the library): the end of an id that
/// `strata runs` shows is a run.
@Suite struct RunIdFragmentRouterTests {
    @Test func idFragmentNamesARun() async throws {
        let t = try TempStore()
        let app = StrataServer.buildApplication(store: t.store)
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/ingest", method: .post, headers: jsonType, body: buffer(sampleBatch(runs: ["a", "b"], steps: 0..<10)))
            { r in #expect(r.status == .ok) }
            let runs = try t.store.runs()
            try #require(runs.count == 2)
            for run in runs {
                let tail = String(run.id.text.suffix(10)).lowercased()
                try await client.execute(uri: "/api/curve?run=\(tail)&metric=acc&buckets=2", method: .get) { r in
                    #expect(r.status == .ok, "\(String(buffer: r.body))")
                }
            }
        }
    }
}
