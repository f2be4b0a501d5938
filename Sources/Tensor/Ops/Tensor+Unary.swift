import Foundation

/// Elementwise functions of one tensor. Each case knows its value and its derivative,
/// written in terms of the input x and the output y, whichever is cheaper: the one table
/// of unary gradient rules.
enum UnaryOperation {
    case negate, exp, log, sqrt, tanh, sigmoid, relu, geluTanh, geluErf, square, silu
    case power(Float)

    @inline(__always)
    func value(_ x: Float) -> Float {
        switch self {
        case .negate: -x
        case .exp: Foundation.exp(x)
        case .log: Foundation.log(x)
        case .sqrt: x.squareRoot()
        case .tanh: Foundation.tanh(x)
        case .sigmoid: 1 / (1 + Foundation.exp(-x))
        case .relu: x > 0 ? x : 0
        case .geluTanh: 0.5 * x * (1 + Foundation.tanh(Self.geluScale * (x + 0.044715 * x * x * x)))
        case .geluErf: 0.5 * x * (1 + erf(x * Float(0.5).squareRoot()))
        case .square: x * x
        case .silu: x / (1 + Foundation.exp(-x))
        case .power(let p): pow(x, p)
        }
    }

    /// dy/dx at input x with output y.
    @inline(__always)
    func derivative(_ x: Float, _ y: Float) -> Float {
        return switch self {
        case .negate: -1
        case .exp: y
        case .log: 1 / x
        case .sqrt: 0.5 / y
        case .tanh: 1 - y * y
        case .sigmoid: y * (1 - y)
        case .relu: x > 0 ? 1 : 0
        case .geluTanh: Self.geluTanhDerivative(x)
        case .geluErf: 0.5 * (1 + erf(x * Float(0.5).squareRoot())) + x * Foundation.exp(-0.5 * x * x) / Float(2 * Double.pi).squareRoot()
        case .square: 2 * x
        case .silu: Self.siluDerivative(x)
        case .power(let p): p * pow(x, p - 1)
        }
    }

    /// d²y/dx² at input x: what a second-order backward (`createGraph`) sends back through
    /// f′. ReLU's is 0 (almost everywhere), as PyTorch takes it.
    func secondDerivative(_ x: Float) -> Float {
        switch self {
        case .negate, .relu: return 0
        case .exp: return Foundation.exp(x)
        case .log: return -1 / (x * x)
        case .sqrt: return -0.25 / (x * x.squareRoot())
        case .tanh:
            let y = Foundation.tanh(x)
            return -2 * y * (1 - y * y)
        case .sigmoid:
            let s = 1 / (1 + Foundation.exp(-x))
            return s * (1 - s) * (1 - 2 * s)
        case .geluErf:
            let density = Foundation.exp(-0.5 * x * x) / Float(2 * Double.pi).squareRoot()
            return density * (2 - x * x)
        case .geluTanh:
            let c = Self.geluScale, a: Float = 0.044715
            let t = Foundation.tanh(c * (x + a * x * x * x))
            let du = c * (1 + 3 * a * x * x)
            return (1 - t * t) * (du - x * t * du * du + 3 * a * c * x * x)
        case .square: return 2
        case .silu:
            let s = 1 / (1 + Foundation.exp(-x))
            return s * (1 - s) * (2 + x * (1 - 2 * s))
        case .power(let p): return p * (p - 1) * pow(x, p - 2)
        }
    }

    @inline(__always)
    static func geluTanhDerivative(_ x: Float) -> Float {
        let t = Foundation.tanh(geluScale * (x + 0.044715 * x * x * x))
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * geluScale * (1 + 3 * 0.044715 * x * x)
    }

    /// d/dx x·σ(x) = σ(x)·(1 + x·(1 − σ(x))).
    @inline(__always)
    static func siluDerivative(_ x: Float) -> Float {
        let s = 1 / (1 + Foundation.exp(-x))
        return s * (1 + x * (1 - s))
    }

    static let geluScale = Float(2 / Double.pi).squareRoot()
}

extension Tensor {
    static func unary(_ x: Tensor, _ operation: UnaryOperation) -> Tensor {
        let out = Storage(uninitializedCount: x.count)
        let input = x.storage.base, output = out.base
        Parallel.forEachChunk(x.count, grain: 8) { range in
            let (source, target, n) = (input + range.lowerBound, output + range.lowerBound, range.count)
            // One loop per case, so that each compiles to straight (vectorizable) code.
            switch operation {
            case .relu: for i in 0..<n { target[i] = Swift.max(source[i], 0) }
            case .negate: for i in 0..<n { target[i] = -source[i] }
            case .square: for i in 0..<n { target[i] = source[i] * source[i] }
            case .exp: VectorMath.map(source, target, n) { VectorMath.exp($0) }
            case .sigmoid: VectorMath.map(source, target, n) { 1 / (1 + VectorMath.exp(-$0)) }
            case .silu: VectorMath.map(source, target, n) { $0 / (1 + VectorMath.exp(-$0)) }
            case .tanh: VectorMath.map(source, target, n) { 1 - 2 / (VectorMath.exp(2 * $0) + 1) }
            case .geluErf: VectorMath.map(source, target, n) { 0.5 * $0 * (1 + VectorMath.erf($0 * 0.707_106_77)) }
            case .geluTanh:
                VectorMath.map(source, target, n) { x in
                    let inner = UnaryOperation.geluScale * (x + 0.044715 * x * x * x)
                    return 0.5 * x * (2 - 2 / (VectorMath.exp(2 * inner) + 1))
                }
            default: for i in 0..<n { target[i] = operation.value(source[i]) }
            }
        }
        // Second order: g ⊙ f′(x), with f′(x) itself a recorded operation whose gradient
        // is f″(x), so the gradient can be differentiated once more.
        func secondOrder(_ g: Tensor, _ needs: [Bool]) throws(TensorError) -> [Tensor?] { [try g * derivative(x, operation)] }
        return recording(x.shape, out, inputs: [x], secondOrder: .rule(secondOrder)) { (g, _) throws(TensorError) in
            // Read through the captured storages, which keeps them alive until backward.
            let input = x.storage.base, output = out.base
            let gradient = Storage(uninitializedCount: x.count)
            let gIn = g.storage.base, gOut = gradient.base
            Parallel.forEachChunk(x.count, grain: 8) { range in
                let offset = range.lowerBound, n = range.count
                let (gi, go, xi, yi) = (gIn + offset, gOut + offset, input + offset, output + offset)
                switch operation {
                case .relu: for i in 0..<n { go[i] = xi[i] > 0 ? gi[i] : 0 }
                case .negate: for i in 0..<n { go[i] = -gi[i] }
                case .square: for i in 0..<n { go[i] = 2 * xi[i] * gi[i] }
                case .tanh: for i in 0..<n { go[i] = gi[i] * (1 - yi[i] * yi[i]) }
                case .sigmoid: for i in 0..<n { go[i] = gi[i] * yi[i] * (1 - yi[i]) }
                case .geluErf:
                    // d/dx x·Φ(x) = Φ(x) + x·φ(x); the derivative is formed in go, then scaled by g.
                    let invSqrt2Pi = 1 / Float(2 * Double.pi).squareRoot()
                    VectorMath.map(xi, go, n) { x in
                        0.5 * (1 + VectorMath.erf(x * 0.707_106_77)) + x * VectorMath.exp(-0.5 * x * x) * invSqrt2Pi
                    }
                    for i in 0..<n { go[i] *= gi[i] }
                default: for i in 0..<n { go[i] = gi[i] * operation.derivative(xi[i], yi[i]) }
                }
            }
            return [Tensor(shape: x.shape, storage: gradient)]
        }
    }

    /// f′(x) elementwise, recorded with f″(x) as its gradient rule (what a second-order
    /// backward needs; it is never differentiated a third time).
    static func derivative(_ x: Tensor, _ operation: UnaryOperation) -> Tensor {
        let values = x.scalars
        let derivatives = values.map { operation.derivative($0, operation.value($0)) }
        return recording(x.shape, Storage(derivatives), inputs: [x]) { (g, _) throws(TensorError) in
            let second = values.map { operation.secondDerivative($0) }
            return [try g * Tensor(shape: x.shape, storage: Storage(second))]
        }
    }

    public static prefix func - (x: Tensor) -> Tensor { unary(x, .negate) }
    public func exp() -> Tensor { Self.unary(self, .exp) }
    public func log() -> Tensor { Self.unary(self, .log) }
    public func sqrt() -> Tensor { Self.unary(self, .sqrt) }
    public func tanh() -> Tensor { Self.unary(self, .tanh) }
    public func sigmoid() -> Tensor { Self.unary(self, .sigmoid) }
    public func relu() -> Tensor { Self.unary(self, .relu) }
    /// SiLU (swish), x·σ(x): the gate of Llama's SwiGLU feed-forward.
    public func silu() -> Tensor { Self.unary(self, .silu) }
    public func squared() -> Tensor { Self.unary(self, .square) }
    public func pow(_ exponent: Float) -> Tensor { Self.unary(self, .power(exponent)) }

    /// GELU; `approximate: true` is the tanh form (GPT-2, BERT's `gelu_new`), false the erf form.
    public func gelu(approximate: Bool = false) -> Tensor { Self.unary(self, approximate ? .geluTanh : .geluErf) }
}
