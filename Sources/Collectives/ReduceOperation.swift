/// How an all-reduce combines the members' buffers.
public enum ReduceOperation: String, Sendable, CaseIterable {
    case sum
    /// The sum divided by the world size (what data-parallel training averages gradients with).
    case mean
}

/// The element loops of the collectives, eight lanes at a time. Received frames are not
/// guaranteed to be float-aligned, so they are read unaligned.
enum ReduceKernel {
    typealias Lanes = SIMD8<Float>

    /// target[i] += source[i]
    static func add(into target: UnsafeMutablePointer<Float>, from source: UnsafeRawPointer, count: Int) {
        var i = 0
        while i + 8 <= count {
            let sum = UnsafeRawPointer(target + i).loadUnaligned(as: Lanes.self) + source.loadUnaligned(fromByteOffset: 4 * i, as: Lanes.self)
            UnsafeMutableRawPointer(target + i).storeBytes(of: sum, as: Lanes.self)
            i += 8
        }
        while i < count {
            target[i] += source.loadUnaligned(fromByteOffset: 4 * i, as: Float.self)
            i += 1
        }
    }

    /// target[i] *= factor
    static func scale(_ target: UnsafeMutablePointer<Float>, count: Int, by factor: Float) {
        var i = 0
        while i + 8 <= count {
            let scaled = UnsafeRawPointer(target + i).loadUnaligned(as: Lanes.self) * factor
            UnsafeMutableRawPointer(target + i).storeBytes(of: scaled, as: Lanes.self)
            i += 8
        }
        while i < count {
            target[i] *= factor
            i += 1
        }
    }

    /// target[i] = source[i]
    static func copy(into target: UnsafeMutablePointer<Float>, from source: UnsafeRawPointer, count: Int) {
        UnsafeMutableRawPointer(target).copyMemory(from: source, byteCount: 4 * count)
    }
}

/// A buffer split into `parts` near-equal contiguous segments (the first `count % parts`
/// one longer), each cut into pieces of at most `chunk` elements.
public struct Segmentation: Sendable {
    public let count: Int
    public let parts: Int
    public let chunk: Int

    public init(count: Int, parts: Int, chunk: Int = .max) {
        precondition(parts > 0 && chunk > 0)
        self.count = count
        self.parts = parts
        self.chunk = chunk
    }

    public func segment(_ index: Int) -> Range<Int> {
        let base = count / parts, extra = count % parts
        let start = index * base + Swift.min(index, extra)
        return start..<(start + base + (index < extra ? 1 : 0))
    }

    /// The pieces of segment `index`, in order.
    public func chunks(ofSegment index: Int) -> [Range<Int>] { Self.pieces(of: segment(index), size: chunk) }

    /// `range` cut into consecutive pieces of at most `size` elements.
    static func pieces(of range: Range<Int>, size: Int) -> [Range<Int>] {
        stride(from: range.lowerBound, to: range.upperBound, by: size).map { $0..<Swift.min($0 + size, range.upperBound) }
    }
}
