import Datasets
import Foundation
import NN
import Tensor
import Wire

/// The transfer baseline: the same MLP trained as an ordinary classifier on every
/// meta-train class at once, then, for each test episode, a new head fine-tuned on the
/// support set (on the frozen body's features, or together with the body).
///
/// Every gang member pre-trains the same network from the same seed (deterministic, so
/// the copies are identical) rather than waiting on one member for the whole pre-training.
struct TransferBaseline {
    let task: Orrery_V1_Workloads_MetaLearnTask
    let body: any FunctionalNetwork
    let bodyParameters: [Tensor]

    /// Pre-trains `body` with a head over `classes` of the pool, with Adam (learning rate
    /// 0.001, batches of 64).
    init(task: Orrery_V1_Workloads_MetaLearnTask, body: any FunctionalNetwork, pool: ClassPool, classes: [Int], context: TaskContext) throws {
        self.task = task
        let network = body.withHead(classes.count)
        var generator = SplitMix64(seed: task.seed ^ 0x7A25_FE00)
        let parameters = network.initialParameters(using: &generator)
        let optimizer = Adam(parameters: parameters, learningRate: 0.001)
        let (images, labels) = Self.examples(pool, classes)
        let features = pool.features
        for epoch in 0..<Int(task.pretrainEpochs) {
            try context.checkCancellation()
            for batch in BatchSampler(count: labels.count, batchSize: 64, shuffle: true, seed: task.seed, epoch: epoch) {
                var rows = [Float]()
                rows.reserveCapacity(batch.count * features)
                for index in batch { rows += images[(index * features)..<((index + 1) * features)] }
                let x = Tensor(shape: [batch.count, features], storage: Storage(rows))
                parameters.forEach { $0.zeroGrad() }
                try Tensor.crossEntropy(logits: try network(x, parameters), targets: batch.map { labels[$0] }).backward()
                optimizer.step()
            }
        }
        self.body = body.withHead(nil)
        bodyParameters = Array(parameters[..<network.bodyParameterCount])
    }

    /// Query accuracy after `steps` SGD steps at `rate` on a new zero head alone
    /// (`wholeNetwork` false) or on the head and the pre-trained body together.
    func accuracy(_ episode: Episode, steps: Int, rate: Float, wholeNetwork: Bool) throws -> Float {
        let head = [Tensor.zeros([episode.ways, body.featureWidth]).requiringGrad(), Tensor.zeros([episode.ways]).requiringGrad()]
        let inner = InnerLoop(steps: steps, learningRate: rate)
        let network = body.withHead(episode.ways)
        if wholeNetwork {
            return try FirstOrderMAML(network: network, inner: inner).adaptedAccuracy(episode, parameters: bodyParameters + head)
        }
        return try ANIL(network: network, inner: inner).adaptedAccuracy(episode, parameters: bodyParameters + head)
    }

    /// Every image of `classes`, labelled by its class's position in `classes`.
    static func examples(_ pool: ClassPool, _ classes: [Int]) -> (images: [Float], labels: [Int]) {
        var images = [Float](), labels = [Int]()
        for (label, index) in classes.enumerated() {
            images += pool.classes[index].values
            labels += Array(repeating: label, count: pool.classes[index].count)
        }
        return (images, labels)
    }
}
