import CMalloc
import Synchronization

/// The one owner of a tensor's float32 memory. Every other type reaches the bytes only
/// inside `withUnsafe…` closures, so unsafe pointer code stays in the kernels.
///
/// Storage is shared by tensors that are views of the same values (reshape, detach) and
/// mutated in place only by optimizers updating parameters.
public final class Storage: @unchecked Sendable {
    let base: UnsafeMutablePointer<Float>
    public let count: Int

    /// Keeps glibc from serving tensor-sized blocks with fresh mmap calls: every training
    /// step frees and reallocates the same sizes, and new mappings cost a page fault and a
    /// zeroed page per 4 KiB. With a 32 MiB threshold (glibc's maximum) they are reused
    /// from the heap instead, as PyTorch's caching allocator does.
    private static let allocatorTuned: Bool = {
        _ = mallopt(M_MMAP_THRESHOLD, 32 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, 256 << 20)
        return true
    }()

    /// Applies the allocator tuning now (it is otherwise applied by the first storage), for
    /// processes that move large buffers before they make a tensor: a worker's data plane
    /// receives every chunk into a fresh allocation, which the default threshold would map
    /// and unmap each time.
    public static func tuneAllocator() { _ = allocatorTuned }

    /// Zero-filled storage.
    public init(count: Int) {
        _ = Self.allocatorTuned
        Self.live.add(max(count, 1) * MemoryLayout<Float>.size, ordering: .relaxed)
        self.count = count
        base = .allocate(capacity: max(count, 1))
        base.initialize(repeating: 0, count: max(count, 1))
    }

    /// Storage holding `values`.
    public convenience init(_ values: some Collection<Float>) {
        self.init(uninitializedCount: values.count)
        _ = UnsafeMutableBufferPointer(start: base, count: count).initialize(fromContentsOf: values)
        if count == 0 { base.initialize(to: 0) }  // the one float an empty storage holds
    }

    /// Uninitialized storage for kernels that write every element.
    init(uninitializedCount count: Int) {
        _ = Self.allocatorTuned
        Self.live.add(max(count, 1) * MemoryLayout<Float>.size, ordering: .relaxed)
        self.count = count
        base = .allocate(capacity: max(count, 1))
    }

    deinit {
        Self.live.subtract(max(count, 1) * MemoryLayout<Float>.size, ordering: .relaxed)
        base.deallocate()
    }

    /// Bytes held by every storage alive in this process: what tensors (values, gradients,
    /// the activations a tape keeps) occupy now. One relaxed atomic add per allocation keeps
    /// it exact at no measurable cost; `mallinfo2`, the allocator's own count, walks every
    /// free block and takes milliseconds on a fragmented heap.
    public static var liveBytes: Int { live.load(ordering: .relaxed) }
    private static let live = Atomic<Int>(0)

    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: base, count: count))
    }

    public func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeMutableBufferPointer(start: base, count: count))
    }

    /// A copy with storage of its own.
    public func copy() -> Storage {
        let copy = Storage(uninitializedCount: count)
        copy.base.initialize(from: base, count: count)
        return copy
    }
}
