/// One step of a model's execution: a single layer, or several layers fused into one pass over memory.
///
/// Buffers are raw pointers owned by the model: `input` holds `batch` samples of ``inputShape`` and `output`
/// `batch` samples of ``outputShape`` (NCHW images, `[batch, features]` vectors). A training forward caches what
/// the following backward needs inside the stage; `backward` adds the parameter gradients into the parameters'
/// gradient buffers and, when `gradInput` is non-nil, writes (overwrites) the gradient with respect to the input.
protocol Stage: AnyObject {
    /// Per-sample input shape (`[C, H, W]` or `[F]`).
    var inputShape: [Int] { get }
    /// Per-sample output shape.
    var outputShape: [Int] { get }
    func forward(
        input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int, training: Bool,
        workers: Workers)
    func backward(
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        gradInput: UnsafeMutablePointer<Float>?, batch: Int, workers: Workers)
}

/// A layer of the spec: a stage that may own parameters and checkpointed state.
protocol Layer: Stage {
    /// Trainable parameters, in a stable order.
    var parameters: [Parameter] { get }
    /// Non-trainable arrays a checkpoint must hold (batch-norm running statistics).
    var persistentState: [StateArray] { get }
}

extension Layer {
    var parameters: [Parameter] { [] }
    var persistentState: [StateArray] { [] }
}

/// A named non-trainable array of a layer saved in checkpoints (e.g. `"1.bn.running_mean"`), in an aligned
/// buffer owned by this object.
final class StateArray {
    let name: String
    let shape: [Int]
    let count: Int
    let values: UnsafeMutablePointer<Float>

    init(name: String, shape: [Int], initialValue: Float) {
        self.name = name
        self.shape = shape
        count = shape.reduce(1, *)
        values = allocateFloats(count)
        values.initialize(repeating: initialValue, count: count)
    }

    deinit { freeFloats(values) }

    var tensor: Tensor {
        get { Tensor(shape: shape, scalars: Array(UnsafeBufferPointer(start: values, count: count))) }
        set { newValue.withUnsafeBufferPointer { values.update(from: $0.baseAddress!, count: count) } }
    }
}

/// Per-worker scratch buffers of one stage (im2col columns and their gradient, one sample's output plane), grown
/// on demand and reused from batch to batch; index them by the worker number handed out by ``Workers``.
final class WorkerScratch {
    let columns = Buffer<Float>()
    let gradColumns = Buffer<Float>()
    let plane = Buffer<Float>()
}

extension Array where Element == WorkerScratch {
    /// At least `count` scratch sets.
    mutating func ensure(_ count: Int) {
        while self.count < count { append(WorkerScratch()) }
    }
}

/// Vector helpers over raw float pointers (SIMD, unaligned loads; a scalar tail).
enum Vector {
    /// Sum and sum of squared deviations from the mean of `count` floats: `(mean, M2)` in Double, two passes
    /// over memory that is usually in cache (a conv output plane just written). With `rectified`, of `max(0, x)`
    /// (``ReLU``'s values, NaN as 0): the same numbers as rectifying first.
    @inline(__always)
    static func meanAndSquaredDeviations(_ x: UnsafePointer<Float>, count: Int, rectified: Bool = false) -> (mean: Double, m2: Double) {
        let raw = UnsafeRawPointer(x)
        let zero = SIMD8<Float>(repeating: 0)
        @inline(__always) func load(_ i: Int) -> SIMD8<Float> {
            let v = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            return rectified ? zero.replacing(with: v, where: v .> zero) : v
        }
        @inline(__always) func scalar(_ i: Int) -> Float { rectified ? (x[i] > 0 ? x[i] : 0) : x[i] }
        var acc = SIMD8<Float>(repeating: 0)
        var i = 0
        while i + 8 <= count {
            acc += load(i)
            i += 8
        }
        var sum = Double(acc.sum())
        while i < count {
            sum += Double(scalar(i))
            i += 1
        }
        let mean = sum / Double(count)
        let m = SIMD8<Float>(repeating: Float(mean))
        var sq = SIMD8<Float>(repeating: 0)
        var shift = SIMD8<Float>(repeating: 0)
        i = 0
        while i + 8 <= count {
            let d = load(i) - m
            sq += d * d
            shift += d
            i += 8
        }
        var m2 = Double(sq.sum()), residual = Double(shift.sum())
        while i < count {
            let d = Double(scalar(i)) - Double(Float(mean))
            m2 += d * d
            residual += d
            i += 1
        }
        // Correct for rounding of the mean to Float: sum (x - m)^2 = sum (x - m_f)^2 - (sum (x - m_f))^2 / n.
        m2 -= residual * residual / Double(count)
        return (mean, max(0, m2))
    }

    /// `y[i] = a * x[i] + b`.
    @inline(__always)
    static func affine(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, scale a: Float, shift b: Float) {
        let src = UnsafeRawPointer(x), dst = UnsafeMutableRawPointer(y)
        let av = SIMD8<Float>(repeating: a), bv = SIMD8<Float>(repeating: b)
        var i = 0
        while i + 8 <= count {
            let v = src.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            dst.storeBytes(of: v * av + bv, toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            y[i] = a * x[i] + b
            i += 1
        }
    }

    /// Sum of `count` floats (Double accumulation of SIMD partial sums).
    @inline(__always)
    static func sum(_ x: UnsafePointer<Float>, count: Int) -> Double {
        let raw = UnsafeRawPointer(x)
        var acc = SIMD8<Float>(repeating: 0)
        var i = 0
        while i + 8 <= count {
            acc += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        var total = Double(acc.sum())
        while i < count {
            total += Double(x[i])
            i += 1
        }
        return total
    }

    /// `y[i] += x[i]`.
    @inline(__always)
    static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        let src = UnsafeRawPointer(x), dst = UnsafeMutableRawPointer(y)
        var i = 0
        while i + 8 <= count {
            let v = src.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                + dst.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            dst.storeBytes(of: v, toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            y[i] += x[i]
            i += 1
        }
    }
}
