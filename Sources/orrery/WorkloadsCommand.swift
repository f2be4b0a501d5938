import ArgumentParser
import Workloads

struct WorkloadsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workloads", abstract: "List the job kinds this build can plan and run.")

    func run() throws {
        for workload in WorkloadRegistry.builtIn.all {
            print("\(workload.kind.padding(toLength: 10, withPad: " ", startingAt: 0)) \(workload.summary)")
        }
    }
}
