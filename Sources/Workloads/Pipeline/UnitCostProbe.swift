import Foundation
import Runtime
import Tensor

/// Each unit's forward+backward time on one micro-batch, measured here: what an automatic
/// partition balances. The median of a few repetitions after a warm-up, so that a first
/// call's allocations and a noisy neighbour count less.
enum UnitCostProbe {
    static func measure(_ model: any PipelineModel, batch: PipelineBatch, repetitions: Int = 3) throws -> [Double] {
        var input = try model.input(batch)
        var costs: [Double] = []
        for unit in 0..<model.unitCount {
            var samples: [Double] = []
            for repetition in 0...repetitions {
                let started = MonotonicClock.nanoseconds
                let x = input.detached().requiringGrad()
                var y = try model.forward(unit: unit, x, batch)
                if unit == model.unitCount - 1 { y = try model.loss(y, batch) }
                try y.backward(seed: .full(1, y.shape))
                if repetition > 0 { samples.append(Double(MonotonicClock.nanoseconds - started) / 1e9) }
            }
            costs.append(samples.sorted()[samples.count / 2])
            model.parameters(ofUnit: unit).forEach { $0.tensor.zeroGrad() }
            if unit < model.unitCount - 1 { input = try withNoGrad { () throws in try model.forward(unit: unit, input, batch) } }
        }
        return costs
    }
}
