import Hummingbird
import Strata

/// The HTTP server of `strata serve` (being built: see issue 5).
public enum StrataServer {
    /// Builds the application serving `store`.
    public static func buildApplication(store: Store, host: String = "127.0.0.1", port: Int = 7070) -> some ApplicationProtocol {
        let router = Router()
        router.get("/health") { _, _ in "ok" }
        return Application(router: router, configuration: .init(address: .hostname(host, port: port)))
    }
}
