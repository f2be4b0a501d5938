import Runtime

/// One direction of point-to-point messages between two members on one host, through a
/// shared-memory segment: a ring of `slots` pieces that the sender fills and the receiver
/// empties, with a futex on each counter. A piece moves by two memory copies and, when the
/// other side sleeps, one futex wake — no socket, no ZeroMQ I/O thread, whose scheduling on
/// a busy core is what a pipeline's round trip (1F1B waits on every micro-batch's gradient)
/// otherwise pays.
///
/// Layout, in 64-byte lines so that the two sides never write one cache line:
/// - line 0: a magic word, the slot count and the slot size, checked by the opener;
/// - line 1 (the sender's): pieces written, and whether the sender sleeps for space;
/// - line 2 (the receiver's): pieces read, and whether the receiver sleeps for a piece;
/// - from 4096 on, the slots: a line of header (key, offset, total, count) and the floats.
///
/// Counters count pieces since the segment was made and wrap at 2³²; only their
/// difference (at most `slots`) matters.
final class PeerChannel {
    static let magic: UInt32 = 0x4F52_5043  // "ORPC"
    static let slotsOffset = 4096

    let segment: SharedMemorySegment
    let slots: Int
    let slotElements: Int

    private init(segment: SharedMemorySegment, slots: Int, slotElements: Int) {
        self.segment = segment
        self.slots = slots
        self.slotElements = slotElements
    }

    static func size(slots: Int, slotElements: Int) -> Int { slotsOffset + slots * (64 + slotElements * 4) }

    /// The sender's side: makes the segment.
    static func create(name: String, slots: Int, slotElements: Int) throws(SharedMemorySegment.Failure) -> PeerChannel {
        let segment = try SharedMemorySegment.create(name: name, size: size(slots: slots, slotElements: slotElements))
        segment.word(at: 4).store(UInt32(slots))
        segment.word(at: 8).store(UInt32(slotElements))
        segment.word(at: 0).store(magic)
        return PeerChannel(segment: segment, slots: slots, slotElements: slotElements)
    }

    /// The receiver's side: maps the sender's segment; nil if it was not made as agreed.
    static func open(name: String, slots: Int, slotElements: Int) throws(SharedMemorySegment.Failure) -> PeerChannel? {
        let segment = try SharedMemorySegment.open(name: name, size: size(slots: slots, slotElements: slotElements))
        guard segment.word(at: 0).load() == magic, segment.word(at: 4).load() == UInt32(slots),
            segment.word(at: 8).load() == UInt32(slotElements)
        else { return nil }
        return PeerChannel(segment: segment, slots: slots, slotElements: slotElements)
    }

    var written: SharedWord { segment.word(at: 64) }
    var senderSleeps: SharedWord { segment.word(at: 68) }
    var read: SharedWord { segment.word(at: 128) }
    var receiverSleeps: SharedWord { segment.word(at: 132) }

    /// Pieces written and not yet read.
    var pending: Int { Int(written.load() &- read.load()) }

    private func slot(_ index: UInt32) -> UnsafeMutableRawPointer {
        segment.base + Self.slotsOffset + Int(index % UInt32(slots)) * (64 + slotElements * 4)
    }

    /// Writes one piece (at most `slotElements` floats) into the next slot and wakes a
    /// sleeping receiver; false, writing nothing, while every slot is taken. The read
    /// counter belongs to the other process, so fullness is checked here, not assumed.
    func write(key: UInt64, offset: Int, total: Int, _ values: UnsafeBufferPointer<Float>) -> Bool {
        precondition(values.count <= slotElements, "a piece larger than a slot")  // the sender cuts pieces
        guard pending < slots else { return false }
        let index = written.load()
        let slot = slot(index)
        slot.storeBytes(of: key, toByteOffset: 0, as: UInt64.self)
        slot.storeBytes(of: UInt64(offset), toByteOffset: 8, as: UInt64.self)
        slot.storeBytes(of: UInt64(total), toByteOffset: 16, as: UInt64.self)
        slot.storeBytes(of: UInt64(values.count), toByteOffset: 24, as: UInt64.self)
        if let base = values.baseAddress, !values.isEmpty { (slot + 64).copyMemory(from: base, byteCount: values.count * 4) }
        written.store(index &+ 1)  // sequentially consistent: the piece is visible first
        if receiverSleeps.load() != 0 { written.wakeAll() }
        return true
    }

    /// Hands the oldest unread piece to `body` and frees its slot (waking a sender that
    /// sleeps for space); false when there is none. The piece's header comes from the
    /// other process and is passed on as read, for the mailbox to check.
    func readPiece(_ body: (_ key: UInt64, _ offset: UInt64, _ total: UInt64, _ payload: UnsafeRawBufferPointer) throws(CollectiveError) -> Void) throws(CollectiveError) -> Bool {
        guard pending > 0 else { return false }
        let index = read.load()
        let slot = slot(index)
        let count = min(Int(clamping: slot.load(fromByteOffset: 24, as: UInt64.self)), slotElements)  // written by the other process
        try body(
            slot.load(fromByteOffset: 0, as: UInt64.self), slot.load(fromByteOffset: 8, as: UInt64.self),
            slot.load(fromByteOffset: 16, as: UInt64.self), UnsafeRawBufferPointer(start: slot + 64, count: count * 4))
        read.store(index &+ 1)
        if senderSleeps.load() != 0 { read.wakeAll() }
        return true
    }
}
