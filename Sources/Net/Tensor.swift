import GenreCore

/// A dense Float32 array with a shape, stored row-major (the last index varies fastest).
///
/// Layouts used by Net:
/// - images: NCHW, `[batch, channels, height, width]`;
/// - dense activations and logits: `[batch, features]`;
/// - parameters as PyTorch stores them: convolution weight `[outChannels, inChannels, kernel, kernel]`, linear
///   weight `[outFeatures, inFeatures]`, biases and batch-norm vectors `[channels]`.
///
/// `Tensor` is a value type (copy-on-write storage) used at the API boundary: inputs, logits, gradients of the
/// loss, checkpoint state. The layers keep their own preallocated buffers and never allocate a `Tensor` per
/// element or per batch in their hot loops.
public struct Tensor: Sendable, Equatable, Hashable, Codable {
    /// Extent of each dimension (all >= 0).
    public private(set) var shape: [Int]
    /// The elements in row-major order; `scalars.count == shape.reduce(1, *)`.
    public private(set) var scalars: [Float]

    /// A tensor of `shape` holding `scalars` (row-major; the count must match the shape).
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in shape \(shape)")
        precondition(
            scalars.count == shape.reduce(1, *),
            "Tensor: \(scalars.count) scalars do not fill shape \(shape) (\(shape.reduce(1, *)) elements)")
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor of `shape` with every element equal to `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        self.init(shape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    /// A tensor of `shape` filled with independent normal deviates (mean 0, standard deviation `standardDeviation`).
    public init(shape: [Int], normalStandardDeviation standardDeviation: Float, generator: inout SplitMix64) {
        let count = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count { values[i] = Float(generator.normal()) * standardDeviation }
        self.init(shape: shape, scalars: values)
    }

    /// Number of elements.
    public var count: Int { scalars.count }

    /// The same elements under a new shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, scalars: scalars)
    }

    /// The element at a full multi-index (row-major), for tests and small tensors (bounds-checked, not for hot loops).
    public subscript(_ index: Int...) -> Float {
        get { scalars[offset(index)] }
        set { scalars[offset(index)] = newValue }
    }

    private func offset(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "Tensor: index \(index) does not match shape \(shape)")
        var flat = 0
        for (i, extent) in zip(index, shape) {
            precondition(i >= 0 && i < extent, "Tensor: index \(index) out of range for shape \(shape)")
            flat = flat * extent + i
        }
        return flat
    }

    /// Reads the elements in place (row-major).
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try scalars.withUnsafeBufferPointer(body)
    }

    /// Mutates the elements in place (row-major); the shape cannot change.
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        try scalars.withUnsafeMutableBufferPointer(body)
    }

    /// For each row of a `[rows, columns]` tensor (e.g. logits `[batch, classes]`), the column of its largest
    /// element (the first one on ties).
    public func argmaxPerRow() -> [Int] {
        precondition(shape.count == 2, "Tensor.argmaxPerRow needs a [rows, columns] tensor, got shape \(shape)")
        let rows = shape[0], columns = shape[1]
        guard columns > 0 else { return [Int](repeating: 0, count: rows) }
        return (0..<rows).map { r in
            var best = 0
            for c in 1..<columns where scalars[r * columns + c] > scalars[r * columns + best] { best = c }
            return best
        }
    }
}
