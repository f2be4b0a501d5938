/// The query loss and accuracy a meta-training run reports: averaged over windows of a
/// twentieth of its meta-steps, so that progress notes and the final figure describe where
/// training is, not where it started. `meta-learn` and `prompt-tune`'s meta-training share it.
struct MetaStepWindow {
    let steps: Int
    let metaBatch: Int
    /// The last closed window's averages (per episode).
    private(set) var queryLoss = 0.0
    private(set) var queryAccuracy = 0.0
    private var loss = 0.0, accuracy = 0.0, count = 0

    init(steps: Int, metaBatch: Int) {
        self.steps = steps
        self.metaBatch = metaBatch
    }

    /// Adds one meta-step's summed [loss, accuracy] over its episodes; true when this step
    /// closed a window (time for a progress note).
    mutating func add(step: Int, statistics: [Float]) -> Bool {
        loss += Double(statistics[0]) / Double(metaBatch)
        accuracy += Double(statistics[1]) / Double(metaBatch)
        count += 1
        guard (step + 1) % max(1, steps / 20) == 0 || step + 1 == steps else { return false }
        queryLoss = loss / Double(count)
        queryAccuracy = accuracy / Double(count)
        (loss, accuracy, count) = (0, 0, 0)
        return true
    }

    /// The progress note for the window `step` closed, e.g. "meta-step 40/200: query loss
    /// 0.7, query accuracy 68.00% after adaptation (2 workers)".
    func note(step: Int, after adaptation: String, workers: Int) -> String {
        String(
            format: "meta-step %d/%d: query loss %.4f, query accuracy %.2f%% after %@%@", step + 1, steps, queryLoss, 100 * queryAccuracy,
            adaptation, workers > 1 ? " (\(workers) workers)" : "")
    }
}
