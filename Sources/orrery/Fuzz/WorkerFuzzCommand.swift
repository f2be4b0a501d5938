import ArgumentParser
import Foundation
import Fuzzing
import Messaging
import Runtime

struct WorkerFuzzCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Play a hostile coordinator: bind, wait for a worker to register, then fuzz it.",
        discussion: "Start the worker with --coordinator pointing at --bind. The run fails if the worker is not heard from within 10 s after the pass.")

    @Option(name: .long, help: "Where the fake coordinator listens.")
    var bind = "tcp://127.0.0.1:7199"

    @Option(name: .long, help: "How long to wait for the worker to register.")
    var waitForWorker = DurationArgument(milliseconds: 30_000)

    @OptionGroup var fuzz: FuzzOptions

    func run() throws {
        let context = try ZMQContext()
        let coordinator = try FakeCoordinator(bind: bind, context: context, seed: fuzz.seed)
        guard coordinator.awaitWorker(deadline: MonotonicClock.milliseconds + Int64(waitForWorker.milliseconds)) else {
            throw CommandFailure.exit("no worker registered at \(coordinator.endpoint)", code: CommandFailure.clusterError)
        }
        try FuzzRun.report("worker (from a fake coordinator)", options: fuzz) {
            let report = coordinator.run(count: fuzz.frames, deadline: FuzzRun.deadline(fuzz))
            guard coordinator.workerStillAlive(milliseconds: 10_000) else {
                throw CommandFailure.exit("the worker was not heard from within 10 s after the pass", code: CommandFailure.jobFailed)
            }
            return report
        }
    }
}
