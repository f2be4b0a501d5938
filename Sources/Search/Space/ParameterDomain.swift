import Foundation
import Tensor

/// The values one parameter of a search space may take.
public enum ParameterDomain: Sendable, Equatable {
    /// One of a list (categorical).
    case choice([ParameterValue])
    /// An integer in a closed range, uniformly.
    case integer(ClosedRange<Int>)
    /// A real number in a closed range, uniformly in its logarithm (learning rates, weight
    /// decay), rounded to three significant digits so that configurations read well and
    /// compare equal when they print equal.
    case logUniform(ClosedRange<Double>)
    /// A real number in a closed range, uniformly, rounded as `logUniform`.
    case uniform(ClosedRange<Double>)
    /// A fixed value: part of every configuration, never searched.
    case constant(ParameterValue)

    /// A value drawn from the domain.
    public func sample(using generator: inout SplitMix64) -> ParameterValue {
        switch self {
        case .choice(let values): values[Int(generator.next() % UInt64(values.count))]
        case .integer(let range): .integer(range.lowerBound + Int(generator.next() % UInt64(range.count)))
        case .logUniform(let range):
            .real(Self.round(exp(log(range.lowerBound) + (log(range.upperBound) - log(range.lowerBound)) * generator.nextUnit()), in: range))
        case .uniform(let range):
            .real(Self.round(range.lowerBound + (range.upperBound - range.lowerBound) * generator.nextUnit(), in: range))
        case .constant(let value): value
        }
    }

    /// A value other than `current` (when the domain has another), for a mutation.
    public func resample(other current: ParameterValue, using generator: inout SplitMix64) -> ParameterValue {
        switch self {
        case .choice(let values) where values.count > 1:
            let others = values.filter { $0 != current }
            return others.isEmpty ? current : others[Int(generator.next() % UInt64(others.count))]
        case .integer(let range) where range.count > 1:
            guard case .integer(let value) = current, range.contains(value) else { return sample(using: &generator) }
            let offset = 1 + Int(generator.next() % UInt64(range.count - 1))
            return .integer(range.lowerBound + (value - range.lowerBound + offset) % range.count)
        case .logUniform, .uniform:
            for _ in 0..<16 {
                let value = sample(using: &generator)
                if value != current { return value }
            }
            return current
        default:
            return current
        }
    }

    /// True when the domain can hold `value` (a value read from the wire or a file).
    public func contains(_ value: ParameterValue) -> Bool {
        switch self {
        case .choice(let values): values.contains(value)
        case .integer(let range): if case .integer(let x) = value { range.contains(x) } else { false }
        case .logUniform(let range), .uniform(let range): value.number.map { range.contains($0) } ?? false
        case .constant(let fixed): fixed == value
        }
    }

    /// How many values the domain has, nil for real ranges.
    public var count: Int? {
        switch self {
        case .choice(let values): values.count
        case .integer(let range): range.count
        case .constant: 1
        case .logUniform, .uniform: nil
        }
    }

    public var isSearched: Bool { count != 1 }

    private static func round(_ value: Double, in range: ClosedRange<Double>) -> Double {
        let rounded = Double(ParameterValue.format(value)) ?? value
        return min(range.upperBound, max(range.lowerBound, rounded))
    }
}
