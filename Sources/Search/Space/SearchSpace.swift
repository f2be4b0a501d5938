import Foundation
import Tensor

/// A search space with conditional parameters: an ordered list of named domains, each
/// present only when its conditions hold for the parameters before it (the widths of layer
/// 3 exist only when depth ≥ 3). Sampling and mutation always give a configuration that
/// the space contains, with exactly the active parameters.
public struct SearchSpace: Sendable, Equatable {
    /// One named parameter with its domain and the conditions under which it exists.
    public struct Parameter: Sendable, Equatable {
        public let name: String
        public let domain: ParameterDomain
        public let conditions: [Condition]

        public init(name: String, domain: ParameterDomain, conditions: [Condition] = []) {
            self.name = name
            self.domain = domain
            self.conditions = conditions
        }
    }

    public let parameters: [Parameter]

    /// - Throws: when a name repeats, a domain is empty, or a condition names a parameter
    ///   that is not declared before it (conditions look backwards only, so one pass in
    ///   order resolves them).
    public init(_ parameters: [Parameter]) throws(SearchSpaceError) {
        var declared: [String: ParameterDomain] = [:]
        for parameter in parameters {
            guard declared[parameter.name] == nil else { throw SearchSpaceError("parameter '\(parameter.name)' is declared twice") }
            switch parameter.domain {
            case .choice(let values) where values.isEmpty: throw SearchSpaceError("\(parameter.name): a choice needs at least one value")
            case .choice(let values) where Set(values).count != values.count: throw SearchSpaceError("\(parameter.name): a choice lists a value twice")
            case .logUniform(let range) where range.lowerBound <= 0:
                throw SearchSpaceError("\(parameter.name): a log range must be above 0, got \(range.lowerBound)")
            default: break
            }
            for condition in parameter.conditions {
                guard declared[condition.name] != nil else {
                    throw SearchSpaceError("\(parameter.name): condition '\(condition)' names '\(condition.name)', which is not declared before it")
                }
                if [.atLeast, .atMost, .greater, .less].contains(condition.comparison), condition.value.number == nil {
                    throw SearchSpaceError("\(parameter.name): condition '\(condition)' compares with a word")
                }
            }
            declared[parameter.name] = parameter.domain
        }
        self.parameters = parameters
    }

    /// A configuration drawn uniformly, parameter by parameter.
    public func sample(using generator: inout SplitMix64) -> Configuration {
        resolve([:], using: &generator)
    }

    /// A copy of `configuration` with one searched, active parameter changed to another of
    /// its values; parameters that this switches on are drawn fresh, those it switches off
    /// are dropped, the rest keep their values.
    public func mutate(_ configuration: Configuration, using generator: inout SplitMix64) -> Configuration {
        let values = configuration.values
        let mutable = parameters.filter { $0.domain.isSearched && values[$0.name] != nil }
        guard !mutable.isEmpty else { return configuration }
        let chosen = mutable[Int(generator.next() % UInt64(mutable.count))]
        var keep = values
        keep[chosen.name] = chosen.domain.resample(other: values[chosen.name]!, using: &generator)
        return resolve(keep, using: &generator)
    }

    /// True when `configuration` has exactly the parameters active under its own values,
    /// each inside its domain, in the space's order: what a configuration read from the
    /// wire or a file is checked with.
    public func validate(_ configuration: Configuration) throws(SearchSpaceError) {
        var settings: [String: ParameterValue] = [:]
        var expected: [String] = []
        let given = configuration.values
        for parameter in parameters where parameter.conditions.allSatisfy({ $0.holds(in: settings) }) {
            guard let value = given[parameter.name] else { throw SearchSpaceError("configuration lacks '\(parameter.name)'") }
            guard parameter.domain.contains(value) else { throw SearchSpaceError("\(parameter.name)=\(value) is outside its domain") }
            settings[parameter.name] = value
            expected.append(parameter.name)
        }
        guard configuration.settings.map(\.name) == expected else {
            let extra = configuration.settings.map(\.name).filter { !expected.contains($0) }
            throw SearchSpaceError(extra.isEmpty ? "configuration's settings are out of order" : "configuration sets inactive or unknown '\(extra.joined(separator: "', '"))'")
        }
    }

    /// Walks the parameters in order, keeping the given values of active ones (when still
    /// inside their domain) and drawing the rest.
    private func resolve(_ given: [String: ParameterValue], using generator: inout SplitMix64) -> Configuration {
        var settings: [String: ParameterValue] = [:]
        var ordered: [Configuration.Setting] = []
        for parameter in parameters where parameter.conditions.allSatisfy({ $0.holds(in: settings) }) {
            let value = given[parameter.name].flatMap { parameter.domain.contains($0) ? $0 : nil } ?? parameter.domain.sample(using: &generator)
            settings[parameter.name] = value
            ordered.append(.init(name: parameter.name, value: value))
        }
        return Configuration(ordered)
    }
}
