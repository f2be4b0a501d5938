import Synchronization

/// One recorded operation (or a leaf) on the autodiff tape.
///
/// A node remembers the nodes of its inputs and a closure that turns the gradient of its
/// output into gradients of its inputs. Nodes are numbered in creation order, which is a
/// topological order: an operation's node is always made after its inputs' nodes.
final class TapeNode {
    /// Sends an output gradient back: `needs[i]` says whether input i wants a gradient;
    /// the result has one entry per input (nil where not needed).
    typealias Backward = (_ outputGradient: Tensor, _ needs: [Bool]) throws(TensorError) -> [Tensor?]

    private static let counter = Atomic<UInt64>(0)

    let id: UInt64
    let shape: Shape
    let inputs: [TapeNode?]
    let backward: Backward?
    /// Accumulated gradient; leaves keep it across `backward()` calls until `zeroGrad()`.
    var grad: Tensor?
    /// A frozen leaf takes no gradient: operations on it record nothing for it, so a
    /// pretrained model's weights cost no backward work while its inputs still get theirs.
    var frozen = false

    init(leafOf shape: Shape) {
        id = Self.counter.add(1, ordering: .relaxed).newValue
        self.shape = shape
        inputs = []
        backward = nil
    }

    init(shape: Shape, inputs: [TapeNode?], backward: @escaping Backward) {
        id = Self.counter.add(1, ordering: .relaxed).newValue
        self.shape = shape
        self.inputs = inputs
        self.backward = backward
    }

    var isLeaf: Bool { backward == nil }
}
