import CKernels

extension Tensor {
    /// x · Wᵀ + b for x [..., in] and int8 weights W [out, in]: x is quantized per row at run
    /// time, the sums are exact in int32, the scales are applied once per output. Gradients
    /// reach x (through the dequantized weights) and b, never W.
    public func linear(int8 weights: Int8Matrix, bias: Tensor?) throws(TensorError) -> Tensor {
        guard rank >= 1, shape[rank - 1] == weights.columns else {
            throw TensorError(.shapeMismatch(operation: "int8 linear x · Wᵀ", shape, weights.shape))
        }
        if let bias, bias.shape != [weights.rows] {
            throw TensorError(.shapeMismatch(operation: "int8 linear bias", bias.shape, [weights.rows]))
        }
        let (m, n, k) = (count / weights.columns, weights.rows, weights.columns)
        let resultShape = Shape(shape.dimensions.dropLast() + [n])
        guard m > 0 else { return Tensor.zeros(resultShape) }
        let depth = orrery_int8_depth(k)
        // Every byte and scale is written by the quantizer: no zero-fill first.
        var rowScales = [Float](unsafeUninitializedCapacity: m) { _, count in count = m }
        nonisolated(unsafe) let x = UnsafePointer(storage.base)
        let activations = [UInt8](unsafeUninitializedCapacity: m * depth) { q, count in
            rowScales.withUnsafeMutableBufferPointer { scales in
                nonisolated(unsafe) let (q, scales) = (q.baseAddress!, scales.baseAddress!)
                Parallel.forEachChunk(m, grain: k) { rows in
                    orrery_int8_quantize_rows(x + rows.lowerBound * k, rows.count, k, q + rows.lowerBound * depth, scales + rows.lowerBound)
                }
            }
            count = m * depth
        }
        let out = Storage(uninitializedCount: m * n)
        // Column chunks on 16-column panel boundaries, one per thread when the product is big enough.
        let panels = (n + 15) / 16
        let chunks = Swift.min(Parallel.threadCount, panels, Swift.max(1, m * n * k / (1 << 18)))
        let perChunk = (panels + chunks - 1) / chunks * 16
        nonisolated(unsafe) let y = out.base
        nonisolated(unsafe) let biasBase = bias.map { UnsafePointer($0.storage.base) }
        activations.withUnsafeBufferPointer { a in
            rowScales.withUnsafeBufferPointer { s in
                weights.packed.withUnsafeBufferPointer { w in
                    weights.columnSums.withUnsafeBufferPointer { sums in
                        weights.scales.withUnsafeBufferPointer { scales in
                            nonisolated(unsafe) let pointers = (a.baseAddress, s.baseAddress, w.baseAddress, sums.baseAddress, scales.baseAddress)
                            Parallel.run(chunks: chunks, threads: chunks) { chunk in
                                let begin = chunk * perChunk, end = Swift.min(n, begin + perChunk)
                                guard begin < end else { return }
                                orrery_int8_product(m, n, k, pointers.0, pointers.1, pointers.2, pointers.3, pointers.4, biasBase, y, n, begin, end)
                            }
                        }
                    }
                }
            }
        }
        let inputs = [self] + (bias.map { [$0] } ?? [])
        func rule(_ g: Tensor, _ needs: [Bool]) throws(TensorError) -> [Tensor?] {
            let gx = needs[0] ? try g.matmul(weights.dequantized()) : nil
            let gb = needs.count > 1 && needs[1] ? try g.reshaped(Shape([g.count / n, n])).sum(axes: [0]) : nil
            return [gx] + (bias == nil ? [] : [gb])
        }
        return Self.recording(resultShape, out, inputs: inputs, secondOrder: .sameRule, backward: rule)
    }
}
