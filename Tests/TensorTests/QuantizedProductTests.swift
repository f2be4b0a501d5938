import Foundation
import Testing

@testable import Tensor

/// Products with block-encoded weights (CKernels/quantized_product.c) against a double
/// precision product with the weights the encoding stands for. Few rows take the integer
/// path, whose only error is the activations' rounding to int8 per block (at most half a
/// step, d_x/2, per value), so its bound is Σ|w|·d_x/2; more rows take decoded panels and
/// the float kernel, which must match to float rounding.
@Suite("Quantized products", .serialized)
struct QuantizedProductTests {
    /// A matrix encoded by the test itself, with the weights its bytes stand for.
    struct Encoded {
        let matrix: QuantizedMatrix
        let weights: [Double]
    }

    /// Encodes rows × columns weights drawn with `generator`; some blocks are made into the
    /// edge cases: all equal (Q4_1 scale 0), all zero, the extreme codes (nibbles 0 and 15,
    /// int8 −128 and 127), a negative minimum, subnormal fp16 scales.
    static func encode(_ format: BlockFormat, rows: Int, columns: Int, seed: UInt64) throws -> Encoded {
        var generator = SplitMix64(seed: seed)
        var bytes = [UInt8](), weights = [Double]()
        for block in 0..<(rows * columns / 32) {
            let kind = block % 7
            func half(_ value: Float) -> (bits: UInt16, value: Double) {
                let h = Float16(value)
                return (h.bitPattern, Double(Float(h)))
            }
            let scale: Float = kind == 5 ? 3e-6 : Float.random(in: 0.001...0.05, using: &generator)  // 3e-6: subnormal in fp16
            switch format {
            case .q4_1:
                let d = half(kind == 1 ? 0 : scale), m = half(kind == 2 ? 0 : Float.random(in: -0.4...0.1, using: &generator))
                bytes += [UInt8(d.bits & 0xFF), UInt8(d.bits >> 8), UInt8(m.bits & 0xFF), UInt8(m.bits >> 8)]
                var codes = (0..<32).map { _ in Int.random(in: 0...15, using: &generator) }
                if kind == 3 { codes = (0..<32).map { $0 % 2 == 0 ? 0 : 15 } }
                for j in 0..<16 { bytes.append(UInt8(codes[j] | (codes[j + 16] << 4))) }
                weights += codes.map { Double($0) * d.value + m.value }
            case .q8_0:
                let d = half(kind == 2 ? 0 : scale)
                bytes += [UInt8(d.bits & 0xFF), UInt8(d.bits >> 8)]
                var codes = (0..<32).map { _ in Int.random(in: -128...127, using: &generator) }
                if kind == 3 { codes = (0..<32).map { $0 % 2 == 0 ? -128 : 127 } }
                bytes += codes.map { UInt8(bitPattern: Int8($0)) }
                weights += codes.map { Double($0) * d.value }
            }
        }
        let padded = Data([0, 1, 2] + bytes)  // an offset, as in a file
        return Encoded(matrix: try QuantizedMatrix(format: format, rows: rows, columns: columns, data: padded, offset: 3), weights: weights)
    }

    /// Activations with the cases that matter to per-block int8: a zero block, a block with
    /// one large value among small ones, all negative.
    static func activations(rows: Int, columns: Int, seed: UInt64) -> [Float] {
        var generator = SplitMix64(seed: seed)
        var x = (0..<(rows * columns)).map { _ in Float.random(in: -2...2, using: &generator) }
        for (index, block) in stride(from: 0, to: x.count, by: 32).enumerated() {
            switch index % 5 {
            case 1: for j in 0..<32 { x[block + j] = 0 }
            case 2: for j in 0..<32 { x[block + j] = j == 7 ? 90 : x[block + j] * 0.01 }
            case 3: for j in 0..<32 { x[block + j] = -abs(x[block + j]) }
            default: break
            }
        }
        return x
    }

    static let shapes = [(1, 7, 32), (1, 150, 576), (2, 9, 96), (3, 33, 64), (4, 130, 1536), (5, 70, 64), (9, 150, 576), (33, 200, 96)]

    /// Every integer code this CPU can run (the best is the default; the others are what
    /// other CPUs run).
    static let kernels = QuantizedKernel.allCases.filter { $0 <= QuantizedKernel.best }

    @Test("x · Wᵀ matches the product with the weights the blocks stand for, with every kernel this CPU runs", arguments: kernels)
    func products(_ kernel: QuantizedKernel) throws {
        QuantizedKernel.cap(kernel)
        defer { QuantizedKernel.cap(.vnni) }
        for format in [BlockFormat.q4_1, .q8_0] {
            for (m, n, k) in Self.shapes { try product(format, m: m, n: n, k: k) }
        }
    }

    func product(_ format: BlockFormat, m: Int, n: Int, k: Int) throws {
        let encoded = try Self.encode(format, rows: n, columns: k, seed: UInt64(n * k))
        let x = Self.activations(rows: m, columns: k, seed: UInt64(m + k))
        let y = try Tensor(x, shape: [m, k]).matmul(transposed: encoded.matrix)
        #expect(y.shape == [m, n])
        let integers = m <= Tensor.integerRowLimit
        for i in 0..<m {
            for j in 0..<n {
                var exact = 0.0, magnitude = 0.0, bound = 0.0
                for block in 0..<(k / 32) {
                    let xs = (0..<32).map { Double(x[i * k + block * 32 + $0]) }
                    let step = (xs.map(abs).max() ?? 0) / 127
                    for t in 0..<32 {
                        let w = encoded.weights[j * k + block * 32 + t]
                        exact += w * xs[t]
                        magnitude += abs(w * xs[t])
                        bound += abs(w) * step / 2
                    }
                }
                let tolerance = (integers ? bound * 1.001 : 0) + 2e-6 * magnitude + 1e-7
                let actual = Double(y.scalars[i * n + j])
                #expect(abs(actual - exact) <= tolerance, "\(format) \(m)×\(n)×\(k) at [\(i), \(j)]: \(actual) vs \(exact) (± \(tolerance))")
            }
        }
    }

    @Test("Decoding the blocks gives the weights they stand for, whole and by rows", arguments: [BlockFormat.q4_1, .q8_0])
    func decoding(_ format: BlockFormat) throws {
        let encoded = try Self.encode(format, rows: 14, columns: 64, seed: 3)
        #expect(encoded.matrix.dequantized().scalars.map(Double.init) == encoded.weights)
        let picked = try encoded.matrix.rows([13, 0, 13])
        let expected = [13, 0, 13].flatMap { encoded.weights[($0 * 64)..<($0 * 64 + 64)] }
        #expect(Tensor(shape: [3, 64], storage: picked).scalars.map(Double.init) == expected)
        #expect(throws: TensorError.self) { try encoded.matrix.rows([14]) }
    }

    @Test("The gradient reaches x through the decoded weights, for both paths", arguments: [1, 6])
    func gradient(rows m: Int) throws {
        let encoded = try Self.encode(.q4_1, rows: 40, columns: 64, seed: 9)
        let x = try Tensor(Self.activations(rows: m, columns: 64, seed: 4), shape: [m, 64]).requiringGrad()
        let weights = try Tensor(encoded.weights.map(Float.init), shape: [40, 64])
        let probe = try Tensor((0..<(m * 40)).map { Float($0 % 7) - 3 }, shape: [m, 40])
        try (x.matmul(transposed: encoded.matrix) * probe).sum().backward()
        let expected = try probe.matmul(weights)
        let gradient = try #require(x.grad)
        #expect(zip(gradient.scalars, expected.scalars).allSatisfy { abs($0 - $1) <= 1e-5 * (1 + abs($1)) })
    }

    @Test("Shapes that do not fit and bytes that end early are refused by name")
    func refusals() throws {
        let encoded = try Self.encode(.q8_0, rows: 4, columns: 32, seed: 1)
        #expect(throws: TensorError.self) { try Tensor.zeros([2, 64]).matmul(transposed: encoded.matrix) }
        #expect(try Tensor.zeros([0, 32]).matmul(transposed: encoded.matrix).shape == [0, 4])
        #expect(throws: TensorError.self) { try QuantizedMatrix(format: .q8_0, rows: 4, columns: 33, data: Data(count: 1000), offset: 0) }
        #expect(throws: TensorError.self) { try QuantizedMatrix(format: .q4_1, rows: 4, columns: 32, data: Data(count: 79), offset: 0) }
    }
}
