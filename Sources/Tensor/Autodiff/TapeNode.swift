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
    /// The gradient rule on raw kernels: fast, and recording nothing.
    let backward: Backward?
    /// The same rule written in recorded tensor operations, so that a backward pass run
    /// with `createGraph` builds a graph of its own and a gradient can be differentiated
    /// again (MAML's second order, Hessian-vector products). Nil for operations that
    /// have no second-order rule yet; such a backward with `createGraph` throws, naming
    /// the operation.
    let secondOrder: Backward?
    /// The operation's name, for that error.
    let name: String
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
        secondOrder = nil
        name = "leaf"
    }

    init(shape: Shape, inputs: [TapeNode?], name: String, backward: @escaping Backward, secondOrder: Backward?) {
        id = Self.counter.add(1, ordering: .relaxed).newValue
        self.shape = shape
        self.inputs = inputs
        self.name = name
        self.backward = backward
        self.secondOrder = secondOrder
    }

    var isLeaf: Bool { backward == nil }
}
