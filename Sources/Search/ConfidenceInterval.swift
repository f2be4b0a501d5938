import Foundation

/// A two-sided confidence interval, with the estimate it surrounds.
public struct ConfidenceInterval: Sendable, Equatable, Codable {
    public let estimate: Double
    public let lower: Double
    public let upper: Double

    public init(estimate: Double, lower: Double, upper: Double) {
        self.estimate = estimate
        self.lower = lower
        self.upper = upper
    }

    /// z for a two-sided 95% interval.
    public static let z95 = 1.959964

    /// The Wilson score interval of a proportion: unlike the normal approximation it stays
    /// inside [0, 1] and is honest for small samples and accuracies near 0 or 1, which is
    /// what a prompt scored on 25 examples has.
    public static func wilson(successes: Int, trials: Int, z: Double = z95) -> ConfidenceInterval {
        guard trials > 0 else { return ConfidenceInterval(estimate: 0, lower: 0, upper: 1) }
        let n = Double(trials), p = Double(successes) / n
        let denominator = 1 + z * z / n
        let center = (p + z * z / (2 * n)) / denominator
        let half = z * ((p * (1 - p) / n + z * z / (4 * n * n)).squareRoot()) / denominator
        return ConfidenceInterval(estimate: p, lower: max(0, center - half), upper: min(1, center + half))
    }

    /// The interval of the mean difference between two classifiers scored on the same
    /// examples (`a[i] − b[i]` per example, normal approximation): pairing removes the
    /// variance the examples share, so it is narrower than comparing two separate intervals.
    public static func pairedDifference(_ a: [Bool], _ b: [Bool], z: Double = z95) -> ConfidenceInterval {
        precondition(a.count == b.count, "paired samples must have the same length")
        guard !a.isEmpty else { return ConfidenceInterval(estimate: 0, lower: -1, upper: 1) }
        return mean(zip(a, b).map { Double($0 ? 1 : 0) - Double($1 ? 1 : 0) }, z: z)
    }

    /// The normal-approximation interval of a mean (± z standard errors): what few-shot
    /// papers report over their 600 test episodes. Paired differences of per-episode
    /// accuracies (two methods on the same episodes) go through here too.
    public static func mean(_ values: [Double], z: Double = z95) -> ConfidenceInterval {
        guard !values.isEmpty else { return ConfidenceInterval(estimate: 0, lower: 0, upper: 0) }
        let n = Double(values.count)
        let mean = values.reduce(0, +) / n
        let variance = n > 1 ? values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1) : 0
        let half = z * (variance / n).squareRoot()
        return ConfidenceInterval(estimate: mean, lower: mean - half, upper: mean + half)
    }

    /// Half the interval's width (the "±" of "70.1% ± 0.8").
    public var halfWidth: Double { (upper - lower) / 2 }
}
