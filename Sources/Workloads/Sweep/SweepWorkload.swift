import Foundation
import Wire

/// The smallest real search: evaluate a benchmark function over a grid or a random sample
/// of its domain, optionally zoom in around the best points for more rounds, and rank.
///
/// ```yaml
/// sweep:
///   function: branin          # see BenchmarkFunction.all
///   dimensions: 2             # for functions of any dimension (default 2)
///   strategy: grid            # grid | random
///   points: 400               # evaluations per round (grid: rounded to a full grid)
///   rounds: 1                 # later rounds sample around the best points so far
///   batch: 20                 # points per task
///   top: 5                    # points in the report
///   seed: 1
/// ```
public struct SweepWorkload: Workload {
    public init() {}

    public var kind: String { "sweep" }
    public var summary: String { "evaluate a benchmark function on a grid or random sample and rank the points" }

    public func makePlanner(_ section: SpecMapping) throws(SpecError) -> any Planner {
        let functionNode = try section.required("function")
        let name = try functionNode.choice(BenchmarkFunction.all.map(\.name))
        let function = BenchmarkFunction.named(name)!
        let dimensionNode = section.optional("dimensions")
        let dimension: Int
        if let fixed = function.fixedDimension {
            if let dimensionNode, try dimensionNode.int() != fixed {
                throw dimensionNode.error("\(name) is defined in \(fixed) dimensions only")
            }
            dimension = fixed
        } else {
            dimension = try dimensionNode?.int(in: 2...64) ?? 2
        }
        let plan = SweepPlan(
            function: function,
            dimension: dimension,
            strategy: try section.optional("strategy")?.choice(["grid", "random"]) ?? "grid",
            points: try section.optional("points")?.int(in: 1...10_000_000) ?? 400,
            rounds: try section.optional("rounds")?.int(in: 1...100) ?? 1,
            batch: try section.optional("batch")?.int(in: 1...100_000) ?? 20,
            top: try section.optional("top")?.int(in: 1...1000) ?? 5,
            seed: UInt64(try section.optional("seed")?.int(in: 0...Int.max) ?? 1))
        // A round's points live in the planner and a task's travel in one lease: both bounded
        // in coordinates (8 bytes each), whatever the dimension.
        if plan.points * dimension > Self.maximumRoundCoordinates {
            throw section.optional("points")!.error(
                "\(plan.points) points of \(dimension) coordinates exceed \(Self.maximumRoundCoordinates) coordinates per round")
        }
        if (plan.points + plan.batch - 1) / plan.batch > Self.maximumTasksPerRound {
            throw section.optional("batch")?.error(
                "\(plan.points) points in batches of \(plan.batch) make more than \(Self.maximumTasksPerRound) tasks per round")
                ?? section.node.error("more than \(Self.maximumTasksPerRound) tasks per round")
        }
        if plan.batch * dimension > Self.maximumTaskCoordinates {
            throw section.optional("batch")!.error(
                "\(plan.batch) points of \(dimension) coordinates exceed \(Self.maximumTaskCoordinates) coordinates per task")
        }
        if plan.strategy == "grid" && plan.pointsPerAxis < 2 {
            throw section.optional("points")!.error(
                "a grid in \(dimension) dimensions needs at least \(1 << dimension) points (2 per axis)")
        }
        return SweepPlanner(plan: plan)
    }

    public func makeExecutor() throws -> any Executor { SweepExecutor() }

    /// Coordinates in one round's points (2 million: 16 MB in the planner).
    static let maximumRoundCoordinates = 2_000_000
    /// Tasks planned at once (the coordinator holds them all until the round ends).
    static let maximumTasksPerRound = 100_000
    /// Coordinates in one task's points (1 million: an 8 MB lease).
    static let maximumTaskCoordinates = 1_000_000
}

/// The validated settings of one sweep.
struct SweepPlan: Sendable {
    let function: BenchmarkFunction
    let dimension: Int
    let strategy: String
    let points: Int
    let rounds: Int
    let batch: Int
    let top: Int
    let seed: UInt64

    /// Grid points per axis: the largest k with k^dimension ≤ points.
    var pointsPerAxis: Int {
        var k = 1
        while pow(Double(k + 1), Double(dimension)) <= Double(points) { k += 1 }
        return k
    }
}
