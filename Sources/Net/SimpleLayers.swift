import GenreCore

/// `y = max(0, x)` elementwise, any shape. Backward passes the gradient where the output is positive
/// (PyTorch's convention: zero gradient at exactly 0).
final class ReLU: Layer {
    let inputShape: [Int]
    var outputShape: [Int] { inputShape }
    private let size: Int

    init(inputShape: [Int]) {
        self.inputShape = inputShape
        size = inputShape.reduce(1, *)
    }

    func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int, training: Bool, workers: Workers) {
        let size = size
        workers.run(batch: batch) { _, samples in
            let start = samples.lowerBound * size, count = samples.count * size
            let x = input + start, y = output + start
            for i in 0..<count { y[i] = x[i] > 0 ? x[i] : 0 }
        }
    }

    func backward(
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        gradInput: UnsafeMutablePointer<Float>?, batch: Int, workers: Workers
    ) {
        guard let gradInput else { return }
        let size = size
        workers.run(batch: batch) { _, samples in
            let start = samples.lowerBound * size, count = samples.count * size
            let y = UnsafeRawPointer(output + start), dy = UnsafeRawPointer(gradOutput + start)
            let dx = UnsafeMutableRawPointer(gradInput + start)
            // Lane masks rather than a scalar select, which x86 compiles to an unpredictable branch.
            let zero = SIMD8<Float>(repeating: 0)
            var i = 0
            while i + 8 <= count {
                let mask = y.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) .> zero
                let g = zero.replacing(with: dy.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self), where: mask)
                dx.storeBytes(of: g, toByteOffset: i * 4, as: SIMD8<Float>.self)
                i += 8
            }
            while i < count {
                let value = y.load(fromByteOffset: i * 4, as: Float.self)
                dx.storeBytes(of: value > 0 ? dy.load(fromByteOffset: i * 4, as: Float.self) : 0, toByteOffset: i * 4, as: Float.self)
                i += 1
            }
        }
    }
}

/// Max pooling of NCHW images over `kernelHeight`x`kernelWidth` windows every `strideHeight` rows and
/// `strideWidth` columns, no padding, floor mode (PyTorch `MaxPool2d((kh, kw), (sh, sw))`):
/// `[C, H, W]` -> `[C, (H - kh) / sh + 1, (W - kw) / sw + 1]`. A training forward records the position of each
/// window's maximum (the first one in row-major order on ties, as PyTorch); backward adds the output gradient
/// there. 2x2 windows with stride 2 take a vectorised path.
final class MaxPool2D: Layer {
    let inputShape: [Int]
    let outputShape: [Int]
    let kernelHeight: Int, kernelWidth: Int, strideHeight: Int, strideWidth: Int
    let channels: Int, height: Int, width: Int, outHeight: Int, outWidth: Int
    /// Index of each output's maximum inside its input plane, `[N, C, H', W']`.
    private let argmax = Buffer<Int32>()

    /// Square windows, equal strides (``LayerSpec/maxPool2d(kernel:stride:)``).
    convenience init(inputShape: [Int], kernel: Int, stride: Int) {
        self.init(inputShape: inputShape, kernelHeight: kernel, kernelWidth: kernel, strideHeight: stride, strideWidth: stride)
    }

    init(inputShape: [Int], kernelHeight: Int, kernelWidth: Int, strideHeight: Int, strideWidth: Int) {
        self.inputShape = inputShape
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight
        self.strideWidth = strideWidth
        channels = inputShape[0]
        height = inputShape[1]
        width = inputShape[2]
        outHeight = (height - kernelHeight) / strideHeight + 1
        outWidth = (width - kernelWidth) / strideWidth + 1
        outputShape = [channels, outHeight, outWidth]
    }

    /// 2x2 windows with stride 2 (the fast path, and what ``ConvBatchNormReLUPool`` fuses).
    var isTwoByTwo: Bool { kernelHeight == 2 && kernelWidth == 2 && strideHeight == 2 && strideWidth == 2 }

    func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int, training: Bool, workers: Workers) {
        let indices = argmax.reserve(batch * channels * outHeight * outWidth)
        let (c, h, w, oh, ow) = (channels, height, width, outHeight, outWidth)
        let (kh, kw, sh, sw) = (kernelHeight, kernelWidth, strideHeight, strideWidth)
        if isTwoByTwo {
            workers.run(batch: batch) { _, samples in
                for plane in (samples.lowerBound * c)..<(samples.upperBound * c) {
                    Self.pool2x2(input + plane * h * w, output + plane * oh * ow, indices + plane * oh * ow, width: w, outHeight: oh, outWidth: ow)
                }
            }
            return
        }
        workers.run(batch: batch) { _, samples in
            for plane in (samples.lowerBound * c)..<(samples.upperBound * c) {
                let x = input + plane * h * w, y = output + plane * oh * ow, index = indices + plane * oh * ow
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var best = oy * sh * w + ox * sw
                        var value = x[best]
                        for ky in 0..<kh {
                            let row = (oy * sh + ky) * w + ox * sw
                            for kx in 0..<kw where x[row + kx] > value || x[row + kx].isNaN {
                                best = row + kx
                                value = x[best]
                            }
                        }
                        y[oy * ow + ox] = value
                        index[oy * ow + ox] = Int32(truncatingIfNeeded: best)
                    }
                }
            }
        }
    }

    /// One plane of 2x2 stride-2 pooling with the same result and winner as the general loop (the first maximum
    /// in row-major order; a NaN wins, the last one if several), 4 windows at a time with lane masks: the general
    /// loop's comparisons compile to branches that real data mispredicts (compare
    /// ``ConvBatchNormReLUPool/poolTraining(_:_:_:_:width:pooledHeight:pooledWidth:scale:shift:mean:)``).
    @inline(__always)
    static func pool2x2(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ index: UnsafeMutablePointer<Int32>,
        width w: Int, outHeight: Int, outWidth: Int
    ) {
        // A later input replaces the best so far when greater or NaN: pairs (a, b), (c, d), then pair against pair.
        @inline(__always) func wins(_ later: SIMD4<Float>, _ best: SIMD4<Float>) -> SIMDMask<SIMD4<Int32>> {
            (later .> best) .| (later .!= later)
        }
        let lanes = SIMD4<Int32>(0, 2, 4, 6)
        for oy in 0..<outHeight {
            let top = x + 2 * oy * w, bottom = top + w, row = oy * outWidth
            let topStart = Int32(truncatingIfNeeded: 2 * oy * w), bottomStart = Int32(truncatingIfNeeded: (2 * oy + 1) * w)
            var ox = 0
            while ox + 4 <= outWidth {
                let p = top + 2 * ox, q = bottom + 2 * ox
                let a = SIMD4<Float>(p[0], p[2], p[4], p[6]), b = SIMD4<Float>(p[1], p[3], p[5], p[7])
                let c = SIMD4<Float>(q[0], q[2], q[4], q[6]), d = SIMD4<Float>(q[1], q[3], q[5], q[7])
                let column = lanes &+ Int32(truncatingIfNeeded: 2 * ox)
                let bWins = wins(b, a), dWins = wins(d, c)
                let first = a.replacing(with: b, where: bWins), second = c.replacing(with: d, where: dWins)
                let firstIndex = (column &+ topStart).replacing(with: column &+ (topStart &+ 1), where: bWins)
                let secondIndex = (column &+ bottomStart).replacing(with: column &+ (bottomStart &+ 1), where: dWins)
                let secondWins = wins(second, first)
                UnsafeMutableRawPointer(y + row + ox).storeBytes(of: first.replacing(with: second, where: secondWins), as: SIMD4<Float>.self)
                UnsafeMutableRawPointer(index + row + ox).storeBytes(
                    of: firstIndex.replacing(with: secondIndex, where: secondWins), as: SIMD4<Int32>.self)
                ox += 4
            }
            while ox < outWidth {
                let base = 2 * oy * w + 2 * ox
                var best = base
                if x[base + 1] > x[best] || x[base + 1].isNaN { best = base + 1 }
                if x[base + w] > x[best] || x[base + w].isNaN { best = base + w }
                if x[base + w + 1] > x[best] || x[base + w + 1].isNaN { best = base + w + 1 }
                y[row + ox] = x[best]
                index[row + ox] = Int32(truncatingIfNeeded: best)
                ox += 1
            }
        }
    }

    func backward(
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        gradInput: UnsafeMutablePointer<Float>?, batch: Int, workers: Workers
    ) {
        guard let gradInput else { return }
        let indices = argmax.pointer
        let (c, h, w, outPlane) = (channels, height, width, outHeight * outWidth)
        workers.run(batch: batch) { _, samples in
            for plane in (samples.lowerBound * c)..<(samples.upperBound * c) {
                let dx = gradInput + plane * h * w, dy = gradOutput + plane * outPlane, index = indices + plane * outPlane
                dx.update(repeating: 0, count: h * w)
                for i in 0..<outPlane { dx[Int(index[i])] += dy[i] }
            }
        }
    }
}

/// Mean over each channel's plane: `[C, H, W]` -> `[C]` (PyTorch `AdaptiveAvgPool2d(1)` + flatten).
final class GlobalAveragePool: Layer {
    let inputShape: [Int]
    let outputShape: [Int]
    private let channels: Int, plane: Int

    init(inputShape: [Int]) {
        self.inputShape = inputShape
        channels = inputShape[0]
        plane = inputShape.dropFirst().reduce(1, *)
        outputShape = [channels]
    }

    func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int, training: Bool, workers: Workers) {
        let scale = 1 / Double(plane)
        for i in 0..<(batch * channels) { output[i] = Float(Vector.sum(input + i * plane, count: plane) * scale) }
    }

    func backward(
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        gradInput: UnsafeMutablePointer<Float>?, batch: Int, workers: Workers
    ) {
        guard let gradInput else { return }
        let scale = 1 / Float(plane)
        for i in 0..<(batch * channels) { (gradInput + i * plane).update(repeating: gradOutput[i] * scale, count: plane) }
    }
}

/// Inverted dropout, any shape: training keeps each element with probability `1 - p` and scales kept elements
/// by `1 / (1 - p)`; evaluation is the identity. Masks come from the layer's own ``SplitMix64`` (derived from the
/// model seed), drawn in element order, one uniform Float per element.
final class Dropout: Layer {
    let inputShape: [Int]
    var outputShape: [Int] { inputShape }
    let probability: Double
    private let size: Int
    private var generator: SplitMix64
    /// `0` or `1 / (1 - p)` per element of the last training forward.
    private let mask = Buffer<Float>()

    init(inputShape: [Int], probability: Double, generator: SplitMix64) {
        self.inputShape = inputShape
        self.probability = probability
        size = inputShape.reduce(1, *)
        self.generator = generator
    }

    /// Restarts the mask stream from `generator`.
    func reseed(_ generator: SplitMix64) { self.generator = generator }

    func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int, training: Bool, workers: Workers) {
        let count = batch * size
        guard training && probability > 0 else {
            output.update(from: input, count: count)
            return
        }
        let m = mask.reserve(count)
        let keep = Float(1 - probability), scale = Float(1 / (1 - probability))
        for i in 0..<count {
            m[i] = generator.unitFloat() < keep ? scale : 0
            output[i] = input[i] * m[i]
        }
    }

    func backward(
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        gradInput: UnsafeMutablePointer<Float>?, batch: Int, workers: Workers
    ) {
        guard let gradInput else { return }
        let count = batch * size
        guard probability > 0 else {
            gradInput.update(from: gradOutput, count: count)
            return
        }
        let m = mask.pointer
        for i in 0..<count { gradInput[i] = gradOutput[i] * m[i] }
    }
}

/// Fully connected layer with bias (PyTorch `Linear`): `[N, F]` -> `[N, O]`, `Y = X · Wᵀ + b`, `W` is `[O, F]`.
/// Initialisation: He-normal weights (standard deviation `sqrt(2 / F)`), zero bias.
final class Linear: Layer {
    let inputShape: [Int]
    let outputShape: [Int]
    let inFeatures: Int, outFeatures: Int
    let weight: Parameter
    let bias: Parameter

    init(name: String, inFeatures: Int, outFeatures: Int, generator: inout SplitMix64) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        inputShape = [inFeatures]
        outputShape = [outFeatures]
        (weight, bias) = Linear.heNormalParameters(name: name, inFeatures: inFeatures, outFeatures: outFeatures,
                                                   generator: &generator)
    }

    /// `"<name>.weight"` `[out, in]` He-normal (fan in) and `"<name>.bias"` zero: every linear layer's start.
    static func heNormalParameters(name: String, inFeatures: Int, outFeatures: Int, generator: inout SplitMix64)
        -> (weight: Parameter, bias: Parameter)
    {
        let weight = Parameter(name: "\(name).weight", shape: [outFeatures, inFeatures])
        let bias = Parameter(name: "\(name).bias", shape: [outFeatures])
        let std = Float((2.0 / Double(inFeatures)).squareRoot())
        for i in 0..<weight.count { weight.values[i] = Float(generator.normal()) * std }
        return (weight, bias)
    }

    var parameters: [Parameter] { [weight, bias] }

    func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int, training: Bool, workers: Workers) {
        for n in 0..<batch { (output + n * outFeatures).update(from: bias.values, count: outFeatures) }
        BLAS.gemm(
            transposeB: true, m: batch, n: outFeatures, k: inFeatures, a: input, lda: inFeatures, b: weight.values,
            ldb: inFeatures, beta: 1, c: output, ldc: outFeatures)
    }

    func backward(
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        gradInput: UnsafeMutablePointer<Float>?, batch: Int, workers: Workers
    ) {
        // dW[O, F] += dYᵀ[O, N] · X[N, F];  db += Σ_n dY;  dX[N, F] = dY[N, O] · W[O, F]
        BLAS.gemm(
            transposeA: true, m: outFeatures, n: inFeatures, k: batch, a: gradOutput, lda: outFeatures, b: input,
            ldb: inFeatures, beta: 1, c: weight.gradients, ldc: inFeatures)
        for n in 0..<batch {
            for o in 0..<outFeatures { bias.gradients[o] += gradOutput[n * outFeatures + o] }
        }
        guard let gradInput else { return }
        BLAS.gemm(
            m: batch, n: inFeatures, k: outFeatures, a: gradOutput, lda: outFeatures, b: weight.values,
            ldb: inFeatures, beta: 0, c: gradInput, ldc: inFeatures)
    }
}

/// `[C, H, W]` -> `[C·H·W]`: the same row-major elements under a flat shape (a copy between buffers).
final class Flatten: Layer {
    let inputShape: [Int]
    let outputShape: [Int]

    init(inputShape: [Int]) {
        self.inputShape = inputShape
        outputShape = [inputShape.reduce(1, *)]
    }

    func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int, training: Bool, workers: Workers) {
        output.update(from: input, count: batch * outputShape[0])
    }

    func backward(
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        gradInput: UnsafeMutablePointer<Float>?, batch: Int, workers: Workers
    ) {
        gradInput?.update(from: gradOutput, count: batch * outputShape[0])
    }
}

/// A linear layer with sigmoid whose outputs are appended to its input (``LayerSpec/linearSigmoidAppended(outFeatures:)``):
/// `[N, F]` -> `[N, F + O]`, `Y = [X, sigmoid(X · Wᵀ + b)]`, `W` is `[O, F]`. Backward: with `s` the appended
/// outputs and `dS` their gradient, `dZ = dS ⊙ s ⊙ (1 - s)`, `dW += dZᵀ · X`, `db += Σ_n dZ`,
/// `dX = dY[:, :F] + dZ · W`. Initialisation as ``Linear`` (He-normal weights, zero bias).
final class LinearSigmoidAppended: Layer {
    let inputShape: [Int]
    let outputShape: [Int]
    let inFeatures: Int, outFeatures: Int
    let weight: Parameter
    let bias: Parameter
    /// `dZ` of the last backward, `[N, O]`.
    private let gradZ = Buffer<Float>()

    init(name: String, inFeatures: Int, outFeatures: Int, generator: inout SplitMix64) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        inputShape = [inFeatures]
        outputShape = [inFeatures + outFeatures]
        (weight, bias) = Linear.heNormalParameters(name: name, inFeatures: inFeatures, outFeatures: outFeatures,
                                                   generator: &generator)
    }

    var parameters: [Parameter] { [weight, bias] }

    func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int, training: Bool, workers: Workers) {
        let (f, o) = (inFeatures, outFeatures)
        for n in 0..<batch {
            (output + n * (f + o)).update(from: input + n * f, count: f)
            (output + n * (f + o) + f).update(from: bias.values, count: o)
        }
        BLAS.gemm(
            transposeB: true, m: batch, n: o, k: f, a: input, lda: f, b: weight.values, ldb: f, beta: 1,
            c: output + f, ldc: f + o)
        for n in 0..<batch {
            let z = output + n * (f + o) + f
            for j in 0..<o { z[j] = ModelSpec.sigmoid(z[j]) }
        }
    }

    func backward(
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        gradInput: UnsafeMutablePointer<Float>?, batch: Int, workers: Workers
    ) {
        let (f, o) = (inFeatures, outFeatures)
        let dz = gradZ.reserve(batch * o)
        for n in 0..<batch {
            let s = output + n * (f + o) + f, ds = gradOutput + n * (f + o) + f
            for j in 0..<o {
                dz[n * o + j] = ds[j] * (s[j] * (1 - s[j]))
                bias.gradients[j] += dz[n * o + j]
            }
        }
        BLAS.gemm(
            transposeA: true, m: o, n: f, k: batch, a: dz, lda: o, b: input, ldb: f, beta: 1, c: weight.gradients, ldc: f)
        guard let gradInput else { return }
        for n in 0..<batch { (gradInput + n * f).update(from: gradOutput + n * (f + o), count: f) }
        BLAS.gemm(m: batch, n: f, k: o, a: dz, lda: o, b: weight.values, ldb: f, beta: 1, c: gradInput, ldc: f)
    }
}
