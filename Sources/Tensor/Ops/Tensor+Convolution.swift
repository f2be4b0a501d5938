/// The geometry of a 2-D convolution or pooling window over NCHW images.
struct Window2D {
    let channels: Int, height: Int, width: Int
    let kernelHeight: Int, kernelWidth: Int
    let stride: Int, padding: Int

    var outputHeight: Int { (height + 2 * padding - kernelHeight) / stride + 1 }
    var outputWidth: Int { (width + 2 * padding - kernelWidth) / stride + 1 }
    /// Rows of an im2col matrix: one per (channel, kernel row, kernel column).
    var patchSize: Int { channels * kernelHeight * kernelWidth }
    /// Columns of an im2col matrix: one per output position.
    var positions: Int { outputHeight * outputWidth }

    /// Output columns `ox` whose input column `ox·stride − padding + kx` lies inside the image.
    @inline(__always)
    func validColumns(kx: Int) -> Range<Int> {
        let low = max(0, (padding - kx + stride - 1) / stride)
        let high = min(outputWidth, (width - 1 + padding - kx) / stride + 1)
        return low..<max(low, high)
    }

    /// Visits every (patch row, output row) pair that reads inside the image, handing
    /// `body` the offset of that output row in the columns matrix, the offset of the
    /// matching image row (shifted so that output column ox reads `ox·stride`), and the
    /// valid output columns. im2col and its adjoint col2im are both this walk.
    @inline(__always)
    func forEachSegment(_ body: (_ column: Int, _ image: Int, _ valid: Range<Int>) -> Void) {
        for c in 0..<channels {
            for ky in 0..<kernelHeight {
                for kx in 0..<kernelWidth {
                    let row = ((c * kernelHeight + ky) * kernelWidth + kx) * positions
                    let valid = validColumns(kx: kx)
                    for oy in 0..<outputHeight {
                        let y = oy * stride - padding + ky
                        guard y >= 0 && y < height else { continue }
                        body(row + oy * outputWidth, (c * height + y) * width - padding + kx, valid)
                    }
                }
            }
        }
    }

    /// Fills `columns` [patchSize, positions] (zeroed by the caller, so padding stays 0)
    /// from one image [channels, height, width].
    func im2col(_ image: UnsafePointer<Float>, into columns: UnsafeMutablePointer<Float>) {
        forEachSegment { column, source, valid in
            let (target, from) = (columns + column, image + source)
            if stride == 1 {
                for ox in valid { target[ox] = from[ox] }
            } else {
                for ox in valid { target[ox] = from[ox * stride] }
            }
        }
    }

    /// Adds `columns` [patchSize, positions] back into one image's gradient: im2col's adjoint.
    func col2im(_ columns: UnsafePointer<Float>, into image: UnsafeMutablePointer<Float>) {
        forEachSegment { column, target, valid in
            let (from, to) = (columns + column, image + target)
            for ox in valid { to[ox * stride] += from[ox] }
        }
    }
}

extension Tensor {
    /// 2-D convolution (cross-correlation, as in PyTorch) of `self` [N, C, H, W] with
    /// `weight` [O, C, kh, kw] and optional `bias` [O], by im2col and one GEMM per image.
    public func conv2d(weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0) throws(TensorError) -> Tensor {
        guard rank == 4, weight.rank == 4, weight.shape[1] == shape[1] else {
            throw TensorError(.shapeMismatch(operation: "conv2d (input [N, C, H, W], weight [O, C, kh, kw])", shape, weight.shape))
        }
        guard stride >= 1, padding >= 0 else { throw TensorError(.invalidArgument("conv2d stride \(stride), padding \(padding)")) }
        let outputs = weight.shape[0]
        if let bias, bias.shape != [outputs] { throw TensorError(.shapeMismatch(operation: "conv2d bias", bias.shape, [outputs])) }
        let window = Window2D(
            channels: shape[1], height: shape[2], width: shape[3], kernelHeight: weight.shape[2], kernelWidth: weight.shape[3],
            stride: stride, padding: padding)
        guard window.outputHeight > 0, window.outputWidth > 0 else {
            throw TensorError(.invalidArgument("conv2d kernel \(weight.shape) does not fit input \(shape) with padding \(padding)"))
        }
        let batch = shape[0], k = window.patchSize, l = window.positions
        let imageSize = window.channels * window.height * window.width
        // im2col for every image, kept for the weight gradient.
        let columns = Storage(count: batch * k * l)
        Parallel.forEachChunk(batch, grain: k * l) { images in
            for n in images {
                window.im2col(storage.base + n * imageSize, into: columns.base + n * k * l)
            }
        }
        let out = Storage(uninitializedCount: batch * outputs * l)
        for n in 0..<batch {
            BLAS.sgemm(
                transposeA: false, transposeB: false, m: outputs, n: l, k: k, a: weight.storage.base,
                b: columns.base + n * k * l, c: out.base + n * outputs * l)
        }
        if let bias {
            for n in 0..<batch {
                for o in 0..<outputs {
                    let row = out.base + (n * outputs + o) * l, value = bias.storage.base[o]
                    for i in 0..<l { row[i] += value }
                }
            }
        }
        let resultShape: Shape = [batch, outputs, window.outputHeight, window.outputWidth]
        let input = self, inputs = [self, weight] + (bias.map { [$0] } ?? [])
        let inputShape = shape
        /// im2col of every image, [N, C, H, W] → [N, k, l], and its adjoint col2im: linear
        /// maps, each the other's gradient.
        func unfold(_ x: Tensor) -> Tensor {
            let columns = Storage(count: batch * k * l)
            for n in 0..<batch { window.im2col(x.storage.base + n * imageSize, into: columns.base + n * k * l) }
            return Tensor(shape: [batch, k, l], storage: columns)
        }
        func fold(_ columns: Tensor) -> Tensor {
            let image = Storage(count: batch * imageSize)
            for n in 0..<batch { window.col2im(columns.storage.base + n * k * l, into: image.base + n * imageSize) }
            return Tensor(shape: inputShape, storage: image)
        }
        // Second order: the same rule as products of recorded operations, with im2col and
        // col2im as recorded linear maps.
        func secondOrder(_ g: Tensor, _ needs: [Bool]) throws(TensorError) -> [Tensor?] {
            let rows = g.reshaped([batch, outputs, l])
            let dw = needs[1]
                ? try rows.matmul(Self.linearMap(input, unfold, adjoint: fold), transposeB: true).sum(axes: [0]).reshaped(to: weight.shape.dimensions)
                : nil
            let db = needs.count > 2 && needs[2] ? try g.sum(axes: [0, 2, 3]) : nil
            var dx: Tensor?
            if needs[0] {
                let perOutput = try rows.permuted([1, 0, 2]).reshaped(to: [outputs, batch * l])
                let patches = try weight.reshaped([outputs, k]).matmul(perOutput, transposeA: true).reshaped(to: [k, batch, l]).permuted([1, 0, 2])
                dx = Self.linearMap(patches, fold, adjoint: unfold)
            }
            return Array([dx, dw, db].prefix(needs.count))
        }
        return Self.recording(resultShape, out, inputs: inputs, secondOrder: .rule(secondOrder)) { (g, needs) throws(TensorError) in
            var grads: [Tensor?] = [nil, nil, nil]
            if needs[1] {
                let dw = Storage(count: weight.count)
                for n in 0..<batch {
                    BLAS.sgemm(
                        transposeA: false, transposeB: true, m: outputs, n: k, k: l, a: g.storage.base + n * outputs * l,
                        b: columns.base + n * k * l, c: dw.base, accumulate: true)
                }
                grads[1] = Tensor(shape: weight.shape, storage: dw)
            }
            if needs.count > 2 && needs[2] {
                let db = Storage(count: outputs)
                for n in 0..<batch {
                    for o in 0..<outputs { db.base[o] += Tensor.sumContiguous(g.storage.base + (n * outputs + o) * l, l) }
                }
                grads[2] = Tensor(shape: [outputs], storage: db)
            }
            if needs[0] {
                let dx = Storage(count: input.count)
                let patch = Storage(uninitializedCount: k * l)
                for n in 0..<batch {
                    BLAS.sgemm(
                        transposeA: true, transposeB: false, m: k, n: l, k: outputs, a: weight.storage.base,
                        b: g.storage.base + n * outputs * l, c: patch.base)
                    window.col2im(patch.base, into: dx.base + n * imageSize)
                }
                grads[0] = Tensor(shape: input.shape, storage: dx)
            }
            return Array(grads.prefix(needs.count))
        }
    }

    /// Max pooling over `kernel`×`kernel` windows of [N, C, H, W]; the gradient goes to each
    /// window's (first) maximum.
    public func maxPool2d(kernel: Int, stride: Int? = nil) throws(TensorError) -> Tensor {
        try pool2d(kernel: kernel, stride: stride ?? kernel, average: false)
    }

    /// Average pooling over `kernel`×`kernel` windows of [N, C, H, W].
    public func avgPool2d(kernel: Int, stride: Int? = nil) throws(TensorError) -> Tensor {
        try pool2d(kernel: kernel, stride: stride ?? kernel, average: true)
    }

    private func pool2d(kernel: Int, stride: Int, average: Bool) throws(TensorError) -> Tensor {
        guard rank == 4, kernel >= 1, stride >= 1, shape[2] >= kernel, shape[3] >= kernel else {
            throw TensorError(.invalidArgument("pooling a \(kernel)×\(kernel) window with stride \(stride) over \(shape) (needs [N, C, H, W])"))
        }
        let (h, w) = (shape[2], shape[3])
        let (oh, ow) = ((h - kernel) / stride + 1, (w - kernel) / stride + 1)
        let planes = shape[0] * shape[1]
        let out = Storage(uninitializedCount: planes * oh * ow)
        var sources = [Int](repeating: 0, count: average ? 0 : planes * oh * ow)
        let input = storage.base
        let scale = 1 / Float(kernel * kernel)
        for plane in 0..<planes {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    let position = (plane * oh + oy) * ow + ox
                    var best = -Float.infinity, bestIndex = 0, total: Float = 0
                    for ky in 0..<kernel {
                        for kx in 0..<kernel {
                            let index = (plane * h + oy * stride + ky) * w + ox * stride + kx
                            let value = input[index]
                            total += value
                            if value > best {
                                best = value
                                bestIndex = index
                            }
                        }
                    }
                    out.base[position] = average ? total * scale : best
                    if !average { sources[position] = bestIndex }
                }
            }
        }
        let inputShape = shape, outputShape = Shape([shape[0], shape[1], oh, ow])
        /// The gradient rule, linear in g: each output's gradient back to its window (spread
        /// evenly) or to its window's maximum.
        func spread(_ g: Tensor) -> Tensor {
            let dx = Storage(count: inputShape.count)
            if average {
                for plane in 0..<planes {
                    for oy in 0..<oh {
                        for ox in 0..<ow {
                            let share = g.storage.base[(plane * oh + oy) * ow + ox] * scale
                            for ky in 0..<kernel {
                                for kx in 0..<kernel { dx.base[(plane * h + oy * stride + ky) * w + ox * stride + kx] += share }
                            }
                        }
                    }
                }
            } else {
                for position in 0..<sources.count { dx.base[sources[position]] += g.storage.base[position] }
            }
            return Tensor(shape: inputShape, storage: dx)
        }
        /// Its adjoint: the pooling itself, over the same windows (the maxima's positions
        /// fixed), which is the gradient of `spread`.
        func gather(_ u: Tensor) -> Tensor {
            let out = Storage(uninitializedCount: outputShape.count)
            for position in 0..<outputShape.count {
                if average {
                    let (plane, oy, ox) = (position / (oh * ow), (position / ow) % oh, position % ow)
                    var total: Float = 0
                    for ky in 0..<kernel {
                        for kx in 0..<kernel { total += u.storage.base[(plane * h + oy * stride + ky) * w + ox * stride + kx] }
                    }
                    out.base[position] = total * scale
                } else {
                    out.base[position] = u.storage.base[sources[position]]
                }
            }
            return Tensor(shape: outputShape, storage: out)
        }
        // Second order: the spread of g as a recorded linear map (constant in the input: a
        // maximum's position does not move under a small change, almost everywhere).
        func secondOrder(_ g: Tensor, _ needs: [Bool]) throws(TensorError) -> [Tensor?] {
            [Self.linearMap(g, spread, adjoint: gather)]
        }
        return Self.recording(outputShape, out, inputs: [self], secondOrder: .rule(secondOrder)) { (g, _) throws(TensorError) in
            [spread(g)]
        }
    }
}
