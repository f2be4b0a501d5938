import ArgumentParser
import Workloads

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate", abstract: "Check job specs without running them; exit status 2 names the first error.")

    @Argument(help: "Job spec files (YAML).")
    var specs: [String]

    func run() throws {
        for path in specs {
            let (_, job) = try JobSpecFile.load(path)
            let tasks = job.planner.expectedTaskCount.map { ", \($0) tasks" } ?? ""
            print("ok: \(path) (\(job.spec.name): \(job.spec.workload.kind)\(tasks))")
            if let cost = job.planner.plannedCost { print(cost.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")) }
        }
    }
}
