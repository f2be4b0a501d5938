import Synchronization

/// Questions for the coordinator's state from other threads (the HTTP server's), answered
/// on the loop's own thread between turns, so that the core stays single-threaded and
/// lock-free and a reader sees a consistent state.
///
/// A question is a closure over the core that returns a value; `ask` suspends until the
/// loop has run it. At most `maximumWaiting` questions wait at once; past that, and once
/// the coordinator stopped, `ask` throws instead of queueing.
public final class CoordinatorQueries: Sendable {
    private struct State {
        var waiting: [@Sendable (CoordinatorCore) -> Void] = []
        var closed = false
        var everAsked = false
    }

    private let state = Mutex(State())
    public static let maximumWaiting = 256

    public init() {}

    /// Runs `question` on the loop's thread and returns its answer.
    /// - Throws: `QueryError` when too many questions wait or the coordinator has stopped.
    public func ask<Answer: Sendable>(_ question: @escaping @Sendable (CoordinatorCore) -> Answer) async throws(QueryError) -> Answer {
        let result: Result<Answer, QueryError> = await withCheckedContinuation { continuation in
            let refusal = state.withLock { state -> QueryError? in
                if state.closed { return .stopped }
                if state.waiting.count >= Self.maximumWaiting { return .busy }
                state.everAsked = true
                state.waiting.append { core in continuation.resume(returning: .success(question(core))) }
                return nil
            }
            if let refusal { continuation.resume(returning: .failure(refusal)) }
        }
        return try result.get()
    }

    /// Whether questions are waiting (the loop then polls without sleeping).
    var hasWaiting: Bool { state.withLock { !$0.waiting.isEmpty } }

    /// Whether anyone ever asked: until then the loop sleeps as long as it likes.
    var inUse: Bool { state.withLock { $0.everAsked } }

    /// Answers every question waiting now (called by the loop, on its thread).
    func answer(with core: CoordinatorCore) {
        let questions = state.withLock { state in
            defer { state.waiting.removeAll() }
            return state.waiting
        }
        for question in questions { question(core) }
    }

    /// Refuses every later question; those waiting are answered first.
    func close(answering core: CoordinatorCore) {
        state.withLock { $0.closed = true }
        answer(with: core)
    }
}

/// Why a question to the coordinator was not answered.
public enum QueryError: Error, Sendable, CustomStringConvertible {
    /// Too many questions wait already.
    case busy
    /// The coordinator's loop has ended.
    case stopped

    public var description: String {
        switch self {
        case .busy: "the coordinator has \(CoordinatorQueries.maximumWaiting) questions waiting; ask again shortly"
        case .stopped: "the coordinator has stopped"
        }
    }
}
