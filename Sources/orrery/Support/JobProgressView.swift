import Foundation
import Glibc
import Wire

/// Shows a running job on standard error: a redrawn bar on a terminal, a plain line every
/// few seconds otherwise (logs, CI), and nothing with `quiet`.
struct JobProgressView {
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private let quiet: Bool
    private var lastPlainLine: Int64 = 0
    private var drewBar = false

    init(quiet: Bool) { self.quiet = quiet }

    mutating func show(_ job: Orrery_V1_JobInfo) {
        guard !quiet else { return }
        let done = job.tasksDone + job.tasksFailed
        let total = max(job.tasksTotal, done)
        let summary = "\(done)/\(total) tasks · \(job.tasksRunning) running · \(job.tasksFailed) failed · "
            + String(format: "%.1fs", job.elapsedS) + (job.progress.isEmpty ? "" : " · \(job.progress)")
        if isTerminal {
            let width = 28
            let filled = total == 0 ? 0 : Int(Double(width) * Double(done) / Double(total))
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            write("\r\u{1B}[2K\(bar) \(summary)")
            drewBar = true
        } else {
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            guard now - lastPlainLine >= 2000 || job.state != .running else { return }
            lastPlainLine = now
            write("job \(job.jobID): \(summary)\n")
        }
    }

    mutating func finish() {
        if drewBar { write("\n") }
        drewBar = false
    }

    private func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
}
