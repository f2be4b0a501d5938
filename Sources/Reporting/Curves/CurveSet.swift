/// A job's curves: every point its tasks reported, grouped into series by tag and task, in
/// bounded memory.
///
/// Past `capacity` points, every second point of the older half is dropped: a long run keeps
/// its curve's shape end to end and full detail where it is now, instead of losing either
/// its start or its latest points.
public struct CurveSet: Sendable, Equatable {
    public private(set) var points: [CurvePoint] = []
    /// The highest sequence given out so far.
    public private(set) var lastSequence: UInt64 = 0
    /// Points thinned away to stay within `capacity`.
    public private(set) var thinned = 0
    public let capacity: Int

    public init(capacity: Int = 20_000) {
        self.capacity = max(16, capacity)
    }

    /// Records a new point, numbering it after the last; returns it as recorded. A NaN or
    /// infinite value is kept as it is (a diverged loss is worth seeing).
    @discardableResult
    public mutating func append(task: String, tag: String, step: Int64, value: Double, wallTime: Double) -> CurvePoint {
        lastSequence += 1
        let point = CurvePoint(sequence: lastSequence, task: task, tag: tag, step: step, value: value, wallTime: wallTime)
        insert(point)
        return point
    }

    /// Puts back a point recorded earlier (from a ledger), keeping its sequence.
    public mutating func restore(_ point: CurvePoint) {
        lastSequence = max(lastSequence, point.sequence)
        insert(point)
    }

    private mutating func insert(_ point: CurvePoint) {
        points.append(point)
        guard points.count > capacity else { return }
        let half = points.count / 2
        var kept = points[..<half].enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
        thinned += half - kept.count
        kept += points[half...]
        points = kept
    }

    /// Points with a sequence above `sequence`, oldest first, at most the newest `limit`.
    public func since(_ sequence: UInt64, limit: Int = .max) -> ArraySlice<CurvePoint> {
        let start = points.partitionPoint(where: { $0.sequence > sequence })
        let slice = points[start...]
        return slice.suffix(limit)
    }

    /// Every tag, in the order first seen.
    public var tags: [String] {
        var seen: Set<String> = []
        return points.compactMap { seen.insert($0.tag).inserted ? $0.tag : nil }
    }

    /// The series of `tag`: one per task, in the order first seen, points in arrival order.
    public func series(_ tag: String) -> [(task: String, points: [CurvePoint])] {
        var order: [String] = []
        var byTask: [String: [CurvePoint]] = [:]
        for point in points where point.tag == tag {
            if byTask[point.task] == nil { order.append(point.task) }
            byTask[point.task, default: []].append(point)
        }
        return order.map { ($0, byTask[$0]!) }
    }

    public var isEmpty: Bool { points.isEmpty }
}

extension RandomAccessCollection {
    /// The first index whose element satisfies `predicate`, for a collection where every
    /// element that does comes after every element that does not.
    func partitionPoint(where predicate: (Element) -> Bool) -> Index {
        var low = startIndex, high = endIndex
        while low < high {
            let middle = index(low, offsetBy: distance(from: low, to: high) / 2)
            if predicate(self[middle]) { high = middle } else { low = index(after: middle) }
        }
        return low
    }
}
