import Datasets
import Tensor

/// How a prompt search divides a task: every task is split once, with a fixed seed, the
/// same way for every job and machine: half dev, half test, stratified, each half shuffled.
/// The demonstration pool is the first `pool` dev examples of each class; the scored dev
/// examples are the next `dev`; the test examples the first `test` of the test half. The
/// search only ever scores dev examples, and halving's slices are prefixes of dev.
public enum PromptSearchSplits {
    public static let seed: UInt64 = 0x0D15_7E57

    /// The three parts, or nil when the task is too small for the sizes asked. Another
    /// `seed` gives another split (prompt tuning's resampled few-shot problems).
    public static func parts(_ data: LabeledText, pool poolPerClass: Int, dev devCount: Int, test testCount: Int, seed: UInt64 = seed)
        -> (dev: LabeledText, pool: LabeledText, test: LabeledText)?
    {
        let (devPart, testPart) = data.split(fraction: 0.5, seed: seed)
        var taken = [Int](repeating: 0, count: data.classes.count)
        var pool: [Int] = [], rest: [Int] = []
        for row in shuffled(devPart.count, seed: seed &+ 1) {
            let label = devPart.targets[row]
            if taken[label] < poolPerClass {
                taken[label] += 1
                pool.append(row)
            } else {
                rest.append(row)
            }
        }
        let testOrder = shuffled(testPart.count, seed: seed &+ 2)
        guard rest.count >= devCount, testOrder.count >= testCount else { return nil }
        return (
            devPart.subset(Array(rest.prefix(devCount))), devPart.subset(pool, name: "\(data.name)/pool"),
            testPart.subset(Array(testOrder.prefix(testCount)))
        )
    }

    static func shuffled(_ count: Int, seed: UInt64) -> [Int] {
        var generator = SplitMix64(seed: seed)
        var order = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, Int(generator.next() % UInt64(i + 1))) }
        return order
    }
}
