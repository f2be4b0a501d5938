import Foundation

/// A process's resident memory, read from /proc: what a soak or fuzzing run reports and
/// bounds for the daemons it drives.
public struct ProcessMemory: Sendable, Equatable {
    /// Resident set now, bytes (VmRSS).
    public let residentBytes: Int
    /// The largest resident set so far, bytes (VmHWM).
    public let peakResidentBytes: Int

    /// The memory of process `pid`, or nil when it is gone (or /proc is not there).
    public static func of(pid: Int32) -> ProcessMemory? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        func kilobytes(_ key: String) -> Int? {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(key + ":") }) else { return nil }
            return line.split(separator: " ").compactMap { Int($0) }.first
        }
        guard let resident = kilobytes("VmRSS"), let peak = kilobytes("VmHWM") else { return nil }
        return ProcessMemory(residentBytes: resident * 1024, peakResidentBytes: peak * 1024)
    }

    public var description: String {
        "resident \(residentBytes >> 20) MiB, peak \(peakResidentBytes >> 20) MiB"
    }
}
