import CKernels

/// The code that multiplies in integers — block-encoded weights (`QuantizedMatrix`) and int8
/// ones (`Int8Matrix`) — chosen at run time from what the CPU has, so the default build (no
/// `ORRERY_TARGET_CPU`) runs at full speed. Every level gives the same bits for int8.
public enum QuantizedKernel: String, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    /// C without intrinsics: any CPU.
    case portable
    /// maddubs/madd on 256-bit registers (AVX2, FMA, F16C).
    case avx2
    /// One dpbusd per 32 byte pairs (AVX-512 VNNI on 256-bit registers).
    case vnni

    /// The code products run now: the best available, at most the cap.
    public static var current: QuantizedKernel { allCases[Int(orrery_quantized_kernel_level())] }

    /// The best code this CPU runs.
    public static var best: QuantizedKernel {
        let saved = current
        cap(.vnni)
        defer { cap(saved) }
        return current
    }

    /// Limits products to `level` (tests run every path on one machine; benchmarks compare
    /// them). Process-wide.
    public static func cap(_ level: QuantizedKernel) { orrery_quantized_kernel_cap(Int32(level.level)) }

    /// The number the C kernels use.
    var level: Int { Self.allCases.firstIndex(of: self)! }

    public static func < (a: Self, b: Self) -> Bool { a.level < b.level }

    public var description: String { rawValue }
}
