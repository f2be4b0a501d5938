/// The bounds of the wire contract that both sides enforce (see docs/wire.md). A value
/// outside them is refused by name, never trusted into arithmetic or allocation.
public enum WireLimits {
    /// `Registered.heartbeat_interval_ms`: a worker uses its own default outside this range.
    public static let heartbeatIntervalMilliseconds: ClosedRange<UInt32> = 10...600_000
    /// `Registered.heartbeat_misses`.
    public static let heartbeatMisses: ClosedRange<UInt32> = 1...1000
    /// `Register.slots`.
    public static let slots: ClosedRange<UInt32> = 1...1024
    /// `Register.max_prefetch` when set: at least the slots, at most this many per slot.
    public static let maximumPrefetchPerSlot: UInt32 = 512
    /// Identifiers: worker ids, task ids, job ids (bytes).
    public static let maximumIdentifierBytes = 255
    /// Host names, agents, endpoints, capability names (bytes).
    public static let maximumNameBytes = 512
    /// `Register.capabilities` entries.
    public static let maximumCapabilities = 64
    /// `Register.running_task_ids` entries.
    public static let maximumRunningTasks = 100_000
    /// Free text that is stored or shown: progress notes, failure messages (bytes; longer
    /// text is cut, not refused).
    public static let maximumNoteBytes = 4096
    /// Leases a worker accepts ahead of its slots before it refuses more (a coordinator
    /// that sends more is not following the contract; the extras fail back retryably).
    public static let maximumQueuedLeasesPerSlot = 1024
    /// Payload bytes of one `LeaseBatch`; a coordinator splits larger bursts into batches.
    public static let maximumLeaseBatchBytes = 8 << 20
}

extension String {
    /// At most `bytes` UTF-8 bytes of this text, cut between characters' scalars.
    public func truncated(toBytes bytes: Int) -> String {
        guard utf8.count > bytes else { return self }
        var kept = String.UnicodeScalarView()
        var used = 0
        for scalar in unicodeScalars {
            let width = UTF8.width(scalar)
            guard used + width <= bytes else { break }
            used += width
            kept.append(scalar)
        }
        return String(kept)
    }
}
