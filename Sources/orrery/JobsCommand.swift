import ArgumentParser
import Client
import Foundation
import Messaging
import SwiftProtobuf
import Wire

/// `orrery jobs`: past and present jobs, newest first, as the coordinator's ledger keeps
/// them across restarts.
struct JobsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs", abstract: "List past and present jobs, newest first (from the coordinator's ledger).")

    @Option(name: .long, help: "How many jobs to list (at most 10,000).")
    var limit = 20

    @OptionGroup var endpoint: EndpointOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if !(1...10_000).contains(limit) { throw ValidationError("--limit must be 1 to 10000, got \(limit)") }
    }

    func run() throws {
        let context = try ZMQContext()
        let client = try endpoint.makeClient(context: context)
        let list: Orrery_V1_JobList
        do {
            list = try client.jobs(limit: limit)
        } catch let error as ClientError {
            throw CommandFailure.exit(error)
        }
        if output.json {
            print((try? list.jsonString()) ?? "{}")
            return
        }
        print("jobs: \(list.jobs.count) of \(list.total)")
        print(StatusCommand.row("id", "name", "workload", "state", "done", "failed", "cached", "elapsed"))
        for job in list.jobs {
            print(
                StatusCommand.row(
                    job.jobID, job.name, job.workload, "\(job.state)", "\(job.tasksDone)/\(job.tasksTotal)", "\(job.tasksFailed)",
                    "\(job.tasksCached)", String(format: "%.1fs", job.elapsedS)))
        }
    }
}
