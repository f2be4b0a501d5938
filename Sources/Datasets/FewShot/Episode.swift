import Tensor

/// One N-way K-shot task: a support set to adapt on and a query set to score on.
///
/// Labels are 0..<ways in the order the classes were drawn; the support set is class-major
/// (class 0's shots, then class 1's, …), which prototypical networks rely on.
public struct Episode {
    public let ways: Int
    public let shots: Int
    public let support: Tensor
    public let supportLabels: [Int]
    public let query: Tensor
    public let queryLabels: [Int]
    /// The pool classes drawn, in label order.
    public let classes: [Int]
}
