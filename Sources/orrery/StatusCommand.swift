import ArgumentParser
import Client
import Foundation
import Messaging
import Runtime
import SwiftProtobuf
import Wire

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show a coordinator's workers, jobs and counters, or one job with its report.")

    @Argument(help: "A job id: show that job (a finished one with its report, after any number of coordinator restarts).")
    var jobID: String?

    @OptionGroup var endpoint: EndpointOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let context = try ZMQContext()
        let client = try endpoint.makeClient(context: context)
        if let jobID {
            do {
                JobResultPrinter.print(try client.job(jobID), json: output.json)
            } catch let error as ClientError {
                throw CommandFailure.exit(error)
            }
            return
        }
        let status: Orrery_V1_ClusterStatus
        do {
            status = try client.status()
        } catch let error as ClientError {
            throw CommandFailure.exit(error)
        }
        if output.json {
            print((try? status.jsonString()) ?? "{}")
            return
        }
        print("coordinator \(status.coordinatorID)\(status.draining ? " (draining)" : "")")
        print("\nworkers: \(status.workers.count)")
        print(Self.row("id", "host", "pid", "slots", "running", "done", "heard", "runs"))
        for worker in status.workers {
            print(
                Self.row(
                    worker.workerID, worker.hostname, "\(worker.pid)", "\(worker.slots)", "\(worker.runningTasks)",
                    "\(worker.tasksCompleted)", "\(worker.msSinceHeard) ms ago", worker.capabilities.joined(separator: ",")))
        }
        print("\njobs: \(status.jobs.count)")
        print(Self.row("id", "name", "workload", "state", "done", "failed", "running", "queued", "retries", "elapsed"))
        for job in status.jobs {
            print(
                Self.row(
                    job.jobID, job.name, job.workload, "\(job.state)", "\(job.tasksDone)/\(job.tasksTotal)", "\(job.tasksFailed)",
                    "\(job.tasksRunning)", "\(job.tasksQueued)", "\(job.retries)", String(format: "%.1fs", job.elapsedS))
                    + (job.progress.isEmpty || job.state != .running ? "" : "  \(job.progress)"))
        }
        // Running jobs' live reports (a prompt search's leaderboard, say).
        for job in status.jobs where job.state == .running && !job.reportText.isEmpty {
            print("\njob \(job.jobID) (\(job.name)):\n\(job.reportText)")
        }
        let counters = status.counters
        print(
            "\nframes: \(counters.framesReceived) received, \(counters.framesMalformed) malformed, "
                + "\(counters.framesWrongVersion) wrong version, \(counters.framesUnknownSender) from unknown senders; "
                + "workers declared dead: \(counters.workersDeclaredDead); duplicate results ignored: \(counters.duplicateResults)")
        print(
            "results for unknown tasks: \(counters.resultsUnknownTask), for attempts not held: \(counters.resultsStaleAttempt); "
                + "registrations refused: \(counters.registrationsRefused); client requests over their rate: \(counters.requestsRateLimited); "
                + "log lines left out: \(counters.logLinesSuppressed); longest loop turn: \(counters.worstLoopTurnUs) µs")
        if counters.curveAdmitted + counters.curveRefused > 0 {
            print("CURVE handshakes: \(counters.curveAdmitted) admitted, \(counters.curveRefused) refused (keys not in the allow-list)")
        }
    }

    /// One table row; cells come from workers' registrations, so they are escaped (a host
    /// name must not be able to send the terminal escape sequences).
    static func row(_ cells: String...) -> String {
        cells.map { PrintableText.escaped($0, limit: 60) }.map { $0.count >= 14 ? $0 + " " : $0.padding(toLength: 14, withPad: " ", startingAt: 0) }.joined()
    }
}
