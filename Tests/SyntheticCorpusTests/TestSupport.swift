import Foundation
/// The shared test support (TemporaryDirectory, ErrorBound, expectClose) for every file of this target.
@_exported import TestSupport
import SyntheticCorpus

/// Mean over channels of interleaved frames.
func downmix(_ interleaved: [Float], channels: Int) -> [Float] {
    guard channels > 1 else { return interleaved }
    return (0..<(interleaved.count / channels)).map { frame in
        var sum: Float = 0
        for channel in 0..<channels { sum += interleaved[frame * channels + channel] }
        return sum / Float(channels)
    }
}

/// Root mean square of `samples`.
func rootMeanSquare(_ samples: [Float]) -> Float {
    guard !samples.isEmpty else { return 0 }
    var sum: Double = 0
    for value in samples { sum += Double(value) * Double(value) }
    return Float((sum / Double(samples.count)).squareRoot())
}

/// In-place iterative radix-2 FFT of `real` + i `imaginary` (count a power of two), with precomputed twiddles.
func fft(_ real: inout [Double], _ imaginary: inout [Double]) {
    let count = real.count
    let cosines = (0..<(count / 2)).map { cos(-2 * Double.pi * Double($0) / Double(count)) }
    let sines = (0..<(count / 2)).map { sin(-2 * Double.pi * Double($0) / Double(count)) }
    real.withUnsafeMutableBufferPointer { re in
        imaginary.withUnsafeMutableBufferPointer { im in
            var j = 0
            for i in 1..<count {
                var bit = count >> 1
                while j & bit != 0 { j ^= bit; bit >>= 1 }
                j |= bit
                if i < j { re.swapAt(i, j); im.swapAt(i, j) }
            }
            var length = 2
            while length <= count {
                let half = length / 2, twiddleStride = count / length
                var start = 0
                while start < count {
                    for k in 0..<half {
                        let wr = cosines[k * twiddleStride], wi = sines[k * twiddleStride]
                        let a = start + k, b = a + half
                        let tr = re[b] * wr - im[b] * wi, ti = re[b] * wi + im[b] * wr
                        re[b] = re[a] - tr; im[b] = im[a] - ti
                        re[a] += tr; im[a] += ti
                    }
                    start += length
                }
                length *= 2
            }
        }
    }
}

/// A small hand-made genre descriptor of a mono clip (no Spectral module needed):
/// - spectral shape: mean log energy in 16 log-spaced bands (60 Hz – 10 kHz) relative to their average,
/// - rhythm: standard deviation over time of each band's log energy (drums modulate their bands),
/// - onset rate: mean positive spectral flux relative to mean energy, and its temporal periodicity strength.
func genreFeatures(_ samples: [Float], sampleRate: Int) -> [Double] {
    // Bring 44.1 kHz clips to 22.05 kHz by averaging pairs so every clip is analysed alike.
    var signal = samples.map(Double.init)
    var rate = sampleRate
    if rate == 44_100 {
        signal = stride(from: 0, to: signal.count - 1, by: 2).map { (signal[$0] + signal[$0 + 1]) / 2 }
        rate = 22_050
    }
    let size = 512, hop = 512
    let bandCount = 16
    let edges = (0...bandCount).map { 60 * pow(10_000.0 / 60, Double($0) / Double(bandCount)) }
    let bins = edges.map { min(size / 2, max(1, Int($0 * Double(size) / Double(rate)))) }
    let window = (0..<size).map { 0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(size)) }
    var frames = [[Double]]()
    var start = 0
    while start + size <= signal.count {
        var real = (0..<size).map { signal[start + $0] * window[$0] }
        var imaginary = [Double](repeating: 0, count: size)
        fft(&real, &imaginary)
        let power = (0...(size / 2)).map { real[$0] * real[$0] + imaginary[$0] * imaginary[$0] }
        frames.append((0..<bandCount).map { band in
            var energy = 1e-10
            for bin in bins[band]..<max(bins[band] + 1, bins[band + 1]) { energy += power[bin] }
            return log(energy)
        })
        start += hop
    }
    let frameCount = Double(frames.count)
    let means = (0..<bandCount).map { band in frames.reduce(0) { $0 + $1[band] } / frameCount }
    let overall = means.reduce(0, +) / Double(bandCount)
    let spreads = (0..<bandCount).map { band in
        (frames.reduce(0) { $0 + ($1[band] - means[band]) * ($1[band] - means[band]) } / frameCount).squareRoot()
    }
    // Onsets: positive increases of the summed log band energy.
    var flux = [Double]()
    for t in 1..<frames.count {
        flux.append((0..<bandCount).reduce(0) { $0 + max(0, frames[t][$1] - frames[t - 1][$1]) })
    }
    let meanFlux = flux.reduce(0, +) / Double(flux.count)
    return means.map { $0 - overall } + spreads + [meanFlux]
}

/// Leave-one-out nearest-centroid accuracy on z-scored features.
func leaveOneOutAccuracy(features: [[Double]], labels: [Int]) -> Double {
    let dimensions = features[0].count
    let count = Double(features.count)
    let means = (0..<dimensions).map { d in features.reduce(0) { $0 + $1[d] } / count }
    let deviations = (0..<dimensions).map { d in
        max(1e-9, (features.reduce(0) { $0 + ($1[d] - means[d]) * ($1[d] - means[d]) } / count).squareRoot())
    }
    let scaled = features.map { row in (0..<dimensions).map { (row[$0] - means[$0]) / deviations[$0] } }
    let classes = Set(labels).sorted()
    var correct = 0
    for held in scaled.indices {
        var best = -1, bestDistance = Double.infinity
        for label in classes {
            let members = scaled.indices.filter { $0 != held && labels[$0] == label }
            let centroid = (0..<dimensions).map { d in members.reduce(0) { $0 + scaled[$1][d] } / Double(members.count) }
            let distance = (0..<dimensions).reduce(0) { $0 + (scaled[held][$1] - centroid[$1]) * (scaled[held][$1] - centroid[$1]) }
            if distance < bestDistance { bestDistance = distance; best = label }
        }
        if best == labels[held] { correct += 1 }
    }
    return Double(correct) / count
}
