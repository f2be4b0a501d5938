extension Tensor {
    /// Gradient checkpointing (Chen et al. 2016): `body(inputs)` runs without recording, so
    /// none of its intermediate tensors is kept for the backward pass; when the gradient
    /// reaches its output, `body` runs again on the tape and is differentiated there. One
    /// extra forward pass of the segment buys its activations' memory: a transformer
    /// checkpointed layer by layer keeps only each layer's input.
    ///
    /// `parameters` are the trainable leaves `body` reads itself (LoRA adapters inside a
    /// layer): they receive their gradients as if the segment had been recorded. `body` must
    /// compute the same thing both times (no dropout drawn anew).
    public static func checkpointed(
        _ inputs: [Tensor], parameters: [Tensor] = [], _ body: @escaping ([Tensor]) throws(TensorError) -> Tensor
    ) throws(TensorError) -> Tensor {
        let output = try GradientMode.withNoGrad { () throws(TensorError) in try body(inputs.map { $0.detached() }) }
        let sources = inputs + parameters
        return recording(output.shape, output.storage, inputs: sources) { (gradient, needs) throws(TensorError) in
            let leaves = inputs.map { $0.requiresGrad ? $0.detached().requiringGrad() : $0.detached() }
            let recomputed = try GradientMode.withGrad { () throws(TensorError) in try body(leaves) }
            let candidates = leaves + parameters
            let wanted = candidates.indices.filter { needs[$0] && candidates[$0].requiresGrad }
            guard recomputed.requiresGrad, !wanted.isEmpty else { return sources.map { _ in nil } }
            let found = try recomputed.gradients(withRespectTo: wanted.map { candidates[$0] }, seed: gradient)
            var gradients = [Tensor?](repeating: nil, count: sources.count)
            for (index, value) in zip(wanted, found) { gradients[index] = value }
            return gradients
        }
    }
}
