import Testing

@testable import Tensor

/// The int8 linear product (CKernels/int8_product.c) against a double-precision product of
/// the values the int8 codes stand for (activations rounded per row as the kernel rounds
/// them): the integer sums are exact, so only float rounding may differ. The VNNI, AVX2 and
/// portable paths must agree bit for bit, over shapes that cross the 6×16 and 4×16 tiles,
/// the depth's groups of 4 and the 96-row blocks.
@Suite("int8 products", .serialized)
struct Int8ProductTests {
    static let shapes = [(1, 1, 1), (1, 40, 384), (5, 15, 3), (6, 16, 4), (7, 17, 5), (13, 33, 64), (97, 20, 385), (200, 48, 96)]

    static func values(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var generator = SplitMix64(seed: seed)
        return (0..<count).map { _ in Float.random(in: -scale...scale, using: &generator) }
    }

    /// x rounded per row as the kernel rounds it: s = max|x|/127, round to nearest even.
    static func roundedRows(_ x: [Float], rows: Int, columns: Int) -> [Double] {
        (0..<rows).flatMap { i -> [Double] in
            let row = x[(i * columns)..<((i + 1) * columns)]
            let scale = (row.map(abs).max() ?? 0) / 127
            let inverse = scale > 0 ? 1 / scale : 0
            return row.map { Double(($0 * inverse).rounded(.toNearestOrEven)) * Double(scale) }
        }
    }

    @Test("x · Wᵀ + b equals the product of the values the codes stand for", arguments: shapes)
    func product(m: Int, n: Int, k: Int) throws {
        let weight = try Tensor(Self.values(n * k, seed: UInt64(n * k)), shape: [n, k])
        let matrix = try Int8Matrix(quantizing: weight)
        let x = Self.values(m * k, seed: UInt64(m + 7), scale: 3)
        let bias = try Tensor(Self.values(n, seed: 5), shape: [n])
        let y = try Tensor(x, shape: [m, k]).linear(int8: matrix, bias: bias)
        let xq = Self.roundedRows(x, rows: m, columns: k)
        let w = matrix.dequantized().scalars.map(Double.init)
        for i in 0..<m {
            for j in 0..<n {
                var exact = Double(bias.scalars[j]), magnitude = abs(exact)
                for t in 0..<k {
                    exact += xq[i * k + t] * w[j * k + t]
                    magnitude += abs(xq[i * k + t] * w[j * k + t])
                }
                let actual = Double(y.scalars[i * n + j])
                #expect(abs(actual - exact) <= 1e-6 * magnitude + 1e-7, "\(m)×\(n)×\(k) at [\(i), \(j)]: \(actual) vs \(exact)")
            }
        }
    }

    /// Every code this CPU runs (VNNI, AVX2, portable C) gives the portable code's bits,
    /// including activations at ±127 and weights at ±127, where AVX2's 16-bit pair sums peak.
    @Test("Every kernel gives the same bits as portable C", arguments: QuantizedKernel.allCases.filter { $0 > .portable && $0 <= QuantizedKernel.best })
    func pathsAgree(_ kernel: QuantizedKernel) throws {
        defer { QuantizedKernel.cap(.vnni) }
        var extremes = Self.values(13 * 70, seed: 5)
        for index in extremes.indices where index % 3 == 0 { extremes[index] = index % 2 == 0 ? 1 : -1 }
        let cases = Self.shapes.map { (m, n, k) in (Self.values(n * k, seed: 3), Self.values(m * k, seed: 4), m, n, k) }
            + [(extremes, extremes.map { $0 < 0 ? -1 : 1 }, 13, 13, 70)]
        for (w, xs, m, n, k) in cases {
            let matrix = try Int8Matrix(quantizing: try Tensor(w, shape: [n, k]))
            let x = try Tensor(xs, shape: [m, k])
            QuantizedKernel.cap(kernel)
            let fast = try x.linear(int8: matrix, bias: nil)
            QuantizedKernel.cap(.portable)
            let portable = try x.linear(int8: matrix, bias: nil)
            #expect(fast.scalars == portable.scalars, "\(kernel) \(m)×\(n)×\(k)")
        }
    }

    @Test("Quantizing keeps every weight within half a step of its value, one byte a weight")
    func quantizing() throws {
        let w = Self.values(24 * 50, seed: 8)
        let matrix = try Int8Matrix(quantizing: try Tensor(w, shape: [24, 50]))
        let back = matrix.dequantized().scalars
        for j in 0..<24 {
            for t in 0..<50 { #expect(abs(back[j * 50 + t] - w[j * 50 + t]) <= matrix.scales[j] / 2 * 1.0001) }
            #expect(matrix.values[(j * 50)..<((j + 1) * 50)].map { abs(Int($0)) }.max() == 127)
        }
        #expect(matrix.byteCount == 24 * 50 + 24 * 4)  // one byte a weight, one float a row
    }

    @Test("The gradient reaches x through the dequantized weights, and the bias")
    func gradient() throws {
        let matrix = try Int8Matrix(quantizing: try Tensor(Self.values(12 * 20, seed: 2), shape: [12, 20]))
        let x = try Tensor(Self.values(3 * 20, seed: 6), shape: [3, 20]).requiringGrad()
        let bias = Tensor.zeros([12]).requiringGrad()
        let probe = try Tensor((0..<36).map { Float($0 % 5) - 2 }, shape: [3, 12])
        try (x.linear(int8: matrix, bias: bias) * probe).sum().backward()
        let gx = try probe.matmul(matrix.dequantized())
        #expect(zip(try #require(x.grad).scalars, gx.scalars).allSatisfy { abs($0 - $1) <= 1e-5 * (1 + abs($1)) })
        let gb = try probe.sum(axes: [0])
        #expect(try #require(bias.grad).scalars == gb.scalars)
    }

    @Test("Wrong counts, −128 and shapes that do not fit are refused by name")
    func refusals() throws {
        #expect(throws: TensorError.self) { try Int8Matrix(values: [1, 2, 3], scales: [1], rows: 2, columns: 2) }
        #expect(throws: TensorError.self) { try Int8Matrix(values: [1, -128], scales: [1], rows: 1, columns: 2) }
        let matrix = try Int8Matrix(values: [1, 2], scales: [0.5], rows: 1, columns: 2)
        #expect(throws: TensorError.self) { try Tensor.zeros([2, 3]).linear(int8: matrix, bias: nil) }
        #expect(throws: TensorError.self) { try Tensor.zeros([2, 2]).linear(int8: matrix, bias: Tensor.zeros([2])) }
        // An empty batch is an empty answer.
        #expect(try Tensor.zeros([0, 2]).linear(int8: matrix, bias: nil).shape == [0, 1])
    }
}
