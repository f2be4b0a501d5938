import Runtime

/// A set that remembers only its most recent `capacity` members: inserting one more
/// forgets the oldest. Memory stays bounded however many members pass through.
///
/// Members are kept as their hash values (this process's), so a lookup can be wrong once
/// in 2⁶⁴: it serves counters (a late result called a duplicate or an unknown task), never
/// a decision about a task.
struct RecentSet {
    let capacity: Int
    private var members: Set<Int> = []
    private var order = FIFO<Int>()

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    func contains(_ member: some Hashable) -> Bool { members.contains(member.hashValue) }

    mutating func insert(_ member: some Hashable) {
        let hash = member.hashValue
        guard members.insert(hash).inserted else { return }
        order.push(hash)
        if members.count > capacity, let oldest = order.pop() { members.remove(oldest) }
    }

    var count: Int { members.count }
}
