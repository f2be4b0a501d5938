import Foundation

/// The learning rate as a function of the step number, set on an optimizer before each step.
public enum LearningRateSchedule: Sendable, Equatable {
    case constant(Float)
    /// Multiplied by `factor` every `every` steps.
    case step(base: Float, every: Int, factor: Float)
    /// Cosine decay from `base` to `minimum` over `steps`.
    case cosine(base: Float, steps: Int, minimum: Float)
    /// Linear warm-up from 0 over `warmupSteps`, then `schedule` (counted from the end of warm-up).
    indirect case warmup(steps: Int, then: LearningRateSchedule)

    public func rate(at step: Int) -> Float {
        switch self {
        case .constant(let rate): return rate
        case .step(let base, let every, let factor):
            return base * Float(pow(Double(factor), Double(step / max(every, 1))))
        case .cosine(let base, let steps, let minimum):
            let progress = min(1, Double(step) / Double(max(steps, 1)))
            return minimum + (base - minimum) * Float(0.5 * (1 + cos(Double.pi * progress)))
        case .warmup(let warmupSteps, let then):
            if step < warmupSteps { return then.rate(at: 0) * Float(step + 1) / Float(warmupSteps) }
            return then.rate(at: step - warmupSteps)
        }
    }
}
