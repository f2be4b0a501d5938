/// The most a prompt search can cost, worked out from its plan before anything runs (what
/// a dry run prints). Cache hits between candidates that render alike only make it less.
struct PromptSearchCost {
    let plan: PromptSearchPlan

    /// Candidates scored and dev evaluations, before the budget caps them.
    var search: (candidates: Int, evaluations: Int, detail: String) {
        let dev = plan.dev.count
        switch plan.strategy {
        case .exhaustive:
            return (plan.space.size, plan.space.size * dev, "every one of \(plan.space.size) candidates on \(dev) dev examples")
        case .random(let count):
            return (count, count * dev, "\(count) sampled candidates on \(dev) dev examples")
        case .evolution(let count, let population, _, _):
            return (count, count * dev, "\(count) candidates evolved from a population of \(population), each on \(dev) dev examples")
        case .halving(let count, let minimum, let reduction):
            var field = count ?? plan.space.size
            let start = field
            var budget = min(minimum, dev), previous = 0, total = 0
            var rungs: [String] = []
            while true {
                total += field * (budget - previous)
                rungs.append("\(field)×\(budget)")
                if field == 1 || budget == dev { break }
                field = max(1, (field + reduction - 1) / reduction)
                if field == 1 { break }
                previous = budget
                budget = min(dev, budget * reduction)
            }
            return (start, total, "successive halving of \(start) candidates, rungs (candidates × examples) \(rungs.joined(separator: ", "))")
        }
    }

    var text: String {
        let (candidates, evaluations, detail) = search
        let capped = min(evaluations, plan.budget)
        let tasks = (capped + plan.batch - 1) / plan.batch + candidates
        var lines = [
            "prompt search on \(plan.task) with \(plan.scorer.rawValue): \(detail)",
            "dev evaluations: at most \(capped)" + (plan.budget < evaluations ? " (the budget; the strategy would use \(evaluations))" : "")
                + ", in at most \(tasks) tasks of up to \(plan.batch) examples",
            "test evaluations: at most \(2 * plan.test.count) (best and baseline on \(plan.test.count) examples)",
        ]
        if let paraphrase = plan.paraphrase, let every = paraphrase.every {
            lines.append("paraphrase tasks: at most one per \(every) scored candidates (up to \(paraphrase.count) rewrites of the best instruction, tried as children)")
        } else if let paraphrase = plan.paraphrase {
            let instructions = plan.space.instructions.filter { !$0.isEmpty }.count
            lines.append("paraphrase tasks: \(instructions) (up to \(paraphrase.count) rewrites each, which enlarge the space)")
        }
        return lines.joined(separator: "\n")
    }
}
