/// GPipe's order: F0 F1 … F(M−1), then B0 B1 … B(M−1). (GPipe's paper runs the backwards
/// last-in first-out; Orrery runs them in micro-batch order so that gradients accumulate in
/// the order every schedule shares; the bubble is the same.)
enum GPipe {
    static func actions(microBatches: Int) -> [PipelineAction] {
        (0..<microBatches).map(PipelineAction.forward) + (0..<microBatches).map(PipelineAction.backward)
    }
}
