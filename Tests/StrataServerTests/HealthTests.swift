import Foundation
import Hummingbird
import HummingbirdTesting
import Strata
import StrataServer
import Testing

@Suite struct HealthTests {
    @Test func healthAnswers() async throws {
        let dir = TempDir("strata-server")
        defer { withExtendedLifetime(dir) {} }
        let store = try Store.open(at: dir.store)
        let app = StrataServer.buildApplication(store: store)
        try await app.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "ok")
            }
        }
    }
}
