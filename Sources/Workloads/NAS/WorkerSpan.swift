/// When a worker ran one task (its own clock, Unix milliseconds).
struct WorkerSpan: Equatable {
    let worker: String
    let start: Double
    let end: Double

    /// The time each worker sat idle between one task's end and its next task's start:
    /// the scheduling overhead a search adds per trial (the result's trip to the
    /// coordinator, the planner's decision, the next lease's trip back, the payload's
    /// decoding). Spans with unusable times (from the network: negative, reversed) are
    /// skipped.
    static func idleGaps(_ spans: [WorkerSpan]) -> [Double] {
        var byWorker: [String: [WorkerSpan]] = [:]
        for span in spans where span.start.isFinite && span.end.isFinite && span.start > 0 && span.end >= span.start {
            byWorker[span.worker, default: []].append(span)
        }
        var gaps: [Double] = []
        for worker in byWorker.keys.sorted() {
            let ordered = byWorker[worker]!.sorted { $0.start < $1.start }
            for (previous, next) in zip(ordered, ordered.dropFirst()) where next.start >= previous.end {
                gaps.append(next.start - previous.end)
            }
        }
        return gaps.sorted()
    }
}
