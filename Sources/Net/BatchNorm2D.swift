/// Batch normalisation of NCHW images per channel (PyTorch `BatchNorm2d`, affine, momentum 0.1, eps 1e-5 or the
/// spec's ``LayerSpec/batchNorm2dEpsilon(_:)``): `y = gamma · (x - mean) / sqrt(var + eps) + beta`.
///
/// Training uses the batch's statistics over N, H, W (biased variance for normalising) and updates the running
/// statistics as PyTorch does: `running = (1 - momentum) · running + momentum · batch`, with the *unbiased*
/// batch variance (`M / (M - 1)`, `M = N·H·W`) for `running_var`. Evaluation normalises with the running
/// statistics. Parameters: `weight` (gamma, 1) and `bias` (beta, 0), `[C]`; state: `running_mean` (0) and
/// `running_var` (1), `[C]`. Statistics are accumulated per (sample, channel) plane in Float and combined in
/// Double (Chan et al.), so that large batches do not lose precision.
///
/// With ``fixedStatistics`` (``Sequential/batchNormInEvaluationMode``) a training forward normalises with the
/// running statistics, leaves them unchanged, and backward is that of the fixed affine map
/// `y = gamma · (x - running_mean) · inv + beta`: `dx = gamma · inv · dy`, `dgamma += Σ dy · x̂`, `dbeta += Σ dy`.
final class BatchNorm2D: Layer {
    static let momentum = 0.1
    /// PyTorch's default `eps`, used by ``LayerSpec/batchNorm2d``.
    static let defaultEpsilon = 1e-5

    /// Added to the variance before the square root.
    let epsilon: Double
    /// Training forwards use (and do not update) the running statistics; see the type's documentation.
    var fixedStatistics = false

    let inputShape: [Int]
    var outputShape: [Int] { inputShape }
    let channels: Int
    /// Pixels per channel plane, `H·W`.
    let plane: Int
    let gamma: Parameter
    let beta: Parameter
    let runningMean: StateArray
    let runningVariance: StateArray
    /// Batch mean and `1 / sqrt(var + eps)` per channel from the last training forward (Double for backward).
    private(set) var mean = [Double]()
    private(set) var inverseStd = [Double]()
    /// Per (sample, channel) partial sums, `[N, C, 2]`.
    private let partials = Buffer<Double>()
    private var trainedForward = false
    /// The last training forward normalised with the running statistics (``fixedStatistics``).
    private(set) var lastForwardUsedFixedStatistics = false

    init(name: String, inputShape: [Int], epsilon: Double = BatchNorm2D.defaultEpsilon) {
        self.inputShape = inputShape
        self.epsilon = epsilon
        channels = inputShape[0]
        plane = inputShape.dropFirst().reduce(1, *)
        gamma = Parameter(name: "\(name).weight", shape: [channels])
        beta = Parameter(name: "\(name).bias", shape: [channels])
        gamma.values.update(repeating: 1, count: channels)
        runningMean = StateArray(name: "\(name).running_mean", shape: [channels], initialValue: 0)
        runningVariance = StateArray(name: "\(name).running_var", shape: [channels], initialValue: 1)
    }

    var parameters: [Parameter] { [gamma, beta] }
    var persistentState: [StateArray] { [runningMean, runningVariance] }

    /// Computes the batch statistics of `x` (`batch` samples of `[C, plane]`) into ``mean`` and ``inverseStd`` and
    /// updates the running statistics (per-plane partials in parallel, then ``combinePlaneStatistics(batch:)``).
    func computeBatchStatistics(_ x: UnsafePointer<Float>, batch: Int, workers: Workers) {
        let partial = partials.reserve(batch * channels * 2)
        let channels = channels, plane = plane
        workers.run(batch: batch) { _, samples in
            for n in samples {
                for c in 0..<channels {
                    let (m, m2) = Vector.meanAndSquaredDeviations(x + (n * channels + c) * plane, count: plane)
                    partial[2 * (n * channels + c)] = m
                    partial[2 * (n * channels + c) + 1] = m2
                }
            }
        }
        combinePlaneStatistics(batch: batch)
    }

    /// Per-plane `(mean, M2)` storage for `batch` samples, `[N, C, 2]` Doubles, to be filled by a fused stage and
    /// then passed to ``combinePlaneStatistics(batch:)``.
    func planeStatisticsStorage(batch: Int) -> UnsafeMutablePointer<Double> {
        partials.reserve(batch * channels * 2)
    }

    /// Combines the per-plane `(mean, M2)` partials (equal counts) into the batch mean and variance, sets
    /// ``mean``/``inverseStd``, and updates the running statistics.
    func combinePlaneStatistics(batch: Int) {
        precondition(batch * plane > 1, "BatchNorm2D: training needs more than one value per channel (batch \(batch), plane \(plane))")
        let partial = partials.pointer
        let total = Double(batch * plane)
        mean = [Double](repeating: 0, count: channels)
        inverseStd = [Double](repeating: 0, count: channels)
        for c in 0..<channels {
            var sumMeans = 0.0
            for n in 0..<batch { sumMeans += partial[2 * (n * channels + c)] }
            let m = sumMeans / Double(batch)
            var m2 = 0.0
            for n in 0..<batch {
                let d = partial[2 * (n * channels + c)] - m
                m2 += partial[2 * (n * channels + c) + 1] + Double(plane) * d * d
            }
            let variance = m2 / total
            mean[c] = m
            inverseStd[c] = 1 / (variance + epsilon).squareRoot()
            let unbiased = m2 / (total - 1)
            let rm = Double(runningMean.values[c]), rv = Double(runningVariance.values[c])
            runningMean.values[c] = Float((1 - Self.momentum) * rm + Self.momentum * m)
            runningVariance.values[c] = Float((1 - Self.momentum) * rv + Self.momentum * unbiased)
        }
        trainedForward = true
        lastForwardUsedFixedStatistics = false
    }

    /// Prepares a training forward with ``fixedStatistics``: ``mean`` and ``inverseStd`` from the running
    /// statistics (which stay unchanged), and backward becomes that of the fixed affine map.
    func useRunningStatisticsForTraining() {
        mean = (0..<channels).map { Double(runningMean.values[$0]) }
        inverseStd = (0..<channels).map { 1 / (Double(runningVariance.values[$0]) + epsilon).squareRoot() }
        trainedForward = true
        lastForwardUsedFixedStatistics = true
    }

    /// Sets up the statistics of a training forward on `x` (`batch` samples): the batch's (updating the running
    /// statistics) or, with ``fixedStatistics``, the running ones.
    func prepareTrainingStatistics(_ x: UnsafePointer<Float>, batch: Int, workers: Workers) {
        if fixedStatistics { useRunningStatisticsForTraining() } else { computeBatchStatistics(x, batch: batch, workers: workers) }
    }

    /// Per-channel `(scale, shift)` with `y = scale · x + shift`: batch statistics after a training forward
    /// (call after ``combinePlaneStatistics(batch:)``), running statistics otherwise.
    func scaleAndShift(training: Bool) -> (scale: [Float], shift: [Float]) {
        var scale = [Float](repeating: 0, count: channels), shift = scale
        for c in 0..<channels {
            if training {
                let g = Double(gamma.values[c])
                scale[c] = Float(g * inverseStd[c])
                shift[c] = Float(Double(beta.values[c]) - mean[c] * g * inverseStd[c])
            } else {
                (scale[c], shift[c]) = BatchNormAffine.evaluation(
                    gamma: gamma.values[c], beta: beta.values[c], runningMean: runningMean.values[c],
                    runningVariance: runningVariance.values[c], epsilon: epsilon)
            }
        }
        return (scale, shift)
    }

    func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int, training: Bool, workers: Workers) {
        if training { prepareTrainingStatistics(input, batch: batch, workers: workers) } else { trainedForward = false }
        let (scale, shift) = scaleAndShift(training: training)
        let channels = channels, plane = plane
        workers.run(batch: batch) { _, samples in
            for n in samples {
                for c in 0..<channels {
                    let offset = (n * channels + c) * plane
                    Vector.affine(input + offset, output + offset, count: plane, scale: scale[c], shift: shift[c])
                }
            }
        }
    }

    /// Backward of the training-mode transform: with `x̂ = (x - mean) · inv`, `dgamma += Σ dy·x̂`,
    /// `dbeta += Σ dy`, `dx = gamma · inv / M · (M·dy - Σ dy - x̂ · Σ dy·x̂)` (batch statistics), or
    /// `dx = gamma · inv · dy` (fixed statistics).
    func backward(
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        gradInput: UnsafeMutablePointer<Float>?, batch: Int, workers: Workers
    ) {
        precondition(trainedForward, "BatchNorm2D.backward needs a preceding training-mode forward")
        let partial = partials.reserve(batch * channels * 2)
        let channels = channels, plane = plane, mean = mean
        workers.run(batch: batch) { _, samples in
            for n in samples {
                for c in 0..<channels {
                    let offset = (n * channels + c) * plane
                    let (sumDy, sumDyCentered) = Self.gradientSums(
                        gradOutput + offset, input + offset, count: plane, center: Float(mean[c]))
                    partial[2 * (n * channels + c)] = sumDy
                    partial[2 * (n * channels + c) + 1] = sumDyCentered
                }
            }
        }
        let coefficients = applyGradientSums(batch: batch)
        guard let dx = gradInput else { return }
        workers.run(batch: batch) { _, samples in
            for n in samples {
                for c in 0..<channels {
                    let offset = (n * channels + c) * plane
                    let (k, a, b) = coefficients[c]
                    Self.inputGradient(gradOutput + offset, input + offset, dx + offset, count: plane, k: k, a: a, b: b)
                }
            }
        }
    }

    /// Reduces per-plane partials `[N, C, 2]` = `(Σ dy, Σ dy·(x - mean))` into the parameter gradients and returns,
    /// per channel, `(k, a, b)` with `dx = k · dy + a · x + b` (`a = b = 0` after a fixed-statistics forward: the
    /// statistics do not depend on `x`).
    func applyGradientSums(batch: Int) -> [(Float, Float, Float)] {
        let fixed = lastForwardUsedFixedStatistics
        let partial = partials.pointer
        let total = Double(batch * plane)
        var coefficients = [(Float, Float, Float)]()
        coefficients.reserveCapacity(channels)
        for c in 0..<channels {
            var sumDy = 0.0, sumDyCentered = 0.0
            for n in 0..<batch {
                sumDy += partial[2 * (n * channels + c)]
                sumDyCentered += partial[2 * (n * channels + c) + 1]
            }
            let inv = inverseStd[c]
            let sumDyXhat = sumDyCentered * inv
            gamma.gradients[c] += Float(sumDyXhat)
            beta.gradients[c] += Float(sumDy)
            let k = Double(gamma.values[c]) * inv
            let a = fixed ? 0 : -k * sumDyXhat * inv / total
            let b = fixed ? 0 : -k * sumDy / total - a * mean[c]
            coefficients.append((Float(k), Float(a), Float(b)))
        }
        return coefficients
    }

    /// `(Σ dy, Σ dy · (x - center))` over `count` floats.
    @inline(__always)
    static func gradientSums(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, count: Int, center: Float) -> (Double, Double) {
        let g = UnsafeRawPointer(dy), v = UnsafeRawPointer(x)
        let m = SIMD8<Float>(repeating: center)
        var s1 = SIMD8<Float>(repeating: 0), s2 = SIMD8<Float>(repeating: 0)
        var i = 0
        while i + 8 <= count {
            let gv = g.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            s1 += gv
            s2 += gv * (v.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) - m)
            i += 8
        }
        var sum1 = Double(s1.sum()), sum2 = Double(s2.sum())
        while i < count {
            sum1 += Double(dy[i])
            sum2 += Double(dy[i]) * Double(x[i] - center)
            i += 1
        }
        return (sum1, sum2)
    }

    /// `dx[i] = k · dy[i] + a · x[i] + b`.
    @inline(__always)
    static func inputGradient(
        _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, count: Int,
        k: Float, a: Float, b: Float
    ) {
        let g = UnsafeRawPointer(dy), v = UnsafeRawPointer(x), out = UnsafeMutableRawPointer(dx)
        let kv = SIMD8<Float>(repeating: k), av = SIMD8<Float>(repeating: a), bv = SIMD8<Float>(repeating: b)
        var i = 0
        while i + 8 <= count {
            let r = kv * g.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                + av * v.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) + bv
            out.storeBytes(of: r, toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            dx[i] = k * dy[i] + a * x[i] + b
            i += 1
        }
    }
}

/// Batch normalisation in evaluation mode as one per-channel affine map `y = scale · x + shift`: the arithmetic
/// every evaluation-mode batch norm of Net uses, and what the ONNX export writes for the batch norms it cannot fold.
public enum BatchNormAffine {
    /// One channel's `(scale, shift)`: in Double, `inv = 1 / sqrt(running_var + eps)`, `scale = gamma · inv`,
    /// `shift = beta - running_mean · gamma · inv`, each rounded once to Float.
    @inline(__always)
    public static func evaluation(
        gamma: Float, beta: Float, runningMean: Float, runningVariance: Float, epsilon: Double
    ) -> (scale: Float, shift: Float) {
        let g = Double(gamma), inv = 1 / (Double(runningVariance) + epsilon).squareRoot()
        return (Float(g * inv), Float(Double(beta) - Double(runningMean) * g * inv))
    }
}
