import Foundation

/// Weight-gradient products held back from `backward()` and done later, one product per
/// weight over every micro-batch recorded: the B/W split of zero-bubble pipeline schedules
/// (Qi et al., 2023).
///
/// A linear layer's backward computes two products: the input's gradient (needed at once,
/// by the layer below and by the previous pipeline stage) and the weight's, Gᵀ·X, whose
/// inner dimension is the micro-batch's rows. Cut a batch of 256 into 16 micro-batches and
/// that product runs 16 times with an inner dimension of 16, re-reading and re-writing the
/// whole weight-sized gradient each time. Deferred, each micro-batch's backward only
/// records its (G, X) pair; `flush` stacks a weight's pairs in recording order and adds
/// Gᵀ·X into its gradient once, with the batch's full inner dimension — and a pipeline
/// stage's backward sends its input gradient upstream sooner.
///
/// Only `backward()` defers (as `LeafAccumulation`, whose gating it shares), and only for
/// unfrozen leaf weights; everything else is unchanged. The sum is the same as immediate
/// accumulation up to floating-point order. Per thread: `during` makes an instance the
/// current one for its body.
public final class DeferredWeightGradients {
    private struct Pending {
        let weight: Tensor
        var outputGradients: [Tensor] = []
        var inputs: [Tensor] = []
        var rows = 0
    }

    private static let key = "orrery.tensor.deferredWeightGradients"
    private var pending: [Pending] = []
    private var index: [ObjectIdentifier: Int] = [:]

    public init() {}

    /// Whether no product is waiting.
    public var isEmpty: Bool { pending.isEmpty }

    /// The most bytes `flush` will hold at once beyond what is live now: one weight's
    /// stacked (G, X) (a weight with one part uses its own) and the gradient it creates
    /// when the weight has none — for peak-memory accounting.
    public var flushBytes: Int {
        pending.map { entry in
            let (outputs, inputs) = (entry.weight.shape[0], entry.weight.shape[1])
            let stacked = entry.outputGradients.count > 1 ? entry.rows * (outputs + inputs) : 0
            return 4 * (stacked + (entry.weight.node?.grad == nil ? outputs * inputs : 0))
        }.max() ?? 0
    }

    /// Runs `body` with this instance collecting the weight gradients of the `backward()`
    /// calls in it.
    public func during<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        let dictionary = Thread.current.threadDictionary
        let previous = dictionary[Self.key]
        dictionary[Self.key] = self
        defer { dictionary[Self.key] = previous }
        return try body()
    }

    /// The instance collecting for `weight` now: inside `during` and a `backward()`, for an
    /// unfrozen leaf.
    static func collector(for weight: Tensor) -> DeferredWeightGradients? {
        guard LeafAccumulation.isActive, let deferral = Thread.current.threadDictionary[key] as? DeferredWeightGradients,
            let node = weight.node, node.isLeaf, !node.frozen
        else { return nil }
        return deferral
    }

    /// Holds back `weight`'s gradient Gᵀ·X for G [rows, outputs] and X [rows, inputs].
    func record(weight: Tensor, outputGradient: Tensor, input: Tensor) {
        let key = ObjectIdentifier(weight.node!)
        if index[key] == nil {
            index[key] = pending.count
            pending.append(Pending(weight: weight))
        }
        pending[index[key]!].outputGradients.append(outputGradient)
        pending[index[key]!].inputs.append(input)
        pending[index[key]!].rows += outputGradient.shape[0]
    }

    /// Adds every held-back product into its weight's gradient (creating the gradient
    /// where the weight has none), weights in the order first recorded, rows in recording
    /// order; then holds nothing.
    public func flush() throws(TensorError) {
        defer {
            pending.removeAll()
            index.removeAll()
        }
        for entry in pending {
            let (outputs, inputs) = (entry.weight.shape[0], entry.weight.shape[1])
            let gradients = Self.stack(entry.outputGradients, rows: entry.rows, width: outputs)
            let values = Self.stack(entry.inputs, rows: entry.rows, width: inputs)
            let node = entry.weight.node!
            if let existing = node.grad {
                guard existing.shape == entry.weight.shape else {
                    throw TensorError(.shapeMismatch(operation: "deferred weight gradient", existing.shape, entry.weight.shape))
                }
                BLAS.sgemm(
                    transposeA: true, transposeB: false, m: outputs, n: inputs, k: entry.rows, a: gradients.base, b: values.base,
                    c: existing.storage.base, accumulate: true)
            } else {
                let total = Storage(count: outputs * inputs)
                BLAS.sgemm(
                    transposeA: true, transposeB: false, m: outputs, n: inputs, k: entry.rows, a: gradients.base, b: values.base,
                    c: total.base, accumulate: true)
                node.grad = Tensor(shape: entry.weight.shape, storage: total)
            }
        }
    }

    /// `parts`' rows one after another in one buffer (a single part is used as it is).
    private static func stack(_ parts: [Tensor], rows: Int, width: Int) -> Storage {
        if parts.count == 1 { return parts[0].storage }
        let stacked = Storage(uninitializedCount: rows * width)
        var offset = 0
        for part in parts {
            (stacked.base + offset).initialize(from: part.storage.base, count: part.count)
            offset += part.count
        }
        return stacked
    }
}
