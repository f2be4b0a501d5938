import Foundation

extension Tensor {
    /// Uniform values in [low, high), the same for the same seed on every machine.
    public static func uniform(_ shape: Shape, low: Float = 0, high: Float = 1, using generator: inout SplitMix64) -> Tensor {
        let values = (0..<shape.count).map { _ in low + (high - low) * Float(generator.nextUnit()) }
        return Tensor(shape: shape, storage: Storage(values))
    }

    /// Normally distributed values (Box–Muller), the same for the same seed everywhere.
    public static func normal(_ shape: Shape, mean: Float = 0, standardDeviation: Float = 1, using generator: inout SplitMix64) -> Tensor {
        var values: [Float] = []
        values.reserveCapacity(shape.count + 1)
        while values.count < shape.count {
            let u1 = Swift.max(generator.nextUnit(), 1e-300), u2 = generator.nextUnit()
            let radius = (-2 * Foundation.log(u1)).squareRoot()
            values.append(mean + standardDeviation * Float(radius * Foundation.cos(2 * Double.pi * u2)))
            values.append(mean + standardDeviation * Float(radius * Foundation.sin(2 * Double.pi * u2)))
        }
        return Tensor(shape: shape, storage: Storage(values.prefix(shape.count)))
    }
}
