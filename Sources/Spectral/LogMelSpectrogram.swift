/// A per-worker log-mel spectrogram extractor (librosa 0.11's `power_to_db(melspectrogram(...))`, or
/// `log10(1 + scale * melspectrogram(...))`: see ``SpectrogramCompression``).
///
/// Pipeline, two frames at a time: copy frames `t` and `t + 1` (zero-padded at the signal edges when `center`)
/// times the periodic Hann window into the real and imaginary parts of one FFTW-aligned complex buffer, run the
/// shared complex plan (see ``FFTPlan``), separate the two power spectra `|X|^2`, apply the sparse mel filterbank
/// to both in one pass over its weights and store the mel powers band-major; after the last frame, compress
/// everything with a vectorised logarithm (dB, raised to at least `max - topDB`; or `log10(1 + scale * S)`). Every buffer is
/// allocated once in `init` and reused, so `compute(_:into:)` allocates nothing.
///
/// Ownership: single owner, not shared between threads (it owns mutable scratch buffers). Give each worker its
/// own extractor; share one ``FFTPlan`` and one ``MelFilterbank`` between them.
public struct LogMelSpectrogram: ~Copyable {
    /// The STFT / mel / compression parameters.
    public let parameters: LogMelParameters
    /// The FFT plan (shared, read-only).
    public let plan: FFTPlan
    /// The mel filterbank (shared, read-only).
    public let filterbank: MelFilterbank
    /// Half the periodic Hann window, `nFFT` floats. The factor 1/2 is exact and makes the separated spectra
    /// come out without the 1/2 of the separation formulas.
    private let halfWindow: FFTBuffer
    /// Two windowed frames as `nFFT` complex values (frame t in the real parts, t + 1 in the imaginary parts),
    /// interleaved; destroyed by the FFT.
    private let framePair: FFTBuffer
    /// The complex spectrum of `framePair`, `nFFT` interleaved complex values.
    private let spectrum: FFTBuffer
    /// `|X|^2` of the two frames, `nBins` floats each followed by zeros up to the filterbank's padded width.
    private let powerA: FFTBuffer
    private let powerB: FFTBuffer

    /// Makes an extractor. `plan` and `filterbank` are shared between workers when given (they must match the
    /// parameters); otherwise the process-wide ``FFTPlan/shared(size:effort:)`` plan (FFTW_MEASURE) and a new
    /// filterbank are used. Stops with a one-line message when the parameters are invalid (see
    /// ``LogMelParameters/validate()``).
    public init(parameters: LogMelParameters, plan: FFTPlan? = nil, filterbank: MelFilterbank? = nil) {
        parameters.requireValid()
        let plan = plan ?? FFTPlan.shared(size: parameters.nFFT)
        precondition(plan.size == parameters.nFFT,
                     "LogMelSpectrogram: FFT plan size \(plan.size) does not match nFFT \(parameters.nFFT)")
        let filterbank = filterbank ?? MelFilterbank(parameters: parameters)
        precondition(MelFilterbank.sameBank(filterbank.parameters, parameters),
                     "LogMelSpectrogram: the filterbank was built for other parameters (\(filterbank.parameters))")
        self.parameters = parameters
        self.plan = plan
        self.filterbank = filterbank
        let nFFT = parameters.nFFT
        let halfWindow = FFTBuffer(count: nFFT)
        let hann = Window.hann(length: nFFT, periodic: true)
        for i in 0..<nFFT { halfWindow.pointer[i] = 0.5 * hann[i] }
        let framePair = FFTBuffer(count: 2 * nFFT)
        let spectrum = FFTBuffer(count: 2 * nFFT)
        let aligned = plan.accepts(input: framePair.pointer, output: spectrum.pointer)
        precondition(aligned, "LogMelSpectrogram: FFTW buffers do not have the plan's alignment")
        self.halfWindow = halfWindow
        self.framePair = framePair
        self.spectrum = spectrum
        powerA = FFTBuffer(count: filterbank.paddedBins + 4)
        powerB = FFTBuffer(count: filterbank.paddedBins + 4)
    }

    /// Number of frames for `n` samples (see ``LogMelParameters/frameCount(forSamples:)``).
    public func frameCount(forSamples n: Int) -> Int { parameters.frameCount(forSamples: n) }

    /// Computes the log-mel spectrogram (dB, or `log10(1 + scale * S)`: ``LogMelParameters/compression``).
    ///
    /// - Parameters:
    ///   - samples: mono signal at `parameters.sampleRate`, finite floats (any length, including 0).
    ///   - out: receives `[nMels, frames]` row-major (band-major: band `b`, frame `t` at `b * frames + t`);
    ///     `out.count` must be `nMels * frameCount(forSamples: samples.count)`.
    public mutating func compute(_ samples: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>) {
        let frames = frameCount(forSamples: samples.count)
        melPowers(of: samples, startingAt: 0, frames: 0..<frames, into: out)
        if frames > 0, let outBase = out.baseAddress {
            parameters.compression.apply(outBase, count: parameters.nMels * frames)
        }
    }

    /// The mel powers (not yet compressed) of frames `frames` of a signal that arrives in pieces: the building
    /// block of streaming extraction (``compute(_:into:)`` is this over all frames, then the compression).
    ///
    /// - Parameters:
    ///   - samples: the signal's samples `offset ..< offset + samples.count`; samples outside them count as
    ///     zeros, which is exact at the signal's start (`offset` 0: the centre padding) and at its end (the buffer
    ///     holds the last sample). Every other frame asked for must lie wholly inside the buffer.
    ///   - frames: the frames (numbered from the signal's start). Frames are transformed in pairs `(t, t + 1)`
    ///     from `frames.lowerBound`: for results bit-identical with one call over the whole signal, start every
    ///     range but the first on an even frame.
    ///   - out: receives `[nMels, frames.count]` row-major (band-major).
    public mutating func melPowers(
        of samples: UnsafeBufferPointer<Float>, startingAt offset: Int, frames: Range<Int>,
        into out: UnsafeMutableBufferPointer<Float>
    ) {
        let columns = frames.count
        let nMels = parameters.nMels
        precondition(out.count == nMels * columns,
                     "LogMelSpectrogram.melPowers: output holds \(out.count) floats, needs \(nMels) x \(columns)")
        guard columns > 0, let outBase = out.baseAddress else { return }
        let fullGroups = nMels / 4
        var t = frames.lowerBound
        while t < frames.upperBound {
            let hasSecond = t + 1 < frames.upperBound
            powerSpectra(frame: t, hasSecond: hasSecond, of: samples, offset: offset)
            let column = outBase + (t - frames.lowerBound)
            filterbank.forEachBandGroup(powerA: powerA.pointer, powerB: powerB.pointer) { group, first, second in
                var destination = column + 4 &* group &* columns
                if hasSecond && group < fullGroups {
                    // frames t and t + 1 of each band are adjacent: one 8-byte store per band
                    let low = SIMD4(first[0], second[0], first[1], second[1])
                    let high = SIMD4(first[2], second[2], first[3], second[3])
                    UnsafeMutableRawPointer(destination).storeBytes(of: low.lowHalf, as: SIMD2<Float>.self)
                    destination += columns
                    UnsafeMutableRawPointer(destination).storeBytes(of: low.highHalf, as: SIMD2<Float>.self)
                    destination += columns
                    UnsafeMutableRawPointer(destination).storeBytes(of: high.lowHalf, as: SIMD2<Float>.self)
                    destination += columns
                    UnsafeMutableRawPointer(destination).storeBytes(of: high.highHalf, as: SIMD2<Float>.self)
                } else {
                    for lane in 0..<min(4, nMels - 4 * group) {
                        destination[0] = first[lane]
                        if hasSecond { destination[1] = second[lane] }
                        destination += columns
                    }
                }
            }
            t += 2
        }
    }

    /// Computes the log-mel spectrogram of `samples`: `[nMels, frames]` row-major (band-major).
    public mutating func compute(_ samples: [Float]) -> [Float] {
        let count = parameters.nMels * frameCount(forSamples: samples.count)
        return samples.withUnsafeBufferPointer { input in
            [Float](unsafeUninitializedCapacity: count) { output, initialized in
                compute(input, into: output)
                initialized = count
            }
        }
    }

    /// The power spectrogram `|X|^2` of `samples`: `[frames, nFFT / 2 + 1]` row-major (frame-major), for tests
    /// and tools.
    public mutating func powerSpectrogram(_ samples: [Float]) -> [Float] {
        let frames = frameCount(forSamples: samples.count)
        let nBins = parameters.nBins
        return samples.withUnsafeBufferPointer { input in
            [Float](unsafeUninitializedCapacity: frames * nBins) { output, initialized in
                var t = 0
                while t < frames {
                    let hasSecond = t + 1 < frames
                    powerSpectra(frame: t, hasSecond: hasSecond, of: input)
                    (output.baseAddress! + t * nBins).initialize(from: powerA.pointer, count: nBins)
                    if hasSecond { (output.baseAddress! + (t + 1) * nBins).initialize(from: powerB.pointer, count: nBins) }
                    t += 2
                }
                initialized = frames * nBins
            }
        }
    }

    // MARK: - Kernels

    /// Fills `powerA` with `|X|^2` of frame `t` and `powerB` with that of frame `t + 1` (zeros if `!hasSecond`).
    @inline(__always)
    private func powerSpectra(frame t: Int, hasSecond: Bool, of samples: UnsafeBufferPointer<Float>, offset: Int = 0) {
        loadWindowedPair(t, hasSecond: hasSecond, of: samples, offset: offset)
        plan.execute(input: framePair.pointer, output: spectrum.pointer)
        separateSquaredMagnitudes()
    }

    /// First sample of frame `t` (negative when it starts in the left padding).
    @inline(__always)
    private func frameStart(_ t: Int) -> Int {
        t * parameters.hopLength - (parameters.center ? parameters.nFFT / 2 : 0)
    }

    /// Writes frame `t` times the half window into the real parts of `framePair` and frame `t + 1` (or zeros)
    /// into the imaginary parts; samples outside the buffer (which holds the signal from sample `offset`) are zeros.
    @inline(__always)
    private func loadWindowedPair(_ t: Int, hasSecond: Bool, of samples: UnsafeBufferPointer<Float>, offset: Int) {
        let nFFT = parameters.nFFT
        let startA = frameStart(t) - offset, startB = frameStart(t + 1) - offset
        let destination = framePair.pointer, window = halfWindow.pointer
        if hasSecond, startA >= 0, startB + nFFT <= samples.count, let base = samples.baseAddress {
            var a = UnsafeRawPointer(base + startA)
            var b = UnsafeRawPointer(base + startB)
            var w = UnsafeRawPointer(window)
            var output = UnsafeMutableRawPointer(destination)
            var remaining = nFFT
            while remaining >= 8 {
                let weights = w.loadUnaligned(as: SIMD8<Float>.self)
                let re = a.loadUnaligned(as: SIMD8<Float>.self) * weights
                let im = b.loadUnaligned(as: SIMD8<Float>.self) * weights
                output.storeBytes(of: SIMD4(re[0], im[0], re[1], im[1]), as: SIMD4<Float>.self)
                (output + 16).storeBytes(of: SIMD4(re[2], im[2], re[3], im[3]), as: SIMD4<Float>.self)
                (output + 32).storeBytes(of: SIMD4(re[4], im[4], re[5], im[5]), as: SIMD4<Float>.self)
                (output + 48).storeBytes(of: SIMD4(re[6], im[6], re[7], im[7]), as: SIMD4<Float>.self)
                a += 32
                b += 32
                w += 32
                output += 64
                remaining &-= 8
            }
            var i = nFFT - remaining
            while i < nFFT {
                destination[2 * i] = base[startA + i] * window[i]
                destination[2 * i + 1] = base[startB + i] * window[i]
                i += 1
            }
        } else {
            // Edge frames (a few per clip): element by element.
            destination.update(repeating: 0, count: 2 * nFFT)
            for part in 0..<(hasSecond ? 2 : 1) {
                let start = part == 0 ? startA : startB
                let lower = max(0, -start), upper = min(nFFT, samples.count - start)
                var i = lower
                while i < upper {
                    destination[2 * i + part] = samples[start + i] * window[i]
                    i += 1
                }
            }
        }
    }

    /// Separates the spectrum `Z` of the frame pair into `powerA[k] = |Z[k] + conj Z[N-k]|^2` and
    /// `powerB[k] = |Z[k] - conj Z[N-k]|^2` for the `nBins` bins (the usual factor 1/4 is already in the half
    /// window). With `Z[k] = (a, b)` and `Z[N-k] = (c, d)`: `powerA = (a+c)^2 + (b-d)^2`,
    /// `powerB = (a-c)^2 + (b+d)^2`.
    @inline(__always)
    private func separateSquaredMagnitudes() {
        let n = parameters.nFFT, nBins = parameters.nBins
        let z = spectrum.pointer, outA = powerA.pointer, outB = powerB.pointer
        // k = 0 pairs with itself (Z[N] = Z[0]).
        outA[0] = 4 * z[0] * z[0]
        outB[0] = 4 * z[1] * z[1]
        var k = 1
        // 4 bins at a time: Z[k...k+3] forwards and Z[N-k-3...N-k] backwards.
        var forward = UnsafeRawPointer(z + 2)
        var mirror = UnsafeRawPointer(z + 2 * (n - 4))
        while k + 4 <= nBins {
            let f = forward.loadUnaligned(as: SIMD8<Float>.self)
            let m = mirror.loadUnaligned(as: SIMD8<Float>.self)
            let a = f.evenHalf, b = f.oddHalf
            let mRe = m.evenHalf, mIm = m.oddHalf
            let c = SIMD4(mRe[3], mRe[2], mRe[1], mRe[0]), d = SIMD4(mIm[3], mIm[2], mIm[1], mIm[0])
            let sumRe = a + c, difIm = b - d, difRe = a - c, sumIm = b + d
            UnsafeMutableRawPointer(outA + k).storeBytes(of: sumRe * sumRe + difIm * difIm, as: SIMD4<Float>.self)
            UnsafeMutableRawPointer(outB + k).storeBytes(of: difRe * difRe + sumIm * sumIm, as: SIMD4<Float>.self)
            forward += 32
            mirror -= 32
            k &+= 4
        }
        while k < nBins {
            let mirrorBin = (n - k) % n
            let a = z[2 * k], b = z[2 * k + 1], c = z[2 * mirrorBin], d = z[2 * mirrorBin + 1]
            outA[k] = (a + c) * (a + c) + (b - d) * (b - d)
            outB[k] = (a - c) * (a - c) + (b + d) * (b + d)
            k += 1
        }
    }
}

extension MelFilterbank {
    /// Whether two parameter sets give the same filterbank.
    static func sameBank(_ a: LogMelParameters, _ b: LogMelParameters) -> Bool {
        a.sampleRate == b.sampleRate && a.nFFT == b.nFFT && a.nMels == b.nMels && a.fMin == b.fMin
            && a.effectiveFMax == b.effectiveFMax && a.melScale == b.melScale && a.melNorm == b.melNorm
    }
}
