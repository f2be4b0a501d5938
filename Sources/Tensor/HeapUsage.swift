import CMalloc

/// Bytes the C allocator has handed out and not taken back (glibc's `mallinfo2`: arena
/// blocks in use plus mmapped blocks), process-wide: what a pipeline stage samples between
/// micro-batches to report how much its kept activations cost. Every tensor's storage comes
/// from this allocator, so growth between two samples is what was allocated and kept.
public enum HeapUsage {
    public static var bytesInUse: Int {
        let info = mallinfo2()
        return Int(info.uordblks) + Int(info.hblkhd)
    }
}
