import Datasets
import NN
import Tensor

/// ANIL (Raghu et al. 2020), first-order: the inner loop adapts only the head, on body
/// features of the support set; the meta-gradient is the query loss's gradient through the
/// body at the adapted head (exact for the body, first-order for the head).
struct ANIL: MetaAlgorithm {
    let network: any FunctionalNetwork
    let inner: InnerLoop

    func metaGradient(_ episode: Episode, parameters: [Tensor]) throws -> MetaGradient {
        let head = try adaptHead(episode, parameters)
        let body = Array(parameters[..<network.bodyParameterCount])
        let logits = try network.head(try network.body(episode.query, body), head[...])
        let loss = try Tensor.crossEntropy(logits: logits, targets: episode.queryLabels)
        try loss.backward()
        return MetaGradient(
            gradients: takeGradients(body) + takeGradients(head), queryLoss: loss.item,
            queryAccuracy: try EpisodeScore.accuracy(logits, episode.queryLabels))
    }

    func adaptedAccuracy(_ episode: Episode, parameters: [Tensor]) throws -> Float {
        let head = try adaptHead(episode, parameters)
        return try withNoGrad { () throws -> Float in
            let features = try network.body(episode.query, parameters)
            return try EpisodeScore.accuracy(try network.head(features, head[...]), episode.queryLabels)
        }
    }

    /// The head after the inner loop, on the support set's (fixed) body features.
    private func adaptHead(_ episode: Episode, _ parameters: [Tensor]) throws -> [Tensor] {
        let features = try withNoGrad { () throws -> Tensor in try network.body(episode.support, parameters) }
        return try inner.adapt(Array(parameters[network.bodyParameterCount...])) { head in
            try Tensor.crossEntropy(logits: try network.head(features, head[...]), targets: episode.supportLabels)
        }
    }
}
