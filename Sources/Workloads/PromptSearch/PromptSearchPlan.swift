import Datasets
import Search
import Tensor

/// The validated settings of one prompt search, with its data: the task's fixed dev and
/// test splits and the demonstration pool set aside from dev.
struct PromptSearchPlan: Sendable {
    /// Every task is split once, with this seed, the same way for every job and machine:
    /// half dev, half test, stratified. The search only ever scores dev examples.
    static let splitSeed: UInt64 = 0x0D15_7E57

    let task: String
    let scorer: PromptScorer
    let modelSHA256: String
    let space: PromptSpace
    let strategy: PromptStrategy
    /// Dev examples scored, in a fixed shuffled order (halving's slices are its prefixes).
    let dev: LabeledText
    /// Examples demonstrations are drawn from; never scored.
    let pool: LabeledText
    let test: LabeledText
    /// Most dev evaluations (prompt × example, cache hits not counted) the search may plan.
    let budget: Int
    let batch: Int
    let concurrentTrials: Int
    let maxTextTokens: Int
    let recomputePrefix: Bool
    let top: Int
    let seed: UInt64
    let paraphrase: ParaphrasePlan?

    /// Meta-prompting: SmolLM2 rewrites each non-empty instruction `count` times before the
    /// search starts, and the rewrites join the space as more instructions.
    struct ParaphrasePlan: Sendable {
        let count: Int
        let temperature: Double
    }

    /// dev, pool and test out of a task, reproducibly: a fixed stratified half/half split,
    /// each half shuffled with the split seed; the pool is the first `poolPerClass` dev
    /// examples of each class, dev the next `devCount`, test the first `testCount`.
    static func splits(_ data: LabeledText, poolPerClass: Int, devCount: Int, testCount: Int) -> (dev: LabeledText, pool: LabeledText, test: LabeledText)? {
        let (devPart, testPart) = data.split(fraction: 0.5, seed: splitSeed)
        let devOrder = shuffled(devPart.count, seed: splitSeed &+ 1)
        var taken = [Int](repeating: 0, count: data.classes.count)
        var pool: [Int] = [], rest: [Int] = []
        for row in devOrder {
            let label = devPart.targets[row]
            if taken[label] < poolPerClass {
                taken[label] += 1
                pool.append(row)
            } else {
                rest.append(row)
            }
        }
        let testOrder = shuffled(testPart.count, seed: splitSeed &+ 2)
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
