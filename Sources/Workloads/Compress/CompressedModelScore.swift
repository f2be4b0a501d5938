import Datasets
import NN
import Tensor
import Wire

/// What every compressed model is judged by, measured the same way for all: test accuracy,
/// the bytes it would be stored in, the parameters and multiply-adds it computes with, and
/// its median batch-1 latency in this process.
enum CompressedModelScore {
    /// How a model's weights are stored, which decides its bytes.
    enum Storage {
        case float32
        /// Linear layers' int8 values and row scales; everything else float32.
        case int8
        /// Pruned weights in compressed sparse rows (see `MagnitudePruning.sparseBytes`).
        case sparse
    }

    static func measure(_ model: Sequential, storage: Storage, test: LabeledImages, latencyRuns: Int) throws -> Orrery_V1_Workloads_CompressResult {
        var result = Orrery_V1_Workloads_CompressResult()
        result.testAccuracy = try ClassifierEvaluation.evaluate(model, on: test).accuracy
        result.parameters = UInt64(model.parameterCount)
        result.bytes = UInt64(bytes(model, storage: storage))
        result.multiplyAdds = UInt64(MultiplyAdds.count(model, input: [test.imageShape.reduce(1, *)]).multiplyAdds)
        result.latencyMs = try InferenceLatency.median(model, image: test.batch([0]).images, runs: latencyRuns)
        return result
    }

    static func bytes(_ model: Sequential, storage: Storage) -> Int {
        switch storage {
        case .float32: return 4 * model.parameterCount
        case .sparse: return MagnitudePruning.sparseBytes(model)
        case .int8:
            return model.namedParameters().reduce(0) { $0 + 4 * $1.tensor.count }
                - model.layers.compactMap { ($0 as? Linear)?.int8Weight }.reduce(0) { $0 + 4 * $1.rows * $1.columns - $1.byteCount }
        }
    }
}
