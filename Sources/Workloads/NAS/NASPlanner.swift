import Foundation
import Search
import Tensor
import Wire

/// Plans an architecture search on the coordinator: keeps `parallel` trials in flight,
/// asks the strategy for the next whenever one ends, continues promoted trials from their
/// checkpoints, and when the search is over retrains the best `final.top` configurations
/// on all training data and scores them on the test split (the only time it is touched).
///
/// The strategy's state (rungs, population, front) lives here and is rebuilt by replaying
/// outcomes in order (the planner contract), so a restarted coordinator resumes the search
/// where it stood; checkpoints of promotable trials travel inside the outcomes it replays.
final class NASPlanner: Planner {
    enum Phase: String { case searching, retraining, done }

    let plan: NASPlan
    private(set) var phase: Phase = .searching
    private var strategy: any SearchStrategy<Configuration>
    private(set) var leaderboard = Leaderboard<Configuration>()
    private(set) var records: [NASTrialRecord] = []
    private var index: [Configuration: Int] = [:]
    /// Trials in flight, by task key.
    private var open: [String: Trial<Configuration>] = [:]
    private var finalOpen: [String: Int] = [:]
    private(set) var finals: [NASFinalRecord] = []
    private(set) var epochsTrained = 0
    /// Epochs trained a second time: promoted trials that found their state neither kept on
    /// their worker nor in their lease (a kept state evicted, say), so they started over.
    private(set) var epochsRetrained = 0
    /// Promoted trials (with a kept state) that ran on the worker keeping it, and elsewhere.
    private(set) var promotionsOnKeeper = 0
    private(set) var promotionsElsewhere = 0
    /// The worker keeping the state each open promoted trial continues, by task key.
    private var keepers: [String: String] = [:]
    private(set) var trialsFailed = 0
    private(set) var firstFailure: String?
    /// When each successful task ran, on which worker (for the idle time between trials).
    private(set) var spans: [WorkerSpan] = []

    init(plan: NASPlan) {
        self.plan = plan
        strategy = Self.makeStrategy(plan)
    }

    static func makeStrategy(_ plan: NASPlan) -> any SearchStrategy<Configuration> {
        let space = plan.space
        let sample: @Sendable (inout SplitMix64) -> Configuration = { space.sample(using: &$0) }
        switch plan.strategy {
        case .random:
            return RandomSearch(count: plan.fullTrials, budget: plan.epochs, seed: plan.seed, sample: sample)
        case .evolution:
            return RegularizedEvolution(
                count: plan.fullTrials, budget: plan.epochs, populationSize: plan.population, tournamentSize: plan.tournament,
                seed: plan.seed, sample: sample, mutate: { space.mutate($0, using: &$1) })
        case .asha:
            return AsynchronousHalving(
                minimumBudget: plan.minimumEpochs, maximumBudget: plan.epochs, reduction: plan.reduction, totalBudget: plan.budget,
                seed: plan.seed, sample: sample)
        case .hyperband:
            return Hyperband(
                minimumBudget: plan.minimumEpochs, maximumBudget: plan.epochs, reduction: plan.reduction, totalBudget: plan.budget,
                seed: plan.seed, sample: sample)
        }
    }

    func start() -> [PlannedTask] { fill() }

    func consume(_ outcome: TaskOutcome) -> [PlannedTask] {
        if let trial = open.removeValue(forKey: outcome.key) {
            if let keeper = keepers.removeValue(forKey: outcome.key), case .success = outcome.result {
                if keeper == outcome.workerID { promotionsOnKeeper += 1 } else { promotionsElsewhere += 1 }
            }
            record(trial, outcome)
        } else if let rank = finalOpen.removeValue(forKey: outcome.key) {
            recordFinal(rank, outcome)
        }
        return fill()
    }

    // MARK: Trials

    private func record(_ trial: Trial<Configuration>, _ outcome: TaskOutcome) {
        let id = index[trial.candidate]!
        switch outcome.result {
        case .success(let output):
            guard let result = try? EnvelopeCodec.decodePayload(Orrery_V1_Workloads_NasTrialResult.self, from: output.payload),
                result.devAccuracy.count == trial.budget, result.devAccuracy.allSatisfy({ $0.isFinite && (0...1).contains($0) }),
                result.keptCheckpoint.utf8.count <= NASTrialRules.maximumKeptIDBytes
            else {
                fail(trial, id, "task \(outcome.key): its result does not hold \(trial.budget) dev accuracies in [0, 1] (or names a kept checkpoint over \(NASTrialRules.maximumKeptIDBytes) bytes)")
                return
            }
            spans.append(WorkerSpan(worker: outcome.workerID, start: result.startedUnixMs, end: result.finishedUnixMs))
            epochsTrained += trial.budget - records[id].epochs
            if result.resumedAtEpoch > records[id].epochs { records[id].resumed = true }
            epochsRetrained += max(0, records[id].epochs - Int(result.resumedAtEpoch))
            records[id].epochs = trial.budget
            records[id].curve = result.devAccuracy
            records[id].parameters = MetricValue.count(Double(result.parameters))
            records[id].latencyMs = MetricValue.amount(result.latencyMs)
            records[id].seconds += MetricValue.amount(result.seconds)
            records[id].state = promotable(trial) ? Self.savedState(result, outcome) : nil
            strategy.tell(trial, score: result.devAccuracy.last!)
            leaderboard.record(trial, score: result.devAccuracy.last!)
        case .failure(let message):
            fail(trial, id, "task \(outcome.key): \(message)")
        }
    }

    /// A trial that failed for good: the strategy hears the worst score (so it moves on),
    /// the leaderboard nothing.
    private func fail(_ trial: Trial<Configuration>, _ id: Int, _ message: String) {
        trialsFailed += 1
        records[id].failed = true
        records[id].state = nil
        if firstFailure == nil { firstFailure = message }
        strategy.tell(trial, score: -1)
    }

    /// Asks for trials while there is room; moves to retraining once the search is over.
    private func fill() -> [PlannedTask] {
        var tasks: [PlannedTask] = []
        while phase == .searching, open.count < plan.parallel, let trial = strategy.ask() {
            tasks.append(trialTask(trial))
        }
        if phase == .searching && open.isEmpty {
            phase = .retraining
            tasks += finalTasks()
        }
        if phase == .retraining && finalOpen.isEmpty { phase = .done }
        return tasks
    }

    private func trialTask(_ trial: Trial<Configuration>) -> PlannedTask {
        let id: Int
        if let known = index[trial.candidate] {
            id = known
        } else {
            id = records.count
            index[trial.candidate] = id
            records.append(NASTrialRecord(id: id, configuration: trial.candidate))
        }
        var task = baseTask(trial.candidate)
        var (preferred, startsFrom): (String?, String?) = (nil, nil)
        switch records[id].state {
        case .bytes(let checkpoint):
            task.startEpoch = UInt32(records[id].epochs)
            task.checkpoint = checkpoint
        case .kept(let keptID, let worker, let earlier):
            task.startEpoch = UInt32(records[id].epochs)
            task.keptCheckpoint = keptID
            (preferred, startsFrom) = (worker, earlier)
        case nil:
            task.startEpoch = 0
        }
        records[id].state = nil  // it travels with the task now
        task.endEpoch = UInt32(trial.budget)
        task.horizonEpochs = UInt32(plan.epochs)
        task.returnCheckpoint = promotable(trial) && plan.promotionState == .returned
        task.keepCheckpoint = promotable(trial) && plan.promotionState == .kept
        let key = "trial-\(id)-e\(trial.budget)"
        open[key] = trial
        if let preferred { keepers[key] = preferred }
        return PlannedTask(key: key, payload: EnvelopeCodec.encodePayload(task), preferredWorker: preferred, startsFrom: startsFrom)
    }

    /// Whether a later rung could continue `trial`, so its state must be kept.
    private func promotable(_ trial: Trial<Configuration>) -> Bool {
        plan.strategy.promotes && trial.budget < plan.epochs
    }

    /// Where a result says the trial's state is: in it, or kept by the worker that sent it
    /// (a copy following as the task's final checkpoint).
    private static func savedState(_ result: Orrery_V1_Workloads_NasTrialResult, _ outcome: TaskOutcome) -> SavedState? {
        if !result.checkpoint.isEmpty { return .bytes(result.checkpoint) }
        if !result.keptCheckpoint.isEmpty { return .kept(id: result.keptCheckpoint, worker: outcome.workerID, task: outcome.key) }
        return nil
    }

    private func baseTask(_ configuration: Configuration) -> Orrery_V1_Workloads_NasTrialTask {
        var task = Orrery_V1_Workloads_NasTrialTask()
        task.dataset = plan.dataset
        task.settings = Dictionary(uniqueKeysWithValues: configuration.settings.map { ($0.name, $0.value.description) })
        task.seed = plan.seed
        task.devExamples = UInt32(plan.devExamples)
        task.splitSeed = plan.splitSeed
        task.trainLimit = UInt32(plan.trainLimit)
        task.schedule = plan.schedule
        task.latencyRuns = UInt32(plan.latencyRuns)
        return task
    }

    // MARK: Final retraining

    /// The best configurations at the largest budget reached, retrained from scratch on all
    /// training data for `final.epochs`; the first is the winner (chosen on dev, never test).
    private func finalTasks() -> [PlannedTask] {
        guard let final = plan.final else { return [] }
        return ranked.prefix(final.top).enumerated().map { rank, entry in
            var task = baseTask(entry.configuration)
            task.final = true
            task.endEpoch = UInt32(final.epochs)
            task.horizonEpochs = UInt32(final.epochs)
            if rank == 0, let save = final.save { task.savePath = save }
            let key = "final-\(rank + 1)"
            finalOpen[key] = rank
            finals.append(NASFinalRecord(rank: rank + 1, configuration: entry.configuration, devAccuracy: entry.score, savedTo: task.savePath.isEmpty ? nil : task.savePath))
            return PlannedTask(key: key, payload: EnvelopeCodec.encodePayload(task))
        }
    }

    private func recordFinal(_ rank: Int, _ outcome: TaskOutcome) {
        switch outcome.result {
        case .success(let output):
            guard let result = try? EnvelopeCodec.decodePayload(Orrery_V1_Workloads_NasTrialResult.self, from: output.payload),
                result.testAccuracy.isFinite, (0...1).contains(result.testAccuracy)
            else {
                finals[rank].failure = "its result holds no test accuracy in [0, 1]"
                return
            }
            finals[rank].testAccuracy = result.testAccuracy
            finals[rank].parameters = MetricValue.count(Double(result.parameters))
            finals[rank].latencyMs = MetricValue.amount(result.latencyMs)
            finals[rank].seconds = MetricValue.amount(result.seconds)
        case .failure(let message):
            finals[rank].failure = message
        }
    }

    // MARK: Standing

    /// Configurations by dev accuracy at their largest budget (larger budgets first).
    var ranked: [(configuration: Configuration, score: Double, epochs: Int)] {
        leaderboard.ranked.map { ($0.candidate, $0.score, $0.budget) }
    }

    func trial(_ configuration: Configuration) -> NASTrialRecord? { index[configuration].map { records[$0] } }

    var isComplete: Bool { phase == .done }

    var failureReason: String? {
        guard leaderboard.ranked.isEmpty, trialsFailed > 0 else { return nil }
        return "every trial failed; first: \(firstFailure ?? "")"
    }

    var expectedTaskCount: Int? {
        let finals = plan.final?.top ?? 0
        switch plan.strategy {
        case .random, .evolution: return plan.fullTrials + finals
        case .asha, .hyperband: return nil
        }
    }

    var plannedCost: String? {
        let final = plan.final.map { ", then \($0.top) retraining(s) of \($0.epochs) epochs on all training data" } ?? ""
        return "at most \(plan.budget) trial epochs (\(plan.strategy.rawValue), trials up to \(plan.epochs) epochs)\(final)"
    }

    /// Nil until the first trial ends, so that the running trials' own notes ("epoch 2/9: …")
    /// show meanwhile.
    var statusLine: String? {
        guard !leaderboard.ranked.isEmpty || phase != .searching else { return nil }
        let best = ranked.first.map { String(format: ", best dev %.2f%% at %d epochs", 100 * $0.score, $0.epochs) } ?? ""
        switch phase {
        case .searching: return "\(records.count) trials, \(epochsTrained)/\(plan.budget) epochs\(best)"
        case .retraining: return "retraining \(finals.count) on all training data\(best)"
        case .done: return "done: \(records.count) trials\(best)"
        }
    }

    func report() -> JobReport { NASReport(planner: self).make() }
}
