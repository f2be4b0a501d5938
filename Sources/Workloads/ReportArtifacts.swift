import Foundation
import Reporting

/// The report files every job gets beside its workload's own, drawn from what any planner
/// can give: `curves.svg` and `curves.csv` (its tasks' curves), `leaderboard.svg` and
/// `leaderboard.json` (its ranking, with intervals), `pareto.svg` and `pareto.json` (its
/// Pareto set). The coordinator adds them when a job ends and `orrery train` when it
/// finishes, so both write the same files.
public enum ReportArtifacts {
    public static func add(to report: inout JobReport, planner: any Planner, curves: CurveSet, title: String) {
        var files: [String: String] = [:]
        if !curves.isEmpty {
            files["curves.svg"] = CurvePlot.svg(curves, title: "\(title): curves")
            files["curves.csv"] = csv(curves)
        }
        if let board = planner.ranking(), !board.rows.isEmpty {
            files["leaderboard.svg"] = RankingPlot.svg(board, title: "\(title): \(board.metric)")
            files["leaderboard.json"] = ReportJSON.encode(board)
        }
        if let set = planner.paretoSet(), !set.points.isEmpty {
            files["pareto.svg"] = ParetoSetPlot.svg(set, title: "\(title): Pareto front")
            files["pareto.json"] = ReportJSON.encode(set)
        }
        // A workload's own file of the same name wins.
        report.files.merge(files) { own, _ in own }
    }

    /// task,tag,step,value,wall_time — one row per point, in the order they arrived.
    static func csv(_ curves: CurveSet) -> String {
        var lines = ["task,tag,step,value,wall_time"]
        for point in curves.points {
            lines.append("\(quoted(point.task)),\(quoted(point.tag)),\(point.step),\(point.value),\(String(format: "%.3f", point.wallTime))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func quoted(_ field: String) -> String {
        field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
    }
}
