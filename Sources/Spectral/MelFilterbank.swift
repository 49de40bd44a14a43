import Foundation

/// A triangular mel filterbank built exactly as `librosa.filters.mel` (0.11) builds it, applied sparsely.
///
/// Construction follows librosa step by step in Double (FFT bin centre frequencies `k * sr / nFFT`, `nMels + 2`
/// band edges evenly spaced on the chosen mel scale between `fMin` and `fMax`, triangles
/// `max(0, min(lower, upper))` rounded to Float, then — for `.slaney` norm — multiplied in Double by
/// `2 / (f[i + 2] - f[i])` and rounded to Float again, which is what numpy does with librosa's float32 weights).
///
/// Storage is sparse: for each band only its nonzero bin range is kept (each FFT bin feeds at most two
/// neighbouring filters), packed in 4-bin chunks aligned to multiples of 4 bins, zero-padded at both ends, so
/// that the weighted sum over a band is a short run of 4-wide vector multiply-adds.
///
/// Immutable after `init` (all stored properties are `let` value types), so it is shared freely across threads.
public final class MelFilterbank: Sendable {
    /// Number of mel bands (rows).
    public let nMels: Int
    /// Number of FFT bins (columns), `nFFT / 2 + 1`.
    public let nBins: Int
    /// The parameters the filterbank was built from (only the mel-related fields matter).
    public let parameters: LogMelParameters
    /// Where a band's 4-bin chunks are: its first bin (a multiple of 4), its number of chunks, and the offset of
    /// its first weight in `packedWeights` (a multiple of 4). Bands are padded with empty ones to a multiple of 4.
    struct BandChunks {
        var firstBin: Int
        var chunkCount: Int
        var weightOffset: Int
    }
    /// `nMels` rounded up to a multiple of 4 entries (the extra ones empty).
    let bands: [BandChunks]
    /// All bands' chunks back to back.
    let packedWeights: [Float]
    /// Per band: the nonzero bin range `[lower, upper)` (empty range for an empty band).
    public let nonzeroBins: [Range<Int>]

    /// Builds the filterbank for `parameters` (sample rate, nFFT, nMels, fMin, fMax, mel scale, norm).
    /// Stops with a one-line message when the parameters are invalid (see ``LogMelParameters/validate()``).
    public init(parameters: LogMelParameters) {
        parameters.requireValid()
        self.parameters = parameters
        let nMels = parameters.nMels
        let nBins = parameters.nBins
        self.nMels = nMels
        self.nBins = nBins
        let dense = MelFilterbank.librosaWeights(parameters)

        var bands = [BandChunks](), packed = [Float](), nonzero = [Range<Int>]()
        for band in 0..<nMels {
            let row = dense[(band * nBins)..<((band + 1) * nBins)]
            guard let first = row.firstIndex(where: { $0 != 0 }), let last = row.lastIndex(where: { $0 != 0 }) else {
                bands.append(BandChunks(firstBin: 0, chunkCount: 0, weightOffset: packed.count))
                nonzero.append(0..<0)
                continue
            }
            let lower = first - band * nBins, upper = last - band * nBins + 1
            let start = lower & ~3
            let end = (upper + 3) & ~3
            bands.append(BandChunks(firstBin: start, chunkCount: (end - start) / 4, weightOffset: packed.count))
            nonzero.append(lower..<upper)
            for bin in start..<end { packed.append(bin < nBins ? dense[band * nBins + bin] : 0) }
        }
        while bands.count % 4 != 0 { bands.append(BandChunks(firstBin: 0, chunkCount: 0, weightOffset: packed.count)) }
        packed.append(contentsOf: [0, 0, 0, 0])
        self.bands = bands
        self.packedWeights = packed
        self.nonzeroBins = nonzero
    }

    /// The dense weights, `[nMels, nBins]` row-major (band-major), for tests and tools.
    public var weights: [Float] {
        var dense = [Float](repeating: 0, count: nMels * nBins)
        for band in 0..<nMels {
            let chunks = bands[band]
            for i in 0..<(4 * chunks.chunkCount) where chunks.firstBin + i < nBins {
                dense[band * nBins + chunks.firstBin + i] = packedWeights[chunks.weightOffset + i]
            }
        }
        return dense
    }

    /// Number of bins a power spectrum buffer must provide (readable, zeros beyond `nBins`) for the kernels.
    var paddedBins: Int { (nBins + 3) & ~3 }

    /// Calls `body(group, first, second)` for each group of 4 bands with the mel powers
    /// `sum_k weights[band, k] * power[k]` of two power spectra (`first` from `powerA`, `second` from `powerB`),
    /// lane `j` being band `4 * group + j` (bands past `nMels` give 0). Both spectra must hold `paddedBins`
    /// floats, zeros beyond `nBins`; each weight is loaded once for both.
    @inline(__always)
    func forEachBandGroup(
        powerA: UnsafePointer<Float>, powerB: UnsafePointer<Float>, _ body: (Int, SIMD4<Float>, SIMD4<Float>) -> Void
    ) {
        bands.withUnsafeBufferPointer { bandBuffer in
            packedWeights.withUnsafeBufferPointer { weightBuffer in
                let table = bandBuffer.baseAddress!, weights = weightBuffer.baseAddress!
                for group in 0..<(bandBuffer.count / 4) {
                    let b = table + 4 * group
                    let s0 = MelFilterbank.partialSums(b[0], powerA, powerB, weights)
                    let s1 = MelFilterbank.partialSums(b[1], powerA, powerB, weights)
                    let s2 = MelFilterbank.partialSums(b[2], powerA, powerB, weights)
                    let s3 = MelFilterbank.partialSums(b[3], powerA, powerB, weights)
                    body(group, MelFilterbank.laneSums(s0.0, s1.0, s2.0, s3.0),
                         MelFilterbank.laneSums(s0.1, s1.1, s2.1, s3.1))
                }
            }
        }
    }

    /// One band's weighted sums of two spectra, each as 4 partial sums.
    @inline(__always)
    static func partialSums(
        _ band: BandChunks, _ powerA: UnsafePointer<Float>, _ powerB: UnsafePointer<Float>,
        _ weights: UnsafePointer<Float>
    ) -> (SIMD4<Float>, SIMD4<Float>) {
        var a = UnsafeRawPointer(powerA + band.firstBin)
        var b = UnsafeRawPointer(powerB + band.firstBin)
        var w = UnsafeRawPointer(weights + band.weightOffset)
        var accA = SIMD4<Float>(), accB = SIMD4<Float>()
        var remaining = band.chunkCount
        while remaining > 0 {
            let weight = w.loadUnaligned(as: SIMD4<Float>.self)
            accA += a.loadUnaligned(as: SIMD4<Float>.self) * weight
            accB += b.loadUnaligned(as: SIMD4<Float>.self) * weight
            a += 16
            b += 16
            w += 16
            remaining &-= 1
        }
        return (accA, accB)
    }

    /// `[s0.sum(), s1.sum(), s2.sum(), s3.sum()]` with shuffles.
    @inline(__always)
    static func laneSums(_ s0: SIMD4<Float>, _ s1: SIMD4<Float>, _ s2: SIMD4<Float>, _ s3: SIMD4<Float>) -> SIMD4<Float> {
        let s01 = SIMD4(lowHalf: s0.lowHalf + s0.highHalf, highHalf: s1.lowHalf + s1.highHalf)
        let s23 = SIMD4(lowHalf: s2.lowHalf + s2.highHalf, highHalf: s3.lowHalf + s3.highHalf)
        return SIMD4(lowHalf: s01.evenHalf + s01.oddHalf, highHalf: s23.evenHalf + s23.oddHalf)
    }

    /// Mel powers of one power spectrum (`paddedBins` floats, zeros beyond `nBins`) into `melPowers`
    /// (`nMels` floats). For tests and tools; extractors use ``forEachBandGroup(powerA:powerB:_:)``.
    func apply(power: UnsafePointer<Float>, melPowers: UnsafeMutablePointer<Float>) {
        let nMels = nMels
        forEachBandGroup(powerA: power, powerB: power) { group, sums, _ in
            for lane in 0..<4 where 4 * group + lane < nMels { melPowers[4 * group + lane] = sums[lane] }
        }
    }

    // MARK: - librosa's construction, step by step (Double, like numpy)

    /// `librosa.filters.mel(...)` as a dense `[nMels, nBins]` Float array.
    static func librosaWeights(_ p: LogMelParameters) -> [Float] {
        let nMels = p.nMels, nBins = p.nBins
        // np.fft.rfftfreq(n_fft, d=1/sr): k * (1 / (n * d))
        let binSpacing = 1.0 / (Double(p.nFFT) * (1.0 / Double(p.sampleRate)))
        let fftFrequencies = (0..<nBins).map { Double($0) * binSpacing }
        let melF = melFrequencies(count: nMels + 2, fMin: p.fMin, fMax: p.effectiveFMax, scale: p.melScale)
        let fdiff = (0..<(nMels + 1)).map { melF[$0 + 1] - melF[$0] }
        var weights = [Float](repeating: 0, count: nMels * nBins)
        for band in 0..<nMels {
            let enorm = p.melNorm == .slaney ? 2.0 / (melF[band + 2] - melF[band]) : 1.0
            for bin in 0..<nBins {
                let lower = -(melF[band] - fftFrequencies[bin]) / fdiff[band]
                let upper = (melF[band + 2] - fftFrequencies[bin]) / fdiff[band + 1]
                let triangle = Float(max(0.0, min(lower, upper)))
                weights[band * nBins + bin] = p.melNorm == .slaney ? Float(Double(triangle) * enorm) : triangle
            }
        }
        return weights
    }

    /// `librosa.mel_frequencies(count, fmin, fmax, htk)`: `count` frequencies (Hz) evenly spaced in mel.
    static func melFrequencies(count: Int, fMin: Double, fMax: Double, scale: MelScale) -> [Double] {
        let minMel = hzToMel(fMin, scale: scale), maxMel = hzToMel(fMax, scale: scale)
        // np.linspace(min_mel, max_mel, count): i * step + start, last element exactly `stop`.
        let divisions = Double(count - 1)
        let delta = maxMel - minMel
        let step = delta / divisions
        var mels = (0..<count).map { i -> Double in
            step == 0 ? Double(i) / divisions * delta + minMel : Double(i) * step + minMel
        }
        if count > 1 { mels[count - 1] = maxMel }
        return mels.map { melToHz($0, scale: scale) }
    }

    /// Hz to mel, librosa's `hz_to_mel` (Slaney: linear to 1 kHz, then logarithmic; or HTK).
    public static func hzToMel(_ frequency: Double, scale: MelScale) -> Double {
        switch scale {
        case .htk:
            return 2595.0 * log10(1.0 + frequency / 700.0)
        case .slaney:
            let fSp = 200.0 / 3, minLogHz = 1000.0, minLogMel = (minLogHz - 0.0) / fSp
            let logStep = log(6.4) / 27.0
            if frequency >= minLogHz { return minLogMel + log(frequency / minLogHz) / logStep }
            return (frequency - 0.0) / fSp
        }
    }

    /// Mel to Hz, librosa's `mel_to_hz`.
    public static func melToHz(_ mel: Double, scale: MelScale) -> Double {
        switch scale {
        case .htk:
            return 700.0 * (pow(10.0, mel / 2595.0) - 1.0)
        case .slaney:
            let fSp = 200.0 / 3, minLogHz = 1000.0, minLogMel = (minLogHz - 0.0) / fSp
            let logStep = log(6.4) / 27.0
            if mel >= minLogMel { return minLogHz * exp(logStep * (mel - minLogMel)) }
            return 0.0 + fSp * mel
        }
    }
}
