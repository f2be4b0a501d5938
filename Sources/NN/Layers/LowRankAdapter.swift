import Foundation
import Tensor

/// A rank-r update of a frozen weight W [out, in] (LoRA, Hu et al. 2021): the layer
/// computes x·Wᵀ + (α/r)·(x·Aᵀ)·Bᵀ with A [r, in] and B [out, r] the only trainable
/// values. B starts at zero, so an adapted model starts exactly as the pretrained one;
/// A starts as PyTorch's `nn.Linear` would (uniform in ±1/√in, seeded).
///
/// The update is applied unmerged while training — the frozen W never needs a gradient,
/// and the two thin products cost 2·r·(in + out) per row against in·out for W — and
/// `merged(into:)` folds it into W afterwards, so inference pays nothing for the adapter.
public final class LowRankAdapter: Module {
    public let down: Tensor
    public let up: Tensor
    public let rank: Int
    /// α/r: the update's scale, so that changing the rank does not change the step size.
    public let scale: Float

    public init(inputs: Int, outputs: Int, rank: Int, alpha: Float, using generator: inout SplitMix64) {
        precondition(rank >= 1, "a low-rank adapter needs rank ≥ 1")
        let bound = 1 / Float(Swift.max(inputs, 1)).squareRoot()
        down = Tensor.uniform([rank, inputs], low: -bound, high: bound, using: &generator).requiringGrad()
        up = Tensor.zeros([outputs, rank]).requiringGrad()
        self.rank = rank
        scale = alpha / Float(rank)
    }

    /// (α/r)·(x·Aᵀ)·Bᵀ for x [..., in].
    public func delta(_ input: Tensor) throws(TensorError) -> Tensor {
        try input.matmul(down, transposeB: true).matmul(up, transposeB: true) * scale
    }

    /// The update as a dense matrix [out, in]: (α/r)·B·A.
    public func update() throws(TensorError) -> Tensor {
        try withNoGrad { () throws(TensorError) in try up.matmul(down) * scale }
    }

    /// Adds the update into `weight` [out, in] in place (the merge at the end of tuning).
    public func merge(into weight: Tensor) throws(TensorError) {
        let update = try update()
        guard update.shape == weight.shape else {
            throw TensorError(.shapeMismatch(operation: "merge a low-rank update", update.shape, weight.shape))
        }
        weight.storage.withUnsafeMutableBufferPointer { target in
            update.storage.withUnsafeBufferPointer { source in
                for i in 0..<target.count { target[i] += source[i] }
            }
        }
    }

    public func namedParameters() -> [(name: String, tensor: Tensor)] { [("lora_A", down), ("lora_B", up)] }
}
