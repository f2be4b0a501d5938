import Foundation
import Runtime
import Search
import Wire

/// A `prompt-tune` job's report. Tuning: one row per variant — held-out test accuracy with
/// its 95% interval, and the paired difference against the untuned discrete prompt on the
/// same examples — then every pair of variants' paired difference. With one problem the
/// intervals are over its test examples (pooled over seeds); with many (N-way problems
/// drawn from held-out classes) a run's accuracy is the unit and the intervals are over
/// runs. Files: `runs.csv` (every run) and `pairs.csv` (every pair). Meta-training: what
/// the initialization reached and where it was saved. Distillation: the teacher is a row
/// too, and every row is also set against it — accuracy paired on the same test examples,
/// and test texts per second as a multiple of the teacher's; a variant scored again in
/// int8 is a row of its own ("… (int8)").
struct PromptTuneReport {
    let results: [(task: Orrery_V1_Workloads_PromptTuneTask, result: Orrery_V1_Workloads_PromptTuneResult?)]

    struct Row: Encodable {
        let variant: String
        let runs: Int
        let accuracy: ConfidenceInterval
        let versusDiscrete: ConfidenceInterval
        let discreteAccuracy: Double
        let searchReportedAccuracy: Double?
        let meanSeconds: Double
        let trainableParameters: Int
        /// Test texts per second (mean over runs; rank 0's share, one thread per worker).
        let textsPerSecond: Double
        /// With a teacher: this row minus the teacher on the same test examples, and its
        /// speed as a multiple of the teacher's.
        let versusTeacher: ConfidenceInterval?
        let speedup: Double?
    }

    struct Pair: Encodable {
        let first: String
        let second: String
        let difference: ConfidenceInterval
    }

    /// One run, as the JSON lists it.
    struct Run: Encodable {
        let variant: String
        let problem: String
        let seed: UInt64
        let accuracy: Double
        let discreteAccuracy: Double
        let workers: Int
        let resumedAt: Int
        let savedSHA256: String
    }

    struct Summary: Encodable {
        let model: String
        let problems: Int
        let seeds: Int
        let intervalsOver: String
        let rows: [Row]
        let pairs: [Pair]
        let runs: [Run]
    }

    /// The finished runs (multi-task runs split by task, int8 scorings as runs of their own).
    private var done: [(Orrery_V1_Workloads_PromptTuneTask, Orrery_V1_Workloads_PromptTuneResult)] {
        results.flatMap { entry in entry.result.map { Self.perProblem(entry.task, $0).flatMap(Self.withInt8) } ?? [] }
    }

    /// One row per variant, in the order the variants were planned (none for meta-training).
    func rows() -> [Row] {
        guard !(results.first?.task.hasMeta ?? false) else { return [] }
        return rows(done)
    }

    /// The finished runs by variant, the variants in planned order; and whether the
    /// intervals are over runs (many problems) or over test examples (one).
    private struct Grouped {
        let variants: [String]
        let byVariant: [String: [Orrery_V1_Workloads_PromptTuneResult]]
        let overRuns: Bool

        init(_ done: [(Orrery_V1_Workloads_PromptTuneTask, Orrery_V1_Workloads_PromptTuneResult)]) {
            var variants: [String] = []
            for (task, _) in done where !variants.contains(task.variant) { variants.append(task.variant) }
            self.variants = variants
            byVariant = Dictionary(grouping: done, by: { $0.0.variant }).mapValues { $0.map(\.1) }
            overRuns = Set(done.map { $0.1.problem }).count > 1
        }
    }

    private func rows(_ done: [(Orrery_V1_Workloads_PromptTuneTask, Orrery_V1_Workloads_PromptTuneResult)]) -> [Row] {
        let grouped = Grouped(done)
        let teacher = done.first { $0.0.method == "teacher" }?.1
        return grouped.variants.map { variant in row(variant, grouped.byVariant[variant]!, overRuns: grouped.overRuns, teacher: teacher) }
    }

    func jobReport() -> JobReport {
        if let meta = results.first, meta.task.hasMeta { return metaReport(meta.task, meta.result) }
        let done = done
        guard let first = done.first(where: { $0.0.method != "teacher" }) ?? done.first else {
            return JobReport(text: "prompt-tune: no run finished", json: "{}")
        }
        let problems = Set(done.map { $0.1.problem }).count
        let grouped = Grouped(done)
        let (byVariant, overRuns) = (grouped.byVariant, grouped.overRuns)
        let rows = rows(done)
        var pairs: [Pair] = []
        // Every pair of variants, but the teacher (set against each row on its own) and an
        // int8 run (set against its own float32 run only).
        let compared = grouped.variants.filter { $0 != "teacher" && !$0.hasSuffix(Self.int8Suffix) }
        for (i, a) in compared.enumerated() {
            for b in compared[(i + 1)...] + (byVariant[a + Self.int8Suffix] == nil ? [] : [a + Self.int8Suffix]) {
                if let difference = pairedDifference(byVariant[a]!, byVariant[b]!, overRuns: overRuns) {
                    pairs.append(Pair(first: a, second: b, difference: difference))
                }
            }
        }
        let summary = Summary(
            model: first.0.model, problems: problems, seeds: Set(done.map { $0.1.seed }).count,
            intervalsOver: overRuns ? "runs" : "test examples", rows: rows, pairs: pairs,
            runs: done.map { _, run in
                Run(
                    variant: run.variant, problem: run.problem, seed: run.seed, accuracy: Self.accuracy(run.hits),
                    discreteAccuracy: Self.accuracy(run.discreteHits), workers: Int(run.workers), resumedAt: Int(run.resumedAt),
                    savedSHA256: run.savedSha256)
            })
        return JobReport(text: text(summary, task: first.0), json: ReportJSON.encode(summary), files: ["runs.csv": runsCSV(done), "pairs.csv": pairsCSV(pairs)])
    }

    private func row(_ variant: String, _ runs: [Orrery_V1_Workloads_PromptTuneResult], overRuns: Bool, teacher: Orrery_V1_Workloads_PromptTuneResult?) -> Row {
        let hits = runs.flatMap(\.hits), discrete = runs.flatMap(\.discreteHits)
        let accuracy = overRuns ? .mean(runs.map { Self.accuracy($0.hits) }) : ConfidenceInterval.wilson(successes: hits.filter { $0 }.count, trials: hits.count)
        let versus = overRuns
            ? .mean(runs.map { Self.accuracy($0.hits) - Self.accuracy($0.discreteHits) })
            : ConfidenceInterval.pairedDifference(hits, discrete)
        let reported = runs.compactMap { $0.searchReportedAccuracy > 0 ? $0.searchReportedAccuracy : nil }.first
        let rate = runs.map(\.textsPerSecond).reduce(0, +) / Double(max(1, runs.count))
        // The teacher is deterministic: every seed's run is paired with its one run.
        let paired = runs.filter { $0.problem == teacher?.problem && $0.hits.count == teacher?.hits.count }
        let versusTeacher = teacher.flatMap { teacher in
            paired.isEmpty ? nil : ConfidenceInterval.pairedDifference(paired.flatMap(\.hits), paired.flatMap { _ in teacher.hits })
        }
        return Row(
            variant: variant, runs: runs.count, accuracy: accuracy, versusDiscrete: versus, discreteAccuracy: Self.accuracy(discrete),
            searchReportedAccuracy: reported, meanSeconds: runs.map(\.seconds).reduce(0, +) / Double(max(1, runs.count)),
            trainableParameters: Int(runs.first?.trainableParameters ?? 0), textsPerSecond: rate, versusTeacher: versusTeacher,
            speedup: teacher.flatMap { $0.textsPerSecond > 0 && rate > 0 ? rate / $0.textsPerSecond : nil })
    }

    static let int8Suffix = " (int8)"

    /// A run scored again in int8 as a run of its own variant, "… (int8)", after the run.
    static func withInt8(
        _ entry: (Orrery_V1_Workloads_PromptTuneTask, Orrery_V1_Workloads_PromptTuneResult)
    ) -> [(Orrery_V1_Workloads_PromptTuneTask, Orrery_V1_Workloads_PromptTuneResult)] {
        guard !entry.1.int8Hits.isEmpty else { return [entry] }
        var (task, run) = entry
        task.variant += int8Suffix
        run.variant = task.variant
        (run.hits, run.textsPerSecond) = (run.int8Hits, run.int8TextsPerSecond)
        (run.int8Hits, run.int8TextsPerSecond, run.savedSha256) = ([], 0, "")
        return [entry, (task, run)]
    }

    /// a − b over the runs both have (same problem and seed), nil when none match.
    private func pairedDifference(_ a: [Orrery_V1_Workloads_PromptTuneResult], _ b: [Orrery_V1_Workloads_PromptTuneResult], overRuns: Bool) -> ConfidenceInterval? {
        let byRun = Dictionary(b.map { ("\($0.problem)#\($0.seed)", $0) }, uniquingKeysWith: { first, _ in first })
        let matched = a.compactMap { run in byRun["\(run.problem)#\(run.seed)"].map { (run, $0) } }.filter { $0.0.hits.count == $0.1.hits.count }
        guard !matched.isEmpty else { return nil }
        if overRuns { return .mean(matched.map { Self.accuracy($0.0.hits) - Self.accuracy($0.1.hits) }) }
        return .pairedDifference(matched.flatMap(\.0.hits), matched.flatMap(\.1.hits))
    }

    /// A multi-task run as one run per problem (so it pairs with one-prompt-per-task runs).
    static func perProblem(
        _ task: Orrery_V1_Workloads_PromptTuneTask, _ result: Orrery_V1_Workloads_PromptTuneResult
    ) -> [(Orrery_V1_Workloads_PromptTuneTask, Orrery_V1_Workloads_PromptTuneResult)] {
        guard !result.parts.isEmpty else { return [(task, result)] }
        return result.parts.map { part in
            var run = result
            (run.problem, run.hits, run.discreteHits) = (part.problem, part.hits, part.discreteHits)
            run.parts = []
            return (task, run)
        }
    }

    static func accuracy(_ hits: [Bool]) -> Double { hits.isEmpty ? 0 : Double(hits.filter { $0 }.count) / Double(hits.count) }

    private func text(_ summary: Summary, task: Orrery_V1_Workloads_PromptTuneTask) -> String {
        let first = task.joint.first ?? task.problem
        let problem =
            summary.problems == 1 ? PromptProblem.name(first, classes: first.classes)
            : first.classSplit.isEmpty ? "\(summary.problems) tasks"
            : "\(summary.problems) \(first.ways)-way problems from \(first.task) \(first.classSplit)"
        var lines = [
            "prompt-tune, \(summary.model), \(problem), \(first.shots) shots a class, \(summary.seeds) seed(s); held-out test accuracy, 95% interval over \(summary.intervalsOver):",
            "  variant                      accuracy                  vs discrete prompt         params   s/run   texts/s",
        ]
        for row in summary.rows {
            let name = row.variant.padding(toLength: max(row.variant.count, 26), withPad: " ", startingAt: 0)
            if row.variant == "teacher" {
                lines.append(String(
                    format: "  %@ %6.2f%% [%6.2f, %6.2f]   (its own prompt)           %7d  %6.1f  %8.1f", name, 100 * row.accuracy.estimate,
                    100 * row.accuracy.lower, 100 * row.accuracy.upper, 0, row.meanSeconds, row.textsPerSecond))
                continue
            }
            var line = String(
                format: "  %@ %6.2f%% [%6.2f, %6.2f]   %+6.2f [%+6.2f, %+6.2f]   %7d  %6.1f", name, 100 * row.accuracy.estimate,
                100 * row.accuracy.lower, 100 * row.accuracy.upper, 100 * row.versusDiscrete.estimate, 100 * row.versusDiscrete.lower,
                100 * row.versusDiscrete.upper, row.trainableParameters, row.meanSeconds)
            line += String(format: "  %8.1f", row.textsPerSecond)
            if let reported = row.searchReportedAccuracy { line += String(format: "   (prompt search reported %.2f%% for its winner)", 100 * reported) }
            lines.append(line)
        }
        if let discrete = summary.rows.first(where: { $0.variant != "teacher" })?.discreteAccuracy {
            lines.append(String(format: "  the discrete prompt alone (template and class descriptions, untuned): %.2f%%", 100 * discrete))
        }
        lines += choices()
        let teacherTask = results.first { $0.task.method == "teacher" }?.task
        if let teacherTask, let teacher = summary.rows.first(where: { $0.variant == "teacher" }) {
            lines.append(String(
                format: "distilled from %@ (template %@, %@), which labeled %d unlabeled training texts (T = %g, α = %g): %.2f%% at %.1f texts/s; against it:",
                teacherTask.model, PrintableText.escaped(teacherTask.template, limit: 60),
                teacherTask.init_p.path.isEmpty ? "no soft prompt" : "soft prompt \(teacherTask.init_p.path)", teacherTask.distill.unlabeled,
                teacherTask.distill.temperature, teacherTask.distill.alpha, 100 * teacher.accuracy.estimate, teacher.textsPerSecond))
            for row in summary.rows where row.variant != "teacher" {
                guard let versus = row.versusTeacher else { continue }
                lines.append(String(
                    format: "  %@ %+6.2f [%+6.2f, %+6.2f] points, %6.1f× the teacher's texts/s",
                    row.variant.padding(toLength: max(row.variant.count, 26), withPad: " ", startingAt: 0), 100 * versus.estimate,
                    100 * versus.lower, 100 * versus.upper, row.speedup ?? 0))
            }
        }
        if !summary.pairs.isEmpty {
            lines.append("paired differences (first − second), points:")
            for pair in summary.pairs {
                lines.append(String(
                    format: "  %@ − %@: %+6.2f [%+6.2f, %+6.2f]", pair.first, pair.second, 100 * pair.difference.estimate,
                    100 * pair.difference.lower, 100 * pair.difference.upper))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// What each discrete-search variant chose: its most frequent prompts over the runs,
    /// and the mean accuracy on the shots it chose by.
    private func choices() -> [String] {
        let searched = results.compactMap(\.result).filter { !$0.chosenPrompt.isEmpty }
        var variants: [String] = []
        for run in searched where !variants.contains(run.variant) { variants.append(run.variant) }
        return variants.flatMap { variant -> [String] in
            let runs = searched.filter { $0.variant == variant }
            let counts = Dictionary(grouping: runs, by: \.chosenPrompt).mapValues(\.count)
            let top = counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(3)
            let shots = runs.reduce(0) { $0 + $1.chosenTrainAccuracy } / Double(runs.count)
            return [String(format: "%@ chose, over %d runs (mean accuracy on the shots it chose by %.2f%%):", variant, runs.count, 100 * shots)]
                + top.map { "  \($0.value)× \(PrintableText.escaped($0.key, limit: 160))" }
        }
    }

    private func runsCSV(_ done: [(Orrery_V1_Workloads_PromptTuneTask, Orrery_V1_Workloads_PromptTuneResult)]) -> String {
        var csv = "variant,problem,seed,accuracy,discrete_accuracy,test_examples,final_train_loss,seconds,trainable_parameters,resumed_at,saved_sha256,texts_per_second,chosen_prompt,chosen_shot_accuracy\n"
        for (_, run) in done {
            csv += "\(run.variant),\"\(run.problem)\",\(run.seed),\(Self.accuracy(run.hits)),\(Self.accuracy(run.discreteHits)),\(run.hits.count),"
                + "\(run.finalTrainLoss),\(run.seconds),\(run.trainableParameters),\(run.resumedAt),\(run.savedSha256),\(run.textsPerSecond),"
                + "\"\(run.chosenPrompt.replacingOccurrences(of: "\"", with: "\"\""))\",\(run.chosenPrompt.isEmpty ? "" : "\(run.chosenTrainAccuracy)")\n"
        }
        return csv
    }

    private func pairsCSV(_ pairs: [Pair]) -> String {
        var csv = "first,second,difference,lower,upper\n"
        for pair in pairs { csv += "\(pair.first),\(pair.second),\(pair.difference.estimate),\(pair.difference.lower),\(pair.difference.upper)\n" }
        return csv
    }

    private func metaReport(_ task: Orrery_V1_Workloads_PromptTuneTask, _ result: Orrery_V1_Workloads_PromptTuneResult?) -> JobReport {
        guard let result else { return JobReport(text: "prompt-tune meta-training: no result", json: "{}") }
        let meta = task.meta
        let text = String(
            format: "meta-trained a %d-vector soft prompt for %@ with %@ over %d source(s): %d meta-steps × %d episodes (%d-way %d-shot, %d tuning steps at lr %g), %.1f episodes/s; query accuracy after tuning %.2f%% (last 5%% of steps)",
            task.promptLength, task.model, meta.algorithm, meta.sources.count, meta.metaSteps, meta.metaBatch, meta.ways, meta.shots,
            meta.innerSteps, meta.innerLr, result.examplesPerSecond, 100 * result.metaQueryAccuracy)
            + (task.savePath.isEmpty ? "" : "\nsaved to \(task.savePath) (sha256 \(result.savedSha256))")
        let json: [String: ReportValue] = [
            "algorithm": .text(meta.algorithm), "meta_query_accuracy": .number(result.metaQueryAccuracy),
            "episodes_per_second": .number(result.examplesPerSecond), "saved_sha256": .text(result.savedSha256),
            "resumed_at": .number(Double(result.resumedAt)), "seconds": .number(result.seconds), "workers": .number(Double(result.workers)),
        ]
        return JobReport(text: text, json: ReportJSON.encode(json))
    }
}
