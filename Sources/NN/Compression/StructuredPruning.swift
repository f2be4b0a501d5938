import Tensor

/// Structured pruning of a `Sequential` classifier's hidden units — the neurons between two
/// linear layers and the channels between two convolutions (or between a convolution and
/// the linear layer after the flatten): units are ranked by importance and the weakest are
/// *removed* — rows of the producing layer's weight and bias, and the consuming layer's
/// inputs that read them. The result is a smaller `Sequential` that does fewer
/// multiplications, so it runs faster in the engine, unlike a mask that zeroes weights in a
/// dense matrix (the complaint of NNI #2225 and Torch-Pruning #33).
///
/// Between producer and consumer only layers that act on each unit alone may stand:
/// activations, dropout, and after a convolution pooling and the flatten. A residual block
/// ends a chain (its output channels are tied to its input's by the skip).
///
/// A unit's importance is ‖incoming weights and bias‖₂ · ‖outgoing weights‖₂: how much it
/// can carry and how much of what it carries reaches the next layer (a network of ReLUs and
/// max pooling computes the same function when a unit's incoming weights are scaled by c > 0
/// and its outgoing ones by 1/c, and so is this).
public enum StructuredPruning {
    /// One prunable junction: the indices in `layers` of the producing layer (Linear or
    /// Conv2d) and the consuming one, and how many consecutive inputs of the consumer each
    /// unit feeds (1 for neurons, k·k for a convolution's input channel, H·W for a channel
    /// flattened into a linear layer).
    public struct Junction: Sendable, Equatable {
        public let producer: Int
        public let consumer: Int
        public let block: Int

        public init(producer: Int, consumer: Int, block: Int) {
            (self.producer, self.consumer, self.block) = (producer, consumer, block)
        }
    }

    /// Every junction of `model`, input side first.
    public static func junctions(_ model: Sequential) -> [Junction] {
        var result: [Junction] = []
        var last: Int?
        var flattened = false
        for (index, layer) in model.layers.enumerated() {
            if units(layer) != nil {
                if let last, let block = inputsPerUnit(layer, from: model.layers[last], flattened: flattened) {
                    result.append(Junction(producer: last, consumer: index, block: block))
                }
                (last, flattened) = (index, false)
            } else if layer is Activation || layer is Dropout {
                continue
            } else if let last, model.layers[last] is Conv2d, !flattened, layer is Pool2d {
                continue
            } else if let last, model.layers[last] is Conv2d, !flattened, let reshape = layer as? Reshape, reshape.shape == [-1] {
                flattened = true
            } else {
                last = nil  // anything else (a residual block, a reshape to images) ends the chain
            }
        }
        return result
    }

    /// The units a linear layer or convolution produces (nil for other layers).
    private static func units(_ layer: any Layer) -> Int? {
        (layer as? Linear)?.weight.shape[0] ?? (layer as? Conv2d)?.weight.shape[0]
    }

    /// How many of `consumer`'s inputs each unit of `producer` feeds, nil when they do not
    /// line up: a convolution's channels reach a convolution directly or a linear layer
    /// through the flatten, a linear layer's neurons reach a linear layer.
    private static func inputsPerUnit(_ consumer: any Layer, from producer: any Layer, flattened: Bool) -> Int? {
        let units = units(producer)!
        switch (producer, consumer) {
        case (is Conv2d, let conv as Conv2d) where !flattened && conv.weight.shape[1] == units:
            return conv.weight.shape[2] * conv.weight.shape[3]
        case (is Conv2d, let linear as Linear) where flattened && units > 0 && linear.weight.shape[1] % units == 0:
            return linear.weight.shape[1] / units
        case (is Linear, let linear as Linear) where linear.weight.shape[1] == units:
            return 1
        default:
            return nil
        }
    }

    /// A producer's weight as [units, fan-in] and its bias; a consumer's as [outputs, inputs].
    private static func matrix(_ layer: any Layer) -> (weight: Tensor, bias: Tensor?) {
        if let linear = layer as? Linear { return (linear.weight, linear.bias) }
        let conv = layer as! Conv2d
        return (conv.weight, conv.bias)
    }

    /// The importance of each unit at `junction`.
    public static func importance(_ model: Sequential, at junction: Junction) -> [Float] {
        let (incomingWeight, bias) = matrix(model.layers[junction.producer])
        let outgoingWeight = matrix(model.layers[junction.consumer]).weight
        let (incoming, outgoing) = (incomingWeight.scalars, outgoingWeight.scalars)
        let units = incomingWeight.shape[0], fanIn = incomingWeight.count / units
        let outputs = outgoingWeight.shape[0], inputs = outgoingWeight.count / outputs
        return (0..<units).map { u in
            var a: Float = 0, b: Float = 0
            for t in 0..<fanIn { a += incoming[u * fanIn + t] * incoming[u * fanIn + t] }
            if let bias { a += bias.scalars[u] * bias.scalars[u] }
            for o in 0..<outputs {
                for t in (u * junction.block)..<((u + 1) * junction.block) { b += outgoing[o * inputs + t] * outgoing[o * inputs + t] }
            }
            return a.squareRoot() * b.squareRoot()
        }
    }

    /// The units kept at each junction when keeping `fraction` of each (at least one), the
    /// most important, in their original order; ties go to the lower index.
    public static func kept(_ model: Sequential, fraction: Double) -> [[Int]] {
        junctions(model).map { strongest(importance(model, at: $0), fraction: fraction) }
    }

    /// The indices of the `fraction` (at least one) highest scores, in their original
    /// order; ties go to the lower index.
    public static func strongest(_ scores: [Float], fraction: Double) -> [Int] {
        let count = Swift.max(1, Int((Double(scores.count) * fraction).rounded()))
        let ranked = scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
        return ranked.prefix(count).sorted()
    }

    /// A new model without the units not in `kept` (one list per junction): fresh tensors,
    /// the input model untouched. Layers other than the pruned ones are shared.
    /// - Throws: when `kept` does not fit the model's junctions.
    public static func removing(_ model: Sequential, keeping kept: [[Int]]) throws(TensorError) -> Sequential {
        let junctions = junctions(model)
        guard kept.count == junctions.count else {
            throw TensorError(.invalidArgument("\(kept.count) lists of kept units for \(junctions.count) junctions"))
        }
        var rows: [Int: [Int]] = [:], columns: [Int: (keep: [Int], block: Int)] = [:]
        for (junction, units) in zip(junctions, kept) {
            let width = matrix(model.layers[junction.producer]).weight.shape[0]
            guard !units.isEmpty, units.allSatisfy({ (0..<width).contains($0) }), Set(units).count == units.count else {
                throw TensorError(.invalidArgument("kept units at layer \(junction.producer) must be distinct indices in 0..<\(width), at least one"))
            }
            rows[junction.producer] = units
            columns[junction.consumer] = (units, junction.block)
        }
        let layers: [any Layer] = try model.layers.enumerated().map { (index, layer) throws(TensorError) -> any Layer in
            guard rows[index] != nil || columns[index] != nil else { return layer }
            var (weight, bias) = matrix(layer)
            (weight, bias) = (weight.detached(), bias?.detached())
            if let keep = rows[index] {
                weight = try select(weight, rows: keep)
                bias = try bias.map { (b) throws(TensorError) in try select(b, rows: keep) }
            }
            if let (keep, block) = columns[index] { weight = try select(weight, columnBlocks: keep, block: block) }
            if let conv = layer as? Conv2d { return Conv2d(weight: fresh(weight), bias: bias.map(fresh), stride: conv.stride, padding: conv.padding) }
            return Linear(weight: fresh(weight), bias: bias.map(fresh))
        }
        return Sequential(layers)
    }

    /// Storage of its own, so that training the pruned model leaves the original alone.
    public static func fresh(_ tensor: Tensor) -> Tensor { Tensor(shape: tensor.shape, storage: tensor.storage.copy()) }

    /// The rows (first axis) `keep` of a tensor of any rank (a bias's entries, a weight's
    /// output rows), as a new tensor.
    public static func select(_ tensor: Tensor, rows keep: [Int]) throws(TensorError) -> Tensor {
        let width = tensor.count / tensor.shape[0], values = tensor.scalars
        let kept: [Float] = keep.flatMap { values[($0 * width)..<(($0 + 1) * width)] }
        return try Tensor(kept, shape: Shape([keep.count] + Array(tensor.shape.dimensions.dropFirst())))
    }

    /// The blocks `keep` of `block` consecutive inputs along the second axis (the rest of
    /// the axes flattened), for each output, as a new tensor.
    public static func select(_ tensor: Tensor, columnBlocks keep: [Int], block: Int) throws(TensorError) -> Tensor {
        let outputs = tensor.shape[0], inputs = tensor.count / outputs, values = tensor.scalars
        var kept: [Float] = []
        kept.reserveCapacity(outputs * keep.count * block)
        for o in 0..<outputs {
            for u in keep { kept += values[(o * inputs + u * block)..<(o * inputs + (u + 1) * block)] }
        }
        // A convolution keeps its kernel axes; a linear layer is [outputs, kept inputs].
        let shape: [Int] = tensor.rank == 4 ? [outputs, keep.count, tensor.shape[2], tensor.shape[3]] : [outputs, keep.count * block]
        return try Tensor(kept, shape: Shape(shape))
    }

    /// ‖rows b·size ..< (b+1)·size‖ (Frobenius) of a [rows, columns] matrix, for each block b.
    public static func blockNorms(_ matrix: Tensor, rows size: Int) -> [Float] {
        let columns = matrix.shape[1], values = matrix.scalars
        return (0..<(matrix.shape[0] / size)).map { b in
            values[(b * size * columns)..<((b + 1) * size * columns)].reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
        }
    }

    /// ‖columns b·size ..< (b+1)·size‖ (Frobenius) of a [rows, columns] matrix, for each block b.
    public static func blockNorms(_ matrix: Tensor, columns size: Int) -> [Float] {
        let (rows, columns) = (matrix.shape[0], matrix.shape[1]), values = matrix.scalars
        return (0..<(columns / size)).map { b in
            var sum: Float = 0
            for r in 0..<rows { for c in (b * size)..<((b + 1) * size) { sum += values[r * columns + c] * values[r * columns + c] } }
            return sum.squareRoot()
        }
    }
}
