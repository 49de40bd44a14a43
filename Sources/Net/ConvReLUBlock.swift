/// Convolution → ReLU → batch norm → max pooling (any window and stride) as one stage: the block of the musicnn
/// network (``ModelSpec/musicnnVGG(tags:filters:inputShape:)``), numerically the same as the four layers in a row
/// but with far less memory traffic:
///
/// - forward (evaluation): ReLU and an affine map `scale · r + shift` are monotone (non-increasing when
///   `scale < 0`), and so is their float32 rounding, so pooling commutes with them exactly: each window's maximum
///   (minimum when `scale < 0`) of the raw conv output is taken first, and only the pooled values are rectified and
///   normalised — the same float32 numbers as the four layers. The convolution is computed only on the rows some
///   pooling window reads (``Conv2D/forwardSampleRows(_:_:rows:columns:)``: the even rows for the musicnn 1x4 /
///   stride-2 pool, half the work of the first conv), one sample at a time in worker scratch: nothing full-size
///   is written to the batch's memory.
/// - forward (training): each worker convolves its samples into the conv-output buffer `y` and takes each
///   (sample, channel) plane's mean and squared deviations of `relu(y)` while the plane is in cache (none with
///   fixed statistics, ``BatchNorm2D/fixedStatistics``); then one pass per plane computes `z = scale · relu(y) + shift`
///   window by window, pools with PyTorch's rule (the first maximum in row-major order wins), and records the
///   winner's position in its window and its centred value `relu(y) - mean`. The rectified and normalised
///   full-size images are never stored.
/// - backward: every pooled output carries a gradient (no ReLU after the batch norm), so the batch-norm sums need
///   only the pooled pixels; each worker then builds one sample's conv-output gradient
///   `dy = y > 0 ? a · y + b + k · (pooled gradient at the winners) : 0` in cache and feeds it into the
///   convolution's backward.
///
/// Parameters and running statistics belong to the wrapped ``Conv2D`` and ``BatchNorm2D`` (named by their own
/// spec indices); the ``MaxPool2D`` gives only the window geometry. Checkpoints do not depend on the fusion.
final class ConvReLUBatchNormPool: Stage {
    let conv: Conv2D
    let norm: BatchNorm2D
    let pool: MaxPool2D
    var inputShape: [Int] { conv.inputShape }
    var outputShape: [Int] { pool.outputShape }
    private let channels: Int, height: Int, width: Int, pooledHeight: Int, pooledWidth: Int
    private let kernelHeight: Int, kernelWidth: Int, strideHeight: Int, strideWidth: Int
    /// The conv-output rows that some pooling window reads, ascending (evaluation computes only these).
    private let usedRows: [Int]
    /// For each conv-output row, its index among ``usedRows`` when evaluation packs the rows, else the row itself
    /// (`-1` for rows no window reads).
    private let rowSlots: [Int]
    /// Conv output of the last training forward, `[N, C, H, W]`.
    private let convOutput = Buffer<Float>()
    /// Which input of each window won (`ky · kernelWidth + kx`), `[N, C, H', W']`.
    private let winner = Buffer<UInt8>()
    /// The winner's centred value `relu(y) - mean`, `[N, C, H', W']`.
    private let winnerCentred = Buffer<Float>()
    private var trainedForward = false

    init(conv: Conv2D, norm: BatchNorm2D, pool: MaxPool2D) {
        precondition(pool.kernelHeight * pool.kernelWidth <= 256, "ConvReLUBatchNormPool: window codes must fit a byte")
        self.conv = conv
        self.norm = norm
        self.pool = pool
        channels = conv.outChannels
        height = conv.outHeight
        width = conv.outWidth
        pooledHeight = pool.outHeight
        pooledWidth = pool.outWidth
        kernelHeight = pool.kernelHeight
        kernelWidth = pool.kernelWidth
        strideHeight = pool.strideHeight
        strideWidth = pool.strideWidth
        var rows = Set<Int>()
        for py in 0..<pool.outHeight { for ky in 0..<pool.kernelHeight { rows.insert(py * pool.strideHeight + ky) } }
        usedRows = rows.sorted()
        var slots = [Int](repeating: -1, count: conv.outHeight)
        for (slot, row) in usedRows.enumerated() { slots[row] = usedRows.count < conv.outHeight ? slot : row }
        rowSlots = slots
    }

    func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int, training: Bool, workers: Workers) {
        let scratch = conv.workerScratch(workers.parts(for: batch))
        let inCount = conv.inputShape.reduce(1, *)
        let (channels, plane, pooledPlane, width) = (channels, height * width, pooledHeight * pooledWidth, width)
        let columnCount = conv.columnCount
        guard training else {
            trainedForward = false
            let (scale, shift) = norm.scaleAndShift(training: false)
            let usedRows = usedRows, packed = usedRows.count < height, packedPlane = usedRows.count * width
            workers.run(batch: batch) { worker, samples in
                let columns = scratch[worker].columns.reserve(columnCount)
                let rowScratch = scratch[worker].gradColumns.reserve(width)
                if packed {
                    // Only the rows some window reads, packed: channel planes of usedRows.count rows.
                    let y = scratch[worker].plane.reserve(channels * packedPlane)
                    for n in samples {
                        conv.forwardSampleRows(input + n * inCount, y, rows: usedRows, columns: columns)
                        for c in 0..<channels {
                            poolEvaluation(y + c * packedPlane, output + (n * channels + c) * pooledPlane, scale: scale[c], shift: shift[c], scratch: rowScratch)
                        }
                    }
                } else {
                    let y = scratch[worker].plane.reserve(channels * plane)
                    for n in samples {
                        conv.forwardSample(input + n * inCount, y, columns: columns)
                        for c in 0..<channels {
                            poolEvaluation(y + c * plane, output + (n * channels + c) * pooledPlane, scale: scale[c], shift: shift[c], scratch: rowScratch)
                        }
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
                    let (mean, m2) = Vector.meanAndSquaredDeviations(sample + c * plane, count: plane, rectified: true)
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
        workers.run(batch: batch) { _, samples in
            for n in samples {
                for c in 0..<channels {
                    let pooled = (n * channels + c) * pooledPlane
                    poolTraining(
                        y + (n * channels + c) * plane, output + pooled, winners + pooled, centred + pooled,
                        scale: scale[c], shift: shift[c], mean: mean[c])
                }
            }
        }
        trainedForward = true
    }

    /// One plane in evaluation: `out = scale · relu(pool(y)) + shift`, pooling by maximum (`scale >= 0`) or
    /// minimum (`scale < 0`) — equal to `maxpool(scale · relu(y) + shift)` in float32 (see the type's
    /// documentation). `y` holds the plane's rows packed as ``rowSlots`` says (all rows when none is skipped).
    /// Vectorised: the maxima of every horizontal window start of a row (contiguous loads), combined over the
    /// window's rows, then every `strideWidth`-th one is kept. `scratch` holds `width` floats. (NaN handling is
    /// unspecified here, unlike training's PyTorch rule: evaluation outputs only values.)
    @inline(__always)
    private func poolEvaluation(
        _ y: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, scale: Float, shift: Float, scratch: UnsafeMutablePointer<Float>
    ) {
        let (w, kh, kw, sh, sw, pw) = (width, kernelHeight, kernelWidth, strideHeight, strideWidth, pooledWidth)
        let span = (pw - 1) * sw + 1  // window starts up to the last one used
        let minimum = scale < 0
        let slots = rowSlots
        for py in 0..<pooledHeight {
            for ky in 0..<kh {
                let line = y + slots[py * sh + ky] * w
                for kx in 0..<kw {
                    if ky == 0 && kx == 0 {
                        scratch.update(from: line, count: span)
                    } else {
                        Self.combine(into: scratch, line + kx, count: span, minimum: minimum)
                    }
                }
            }
            let row = out + py * pw
            for px in 0..<pw {
                let m = scratch[px * sw]
                row[px] = scale * (m > 0 ? m : 0) + shift
            }
        }
    }

    /// `dst[i] = max(dst[i], src[i])` (`min` with `minimum`): plain loops over contiguous memory, which the
    /// compiler vectorises to packed max/min instructions.
    @inline(__always)
    static func combine(into dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int, minimum: Bool) {
        if minimum {
            for i in 0..<count {
                let v = src[i], m = dst[i]
                dst[i] = v < m ? v : m
            }
        } else {
            for i in 0..<count {
                let v = src[i], m = dst[i]
                dst[i] = v > m ? v : m
            }
        }
    }

    /// One plane in training: `z = scale · relu(y) + shift` per window input, the pooled output (the first maximum
    /// in row-major window order wins, a NaN wins, as ``MaxPool2D``), the winner's code `ky · kw + kx` and its
    /// centred value `relu(y) - mean`. Eight windows at a time with lane masks (branch-free: winners of real data
    /// are unpredictable).
    @inline(__always)
    private func poolTraining(
        _ y: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ winners: UnsafeMutablePointer<UInt8>,
        _ centred: UnsafeMutablePointer<Float>, scale: Float, shift: Float, mean: Float
    ) {
        let (w, kh, kw, sh, sw, pw) = (width, kernelHeight, kernelWidth, strideHeight, strideWidth, pooledWidth)
        let s = SIMD8<Float>(repeating: scale), t = SIMD8<Float>(repeating: shift), m = SIMD8<Float>(repeating: mean)
        let zero = SIMD8<Float>(repeating: 0)
        for py in 0..<pooledHeight {
            let top = y + py * sh * w, index = py * pw
            var px = 0
            while px + 8 <= pw {
                let base = top + px * sw
                var best = zero, value = zero, code = SIMD8<Int32>(repeating: 0)
                for ky in 0..<kh {
                    for kx in 0..<kw {
                        let p = base + ky * w + kx
                        var v = zero
                        for lane in 0..<8 { v[lane] = p[lane * sw] }
                        let r = zero.replacing(with: v, where: v .> zero)
                        let z = s * r + t
                        if ky == 0 && kx == 0 {
                            best = z
                            value = r
                        } else {
                            let wins = (z .> best) .| (z .!= z)
                            best = best.replacing(with: z, where: wins)
                            value = value.replacing(with: r, where: wins)
                            code = code.replacing(with: Int32(ky * kw + kx), where: wins)
                        }
                    }
                }
                UnsafeMutableRawPointer(out + index + px).storeBytes(of: best, as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(centred + index + px).storeBytes(of: value - m, as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(winners + index + px).storeBytes(of: SIMD8<UInt8>(truncatingIfNeeded: code), as: SIMD8<UInt8>.self)
                px += 8
            }
            while px < pw {
                let base = top + px * sw
                var best: Float = 0, value: Float = 0, code: UInt8 = 0
                for ky in 0..<kh {
                    for kx in 0..<kw {
                        let v = base[ky * w + kx]
                        let r = v > 0 ? v : 0
                        let z = scale * r + shift
                        if (ky == 0 && kx == 0) || z > best || z.isNaN {
                            best = z
                            value = r
                            code = UInt8(truncatingIfNeeded: ky * kw + kx)
                        }
                    }
                }
                out[index + px] = best
                centred[index + px] = value - mean
                winners[index + px] = code
                px += 1
            }
        }
    }

    func backward(
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        gradInput: UnsafeMutablePointer<Float>?, batch: Int, workers: Workers
    ) {
        precondition(trainedForward, "conv/ReLU/batch-norm/max-pool backward needs a preceding training-mode forward")
        let (channels, plane, pooledPlane) = (channels, height * width, pooledHeight * pooledWidth)
        let winners = winner.pointer, centred = winnerCentred.pointer
        // Batch-norm gradient sums: the gradient reaches the batch-norm output only at the pooled winners.
        let partial = norm.planeStatisticsStorage(batch: batch)
        workers.run(batch: batch) { _, samples in
            for n in samples {
                for c in 0..<channels {
                    let pooled = (n * channels + c) * pooledPlane
                    let (sumDz, sumDzCentred) = Self.gradientSums(gradOutput + pooled, centred + pooled, count: pooledPlane)
                    partial[2 * (n * channels + c)] = sumDz
                    partial[2 * (n * channels + c) + 1] = sumDzCentred
                }
            }
        }
        let coefficients = norm.applyGradientSums(batch: batch)
        let y = convOutput.pointer
        let inCount = conv.inputShape.reduce(1, *)
        let (w, sh, sw, ph, pw) = (width, strideHeight, strideWidth, pooledHeight, pooledWidth)
        // Offset of each window code `ky · kw + kx` from its window's first input: `ky · W + kx`.
        let codeOffsets = (0..<(kernelHeight * kernelWidth)).map { ($0 / kernelWidth) * width + $0 % kernelWidth }
        conv.accumulatingGradients(batch: batch, workers: workers) { scratch, samples, dWt, db in
            let dy = scratch.plane.reserve(channels * plane)
            for n in samples {
                let y = y + n * channels * plane
                for c in 0..<channels {
                    let (k, a, b) = coefficients[c]
                    let yPlane = y + c * plane, dyPlane = dy + c * plane
                    Vector.affine(yPlane, dyPlane, count: plane, scale: a, shift: b)
                    let pooled = (n * channels + c) * pooledPlane
                    let g = gradOutput + pooled, code = winners + pooled
                    codeOffsets.withUnsafeBufferPointer { offsets in
                        for py in 0..<ph {
                            let start = dyPlane + py * sh * w
                            for px in 0..<pw {
                                let i = py * pw + px
                                start[px * sw + offsets[Int(code[i])]] += k * g[i]
                            }
                        }
                    }
                    Self.maskNonPositive(dyPlane, by: yPlane, count: plane)
                }
                conv.backwardSample(
                    input + n * inCount, gradOutput: dy, scratch: scratch, weightGradientTransposed: dWt, biasGradient: db,
                    gradInput: gradInput.map { $0 + n * inCount })
            }
        }
    }

    /// `(Σ g, Σ g · v)` over `count` floats.
    @inline(__always)
    static func gradientSums(_ g: UnsafePointer<Float>, _ v: UnsafePointer<Float>, count: Int) -> (Double, Double) {
        var s1 = SIMD8<Float>(repeating: 0), s2 = SIMD8<Float>(repeating: 0)
        var i = 0
        while i + 8 <= count {
            let gradient = UnsafeRawPointer(g + i).loadUnaligned(as: SIMD8<Float>.self)
            s1 += gradient
            s2 += gradient * UnsafeRawPointer(v + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var sum1 = Double(s1.sum()), sum2 = Double(s2.sum())
        while i < count {
            sum1 += Double(g[i])
            sum2 += Double(g[i]) * Double(v[i])
            i += 1
        }
        return (sum1, sum2)
    }

    /// `dy[i] = y[i] > 0 ? dy[i] : 0` (the ReLU's gradient mask), branch-free.
    @inline(__always)
    static func maskNonPositive(_ dy: UnsafeMutablePointer<Float>, by y: UnsafePointer<Float>, count: Int) {
        let zero = SIMD8<Float>(repeating: 0)
        var i = 0
        while i + 8 <= count {
            let mask = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self) .> zero
            let g = zero.replacing(with: UnsafeRawPointer(dy + i).loadUnaligned(as: SIMD8<Float>.self), where: mask)
            UnsafeMutableRawPointer(dy + i).storeBytes(of: g, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            if !(y[i] > 0) { dy[i] = 0 }
            i += 1
        }
    }
}
