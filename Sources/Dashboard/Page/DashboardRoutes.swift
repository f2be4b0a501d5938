import Coordinator
import Hummingbird
import Observability

/// The coordinator's HTTP face in one router: the page (`/`), its script and style, the
/// JSON API (`/api/…`) and `/metrics`. Unknown paths are 404s (Hummingbird's own).
public enum Dashboard {
    public static func addRoutes(to router: Router<BasicRequestContext>, queries: CoordinatorQueries) {
        router.get("/") { _, _ in APIResponse.respond(DashboardPage.html, type: "text/html; charset=utf-8") }
        router.get("/static/dashboard.js") { _, _ in APIResponse.respond(DashboardScript.source, type: "text/javascript; charset=utf-8") }
        router.get("/static/dashboard.css") { _, _ in APIResponse.respond(DashboardStyle.source, type: "text/css; charset=utf-8") }
        DashboardAPI(queries: queries).register(on: router)
        router.addMetricsRoute()
    }
}
