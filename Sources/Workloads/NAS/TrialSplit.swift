import Tensor

/// Which training images a NAS trial trains on and which it scores on: a seeded
/// permutation of the training split, whose first `dev` images are the dev split and whose
/// next `trainLimit` (or all the rest) are trained on. The same seed gives the same split on
/// every worker, so every trial of a search is scored on the same dev images, and the test
/// split is never among them.
struct TrialSplit: Equatable {
    let train: [Int]
    let dev: [Int]

    init(count: Int, dev: Int, trainLimit: Int, seed: UInt64) throws(TaskError) {
        guard dev < count else {
            throw TaskError("nas trial: dev_examples \(dev) leaves nothing to train on (the training split has \(count))", retryable: false)
        }
        var order = Array(0..<count)
        var generator = SplitMix64(seed: seed)
        for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, Int(generator.next() % UInt64(i + 1))) }
        self.dev = Array(order[..<dev])
        let rest = order[dev...]
        self.train = Array(trainLimit > 0 ? rest.prefix(trainLimit) : rest)
    }

    /// Every image trained on, none held out: a final retraining's split.
    init(everything count: Int) {
        train = Array(0..<count)
        dev = []
    }
}
