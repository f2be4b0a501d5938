import Foundation

/// The standard test functions of the optimization literature, with their usual domains
/// and known global minima, so that a sweep's result can be judged against the truth.
/// Definitions follow Surjanovic & Bingham's Virtual Library of Simulation Experiments.
public struct BenchmarkFunction: Sendable {
    public let name: String
    /// Fixed dimension, or nil for functions defined in any dimension.
    public let fixedDimension: Int?
    /// Usual search domain per coordinate, for `dimension` coordinates.
    public let domain: @Sendable (_ dimension: Int) -> [ClosedRange<Double>]
    /// The known global minimum value.
    public let minimum: Double
    public let evaluate: @Sendable ([Double]) -> Double

    public static let all: [BenchmarkFunction] = [
        branin, rosenbrock, himmelblau, rastrigin, ackley, sphere, sixHumpCamel,
    ]

    public static func named(_ name: String) -> BenchmarkFunction? { all.first { $0.name == name } }

    public static let branin = BenchmarkFunction(
        name: "branin", fixedDimension: 2, domain: { _ in [-5...10, 0...15] }, minimum: 0.397887357729738
    ) { x in
        let b = 5.1 / (4 * Double.pi * Double.pi), c = 5 / Double.pi, t = 1 / (8 * Double.pi)
        let inner = x[1] - b * x[0] * x[0] + c * x[0] - 6
        return inner * inner + 10 * (1 - t) * cos(x[0]) + 10
    }

    public static let rosenbrock = BenchmarkFunction(
        name: "rosenbrock", fixedDimension: nil, domain: { Array(repeating: -2.048...2.048, count: $0) },
        minimum: 0
    ) { x in
        var sum = 0.0
        for i in 0..<(x.count - 1) {
            let a = x[i + 1] - x[i] * x[i], b = 1 - x[i]
            sum += 100 * a * a + b * b
        }
        return sum
    }

    public static let himmelblau = BenchmarkFunction(
        name: "himmelblau", fixedDimension: 2, domain: { _ in [-5...5, -5...5] }, minimum: 0
    ) { x in
        let a = x[0] * x[0] + x[1] - 11, b = x[0] + x[1] * x[1] - 7
        return a * a + b * b
    }

    public static let rastrigin = BenchmarkFunction(
        name: "rastrigin", fixedDimension: nil, domain: { Array(repeating: -5.12...5.12, count: $0) }, minimum: 0
    ) { x in
        10 * Double(x.count) + x.reduce(0) { $0 + $1 * $1 - 10 * cos(2 * Double.pi * $1) }
    }

    public static let ackley = BenchmarkFunction(
        name: "ackley", fixedDimension: nil, domain: { Array(repeating: -32.768...32.768, count: $0) }, minimum: 0
    ) { x in
        let n = Double(x.count)
        let squares = x.reduce(0) { $0 + $1 * $1 }
        let cosines = x.reduce(0) { $0 + cos(2 * Double.pi * $1) }
        return -20 * exp(-0.2 * (squares / n).squareRoot()) - exp(cosines / n) + 20 + M_E
    }

    public static let sphere = BenchmarkFunction(
        name: "sphere", fixedDimension: nil, domain: { Array(repeating: -5.12...5.12, count: $0) }, minimum: 0
    ) { x in
        x.reduce(0) { $0 + $1 * $1 }
    }

    public static let sixHumpCamel = BenchmarkFunction(
        name: "six_hump_camel", fixedDimension: 2, domain: { _ in [-3...3, -2...2] }, minimum: -1.031628453489877
    ) { x in
        let a = x[0], b = x[1]
        return (4 - 2.1 * a * a + a * a * a * a / 3) * a * a + a * b + (-4 + 4 * b * b) * b * b
    }
}
