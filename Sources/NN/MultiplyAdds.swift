import Tensor

/// The multiply-adds one example costs a model, counted from its layers and the shape of
/// what flows through them (no forward pass): a linear layer's weights, a convolution's
/// kernel times its output positions. Element-wise layers, pooling and normalization are
/// not counted (they are not what pruning removes or what dominates the time), nor are
/// layers this does not know (a transformer layer counts 0).
public enum MultiplyAdds {
    /// The count for one example of shape `input` (without the batch axis), and the shape
    /// the layer hands on.
    public static func count(_ layer: any Layer, input: [Int]) -> (multiplyAdds: Int, output: [Int]) {
        switch layer {
        case let sequential as Sequential:
            var (total, shape) = (0, input)
            for inner in sequential.layers {
                let (count, next) = count(inner, input: shape)
                (total, shape) = (total + count, next)
            }
            return (total, shape)
        case let residual as Residual:
            let body = count(residual.body, input: input)
            return (body.multiplyAdds + (residual.shortcut.map { count($0, input: input).multiplyAdds } ?? 0), body.output)
        case let linear as Linear:
            return (linear.weight.count * input.dropLast().reduce(1, *), Array(input.dropLast()) + [linear.weight.shape[0]])
        case let conv as Conv2d:
            guard input.count == 3 else { return (0, input) }
            let kernel = conv.weight.shape[2]
            let side = { (size: Int) in (size + 2 * conv.padding - kernel) / conv.stride + 1 }
            let (height, width) = (side(input[1]), side(input[2]))
            return (conv.weight.count * height * width, [conv.weight.shape[0], height, width])
        case let pool as Pool2d:
            guard input.count == 3 else { return (0, input) }
            let side = { (size: Int) in (size - pool.kernel) / pool.stride + 1 }
            return (0, [input[0], side(input[1]), side(input[2])])
        case let reshape as Reshape:
            let elements = input.reduce(1, *)
            let known = reshape.shape.filter { $0 != -1 }.reduce(1, *)
            return (0, reshape.shape.map { $0 == -1 ? elements / Swift.max(1, known) : $0 })
        default:
            return (0, input)
        }
    }
}
