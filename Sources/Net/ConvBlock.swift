/// Convolution → batch norm → ReLU → 2x2/2 max pooling as one stage (the building block of the genre CNN),
/// numerically the same as the four layers in a row but with far less memory traffic:
///
/// - forward (training): each worker convolves its samples into the conv-output buffer `y` and takes each
///   (sample, channel) plane's mean and squared deviations while the plane is still in cache; the batch
///   statistics are combined; then one pass reads `y`, applies the normalisation and ReLU, pools, and records
///   for each pooled pixel which of its 4 inputs won and that input's centred value `y - mean`. The normalised
///   and rectified full-size images are never stored.
/// - forward (evaluation): convolution, normalisation with the running statistics, ReLU and pooling per sample in
///   worker scratch: nothing full-size is written at all.
/// - forward (training, batch norm with fixed statistics, ``BatchNorm2D/fixedStatistics``): as training, with the
///   running statistics in place of the batch's (no statistics pass).
/// - backward: the batch-norm gradient sums need only the pooled pixels (the ReLU and pooling gradients are zero
///   elsewhere); each worker then builds one sample's conv-output gradient
///   `dy = k · dz + a · y + b` in cache and feeds it straight into the convolution's backward.
///
/// (Recomputing the convolution instead of storing `y` was measured for the single-channel first layer, the
/// largest activation: with OpenBLAS's K = 9 products it is no faster, so `y` is always stored.)
///
/// Parameters and running statistics belong to the wrapped ``Conv2D`` and ``BatchNorm2D`` layers (named by
/// their own spec indices), so checkpoints do not depend on whether a model runs fused.
final class ConvBatchNormReLUPool: Stage {
    let conv: Conv2D
    let norm: BatchNorm2D
    var inputShape: [Int] { conv.inputShape }
    let outputShape: [Int]
    private let channels: Int, height: Int, width: Int, pooledHeight: Int, pooledWidth: Int
    /// Conv output of the last training forward, `[N, C, H, W]`.
    private let convOutput = Buffer<Float>()
    /// Which input of each 2x2 window won (`2·dy + dx`), `[N, C, H/2, W/2]`.
    private let winner = Buffer<UInt8>()
    /// The winner's centred conv output `y - mean`, `[N, C, H/2, W/2]`.
    private let winnerCentred = Buffer<Float>()
    private var trainedForward = false

    init(conv: Conv2D, norm: BatchNorm2D) {
        self.conv = conv
        self.norm = norm
        channels = conv.outChannels
        height = conv.outHeight
        width = conv.outWidth
        pooledHeight = height / 2
        pooledWidth = width / 2
        outputShape = [channels, pooledHeight, pooledWidth]
    }

    func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int, training: Bool, workers: Workers) {
        let scratch = conv.workerScratch(workers.parts(for: batch))
        let inCount = conv.inputShape.reduce(1, *)
        let (channels, plane, pooledPlane) = (channels, height * width, pooledHeight * pooledWidth)
        let columnCount = conv.columnCount
        guard training else {
            trainedForward = false
            let (scale, shift) = norm.scaleAndShift(training: false)
            workers.run(batch: batch) { worker, samples in
                let columns = scratch[worker].columns.reserve(columnCount)
                let y = scratch[worker].plane.reserve(channels * plane)
                for n in samples {
                    conv.forwardSample(input + n * inCount, y, columns: columns)
                    for c in 0..<channels {
                        poolEvaluation(y + c * plane, output + (n * channels + c) * pooledPlane, scale: scale[c], shift: shift[c])
                    }
                }
            }
            return
        }
        let y = convOutput.reserve(batch * channels * plane)
        let statistics = norm.planeStatisticsStorage(batch: batch)
        let fixed = norm.fixedStatistics
        workers.run(batch: batch) { worker, samples in
            let columns = scratch[worker].columns.reserve(columnCount)
            for n in samples {
                let sample = y + n * channels * plane
                conv.forwardSample(input + n * inCount, sample, columns: columns)
                if fixed { continue }
                for c in 0..<channels {
                    let (mean, m2) = Vector.meanAndSquaredDeviations(sample + c * plane, count: plane)
                    statistics[2 * (n * channels + c)] = mean
                    statistics[2 * (n * channels + c) + 1] = m2
                }
            }
        }
        if fixed { norm.useRunningStatisticsForTraining() } else { norm.combinePlaneStatistics(batch: batch) }
        let (scale, shift) = norm.scaleAndShift(training: true)
        let mean = norm.mean.map { Float($0) }
        let winners = winner.reserve(batch * channels * pooledPlane)
        let centred = winnerCentred.reserve(batch * channels * pooledPlane)
        let (w, ph, pw) = (width, pooledHeight, pooledWidth)
        workers.run(batch: batch) { _, samples in
            for n in samples {
                for c in 0..<channels {
                    let pooled = (n * channels + c) * pooledPlane
                    Self.poolTraining(
                        y + (n * channels + c) * plane, output + pooled, winners + pooled, centred + pooled,
                        width: w, pooledHeight: ph, pooledWidth: pw, scale: scale[c], shift: shift[c], mean: mean[c])
                }
            }
        }
        trainedForward = true
    }

    /// `(Σ g, Σ g · v)` over the pooled pixels whose output is positive (the only ones with a gradient through
    /// the ReLU), branch-free.
    @inline(__always)
    static func activeGradientSums(
        _ out: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ v: UnsafePointer<Float>, count: Int
    ) -> (Double, Double) {
        let zero = SIMD8<Float>(repeating: 0)
        var s1 = zero, s2 = zero
        var i = 0
        while i + 8 <= count {
            let o = UnsafeRawPointer(out + i).loadUnaligned(as: SIMD8<Float>.self)
            let gradient = zero.replacing(with: UnsafeRawPointer(g + i).loadUnaligned(as: SIMD8<Float>.self), where: o .> zero)
            s1 += gradient
            s2 += gradient * UnsafeRawPointer(v + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var sum1 = Double(s1.sum()), sum2 = Double(s2.sum())
        while i < count {
            if out[i] > 0 {
                sum1 += Double(g[i])
                sum2 += Double(g[i]) * Double(v[i])
            }
            i += 1
        }
        return (sum1, sum2)
    }

    /// One plane in evaluation: `out = maxpool(relu(scale · y + shift))`. Written with selects rather than
    /// branches or shuffles so that the compiler vectorises it (Swift's generic SIMD even/odd shuffles are slow).
    @inline(__always)
    private func poolEvaluation(_ y: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, scale: Float, shift: Float) {
        let w = width, pooledWidth = pooledWidth
        for py in 0..<pooledHeight {
            let top = y + 2 * py * w, bottom = top + w, row = out + py * pooledWidth
            for px in 0..<pooledWidth {
                let a = scale * top[2 * px] + shift, b = scale * top[2 * px + 1] + shift
                let c = scale * bottom[2 * px] + shift, d = scale * bottom[2 * px + 1] + shift
                let first = b > a ? b : a, second = d > c ? d : c
                let best = second > first ? second : first
                row[px] = best > 0 ? best : 0
            }
        }
    }

    /// One plane in training: pooled output, the winning position (the first maximum in row-major order, as
    /// PyTorch) and the winner's centred value `y - mean`.
    ///
    /// Vectorised over 4 windows with lane masks: written as scalar selects, the compiler turns the comparisons
    /// into branches (x86 has no float conditional move), and the winners of real data are unpredictable, so
    /// mispredictions cost 4x the whole computation.
    @inline(__always)
    static func poolTraining(
        _ y: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ winners: UnsafeMutablePointer<UInt8>,
        _ centred: UnsafeMutablePointer<Float>, width w: Int, pooledHeight: Int, pooledWidth: Int,
        scale: Float, shift: Float, mean: Float
    ) {
        let s = SIMD4<Float>(repeating: scale), t = SIMD4<Float>(repeating: shift), m = SIMD4<Float>(repeating: mean)
        let zero = SIMD4<Float>(repeating: 0)
        for py in 0..<pooledHeight {
            let top = y + 2 * py * w, bottom = top + w, index = py * pooledWidth
            var px = 0
            while px + 4 <= pooledWidth {
                let p = top + 2 * px, q = bottom + 2 * px
                let ya = SIMD4<Float>(p[0], p[2], p[4], p[6]), yb = SIMD4<Float>(p[1], p[3], p[5], p[7])
                let yc = SIMD4<Float>(q[0], q[2], q[4], q[6]), yd = SIMD4<Float>(q[1], q[3], q[5], q[7])
                let a = s * ya + t, b = s * yb + t, c = s * yc + t, d = s * yd + t
                // Pairs (a, b) and (c, d), then pair against pair; a later input wins only when strictly greater.
                let bWins = b .> a, dWins = d .> c
                let first = a.replacing(with: b, where: bWins), second = c.replacing(with: d, where: dWins)
                let firstValue = ya.replacing(with: yb, where: bWins), secondValue = yc.replacing(with: yd, where: dWins)
                let firstCode = SIMD4<Int32>(repeating: 0).replacing(with: 1, where: bWins)
                let secondCode = SIMD4<Int32>(repeating: 2).replacing(with: 3, where: dWins)
                let secondWins = second .> first
                let best = first.replacing(with: second, where: secondWins)
                let code = firstCode.replacing(with: secondCode, where: secondWins)
                let value = firstValue.replacing(with: secondValue, where: secondWins)
                UnsafeMutableRawPointer(out + index + px).storeBytes(of: pointwiseMax(best, zero), as: SIMD4<Float>.self)
                UnsafeMutableRawPointer(centred + index + px).storeBytes(of: value - m, as: SIMD4<Float>.self)
                UnsafeMutableRawPointer(winners + index + px).storeBytes(of: SIMD4<UInt8>(truncatingIfNeeded: code), as: SIMD4<UInt8>.self)
                px += 4
            }
            while px < pooledWidth {
                let ya = top[2 * px], yb = top[2 * px + 1], yc = bottom[2 * px], yd = bottom[2 * px + 1]
                var best = scale * ya + shift, code: UInt8 = 0, winnerValue = ya
                let b = scale * yb + shift, c = scale * yc + shift, d = scale * yd + shift
                if b > best { best = b; code = 1; winnerValue = yb }
                if c > best { best = c; code = 2; winnerValue = yc }
                if d > best { best = d; code = 3; winnerValue = yd }
                out[index + px] = best > 0 ? best : 0
                winners[index + px] = code
                centred[index + px] = winnerValue - mean
                px += 1
            }
        }
    }

    /// Adds `k · g` at each pooled pixel's winning input of the conv-output gradient plane `dy` (`H x W`), for
    /// pixels whose output is positive (the ReLU passes no gradient elsewhere). Masking is done 4 lanes at a time
    /// (branch-free); the scatter itself is plain integer arithmetic.
    @inline(__always)
    static func scatterPooledGradient(
        _ dy: UnsafeMutablePointer<Float>, out: UnsafePointer<Float>, gradient g: UnsafePointer<Float>,
        winners: UnsafePointer<UInt8>, k: Float, width w: Int, pooledHeight: Int, pooledWidth: Int
    ) {
        let zero = SIMD4<Float>(repeating: 0), kv = SIMD4<Float>(repeating: k)
        for py in 0..<pooledHeight {
            let row = py * pooledWidth
            var px = 0
            while px + 4 <= pooledWidth {
                let o = UnsafeRawPointer(out + row + px).loadUnaligned(as: SIMD4<Float>.self)
                let gv = UnsafeRawPointer(g + row + px).loadUnaligned(as: SIMD4<Float>.self)
                let masked = zero.replacing(with: kv * gv, where: o .> zero)
                for lane in 0..<4 {
                    let code = Int(winners[row + px + lane])
                    dy[(2 &* py &+ (code >> 1)) &* w &+ 2 &* (px &+ lane) &+ (code & 1)] += masked[lane]
                }
                px += 4
            }
            while px < pooledWidth {
                let code = Int(winners[row + px])
                if out[row + px] > 0 { dy[(2 * py + (code >> 1)) * w + 2 * px + (code & 1)] += k * g[row + px] }
                px += 1
            }
        }
    }

    func backward(
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        gradInput: UnsafeMutablePointer<Float>?, batch: Int, workers: Workers
    ) {
        precondition(trainedForward, "conv/batch-norm/ReLU/max-pool backward needs a preceding training-mode forward")
        let (channels, plane, pooledPlane) = (channels, height * width, pooledHeight * pooledWidth)
        let winners = winner.pointer, centred = winnerCentred.pointer
        // Batch-norm gradient sums over the pixels that carry a gradient: pooled winners whose output is positive.
        let partial = norm.planeStatisticsStorage(batch: batch)
        workers.run(batch: batch) { _, samples in
            for n in samples {
                for c in 0..<channels {
                    let pooled = (n * channels + c) * pooledPlane
                    let (sumDz, sumDzCentred) = Self.activeGradientSums(
                        output + pooled, gradOutput + pooled, centred + pooled, count: pooledPlane)
                    partial[2 * (n * channels + c)] = sumDz
                    partial[2 * (n * channels + c) + 1] = sumDzCentred
                }
            }
        }
        let coefficients = norm.applyGradientSums(batch: batch)
        let y = convOutput.pointer
        let inCount = conv.inputShape.reduce(1, *)
        let (w, ph, pw) = (width, pooledHeight, pooledWidth)
        conv.accumulatingGradients(batch: batch, workers: workers) { scratch, samples, dWt, db in
            let dy = scratch.plane.reserve(channels * plane)
            for n in samples {
                let y = y + n * channels * plane
                for c in 0..<channels {
                    let (k, a, b) = coefficients[c]
                    let dyPlane = dy + c * plane
                    Vector.affine(y + c * plane, dyPlane, count: plane, scale: a, shift: b)
                    let pooled = (n * channels + c) * pooledPlane
                    Self.scatterPooledGradient(
                        dyPlane, out: output + pooled, gradient: gradOutput + pooled, winners: winners + pooled, k: k,
                        width: w, pooledHeight: ph, pooledWidth: pw)
                }
                conv.backwardSample(
                    input + n * inCount, gradOutput: dy, scratch: scratch, weightGradientTransposed: dWt, biasGradient: db,
                    gradInput: gradInput.map { $0 + n * inCount })
            }
        }
    }
}
