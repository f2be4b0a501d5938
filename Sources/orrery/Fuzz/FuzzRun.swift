import ArgumentParser
import Foundation
import Fuzzing
import Glibc
import Runtime

/// Runs one fuzzing pass against a target process and reports it: messages, rate, the
/// target's memory before and after (and its peak), and whether it survived.
enum FuzzRun {
    static func report(_ name: String, options: FuzzOptions, pass: () throws -> FuzzReport) throws {
        let before = options.pid.flatMap(ProcessMemory.of)
        let report = try pass()
        let after = options.pid.flatMap(ProcessMemory.of)
        let alive = options.pid.map { kill($0, 0) == 0 && after != nil } ?? true
        if options.output.json {
            var fields: [String: Any] = [
                "target": name, "frames": report.frames, "seconds": report.seconds, "replies": report.replies,
                "identities": report.identities, "backpressure": report.backpressure, "alive": alive,
            ]
            if let before { fields["rss_before_bytes"] = before.residentBytes }
            if let after {
                fields["rss_after_bytes"] = after.residentBytes
                fields["rss_peak_bytes"] = after.peakResidentBytes
            }
            let data = try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("\(name): \(report)")
            if let before, let after { print("target pid \(options.pid!): before \(before.description); after \(after.description)") }
        }
        if !alive { throw CommandFailure.exit("the target (pid \(options.pid!)) died during the pass", code: CommandFailure.jobFailed) }
    }

    static func deadline(_ options: FuzzOptions) -> Int64 { MonotonicClock.milliseconds + Int64(options.timeLimit.milliseconds) }
}
