/// Binary elementwise operations with NumPy broadcasting, and their gradients.
enum BinaryOperation {
    case add, subtract, multiply, divide

    @inline(__always)
    func apply(_ x: Float, _ y: Float) -> Float {
        switch self {
        case .add: x + y
        case .subtract: x - y
        case .multiply: x * y
        case .divide: x / y
        }
    }

    var name: String {
        switch self {
        case .add: "add"
        case .subtract: "subtract"
        case .multiply: "multiply"
        case .divide: "divide"
        }
    }
}

extension Tensor {
    /// `a op b` with broadcasting, without touching the tape.
    static func broadcastKernel(_ a: Tensor, _ b: Tensor, _ operation: BinaryOperation) throws(TensorError) -> Tensor {
        let shape: Shape
        do {
            shape = try Shape.broadcast(a.shape, b.shape)
        } catch {
            throw TensorError(.shapeMismatch(operation: operation.name, a.shape, b.shape))
        }
        let out = Storage(uninitializedCount: shape.count)
        let rank = shape.rank
        guard rank > 0 else {
            out.base[0] = operation.apply(a.storage.base[0], b.storage.base[0])
            return Tensor(shape: shape, storage: out)
        }
        let x = a.storage.base, y = b.storage.base, z = out.base
        if a.shape == b.shape {
            Parallel.forEachChunk(shape.count) { range in
                Self.run(operation, x + range.lowerBound, 1, y + range.lowerBound, 1, z + range.lowerBound, range.count)
            }
            return Tensor(shape: shape, storage: out)
        }
        let aStrides = broadcastStrides(a.shape, to: shape), bStrides = broadcastStrides(b.shape, to: shape)
        let inner = shape[rank - 1]
        let rows = shape.count / Swift.max(inner, 1)
        let dims = shape.dimensions
        Parallel.forEachChunk(rows, grain: inner) { range in
            for row in range {
                // Offsets of this row in each input, from its index over the outer dimensions.
                var remainder = row, offsetA = 0, offsetB = 0
                for axis in stride(from: rank - 2, through: 0, by: -1) {
                    let index = remainder % dims[axis]
                    remainder /= dims[axis]
                    offsetA += index * aStrides[axis]
                    offsetB += index * bStrides[axis]
                }
                Self.run(operation, x + offsetA, aStrides[rank - 1], y + offsetB, bStrides[rank - 1], z + row * inner, inner)
            }
        }
        return Tensor(shape: shape, storage: out)
    }

    /// Strides of `shape` read as `target` (0 along broadcast axes).
    static func broadcastStrides(_ shape: Shape, to target: Shape) -> [Int] {
        let own = shape.strides
        let pad = target.rank - shape.rank
        return (0..<target.rank).map { axis in
            axis < pad || shape[axis - pad] == 1 ? 0 : own[axis - pad]
        }
    }

    @inline(__always)
    static func run(
        _ operation: BinaryOperation, _ x: UnsafePointer<Float>, _ sx: Int, _ y: UnsafePointer<Float>, _ sy: Int,
        _ z: UnsafeMutablePointer<Float>, _ n: Int
    ) {
        switch operation {
        case .add: loop(x, sx, y, sy, z, n) { $0 + $1 }
        case .subtract: loop(x, sx, y, sy, z, n) { $0 - $1 }
        case .multiply: loop(x, sx, y, sy, z, n) { $0 * $1 }
        case .divide: loop(x, sx, y, sy, z, n) { $0 / $1 }
        }
    }

    @inline(__always)
    static func loop(
        _ x: UnsafePointer<Float>, _ sx: Int, _ y: UnsafePointer<Float>, _ sy: Int, _ z: UnsafeMutablePointer<Float>,
        _ n: Int, _ f: (Float, Float) -> Float
    ) {
        switch (sx, sy) {
        case (1, 1): for i in 0..<n { z[i] = f(x[i], y[i]) }
        case (1, _): let v = y[0]; for i in 0..<n { z[i] = f(x[i], v) }
        case (_, 1): let v = x[0]; for i in 0..<n { z[i] = f(v, y[i]) }
        default: let v = f(x[0], y[0]); for i in 0..<n { z[i] = v }
        }
    }

    /// Sums a broadcast gradient back down to `shape`.
    func reduced(to target: Shape) throws(TensorError) -> Tensor {
        guard shape != target else { return self }
        let pad = rank - target.rank
        var axes: [Int] = Array(0..<pad)
        for axis in 0..<target.rank where target[axis] == 1 && shape[axis + pad] != 1 { axes.append(axis + pad) }
        return try sum(axes: axes, keepDimensions: true).reshaped(target)
    }

    static func binary(_ a: Tensor, _ b: Tensor, _ operation: BinaryOperation) throws(TensorError) -> Tensor {
        let result = try broadcastKernel(a, b, operation)
        return recording(result.shape, result.storage, inputs: [a, b], secondOrder: .sameRule) { (g, needs) throws(TensorError) in
            let (ga, gb): (Tensor?, Tensor?)
            switch operation {
            case .add:
                ga = needs[0] ? try g.reduced(to: a.shape) : nil
                gb = needs[1] ? try g.reduced(to: b.shape) : nil
            case .subtract:
                ga = needs[0] ? try g.reduced(to: a.shape) : nil
                gb = needs[1] ? try (-g).reduced(to: b.shape) : nil
            case .multiply:
                ga = needs[0] ? try (g * b).reduced(to: a.shape) : nil
                gb = needs[1] ? try (g * a).reduced(to: b.shape) : nil
            case .divide:
                ga = needs[0] ? try (g / b).reduced(to: a.shape) : nil
                gb = needs[1] ? try (-(g * a) / (b * b)).reduced(to: b.shape) : nil
            }
            return [ga, gb]
        }
    }

    public static func + (a: Tensor, b: Tensor) throws(TensorError) -> Tensor { try binary(a, b, .add) }
    public static func - (a: Tensor, b: Tensor) throws(TensorError) -> Tensor { try binary(a, b, .subtract) }
    public static func * (a: Tensor, b: Tensor) throws(TensorError) -> Tensor { try binary(a, b, .multiply) }
    public static func / (a: Tensor, b: Tensor) throws(TensorError) -> Tensor { try binary(a, b, .divide) }

    public static func + (a: Tensor, b: Float) -> Tensor { try! binary(a, Tensor(scalar: b), .add) }
    public static func - (a: Tensor, b: Float) -> Tensor { try! binary(a, Tensor(scalar: b), .subtract) }
    public static func * (a: Tensor, b: Float) -> Tensor { try! binary(a, Tensor(scalar: b), .multiply) }
    public static func / (a: Tensor, b: Float) -> Tensor { try! binary(a, Tensor(scalar: b), .divide) }
    public static func * (a: Float, b: Tensor) -> Tensor { b * a }
    public static func - (a: Float, b: Tensor) -> Tensor { try! binary(Tensor(scalar: a), b, .subtract) }
}
