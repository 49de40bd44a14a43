import Net

/// Batch normalisation in evaluation mode as ONNX computes it after export: either folded into the convolution
/// it directly follows, or as a per-channel affine map. The arithmetic is GenreKit's own (Net's `BatchNorm2D`):
/// per channel, in Double, `inv = 1 / sqrt(running_var + eps)`, `scale = gamma · inv`,
/// `shift = beta - running_mean · gamma · inv`, then `y = scale · x + shift` in float32.
enum BatchNormFolding {
    /// The running statistics and affine parameters of one batch norm, `[C]` each, and its epsilon.
    struct Statistics {
        var gamma: [Float]
        var beta: [Float]
        var mean: [Float]
        var variance: [Float]
        var epsilon: Double

        var channels: Int { gamma.count }

        /// `1 / sqrt(var + eps)` of channel `c`, in Double.
        func inverseStd(_ c: Int) -> Double { 1 / (Double(variance[c]) + epsilon).squareRoot() }
    }

    /// `(scale, shift)` per channel with `bn(x) = scale · x + shift`: Net's own evaluation-mode arithmetic
    /// (``BatchNormAffine``), so that the exported Mul and Add reproduce GenreKit's batch norm bit for bit.
    static func affine(_ bn: Statistics) -> (scale: [Float], shift: [Float]) {
        var scale = [Float](repeating: 0, count: bn.channels), shift = scale
        for c in 0..<bn.channels {
            (scale[c], shift[c]) = BatchNormAffine.evaluation(
                gamma: bn.gamma[c], beta: bn.beta[c], runningMean: bn.mean[c], runningVariance: bn.variance[c],
                epsilon: bn.epsilon)
        }
        return (scale, shift)
    }

    /// Folds `bn` into the convolution before it: `bn(W * x + b) = (s·W) * x + (s·(b - mean) + beta)` with
    /// `s = gamma / sqrt(var + eps)` per output channel. `weight` is `[Cout, Cin, k, k]` (row-major, Cout slowest),
    /// `bias` `[Cout]`; the products are formed in Double and rounded once. Exact up to float32 rounding: the
    /// convolution is linear and its zero padding lies before it, so nothing the batch norm sees is padding.
    static func fold(weight: [Float], bias: [Float], into bn: Statistics) -> (weight: [Float], bias: [Float]) {
        precondition(bias.count == bn.channels && weight.count % max(bn.channels, 1) == 0, "BatchNormFolding.fold: shapes")
        let perChannel = weight.count / max(bn.channels, 1)
        var foldedWeight = weight, foldedBias = bias
        for c in 0..<bn.channels {
            let s = Double(bn.gamma[c]) * bn.inverseStd(c)
            for i in (c * perChannel)..<((c + 1) * perChannel) { foldedWeight[i] = Float(Double(weight[i]) * s) }
            foldedBias[c] = Float((Double(bias[c]) - Double(bn.mean[c])) * s + Double(bn.beta[c]))
        }
        return (foldedWeight, foldedBias)
    }
}
