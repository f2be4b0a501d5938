import Glibc
import Runtime

/// The shared-memory segment of a ring whose members all run on one host, and the words
/// they signal each other through. ZeroMQ still carries the set-up, aborts and the other
/// collectives; this carries the bytes of all-reduces, which then move by memory copies
/// instead of through the kernel's socket buffers.
///
/// Layout, in 64-byte lines so that no two ranks write the same cache line:
/// - line 0: a magic word, the world size and the block size, checked by every opener;
/// - line 1: the abort record (failed rank + 1, reporting rank, what happened);
/// - one line per rank: its progress counters (`Counter`), how many are asleep waiting on
///   them, and what it was asked to do in each stage (length and operation), so that a
///   mismatched call is caught instead of summing unrelated bytes;
/// - per rank, two staging slots of `blockElements` floats (double buffering: a rank fills
///   block k+1 while the others still read block k);
/// - two result areas where each rank leaves the segment it reduced for the others.
///
/// Counters count blocks since the segment was made, so they only grow (wrapping at 2³²
/// is handled by comparing differences).
final class SharedMemoryExchange {
    /// A rank's progress through a block: its input is in its slot, its segment of the
    /// sum is in the result area, and it has read everything it needs from the block.
    enum Counter: Int, CaseIterable {
        case written = 0, reduced = 1, done = 2
    }

    /// What the abort record says happened, so the other ranks can report it.
    enum AbortCause: UInt32 {
        case disconnected = 1, timedOut = 2, other = 3
    }

    static let magic: UInt32 = 0x4F52_5259  // "ORRY"
    private static let line = 64
    private static let waitersWord = 3
    private static let callWord = 4  // and 5, one per stage

    let segment: SharedMemorySegment
    let rank: Int
    let worldSize: Int
    let blockElements: Int
    /// Blocks this rank has started since the segment was made (the counters' unit).
    var blocks: UInt32 = 0
    /// Whether a waiter should spin before sleeping: only when every rank has a core.
    let spins: Bool

    private init(segment: SharedMemorySegment, rank: Int, worldSize: Int, blockElements: Int) {
        self.segment = segment
        self.rank = rank
        self.worldSize = worldSize
        self.blockElements = blockElements
        spins = worldSize <= Self.processors
    }

    /// Processors online: spinning only pays when every rank can have one.
    static let processors = sysconf(Int32(_SC_NPROCESSORS_ONLN))

    /// Bytes a segment for `worldSize` ranks and blocks of `blockElements` floats needs.
    static func size(worldSize: Int, blockElements: Int) -> Int {
        slotsOffset(worldSize: worldSize) + (2 * worldSize + 2) * blockElements * 4
    }

    private static func slotsOffset(worldSize: Int) -> Int {
        let header = (2 + worldSize) * line
        return (header + 4095) / 4096 * 4096
    }

    /// Rank 0's side: makes the segment and writes the header the others check.
    static func create(name: String, worldSize: Int, blockElements: Int) throws(SharedMemorySegment.Failure) -> SharedMemoryExchange {
        let segment = try SharedMemorySegment.create(name: name, size: size(worldSize: worldSize, blockElements: blockElements))
        segment.word(at: 4).store(UInt32(worldSize))
        segment.word(at: 8).store(UInt32(blockElements))
        segment.word(at: 0).store(magic)
        return SharedMemoryExchange(segment: segment, rank: 0, worldSize: worldSize, blockElements: blockElements)
    }

    /// The other ranks' side: maps rank 0's segment and checks that it was made for this ring.
    static func open(name: String, rank: Int, worldSize: Int, blockElements: Int) throws(SharedMemorySegment.Failure) -> SharedMemoryExchange {
        let segment = try SharedMemorySegment.open(name: name, size: size(worldSize: worldSize, blockElements: blockElements))
        guard segment.word(at: 0).load() == magic, segment.word(at: 4).load() == UInt32(worldSize),
              segment.word(at: 8).load() == UInt32(blockElements)
        else { throw SharedMemorySegment.Failure(name: name, operation: "check of the header", errorNumber: EINVAL) }
        return SharedMemoryExchange(segment: segment, rank: rank, worldSize: worldSize, blockElements: blockElements)
    }

    // MARK: Words

    private func rankWord(_ index: Int, of member: Int) -> SharedWord {
        segment.word(at: (2 + member) * Self.line + 4 * index)
    }

    func counter(_ counter: Counter, of member: Int) -> SharedWord { rankWord(counter.rawValue, of: member) }

    /// How many of `member`'s waiters are asleep (or about to be): a publisher wakes only then.
    func waiters(of member: Int) -> SharedWord { rankWord(Self.waitersWord, of: member) }

    /// Sets this rank's counter and wakes whoever sleeps on it.
    func publish(_ counter: Counter, _ value: UInt32) {
        let word = self.counter(counter, of: rank)
        word.store(value)
        if waiters(of: rank).load() > 0 { word.wakeAll() }
    }

    /// What `member` was asked to do in `stage`: the length, with the top bit for `mean`.
    func call(of member: Int, stage: Int) -> SharedWord { rankWord(Self.callWord + stage, of: member) }

    static func describe(count: Int, _ operation: ReduceOperation) -> UInt32 {
        UInt32(truncatingIfNeeded: count) & 0x7FFF_FFFF | (operation == .mean ? 0x8000_0000 : 0)
    }

    static func explain(_ word: UInt32) -> String {
        "\(word & 0x7FFF_FFFF) floats, \(word & 0x8000_0000 != 0 ? "mean" : "sum")"
    }

    // MARK: Data

    /// `member`'s staging slot for `stage` (0 or 1).
    func slot(of member: Int, stage: Int) -> UnsafeMutablePointer<Float> {
        floats(at: Self.slotsOffset(worldSize: worldSize) + (2 * member + stage) * blockElements * 4)
    }

    /// The result area of `stage`, where each rank leaves its reduced segment.
    func result(stage: Int) -> UnsafeMutablePointer<Float> {
        floats(at: Self.slotsOffset(worldSize: worldSize) + (2 * worldSize + stage) * blockElements * 4)
    }

    private func floats(at offset: Int) -> UnsafeMutablePointer<Float> {
        (segment.base + offset).assumingMemoryBound(to: Float.self)
    }

    // MARK: Abort

    /// Records the first failure of the ring (later ones are ignored) and wakes every sleeper.
    func abort(failedRank: Int, cause: AbortCause) {
        let record = segment.word(at: Self.line)
        if record.compareExchange(expected: 0, desired: UInt32(failedRank + 1)) {
            segment.word(at: Self.line + 4).store(UInt32(rank))
            segment.word(at: Self.line + 8).store(cause.rawValue)
        }
        for member in 0..<worldSize {
            for counter in Counter.allCases { self.counter(counter, of: member).wakeAll() }
        }
    }

    /// The failure another rank recorded, if any.
    func recordedAbort() -> (failedRank: Int, reporter: Int, cause: AbortCause)? {
        let failed = segment.word(at: Self.line).load()
        guard failed != 0 else { return nil }
        // The reporter and cause are stored just after the claim; a reader that comes in
        // between sees the zero defaults, which still name the failed rank.
        return (Int(failed) - 1, Int(segment.word(at: Self.line + 4).load()),
                AbortCause(rawValue: segment.word(at: Self.line + 8).load()) ?? .other)
    }
}

/// `a` is at or past `b` on a wrapping counter.
@inline(__always)
func reached(_ a: UInt32, _ b: UInt32) -> Bool { Int32(bitPattern: a &- b) >= 0 }
