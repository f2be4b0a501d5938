import Tensor

/// Structured pruning of a `Sequential` classifier's hidden neurons: the neurons between
/// two linear layers (with only element-wise layers — activations, dropout — between them)
/// are ranked by importance and the weakest are *removed*: rows of the first layer's weight
/// and bias, columns of the second's. The result is a smaller `Sequential` that does fewer
/// multiplications, so it runs faster in the engine, unlike a mask that zeroes weights in a
/// dense matrix (the complaint of NNI #2225 and Torch-Pruning #33).
///
/// A neuron's importance is ‖incoming row‖₂ · ‖outgoing column‖₂: how much it can carry
/// and how much of what it carries reaches the next layer (a ReLU network's function is
/// unchanged when a neuron's row is scaled by c and its column by 1/c, and so is this).
public enum NeuronPruning {
    /// One prunable junction: the indices in `layers` of the two linear layers around it.
    public struct Junction: Sendable, Equatable {
        public let producer: Int
        public let consumer: Int
    }

    /// Every junction of `model`, input side first.
    public static func junctions(_ model: Sequential) -> [Junction] {
        var result: [Junction] = []
        var last: Int?
        for (index, layer) in model.layers.enumerated() {
            if layer is Linear {
                if let last { result.append(Junction(producer: last, consumer: index)) }
                last = index
            } else if !(layer is Activation || layer is Dropout) {
                last = nil  // a reshape or convolution breaks the chain
            }
        }
        return result
    }

    /// The importance of each neuron at `junction`.
    public static func importance(_ model: Sequential, at junction: Junction) -> [Float] {
        let producer = model.layers[junction.producer] as! Linear, consumer = model.layers[junction.consumer] as! Linear
        let (incoming, outgoing) = (producer.weight.scalars, consumer.weight.scalars)
        let (width, inputs, outputs) = (producer.weight.shape[0], producer.weight.shape[1], consumer.weight.shape[0])
        return (0..<width).map { j in
            var a: Float = 0, b: Float = 0
            for t in 0..<inputs { a += incoming[j * inputs + t] * incoming[j * inputs + t] }
            if let bias = producer.bias { a += bias.scalars[j] * bias.scalars[j] }
            for o in 0..<outputs { b += outgoing[o * width + j] * outgoing[o * width + j] }
            return a.squareRoot() * b.squareRoot()
        }
    }

    /// The neurons kept at each junction when keeping `fraction` of each (at least one),
    /// the most important, in their original order; ties go to the lower index.
    public static func kept(_ model: Sequential, fraction: Double) -> [[Int]] {
        junctions(model).map { junction in
            let scores = importance(model, at: junction)
            let count = Swift.max(1, Int((Double(scores.count) * fraction).rounded()))
            let ranked = scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
            return ranked.prefix(count).sorted()
        }
    }

    /// A new model without the neurons not in `kept` (one list per junction): fresh tensors,
    /// the input model untouched. Layers other than the pruned linear ones are shared.
    /// - Throws: when `kept` does not fit the model's junctions.
    public static func removing(_ model: Sequential, keeping kept: [[Int]]) throws(TensorError) -> Sequential {
        let junctions = junctions(model)
        guard kept.count == junctions.count else {
            throw TensorError(.invalidArgument("\(kept.count) lists of kept neurons for \(junctions.count) junctions"))
        }
        var rows: [Int: [Int]] = [:], columns: [Int: [Int]] = [:]
        for (junction, neurons) in zip(junctions, kept) {
            let width = (model.layers[junction.producer] as! Linear).weight.shape[0]
            guard !neurons.isEmpty, neurons.allSatisfy({ (0..<width).contains($0) }), Set(neurons).count == neurons.count else {
                throw TensorError(.invalidArgument("kept neurons at layer \(junction.producer) must be distinct indices in 0..<\(width), at least one"))
            }
            rows[junction.producer] = neurons
            columns[junction.consumer] = neurons
        }
        let layers: [any Layer] = try model.layers.enumerated().map { (index, layer) throws(TensorError) -> any Layer in
            guard let linear = layer as? Linear, rows[index] != nil || columns[index] != nil else { return layer }
            var weight = linear.weight.detached(), bias = linear.bias?.detached()
            if let keep = rows[index] {
                weight = try select(weight, rows: keep)
                bias = try bias.map { (b) throws(TensorError) in try select(b.reshaped([b.count, 1]), rows: keep).reshaped([keep.count]) }
            }
            if let keep = columns[index] { weight = try select(weight, columns: keep) }
            return Linear(weight: fresh(weight), bias: bias.map(fresh))
        }
        return Sequential(layers)
    }

    /// Storage of its own, so that training the pruned model leaves the original alone.
    private static func fresh(_ tensor: Tensor) -> Tensor { Tensor(shape: tensor.shape, storage: tensor.storage.copy()) }

    private static func select(_ matrix: Tensor, rows keep: [Int]) throws(TensorError) -> Tensor {
        let columns = matrix.shape[1], values = matrix.scalars
        return try Tensor(keep.flatMap { values[($0 * columns)..<(($0 + 1) * columns)] }, shape: [keep.count, columns])
    }

    private static func select(_ matrix: Tensor, columns keep: [Int]) throws(TensorError) -> Tensor {
        let (rows, columns) = (matrix.shape[0], matrix.shape[1]), values = matrix.scalars
        return try Tensor((0..<rows).flatMap { r in keep.map { values[r * columns + $0] } }, shape: [rows, keep.count])
    }
}
