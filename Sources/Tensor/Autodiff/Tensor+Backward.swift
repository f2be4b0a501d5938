extension Tensor {
    /// Records an operation's result on the tape when any input requires a gradient and
    /// gradient mode is on; otherwise returns a plain tensor.
    static func recording(
        _ shape: Shape, _ storage: Storage, inputs: [Tensor], backward: @escaping TapeNode.Backward
    ) -> Tensor {
        guard GradientMode.isEnabled, inputs.contains(where: \.requiresGrad) else {
            return Tensor(shape: shape, storage: storage)
        }
        return Tensor(shape: shape, storage: storage, node: TapeNode(shape: shape, inputs: inputs.map { $0.requiresGrad ? $0.node : nil }, backward: backward))
    }

    /// Reverse-mode autodiff from this tensor: every leaf it depends on gets this tensor's
    /// gradient with respect to it added to `grad`.
    ///
    /// - Parameter seed: the gradient of some final scalar with respect to this tensor;
    ///   defaults to ones, which for a scalar loss is d loss / d loss.
    public func backward(seed: Tensor? = nil) throws(TensorError) {
        guard let root = node else {
            throw TensorError(.noGradient("backward() on a tensor that does not require a gradient"))
        }
        if let seed, seed.shape != shape { throw TensorError(.shapeMismatch(operation: "backward seed", seed.shape, shape)) }
        // Every node reachable from the root, in reverse creation order (a topological order).
        var stack = [root]
        var seen: Set<ObjectIdentifier> = [ObjectIdentifier(root)]
        var nodes: [TapeNode] = []
        while let next = stack.popLast() {
            nodes.append(next)
            for case let input? in next.inputs where seen.insert(ObjectIdentifier(input)).inserted {
                stack.append(input)
            }
        }
        nodes.sort { $0.id > $1.id }
        var gradients: [ObjectIdentifier: Tensor] = [ObjectIdentifier(root): seed ?? .full(1, shape)]
        try GradientMode.withNoGrad { () throws(TensorError) in
            for node in nodes {
                guard let gradient = gradients.removeValue(forKey: ObjectIdentifier(node)) else { continue }
                guard let backward = node.backward else {
                    // A leaf keeps a gradient of its own: the incoming one may share storage with
                    // another leaf's (both sides of an add), and optimizers may scale it in place.
                    if let existing = node.grad {
                        node.grad = try existing + gradient
                    } else {
                        node.grad = Tensor(shape: gradient.shape, storage: gradient.storage.copy())
                    }
                    continue
                }
                let inputGradients = try backward(gradient, node.inputs.map { $0 != nil })
                for (input, inputGradient) in zip(node.inputs, inputGradients) {
                    guard let input, let inputGradient else { continue }
                    let key = ObjectIdentifier(input)
                    if let existing = gradients[key] {
                        gradients[key] = try existing + inputGradient
                    } else {
                        gradients[key] = inputGradient
                    }
                }
            }
        }
    }
}
