extension Tensor {
    /// The matrix dimensions of `shape` read as the last two axes, optionally transposed.
    private static func matrix(_ shape: Shape, transposed: Bool) -> (rows: Int, columns: Int) {
        let r = shape[shape.rank - 2], c = shape[shape.rank - 1]
        return transposed ? (c, r) : (r, c)
    }

    /// `op(a) · op(b)` through `cblas_sgemm`, no tape. Shapes: both rank 2; one of rank ≥ 3
    /// and the other of rank 2, shared by every batch (one GEMM over all of a's rows when
    /// that is `b` and a is not transposed); or both of rank ≥ 3 with equal batch dimensions
    /// (one GEMM per batch).
    static func matmulKernel(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool) throws(TensorError) -> Tensor {
        guard a.rank >= 2, b.rank >= 2 else {
            throw TensorError(.shapeMismatch(operation: "matmul (rank 2 or more)", a.shape, b.shape))
        }
        let (m, k) = matrix(a.shape, transposed: transposeA)
        let (k2, n) = matrix(b.shape, transposed: transposeB)
        guard k == k2 else { throw TensorError(.shapeMismatch(operation: "matmul", a.shape, b.shape)) }
        let batchA = Array(a.shape.dimensions.dropLast(2)), batchB = Array(b.shape.dimensions.dropLast(2))
        if b.rank == 2 && !transposeA {
            let batch = batchA.reduce(1, *)
            let rows = batch * m
            let out = Storage(uninitializedCount: rows * n)
            BLAS.sgemm(transposeA: false, transposeB: transposeB, m: rows, n: n, k: k, a: a.storage.base, b: b.storage.base, c: out.base)
            return Tensor(shape: Shape(batchA + [m, n]), storage: out)
        }
        guard batchA == batchB || a.rank == 2 || b.rank == 2 else {
            throw TensorError(.shapeMismatch(operation: "batched matmul (equal batch dimensions)", a.shape, b.shape))
        }
        // A rank-2 operand is shared by every batch (stride 0).
        let batchShape = a.rank == 2 ? batchB : batchA
        let count = batchShape.reduce(1, *)
        let out = Storage(uninitializedCount: count * m * n)
        let strideA = a.rank == 2 ? 0 : m * k, strideB = b.rank == 2 ? 0 : k * n
        for index in 0..<count {
            BLAS.sgemm(
                transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a.storage.base + index * strideA,
                b: b.storage.base + index * strideB, c: out.base + index * m * n)
        }
        return Tensor(shape: Shape(batchShape + [m, n]), storage: out)
    }

    /// Matrix product over the last two axes, with optional transposes that cost no copy.
    ///
    /// `x.matmul(w, transposeB: true)` is a Linear layer's `x · wᵀ` for `w` stored as
    /// [out, in], as PyTorch stores it.
    public func matmul(_ other: Tensor, transposeA: Bool = false, transposeB: Bool = false) throws(TensorError) -> Tensor {
        let a = self, b = other
        let result = try Self.matmulKernel(a, b, transposeA: transposeA, transposeB: transposeB)
        // The same rule in recorded products (the shared-weight case reduces over the batch).
        func secondOrder(_ g: Tensor, _ needs: [Bool]) throws(TensorError) -> [Tensor?] {
            let ga = needs[0]
                ? (transposeA ? try b.matmul(g, transposeA: transposeB, transposeB: true) : try g.matmul(b, transposeB: !transposeB)) : nil
            let gb = needs[1]
                ? (transposeB ? try g.matmul(a, transposeA: true, transposeB: transposeA) : try a.matmul(g, transposeA: !transposeA)) : nil
            return [try ga?.reduced(to: a.shape), try gb?.reduced(to: b.shape)]
        }
        return Self.recording(result.shape, result.storage, inputs: [a, b], secondOrder: .rule(secondOrder)) { (g, needs) throws(TensorError) in
            var ga: Tensor?, gb: Tensor?
            // C = op(A)·op(B): dA and dB follow from which operands were transposed.
            if needs[0] {
                ga = transposeA
                    ? try Self.matmulKernel(b, g, transposeA: transposeB, transposeB: true)
                    : try Self.matmulKernel(g, b, transposeA: false, transposeB: !transposeB)
            }
            if needs[1] {
                if b.rank == 2 && a.rank > 2 && !transposeA {
                    // A shared weight: gather every batch row into one GEMM.
                    let rowsA = a.reshaped(Shape([a.count / a.shape[a.rank - 1], a.shape[a.rank - 1]]))
                    let rowsG = g.reshaped(Shape([g.count / g.shape[g.rank - 1], g.shape[g.rank - 1]]))
                    gb = transposeB
                        ? try Self.matmulKernel(rowsG, rowsA, transposeA: true, transposeB: false)
                        : try Self.matmulKernel(rowsA, rowsG, transposeA: true, transposeB: false)
                } else {
                    gb = transposeB
                        ? try Self.matmulKernel(g, a, transposeA: true, transposeB: transposeA)
                        : try Self.matmulKernel(a, g, transposeA: !transposeA, transposeB: false)
                }
            }
            return [try ga?.reduced(to: a.shape), try gb?.reduced(to: b.shape)]
        }
    }
}

extension Tensor {
    /// A linear layer's x · Wᵀ + b in one pass, for x [..., in], W [out, in] and b [out]:
    /// every output row starts as b and the product is accumulated onto it, which saves
    /// BLAS's zeroing pass and a separate broadcast add over the output.
    public func linear(weight: Tensor, bias: Tensor?) throws(TensorError) -> Tensor {
        guard let bias else { return try matmul(weight, transposeB: true) }
        guard rank >= 1, weight.rank == 2, weight.shape[1] == shape[rank - 1], bias.shape == [weight.shape[0]] else {
            throw TensorError(.shapeMismatch(operation: "linear (x [..., in], weight [out, in], bias [out])", shape, weight.shape))
        }
        let (inputs, outputs) = (weight.shape[1], weight.shape[0])
        let rows = count / Swift.max(inputs, 1)
        let out = Storage(uninitializedCount: rows * outputs)
        for row in 0..<rows { (out.base + row * outputs).initialize(from: bias.storage.base, count: outputs) }
        BLAS.sgemm(
            transposeA: false, transposeB: true, m: rows, n: outputs, k: inputs, a: storage.base, b: weight.storage.base, c: out.base,
            accumulate: true)
        let x = self
        let outShape = Shape(shape.dimensions.dropLast() + [outputs])
        func secondOrder(_ g: Tensor, _ needs: [Bool]) throws(TensorError) -> [Tensor?] {
            let rowsG = g.reshaped(Shape([rows, outputs]))
            let dx = needs[0] ? try rowsG.matmul(weight).reshaped(x.shape) : nil
            let dw = needs[1] ? try rowsG.matmul(x.reshaped(Shape([rows, inputs])), transposeA: true) : nil
            let db = needs[2] ? try rowsG.sum(axes: [0]) : nil
            return [dx, dw, db]
        }
        return Self.recording(outShape, out, inputs: [x, weight, bias], secondOrder: .rule(secondOrder)) { (g, needs) throws(TensorError) in
            let rowsG = g.reshaped(Shape([rows, outputs]))
            let dx = needs[0] ? try Self.matmulKernel(rowsG, weight, transposeA: false, transposeB: false).reshaped(x.shape) : nil
            var dw: Tensor? = nil
            if needs[1] {
                if let deferral = DeferredWeightGradients.collector(for: weight) {
                    // Held back, to be added with the other micro-batches' in one product.
                    deferral.record(weight: weight, outputGradient: rowsG, input: x.reshaped(Shape([rows, inputs])))
                } else if let total = LeafAccumulation.target(weight, shape: weight.shape) {
                    // Added into the weight's gradient in the product itself (β = 1).
                    BLAS.sgemm(
                        transposeA: true, transposeB: false, m: outputs, n: inputs, k: rows, a: g.storage.base, b: x.storage.base,
                        c: total.base, accumulate: true)
                } else {
                    dw = try Self.matmulKernel(rowsG, x.reshaped(Shape([rows, inputs])), transposeA: true, transposeB: false)
                }
            }
            let db = needs[2] ? try rowsG.sum(axes: [0]) : nil
            return [dx, dw, db]
        }
    }
}
