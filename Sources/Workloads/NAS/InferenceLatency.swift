import Dispatch
import NN
import Tensor

/// Batch-1 inference time of a model in this process: a few warm-up passes, then the
/// median of `runs` timed forward passes without recording gradients. The median, because a
/// shared machine's other processes only ever add time.
enum InferenceLatency {
    static func median(_ model: some Layer, image: Tensor, runs: Int) throws -> Double {
        model.train(false)
        defer { model.train(true) }
        return try withNoGrad { () throws -> Double in
            for _ in 0..<min(5, runs) { _ = try model(image) }
            var times: [Double] = []
            times.reserveCapacity(runs)
            for _ in 0..<runs {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = try model(image)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
            times.sort()
            return times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
        }
    }
}
