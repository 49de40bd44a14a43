import Foundation
import Testing
@testable import Spectral

/// The STFT power spectrum against a direct O(n^2) DFT in Double with librosa's framing.
@Suite struct STFTTests {
    /// `|DFT|^2` of every frame, librosa framing (zero padding when centred), periodic Hann, Double.
    static func referencePower(_ x: [Float], _ p: LogMelParameters) -> [[Double]] {
        let n = p.nFFT
        let window = (0..<n).map { 0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(n)) }
        let frames = p.frameCount(forSamples: x.count)
        let cosTable = (0..<n).map { cos(2 * Double.pi * Double($0) / Double(n)) }
        let sinTable = (0..<n).map { sin(2 * Double.pi * Double($0) / Double(n)) }
        return (0..<frames).map { t in
            let start = t * p.hopLength - (p.center ? n / 2 : 0)
            let frame = (0..<n).map { i -> Double in
                let j = start + i
                return j >= 0 && j < x.count ? Double(x[j]) * window[i] : 0
            }
            return (0..<p.nBins).map { k in
                var re = 0.0, im = 0.0
                for i in 0..<n {
                    let phase = (k * i) % n
                    re += frame[i] * cosTable[phase]
                    im -= frame[i] * sinTable[phase]
                }
                return re * re + im * im
            }
        }
    }

    /// Compares with the direct DFT, bin by bin, within the float32 error bound of the FFT: each output of an FFT
    /// is a ±-weighted sum of the windowed inputs through `R` = ``SpectralBounds/fftRoundings(_:)`` roundings, so
    /// its real and imaginary parts are off by at most `γ(R)·S`, `S = Σ|x·w|`. Frames are transformed in pairs (one
    /// complex FFT of two real frames), so `S` is the sum over the frame and its partner (bounded by the larger
    /// neighbour). The power `re² + im²` is then off by at most `2|X|·δ + δ² + γ(3)·|X|²` with `δ = √2·γ(R)·S`.
    static func check(samples: Int, parameters p: LogMelParameters, seed: UInt32, gain: (Int) -> Float = { _ in 1 }) {
        var noise = TestNoise(seed: seed)
        let x = noise.samples(samples).enumerated().map { $1 * gain($0) }
        var extractor = LogMelSpectrogram(
            parameters: p, plan: FFTPlan(size: p.nFFT, effort: .estimate))
        let power = extractor.powerSpectrogram(x)
        let reference = referencePower(x, p)
        #expect(power.count == reference.count * p.nBins)
        let window = (0..<p.nFFT).map { 0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(p.nFFT)) }
        let magnitudes = (0..<reference.count).map { t -> Double in
            let start = t * p.hopLength - (p.center ? p.nFFT / 2 : 0)
            return (0..<p.nFFT).reduce(0.0) { sum, i in
                let j = start + i
                return sum + (j >= 0 && j < x.count ? abs(Double(x[j])) * window[i] : 0)
            }
        }
        let gamma = ErrorBound.gamma(SpectralBounds.fftRoundings(p.nFFT))
        for (t, row) in reference.enumerated() {
            let partner = magnitudes[max(t - 1, 0)...min(t + 1, magnitudes.count - 1)].max()!
            let delta = 2.0.squareRoot() * gamma * (magnitudes[t] + partner)
            var worst = 0.0
            for k in 0..<p.nBins {
                let bound = 2 * row[k].squareRoot() * delta + delta * delta + ErrorBound.gamma(3) * row[k]
                    + ErrorBound.underflow(operations: 8)
                worst = max(worst, abs(Double(power[t * p.nBins + k]) - row[k]) / bound)
            }
            #expect(worst <= 1, "frame \(t): worst |diff| / bound \(worst)")
        }
    }

    @Test func centredFramesMatchDirectDFT() {
        Self.check(samples: 700, parameters: LogMelParameters(nFFT: 256, hopLength: 64, nMels: 16), seed: 1)
    }

    @Test func uncentredFramesWithOddHopMatchDirectDFT() {
        Self.check(samples: 900, parameters: LogMelParameters(nFFT: 128, hopLength: 37, nMels: 8, center: false), seed: 2)
    }

    @Test func signalShorterThanTheWindowMatchesDirectDFT() {
        Self.check(samples: 100, parameters: LogMelParameters(nFFT: 256, hopLength: 64, nMels: 16), seed: 3)
    }

    @Test func oddFFTLengthMatchesDirectDFT() {
        Self.check(samples: 300, parameters: LogMelParameters(nFFT: 99, hopLength: 33, nMels: 4), seed: 4)
    }

    @Test func defaultSizeOnAShortClipMatchesDirectDFT() {
        Self.check(samples: 1500, parameters: LogMelParameters(), seed: 5)
    }

    @Test func loudToQuietTransitionMatchesDirectDFT() {
        // 60 dB step in the middle of the signal, then digital silence
        Self.check(samples: 2000, parameters: LogMelParameters(nFFT: 256, hopLength: 64, nMels: 16), seed: 6) {
            $0 < 900 ? 1 : $0 < 1500 ? 1e-3 : 0
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5])
    func everyFrameCountParityMatchesDirectDFT(frames: Int) {
        // odd frame counts leave the last frame without a partner
        let p = LogMelParameters(nFFT: 64, hopLength: 16, nMels: 4, center: false)
        Self.check(samples: 64 + (frames - 1) * 16, parameters: p, seed: UInt32(10 + frames))
    }

    @Test func powerOfAToneConcentratesInItsBin() {
        // 16 periods in 256 samples: bin 16 (Hann spreads it to bins 15...17 only).
        let p = LogMelParameters(nFFT: 256, hopLength: 256, nMels: 8, center: false)
        let x = (0..<256).map { Float(sin(2 * Double.pi * 16 * Double($0) / 256)) }
        var extractor = LogMelSpectrogram(parameters: p, plan: FFTPlan(size: 256, effort: .estimate))
        let power = extractor.powerSpectrogram(x)
        // amplitude at bin 16: sum x w e^{-i..} = N/4 (0.5 window mean * N/2); bounds as in `check`, with
        // S = Σ|x·w| computed from the signal.
        let magnitude = (0..<256).reduce(0.0) { $0 + abs(Double(x[$1])) * (0.5 - 0.5 * cos(2 * Double.pi * Double($1) / 256)) }
        let delta = 2.0.squareRoot() * ErrorBound.gamma(SpectralBounds.fftRoundings(256)) * magnitude
        func bound(_ exact: Double) -> Double { 2 * exact.squareRoot() * delta + delta * delta + ErrorBound.gamma(3) * exact }
        #expect(abs(Double(power[16]) - 64 * 64) <= bound(64 * 64))
        #expect(abs(Double(power[15]) - 32 * 32) <= bound(32 * 32))
        #expect(Double(power[20]) <= bound(0))
    }
}
