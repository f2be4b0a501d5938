extension Tensor {
    /// How an operation's gradient can itself be differentiated.
    enum SecondOrder {
        /// Not yet: a backward with `createGraph` through it throws.
        case unsupported
        /// The first-order rule is already written in recorded tensor operations.
        case sameRule
        /// A rule in recorded tensor operations, beside the first-order one on raw kernels.
        case rule(TapeNode.Backward)
    }

    /// Records an operation's result on the tape when any input requires a gradient and
    /// gradient mode is on; otherwise returns a plain tensor. `secondOrder` is evaluated
    /// only when recording, so an operation on plain tensors allocates no rule it will not
    /// use (ops declare their rule as a local function for the same reason).
    static func recording(
        _ shape: Shape, _ storage: Storage, inputs: [Tensor], name: String = #function,
        secondOrder: @autoclosure () -> SecondOrder = .unsupported,
        backward: @escaping TapeNode.Backward
    ) -> Tensor {
        guard GradientMode.isEnabled, inputs.contains(where: \.requiresGrad) else {
            return Tensor(shape: shape, storage: storage)
        }
        let differentiable: TapeNode.Backward? =
            switch secondOrder() {
            case .unsupported: nil
            case .sameRule: backward
            case .rule(let rule): rule
            }
        let node = TapeNode(
            shape: shape, inputs: inputs.map { $0.requiresGrad ? $0.node : nil }, name: name, backward: backward,
            secondOrder: differentiable)
        return Tensor(shape: shape, storage: storage, node: node)
    }

    /// `map(x)` for a map that is linear in x, on raw kernels, recorded with `adjoint` as
    /// its gradient rule: how an operation whose backward is linear in the incoming gradient
    /// (pooling, convolution) writes that backward as a differentiable operation.
    static func linearMap(_ x: Tensor, _ map: (Tensor) -> Tensor, adjoint: @escaping (Tensor) -> Tensor) -> Tensor {
        let result = map(x.detached())
        return recording(result.shape, result.storage, inputs: [x]) { (g, _) throws(TensorError) in [adjoint(g)] }
    }

    /// Reverse-mode autodiff from this tensor: every leaf it depends on gets this tensor's
    /// gradient with respect to it added to `grad`.
    ///
    /// - Parameter seed: the gradient of some final scalar with respect to this tensor;
    ///   defaults to ones, which for a scalar loss is d loss / d loss.
    public func backward(seed: Tensor? = nil) throws(TensorError) {
        let root = try rootNode(seed: seed)
        try LeafAccumulation.during { () throws(TensorError) in try accumulate(from: root, seed: seed) }
    }

    /// `backward`'s pass: every leaf reached gets its gradient added to `grad`.
    private func accumulate(from root: TapeNode, seed: Tensor?) throws(TensorError) {
        try Self.propagate(from: root, seed: seed ?? .full(1, shape), createGraph: false, stopAt: nil) { (node, gradient) throws(TensorError) in
            guard node.isLeaf else { return }
            // A leaf keeps a gradient of its own: the incoming one may share storage with
            // another leaf's (both sides of an add), and optimizers may scale it in place.
            // Later passes add into it in place, as PyTorch accumulates `.grad`: gradient
            // accumulation over micro-batches then allocates nothing per pass.
            if let existing = node.grad {
                guard existing.shape == gradient.shape else { throw TensorError(.shapeMismatch(operation: "gradient accumulation", existing.shape, gradient.shape)) }
                existing.storage.withUnsafeMutableBufferPointer { total in
                    gradient.storage.withUnsafeBufferPointer { add in
                        for index in 0..<existing.count { total[index] += add[index] }
                    }
                }
            } else {
                node.grad = Tensor(shape: gradient.shape, storage: gradient.storage.copy())
            }
        }
    }

    /// The gradients of this tensor with respect to `inputs`, returned instead of added to
    /// any leaf's `grad` (PyTorch's `torch.autograd.grad`); zeros for an input it does not
    /// depend on.
    ///
    /// With `createGraph` the backward pass records itself: the gradients are tensors on
    /// the tape, functions of the inputs, so a loss computed from them (MAML's query loss
    /// after an inner step θ − α∇L(θ)) differentiates through the gradient itself. Without
    /// it the pass runs on raw kernels and costs what `backward()` costs.
    /// - Throws: `.noGradient` when this tensor or an input is off the tape, or when
    ///   `createGraph` meets an operation with no second-order rule (named).
    public func gradients(withRespectTo inputs: [Tensor], seed: Tensor? = nil, createGraph: Bool = false) throws(TensorError) -> [Tensor] {
        let root = try rootNode(seed: seed)
        var targets: [ObjectIdentifier: Int] = [:]
        for (index, input) in inputs.enumerated() {
            guard let node = input.node, input.requiresGrad else {
                throw TensorError(.noGradient("gradients(withRespectTo:) of an input that does not require a gradient (input \(index))"))
            }
            targets[ObjectIdentifier(node)] = index
        }
        var found = [Tensor?](repeating: nil, count: inputs.count)
        try Self.propagate(from: root, seed: seed ?? .full(1, shape), createGraph: createGraph, stopAt: Set(targets.keys)) { (node, gradient) throws(TensorError) in
            if let index = targets[ObjectIdentifier(node)] { found[index] = gradient }
        }
        return zip(found, inputs).map { $0 ?? .zeros($1.shape) }
    }

    private func rootNode(seed: Tensor?) throws(TensorError) -> TapeNode {
        guard let root = node else {
            throw TensorError(.noGradient("backward() on a tensor that does not require a gradient"))
        }
        if let seed, seed.shape != shape { throw TensorError(.shapeMismatch(operation: "backward seed", seed.shape, shape)) }
        return root
    }

    /// Walks the tape back from `root` in reverse creation order (a topological order),
    /// summing each node's incoming gradients and handing every node's total to `visit`
    /// once. With `stopAt`, only the nodes that lead to one of those are visited and
    /// propagated through, and gradients stop there.
    private static func propagate(
        from root: TapeNode, seed: Tensor, createGraph: Bool, stopAt targets: Set<ObjectIdentifier>?,
        visit: (TapeNode, Tensor) throws(TensorError) -> Void
    ) throws(TensorError) {
        var stack = [root]
        var seen: Set<ObjectIdentifier> = [ObjectIdentifier(root)]
        var nodes: [TapeNode] = []
        while let next = stack.popLast() {
            nodes.append(next)
            if let targets, targets.contains(ObjectIdentifier(next)) { continue }
            for case let input? in next.inputs where seen.insert(ObjectIdentifier(input)).inserted {
                stack.append(input)
            }
        }
        nodes.sort { $0.id > $1.id }
        // Which nodes lead to a target: a node does if it is one, or if an input does
        // (inputs come later in this order, so walk it backwards).
        var leads: Set<ObjectIdentifier>? = nil
        if let targets {
            var found = Set<ObjectIdentifier>()
            for node in nodes.reversed() {
                let key = ObjectIdentifier(node)
                if targets.contains(key) || node.inputs.contains(where: { $0.map { found.contains(ObjectIdentifier($0)) } ?? false }) {
                    found.insert(key)
                }
            }
            leads = found
        }
        var gradients: [ObjectIdentifier: Tensor] = [ObjectIdentifier(root): seed]
        func walk() throws(TensorError) {
            for node in nodes {
                let key = ObjectIdentifier(node)
                guard let gradient = gradients.removeValue(forKey: key) else { continue }
                if let leads, !leads.contains(key) { continue }
                try visit(node, gradient)
                if let targets, targets.contains(key) { continue }
                guard node.backward != nil else { continue }
                let rule: TapeNode.Backward
                if createGraph {
                    guard let secondOrder = node.secondOrder else {
                        throw TensorError(.noGradient("\(node.name) has no second-order rule: createGraph cannot differentiate through it"))
                    }
                    rule = secondOrder
                } else {
                    rule = node.backward!
                }
                let needs = node.inputs.map { input in input.map { leads?.contains(ObjectIdentifier($0)) ?? true } ?? false }
                let inputGradients = try rule(gradient, needs)
                for (input, inputGradient) in zip(node.inputs, inputGradients) {
                    guard let input, let inputGradient else { continue }
                    let inputKey = ObjectIdentifier(input)
                    if let existing = gradients[inputKey] {
                        gradients[inputKey] = try existing + inputGradient
                    } else {
                        gradients[inputKey] = inputGradient
                    }
                }
            }
        }
        if createGraph {
            try walk()
        } else {
            try GradientMode.withNoGrad { () throws(TensorError) in try walk() }
        }
    }
}
