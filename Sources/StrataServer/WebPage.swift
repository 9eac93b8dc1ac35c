import Hummingbird

/// The web page served at `/` and its assets under `/assets/`: plain HTML, CSS and JavaScript files
/// in `Sources/StrataServer/Web/`, compiled into the binary by SwiftPM (`.embedInCode` resources,
/// `PackageResources`). The page loads nothing from the network but these assets and the server's
/// own `/api` (no CDN, no fonts, no libraries).
///
/// Caching: every asset carries a strong `ETag` (a hash of its bytes) and `Cache-Control: no-cache`,
/// so a browser revalidates it on each load and gets `304 Not Modified` while the binary is the same.
enum WebPage {
    struct Asset: Sendable {
        let bytes: [UInt8]
        let contentType: String
        let etag: String

        init(_ bytes: [UInt8], _ contentType: String) {
            self.bytes = bytes
            self.contentType = contentType
            // FNV-1a 64 of the bytes: stable across processes (Swift's Hasher is seeded per process).
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            let hex = String(h, radix: 16)
            etag = "\"" + String(repeating: "0", count: 16 - hex.count) + hex + "\""
        }
    }

    /// The page itself, served at `/`.
    static let index = Asset(PackageResources.index_html, "text/html; charset=utf-8")

    private static let javaScript = "text/javascript; charset=utf-8"

    /// The assets by the path they are served at; the gate lets exactly these paths through
    /// without a token (they hold no data).
    static let assets: [String: Asset] = [
        "/assets/style.css": Asset(PackageResources.style_css, "text/css; charset=utf-8"),
        // Scripts, loaded in this order by index.html: API and number formats, view state and its
        // URL, axis ticks, the chart panel, the runs table, the workspace, the run page, the sweeps
        // (parallel coordinates and scatter), the comparison with the baseline, wiring.
        "/assets/api.js": Asset(PackageResources.api_js, javaScript),
        "/assets/state.js": Asset(PackageResources.state_js, javaScript),
        "/assets/ticks.js": Asset(PackageResources.ticks_js, javaScript),
        "/assets/panel.js": Asset(PackageResources.panel_js, javaScript),
        "/assets/table.js": Asset(PackageResources.table_js, javaScript),
        "/assets/workspace.js": Asset(PackageResources.workspace_js, javaScript),
        "/assets/runpage.js": Asset(PackageResources.runpage_js, javaScript),
        "/assets/sweeps.js": Asset(PackageResources.sweeps_js, javaScript),
        "/assets/compare.js": Asset(PackageResources.compare_js, javaScript),
        "/assets/app.js": Asset(PackageResources.app_js, javaScript)
    ]

    /// True for the paths anyone may GET: the page, its assets and `/health`.
    static func isPublic(_ path: String) -> Bool {
        path == "/" || path == "/health" || assets[path] != nil
    }

    /// The answer to a GET of `asset`: 304 when the browser's copy is current.
    static func response(_ asset: Asset, request: Request) -> Response {
        var headers: HTTPFields = [.contentType: asset.contentType, .cacheControl: "no-cache", .eTag: asset.etag]
        headers[.xContentTypeOptions] = "nosniff"
        if let seen = request.headers[.ifNoneMatch],
            seen.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == asset.etag })
        {
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: asset.bytes)))
    }
}
