import CRuntimeShims
import Glibc

/// A POSIX shared-memory segment mapped into this process: what processes on one host use
/// to exchange bulk data without copying it through sockets.
///
/// The creator names it; the others open it by that name; once every process has it
/// mapped, the name can be unlinked, so that nothing is left in /dev/shm even if every
/// process is later killed. The mapping lives until this object is released.
public final class SharedMemorySegment: @unchecked Sendable {
    public let name: String
    public let size: Int
    /// The first byte of the mapping, page-aligned.
    public let base: UnsafeMutableRawPointer

    /// Why a segment could not be made or opened.
    public struct Failure: Error, CustomStringConvertible {
        public let name: String
        public let operation: String
        public let errorNumber: Int32
        public init(name: String, operation: String, errorNumber: Int32) {
            self.name = name
            self.operation = operation
            self.errorNumber = errorNumber
        }

        public var description: String { "shared memory \(name): \(operation) failed: \(String(cString: strerror(errorNumber)))" }
    }

    private init(name: String, size: Int, base: UnsafeMutableRawPointer) {
        self.name = name
        self.size = size
        self.base = base
    }

    /// Creates and maps a new zero-filled segment whose pages are reserved now.
    public static func create(name: String, size: Int) throws(Failure) -> SharedMemorySegment {
        guard let base = orrery_shm_create(name, size) else { throw Failure(name: name, operation: "create (\(size) bytes)", errorNumber: errno) }
        return SharedMemorySegment(name: name, size: size, base: base)
    }

    /// Maps an existing segment, which must be at least `size` bytes.
    public static func open(name: String, size: Int) throws(Failure) -> SharedMemorySegment {
        guard let base = orrery_shm_open(name, size) else { throw Failure(name: name, operation: "open (\(size) bytes)", errorNumber: errno) }
        return SharedMemorySegment(name: name, size: size, base: base)
    }

    /// Removes the name from /dev/shm; existing mappings are unaffected. A name already
    /// gone is not an error.
    public static func unlink(name: String) {
        _ = orrery_shm_unlink(name)
    }

    deinit { orrery_shm_unmap(base, size) }

    /// The 32-bit word at `offset` (a multiple of 4).
    public func word(at offset: Int) -> SharedWord {
        precondition(offset % 4 == 0 && offset + 4 <= size, "word at \(offset) outside a segment of \(size) bytes")
        return SharedWord((base + offset).assumingMemoryBound(to: UInt32.self))
    }
}

/// A 32-bit word in shared memory that processes signal each other through: atomic
/// (sequentially consistent) reads and writes, and a futex to sleep on until it changes.
public struct SharedWord: @unchecked Sendable {
    private let pointer: UnsafeMutablePointer<UInt32>

    public init(_ pointer: UnsafeMutablePointer<UInt32>) { self.pointer = pointer }

    public func load() -> UInt32 { orrery_atomic_load(pointer) }

    public func store(_ value: UInt32) { orrery_atomic_store(pointer, value) }

    /// Adds `delta` (wrapping) and returns the new value.
    @discardableResult
    public func add(_ delta: UInt32) -> UInt32 { orrery_atomic_add(pointer, delta) }

    /// Stores `desired` if the word holds `expected`; true if it did.
    public func compareExchange(expected: UInt32, desired: UInt32) -> Bool {
        orrery_atomic_compare_exchange(pointer, expected, desired) != 0
    }

    /// Sleeps while the word holds `expected`, for at most `microseconds`; may return early.
    public func wait(whileEqualTo expected: UInt32, microseconds: Int) {
        orrery_futex_wait(pointer, expected, microseconds)
    }

    /// Wakes every sleeper on this word, in every process.
    public func wakeAll() { orrery_futex_wake_all(pointer) }

    /// A hint to the CPU that the caller is spinning.
    public static func relax() { orrery_cpu_relax() }
}
