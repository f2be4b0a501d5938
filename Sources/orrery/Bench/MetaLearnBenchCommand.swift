import ArgumentParser
import Foundation
import Workloads

/// `orrery bench meta-learn`: meta-training episodes per second for each algorithm on
/// synthetic episodes of the benchmark's shape (scripts/bench/meta-learn runs it beside
/// learn2learn on the same model, algorithm and episode shape).
struct MetaLearnBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meta-learn",
        abstract: "Meta-training episodes/s per algorithm: 5-way 5-shot, 15 queries, 5 inner steps, MLP 196-256-128-64 (threads: ORRERY_THREADS, OPENBLAS_NUM_THREADS).")

    @Option(name: .long, help: "Timed runs of each measurement; the median is reported.")
    var repeats = 5

    @Option(name: .long, help: "Meta-steps (of 16 episodes) per timed run.")
    var metaSteps = 20

    @Option(name: .long, help: "Only these algorithms (comma-separated), e.g. 'maml,protonet'.")
    var algorithms = "maml,fomaml,reptile,anil,protonet"

    @Option(name: .long, help: "Inner steps (MAML family).")
    var innerSteps = 5

    @Option(name: .long, help: "Shots per class.")
    var shots = 5

    @OptionGroup var output: OutputOptions

    func run() throws {
        var shape = MetaLearnBenchmark.Shape()
        shape.innerSteps = innerSteps
        shape.shots = shots
        let rows = try algorithms.split(separator: ",").map(String.init).map { algorithm in
            try BenchmarkOutput.measure(repeats: repeats, "\(algorithm), \(shape.ways)-way \(shape.shots)-shot, \(shape.innerSteps) inner steps", unit: "episodes/s") {
                try MetaLearnBenchmark.episodesPerSecond(algorithm, shape: shape, metaSteps: metaSteps)
            }
        }
        try BenchmarkOutput.print(rows, json: output.json)
    }
}
