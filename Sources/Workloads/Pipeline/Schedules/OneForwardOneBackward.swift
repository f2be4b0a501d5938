/// 1F1B's order for stage s of S: a warm-up of w = min(S−s−1, M) forwards, then pairs of
/// one forward and one backward while forwards remain, then the remaining backwards. The
/// last stage (w = 0) runs each backward right after its forward; the first keeps S
/// micro-batches in flight, which is what fills the pipeline.
enum OneForwardOneBackward {
    static func actions(stage: Int, stages: Int, microBatches: Int) -> [PipelineAction] {
        let warmUp = min(stages - stage - 1, microBatches)
        var actions = (0..<warmUp).map(PipelineAction.forward)
        var backward = 0
        for forward in warmUp..<microBatches {
            actions.append(.forward(forward))
            actions.append(.backward(backward))
            backward += 1
        }
        actions += (backward..<microBatches).map(PipelineAction.backward)
        return actions
    }
}
