import Testing

@testable import Reporting

@Suite("Curves and charts")
struct CurveSetTests {
    @Test("past its capacity a curve set thins its older half and keeps its first and newest points")
    func thinning() {
        var curves = CurveSet(capacity: 100)
        for step in 1...1_000 { curves.append(task: "t", tag: "loss", step: Int64(step), value: Double(step), wallTime: 0) }
        #expect(curves.points.count <= 100)
        #expect(curves.points.first?.step == 1)
        #expect(curves.points.suffix(40).map(\.step) == Array(961...1000).map(Int64.init))
        #expect(curves.thinned == 1_000 - curves.points.count)
        #expect(curves.lastSequence == 1_000)
        #expect(zip(curves.points, curves.points.dropFirst()).allSatisfy { $0.sequence < $1.sequence })
    }

    @Test("since() returns the points after a sequence, at most the newest `limit`; series split by task")
    func since() {
        var curves = CurveSet()
        for step in 1...6 { curves.append(task: step % 2 == 0 ? "b" : "a", tag: step <= 4 ? "loss" : "acc", step: Int64(step), value: 0, wallTime: 0) }
        #expect(curves.since(4).map(\.sequence) == [5, 6])
        #expect(curves.since(0, limit: 2).map(\.sequence) == [5, 6])
        #expect(curves.since(6).isEmpty)
        #expect(curves.tags == ["loss", "acc"])
        #expect(curves.series("loss").map(\.task) == ["a", "b"])
        #expect(curves.series("loss").map { $0.points.map(\.step) } == [[1, 3], [2, 4]])
    }

    @Test("a chart has a dot per finite point with its values, escapes text, and skips NaN")
    func chart() {
        var curves = CurveSet()
        for step in 1...5 { curves.append(task: "<t&>", tag: "loss", step: Int64(step), value: step == 3 ? .nan : Double(step), wallTime: 0) }
        let svg = CurvePlot.svg(curves, title: "a \"quoted\" <title>")
        #expect(svg.components(separatedBy: "<circle class=\"point\"").count - 1 == 4)
        #expect(svg.contains("data-step=\"5\" data-value=\"5.0\""))
        #expect(svg.contains("a &quot;quoted&quot; &lt;title&gt;") && svg.contains("&lt;t&amp;&gt;") && !svg.contains("<t&>"))
        #expect(!svg.contains("nan") && !svg.contains("NaN"))
        #expect(CurvePlot.svg(CurveSet(), title: "x").contains("no curves reported yet"))
    }

    @Test("a leaderboard chart marks the best row and draws each interval; a Pareto chart marks the front")
    func rankingAndPareto() {
        let board = Ranking(metric: "dev accuracy", higherIsBetter: true, rows: [
            .init(rank: 1, name: "p1", value: 0.8, lower: 0.7, upper: 0.88), .init(rank: 2, name: "p2", value: 0.6, lower: 0.5, upper: 0.7),
        ])
        let svg = RankingPlot.svg(board, title: "t")
        #expect(svg.components(separatedBy: "<circle class=\"entry\"").count - 1 == 2)
        #expect(svg.components(separatedBy: "<line ").count - 1 == 2)
        #expect(svg.contains("data-rank=\"1\" data-value=\"0.8\""))
        let set = ParetoSet(objectives: ["accuracy", "parameters"], maximize: [true, false], points: [
            .init(name: "a", values: [0.9, 1000], onFront: true), .init(name: "b", values: [0.8, 2000], onFront: false),
            .init(name: "c", values: [0.7, 100], onFront: true),
        ])
        let pareto = ParetoSetPlot.svg(set, title: "t")
        #expect(pareto.components(separatedBy: "data-front=\"1\"").count - 1 == 2)
        #expect(pareto.components(separatedBy: "data-front=\"0\"").count - 1 == 1)
    }

    @Test("text is escaped for XML, control characters dropped")
    func escaping() {
        #expect(SVGDocument.escape("<a href='x'>&\"\u{1}") == "&lt;a href=&#39;x&#39;&gt;&amp;&quot; ")
    }
}
