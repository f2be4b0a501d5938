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

    /// target[i] = Σⱼ sources[j][i] (times `scale`), summed in the order of `sources`, and
    /// the same into `second` if given: one pass that reads every source once.
    static func sum(
        _ sources: [UnsafePointer<Float>], count: Int, into target: UnsafeMutablePointer<Float>,
        also second: UnsafeMutablePointer<Float>? = nil, scale: Float? = nil
    ) {
        typealias Wide = SIMD16<Float>
        sources.withUnsafeBufferPointer { sources in
            func store(_ value: Wide, at i: Int) {
                UnsafeMutableRawPointer(target + i).storeBytes(of: value, as: Wide.self)
                if let second { UnsafeMutableRawPointer(second + i).storeBytes(of: value, as: Wide.self) }
            }
            var i = 0
            while i + 16 <= count {
                var total = UnsafeRawPointer(sources[0] + i).loadUnaligned(as: Wide.self)
                for j in 1..<sources.count { total += UnsafeRawPointer(sources[j] + i).loadUnaligned(as: Wide.self) }
                if let scale { total *= scale }
                store(total, at: i)
                i += 16
            }
            while i < count {
                var total = sources[0][i]
                for j in 1..<sources.count { total += sources[j][i] }
                if let scale { total *= scale }
                target[i] = total
                second?[i] = total
                i += 1
            }
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

    /// Part `index` of `count` elements cut into `parts` near-equal pieces whose bounds are
    /// multiples of 16 floats (64 bytes), so that no two ranks write one cache line.
    public static func alignedPart(_ index: Int, of count: Int, parts: Int) -> Range<Int> {
        let lines = (count + 15) / 16
        let start = Swift.min(count, index * lines / parts * 16)
        let end = Swift.min(count, (index + 1) * lines / parts * 16)
        return start..<end
    }

    /// `range` cut into consecutive pieces of at most `size` elements.
    static func pieces(of range: Range<Int>, size: Int) -> [Range<Int>] {
        stride(from: range.lowerBound, to: range.upperBound, by: size).map { $0..<Swift.min($0 + size, range.upperBound) }
    }
}
