/// Per-mel-band running statistics (count, mean, M2) in Double, mergeable exactly with the parallel formula of
/// Chan, Golub & LeVeque, so that statistics computed per clip, per worker or per cluster node combine into the
/// same mean and variance as one pass over all frames.
///
/// Layout: `mean[b]`, `m2[b]` for band b; `count` frames per band (the same for every band).
public struct BandStatistics: Sendable, Equatable, Codable {
    public private(set) var count: Int
    public private(set) var mean: [Double]
    public private(set) var m2: [Double]

    /// Empty statistics for `bands` bands.
    public init(bands: Int) {
        count = 0
        mean = [Double](repeating: 0, count: bands)
        m2 = [Double](repeating: 0, count: bands)
    }

    /// Statistics of one spectrogram, layout [bands, frames] row-major (two passes per band: mean, then M2).
    public init(spectrogram: UnsafeBufferPointer<Float>, bands: Int, frames: Int) {
        precondition(spectrogram.count == bands * frames, "spectrogram size does not match bands x frames")
        self.init(bands: bands)
        guard frames > 0 else { return }
        count = frames
        for b in 0..<bands {
            let row = UnsafeBufferPointer(rebasing: spectrogram[(b * frames)..<((b + 1) * frames)])
            var sum = 0.0
            for x in row { sum += Double(x) }
            let m = sum / Double(frames)
            var ss = 0.0
            for x in row {
                let d = Double(x) - m
                ss += d * d
            }
            mean[b] = m
            m2[b] = ss
        }
    }

    /// Statistics stored earlier (the three fields as they were).
    init(count: Int, mean: [Double], m2: [Double]) {
        precondition(mean.count == m2.count, "mean and M2 must have one value per band")
        self.count = count
        self.mean = mean
        self.m2 = m2
    }

    public var bands: Int { mean.count }

    /// Adds `other` into `self` (exact parallel combination).
    public mutating func merge(_ other: BandStatistics) {
        precondition(other.bands == bands, "cannot merge statistics of \(other.bands) bands into \(bands)")
        guard other.count > 0 else { return }
        guard count > 0 else {
            self = other
            return
        }
        let na = Double(count), nb = Double(other.count), n = na + nb
        for b in 0..<bands {
            let delta = other.mean[b] - mean[b]
            mean[b] += delta * nb / n
            m2[b] += other.m2[b] + delta * delta * na * nb / n
        }
        count += other.count
    }

    /// Population variance (ddof = 0) per band.
    public var variance: [Double] { m2.map { count > 0 ? $0 / Double(count) : 0 } }

    /// Standard deviation per band; a band with (almost) no spread gets 1 so that normalising never divides by 0.
    public var standardDeviation: [Double] { variance.map { v in let s = v.squareRoot(); return s < 1e-8 ? 1 : s } }
}
