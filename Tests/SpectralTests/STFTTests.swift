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

    /// Compares with the direct DFT, bin by bin, with a tolerance of 1e-5 of the largest bin power of the frame
    /// and its neighbours (frames are transformed in pairs, so rounding is relative to the pair's energy).
    static func check(samples: Int, parameters p: LogMelParameters, seed: UInt32, gain: (Int) -> Float = { _ in 1 }) {
        var noise = TestNoise(seed: seed)
        let x = noise.samples(samples).enumerated().map { $1 * gain($0) }
        var extractor = LogMelSpectrogram(
            parameters: p, plan: FFTPlan(size: p.nFFT, effort: .estimate))
        let power = extractor.powerSpectrogram(x)
        let reference = referencePower(x, p)
        #expect(power.count == reference.count * p.nBins)
        let peaks = reference.map { $0.max() ?? 0 }
        for (t, row) in reference.enumerated() {
            let scale = max(peaks[max(t - 1, 0)...min(t + 1, peaks.count - 1)].max()!, 1e-30)
            var worst = 0.0
            for k in 0..<p.nBins { worst = max(worst, abs(Double(power[t * p.nBins + k]) - row[k])) }
            #expect(worst <= 1e-5 * scale, "frame \(t): max |diff| \(worst) vs frame peak \(scale)")
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
        // amplitude at bin 16: sum x w e^{-i..} = N/4 (0.5 window mean * N/2)
        #expect(abs(power[16] - 64 * 64) <= 1e-2)
        #expect(abs(power[15] - 32 * 32) <= 1e-2)
        #expect(power[20] <= 1e-6)
    }
}
