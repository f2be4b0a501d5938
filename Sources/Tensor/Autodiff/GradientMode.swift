import Foundation

/// Whether operations record themselves on the tape: on by default, off inside `withNoGrad`
/// (evaluation, optimizer steps, and the backward pass itself). Per thread.
public enum GradientMode {
    private static let key = "orrery.tensor.noGradDepth"

    public static var isEnabled: Bool { (Thread.current.threadDictionary[key] as? Int ?? 0) == 0 }

    /// Runs `body` without recording operations for autodiff.
    public static func withNoGrad<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        let dictionary = Thread.current.threadDictionary
        let depth = dictionary[key] as? Int ?? 0
        dictionary[key] = depth + 1
        defer { dictionary[key] = depth }
        return try body()
    }

    /// Runs `body` with recording on, even inside `withNoGrad` (a checkpointed segment
    /// recomputed during the backward pass).
    public static func withGrad<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        let dictionary = Thread.current.threadDictionary
        let depth = dictionary[key] as? Int ?? 0
        dictionary[key] = 0
        defer { dictionary[key] = depth }
        return try body()
    }
}

/// Runs `body` without recording operations for autodiff.
public func withNoGrad<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R { try GradientMode.withNoGrad(body) }
