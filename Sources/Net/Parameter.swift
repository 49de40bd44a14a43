/// A trainable array of the network (a weight or bias) with its gradient.
///
/// The value and the gradient live in 64-byte aligned buffers owned by this object; layers read and write them
/// in place, ``Sequential/backward(_:)`` adds into ``gradient`` (gradients accumulate until
/// ``Sequential/zeroGradients()``, as in PyTorch) and an ``Optimizer`` updates ``value``.
///
/// Not `Sendable`: one training thread owns a model and its parameters.
public final class Parameter {
    /// Stable name, `"<spec index>.<layer kind>.<role>"`, e.g. `"0.conv.weight"`, `"1.bn.bias"` (the
    /// checkpoint key).
    public let name: String
    /// Shape, in the layouts documented on ``Tensor`` (conv weight `[out, in, k, k]`, linear `[out, in]`).
    public let shape: [Int]
    /// Number of elements.
    public let count: Int
    /// The values (`count` floats, row-major).
    let values: UnsafeMutablePointer<Float>
    /// The accumulated gradient of the loss with respect to the values (`count` floats).
    let gradients: UnsafeMutablePointer<Float>
    /// Multiplies the optimizer's learning rate for this parameter (discriminative learning rates for
    /// fine-tuning: e.g. 0.1 for a pre-trained body, 1 for a new head), as a PyTorch parameter group with
    /// `lr = learningRate · learningRateScale`: ``SGD`` and ``Adam`` scale the whole step by it, including weight
    /// decay (L2 decay enters the gradient; AdamW's decoupled decay `p ← p · (1 - lr · scale · λ)`). 0 leaves the
    /// parameter unchanged. Default 1; must be finite and >= 0. Not saved in checkpoints (a training setting).
    public var learningRateScale: Float = 1 {
        didSet {
            precondition(
                learningRateScale.isFinite && learningRateScale >= 0,
                "Parameter \(name): learningRateScale must be finite and >= 0, got \(learningRateScale)")
        }
    }

    init(name: String, shape: [Int]) {
        self.name = name
        self.shape = shape
        count = shape.reduce(1, *)
        values = allocateFloats(count)
        gradients = allocateFloats(count)
        values.initialize(repeating: 0, count: count)
        gradients.initialize(repeating: 0, count: count)
    }

    deinit {
        freeFloats(values)
        freeFloats(gradients)
    }

    /// The current values as a tensor of ``shape`` (a copy); setting copies in (the shape must match).
    public var value: Tensor {
        get { Tensor(shape: shape, scalars: Array(UnsafeBufferPointer(start: values, count: count))) }
        set {
            precondition(newValue.shape == shape, "Parameter \(name): shape \(newValue.shape) does not match \(shape)")
            newValue.withUnsafeBufferPointer { values.update(from: $0.baseAddress!, count: count) }
        }
    }

    /// The accumulated gradient as a tensor of ``shape`` (a copy).
    public var gradient: Tensor {
        Tensor(shape: shape, scalars: Array(UnsafeBufferPointer(start: gradients, count: count)))
    }

    /// Sets the gradient to zero.
    public func zeroGradient() {
        gradients.update(repeating: 0, count: count)
    }
}

/// 64-byte aligned float storage (cache-line and AVX-512 aligned) for parameters and activations.
@inline(__always)
func allocateFloats(_ count: Int) -> UnsafeMutablePointer<Float> {
    UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * MemoryLayout<Float>.stride, alignment: 64)
        .bindMemory(to: Float.self, capacity: max(1, count))
}

@inline(__always)
func freeFloats(_ pointer: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(pointer).deallocate()
}

/// A grow-only, 64-byte aligned scratch or activation buffer of `T` (trivial types only), owned by one layer or
/// one model and reused from batch to batch: it reallocates only when a larger batch needs more room. Its
/// contents are unspecified after a reallocation.
final class Buffer<T: BitwiseCopyable> {
    private(set) var pointer: UnsafeMutablePointer<T>
    private(set) var capacity: Int

    init(capacity: Int = 0) {
        self.capacity = max(1, capacity)
        pointer = UnsafeMutableRawPointer.allocate(byteCount: self.capacity * MemoryLayout<T>.stride, alignment: 64)
            .bindMemory(to: T.self, capacity: self.capacity)
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    /// Room for at least `count` elements; returns the (possibly new) storage.
    @discardableResult
    func reserve(_ count: Int) -> UnsafeMutablePointer<T> {
        if count > capacity {
            UnsafeMutableRawPointer(pointer).deallocate()
            capacity = count
            pointer = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<T>.stride, alignment: 64)
                .bindMemory(to: T.self, capacity: count)
        }
        return pointer
    }
}
