/// One stage's work on one micro-batch.
public enum PipelineAction: Equatable, Sendable, CustomStringConvertible {
    /// Run the stage forward on micro-batch `m` and keep what its backward needs.
    case forward(Int)
    /// Run the stage backward on micro-batch `m`, freeing what its forward kept.
    case backward(Int)

    public var description: String {
        switch self {
        case .forward(let m): "F\(m)"
        case .backward(let m): "B\(m)"
        }
    }
}

/// The order in which a stage runs the forwards and backwards of one global batch's
/// micro-batches. Every schedule runs each micro-batch's forward before its backward, and
/// the backwards in micro-batch order 0, 1, …, M−1 on every stage, so that each
/// parameter's gradient is accumulated in the same order whichever schedule runs.
public enum PipelineSchedule: String, Sendable, CaseIterable {
    /// GPipe (Huang et al. 2019): every forward, then every backward. A stage keeps all M
    /// micro-batches' activations at the turn.
    case gpipe
    /// 1F1B (PipeDream-Flush, Narayanan et al. 2021): after a warm-up of S−s−1 forwards,
    /// stage s alternates one forward and one backward, so it keeps at most S−s.
    case oneForwardOneBackward = "1f1b"

    /// Stage `stage`'s actions, of `stages`, for `microBatches` micro-batches.
    public func actions(stage: Int, stages: Int, microBatches: Int) -> [PipelineAction] {
        precondition(stages >= 1 && (0..<stages).contains(stage) && microBatches >= 1)
        switch self {
        case .gpipe: return GPipe.actions(microBatches: microBatches)
        case .oneForwardOneBackward: return OneForwardOneBackward.actions(stage: stage, stages: stages, microBatches: microBatches)
        }
    }

    /// Micro-batches whose weight-gradient products a stage holds back and then adds in one
    /// product (`DeferredWeightGradients`): all M under GPipe, which keeps every
    /// micro-batch's activations until its backwards anyway; two under 1F1B, within the S ≥ 2
    /// it may keep. The same on every stage and for every stage count, so cutting a model
    /// into more or fewer stages changes no bit of its gradients.
    public func weightGradientGroup(microBatches: Int) -> Int {
        switch self {
        case .gpipe: microBatches
        case .oneForwardOneBackward: min(2, microBatches)
        }
    }

    /// The most micro-batches whose activations `actions` keep at once.
    public static func peakLiveMicroBatches(_ actions: [PipelineAction]) -> Int {
        var live = 0, peak = 0
        for action in actions {
            if case .forward = action { live += 1 } else { live -= 1 }
            peak = max(peak, live)
        }
        return peak
    }

    /// The idle fraction of a pipeline whose stages all take the same time per
    /// micro-batch and whose messages are free: (S−1)/(M+S−1), for both schedules.
    public static func idealBubble(stages: Int, microBatches: Int) -> Double {
        Double(stages - 1) / Double(microBatches + stages - 1)
    }
}
