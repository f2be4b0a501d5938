import Coordinator
import Foundation
import Hummingbird
import Reporting
import Wire

/// The JSON API over a running coordinator (documented in docs/http-api.md). Every answer
/// comes from a question the coordinator's loop answers between turns (`CoordinatorQueries`),
/// so it is consistent and never races the loop. Ids and numbers from the URL are checked
/// here: a malformed one is a 400 naming it, an unknown job a 404.
struct DashboardAPI: Sendable {
    let queries: CoordinatorQueries

    func register(on router: Router<BasicRequestContext>) {
        router.get("/api/cluster") { _, _ in try await ask { $0.clusterView() } answer: { APIResponse.json($0) } }
        router.get("/api/workers") { _, _ in
            try await ask { $0.clusterView().workers } answer: { workers in
                var list = Orrery_V1_ClusterStatus()
                list.workers = workers
                return APIResponse.json(text: APIResponse.encode(["workers": (APIResponse.embedded(list) as? [String: Any])?["workers"] ?? []]))
            }
        }
        router.get("/api/jobs") { request, _ in
            guard let limit = Self.number(request, "limit", default: 100, range: 1...10_000) else {
                return APIResponse.error(.badRequest, "limit must be a whole number from 1 to 10000")
            }
            return try await ask { $0.jobListView(limit: limit) } answer: { APIResponse.json($0) }
        }
        router.get("/api/jobs/:id") { _, context in try await job(context) { Self.jobDocument($0) } }
        router.get("/api/jobs/:id/report") { _, context in
            try await job(context) { APIResponse.json(text: $0.reportJSON.isEmpty ? "null" : $0.reportJSON) }
        }
        router.get("/api/jobs/:id/leaderboard") { _, context in
            try await job(context) { view in
                view.ranking.map { APIResponse.json($0) } ?? APIResponse.error(.notFound, "job \(view.info.jobID) (\(view.info.workload)) ranks nothing")
            }
        }
        router.get("/api/jobs/:id/pareto") { _, context in
            try await job(context) { view in
                view.paretoSet.map { APIResponse.json($0) } ?? APIResponse.error(.notFound, "job \(view.info.jobID) (\(view.info.workload)) has no Pareto set")
            }
        }
        router.get("/api/jobs/:id/leaderboard.svg") { _, context in
            try await job(context) { view in
                APIResponse.svg(RankingPlot.svg(view.ranking ?? Ranking(metric: "score", higherIsBetter: true, rows: []), title: "\(view.info.name): leaderboard"))
            }
        }
        router.get("/api/jobs/:id/pareto.svg") { _, context in
            try await job(context) { view in
                APIResponse.svg(ParetoSetPlot.svg(view.paretoSet ?? ParetoSet(objectives: [], maximize: [], points: []), title: "\(view.info.name): Pareto front"))
            }
        }
        router.get("/api/jobs/:id/curves") { request, context in
            guard let after = Self.number(request, "after", default: 0, range: 0...Int.max) else {
                return APIResponse.error(.badRequest, "after must be a curve sequence number (a whole number, 0 or more)")
            }
            return try await curves(context, after: UInt64(after)) { curves in
                APIResponse.json(text: APIResponse.encode([
                    "last_sequence": curves.lastSequence, "tags": curves.tags, "thinned": curves.thinned,
                    "points": curves.points.map { APIResponse.embedded($0) },
                ]))
            }
        }
        router.get("/api/jobs/:id/curves.svg") { _, context in
            try await curves(context, after: 0) { APIResponse.svg(CurvePlot.svg($0, title: "curves")) }
        }
        router.get("/api/jobs/:id/files/:name") { _, context in
            let name = context.parameters.get("name") ?? ""
            return try await job(context) { view in
                guard let contents = view.files[name] else {
                    return APIResponse.error(.notFound, "job \(view.info.jobID) has no report file '\(name.prefix(100))'"
                        + (view.info.state == .running ? " yet (report files are written when it ends)" : ""))
                }
                let safe = name.filter { $0.isLetter || $0.isNumber || "._-".contains($0) }
                return APIResponse.respond(
                    contents, type: Self.mediaType(name), headers: [.contentDisposition: "attachment; filename=\"\(safe)\""])
            }
        }
    }

    // MARK: Helpers

    /// Asks the coordinator `question` (run on its loop: it only gathers values) and turns
    /// the answer into a response here, on the server's thread (encoding JSON or drawing a
    /// chart never holds up the loop); a stopped or swamped coordinator is a 503.
    private func ask<Answer: Sendable>(
        _ question: @escaping @Sendable (CoordinatorCore) -> Answer, answer respond: (Answer) -> Response
    ) async throws -> Response {
        do {
            return respond(try await queries.ask(question))
        } catch {
            return APIResponse.error(.serviceUnavailable, error.description)
        }
    }

    /// Answers about the job the path names: 400 for an id that cannot be one, 404 for one
    /// the coordinator does not know.
    private func job(_ context: BasicRequestContext, _ answer: (JobView) -> Response) async throws -> Response {
        guard let id = Self.jobID(context) else { return Self.malformedID(context) }
        return try await ask { $0.jobView(id) } answer: { $0.map(answer) ?? Self.unknown(id) }
    }

    private func curves(_ context: BasicRequestContext, after: UInt64, _ answer: (CurveSet) -> Response) async throws -> Response {
        guard let id = Self.jobID(context) else { return Self.malformedID(context) }
        return try await ask { $0.curvesView(id, after: after, limit: 20_000) } answer: { $0.map(answer) ?? Self.unknown(id) }
    }

    private static func jobID(_ context: BasicRequestContext) -> String? {
        // Ids are the coordinator's own: letters, digits, '-', '_' and '.', at most 100.
        guard let raw = context.parameters.get("id"), raw.utf8.count <= 100,
            raw.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }), let id = JobID(raw)
        else { return nil }
        return id.rawValue
    }

    private static func malformedID(_ context: BasicRequestContext) -> Response {
        let raw = context.parameters.get("id") ?? ""
        return APIResponse.error(.badRequest, "'\(raw.prefix(80))' is not a job id (letters, digits, '-', '_' and '.' only)")
    }

    private static func unknown(_ id: String) -> Response { APIResponse.error(.notFound, "no job '\(id)' on this coordinator") }

    /// A whole-number query parameter in `range`; nil when present and malformed.
    private static func number(_ request: Request, _ name: String, default fallback: Int, range: ClosedRange<Int>) -> Int? {
        guard let text = request.uri.queryParameters.get(name) else { return fallback }
        guard let value = Int(text), range.contains(value) else { return nil }
        return value
    }

    private static func jobDocument(_ view: JobView) -> Response {
        var info = view.info
        info.reportFiles = [:]  // listed by name under "files"; each is its own download
        return APIResponse.json(text: APIResponse.encode([
            "job": APIResponse.embedded(info), "spec_yaml": view.specYAML, "report": APIResponse.embedded(view.reportJSON),
            "files": view.files.keys.sorted(), "leaderboard": APIResponse.embedded(view.ranking), "pareto": APIResponse.embedded(view.paretoSet),
        ]))
    }

    private static func mediaType(_ name: String) -> String {
        switch (name as NSString).pathExtension {
        case "svg": "image/svg+xml; charset=utf-8"
        case "json": "application/json; charset=utf-8"
        case "csv": "text/csv; charset=utf-8"
        case "yaml", "yml": "application/yaml; charset=utf-8"
        default: "text/plain; charset=utf-8"
        }
    }
}
