/// The web page served at `/` (placeholder while the page is written).
enum WebPage {
    static let html = "<!doctype html><title>Strata</title><p>Strata</p>"
}
