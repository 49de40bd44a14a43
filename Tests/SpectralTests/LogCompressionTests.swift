import Foundation
import Testing
@testable import Spectral

/// musicnn's compression, `log10(1 + scale * S)`: the kernel against Double, and the whole front end against
/// librosa 0.11 + numpy (golden files from scripts/make_golden.py).
@Suite struct LogCompressionTests {
    @Test func kernelMatchesDoubleOverTheRangeOfMelPowers() {
        // 0, log-spaced powers from 1e-30 to 1e30, and an odd count so that the scalar tail runs too
        let powers: [Float] = [0] + (0...4000).map { Float(pow(10.0, -30 + 60 * Double($0) / 4000)) }
        for scale: Float in [10000, 1, 0.5] {
            var out = powers
            out.withUnsafeMutableBufferPointer { LogCompression.log10OnePlus($0, scale: scale) }
            var worst = 0.0
            for (p, y) in zip(powers, out) {
                let exact = Foundation.log10(1 + Double(scale) * Double(p))
                // float rounding of 1 + scale p (relative u, i.e. u / ln 10 absolute) and of the logarithm
                let bound = 8 * ErrorBound.unitRoundoff * (1 + abs(exact))
                worst = max(worst, abs(Double(y) - exact))
                #expect(abs(Double(y) - exact) <= bound, "scale \(scale), power \(p): \(y) vs \(exact)")
            }
            #expect(out[0] == 0, "silence is exactly 0")
            print("log10(1 + \(scale) S): max |diff| \(worst) against Double")
        }
    }

    @Test func nonFinitePowersStayNonFinite() {
        var values: [Float] = [.infinity, .nan, -1, 1e38, 1, 2, 3]
        values.withUnsafeMutableBufferPointer { LogCompression.log10OnePlus($0, scale: 10000) }
        #expect(values[0] == .infinity)
        #expect(values[1].isNaN && values[2].isNaN)
        #expect(values[3] == .infinity, "10000 * 1e38 overflows Float")
        #expect(abs(values[4] - 4.0000434) < 1e-6)
    }

    @Test func decibelsAndLog1pShareTheFilterbankOutput() {
        // The same mel powers through both compressions: dB = 10 log10(S) (no floor hit, no clamp) and
        // log1p with a huge scale ≈ log10(scale) + log10(S).
        var noise = TestNoise(seed: 11)
        let signal = noise.samples(4000)
        var db = LogMelSpectrogram(parameters: LogMelParameters(
            sampleRate: 16000, nFFT: 512, hopLength: 256, nMels: 96, compression: .decibels(topDB: nil)))
        var log = LogMelSpectrogram(parameters: LogMelParameters(
            sampleRate: 16000, nFFT: 512, hopLength: 256, nMels: 96, compression: .log1p(scale: 1e20)))
        let a = db.compute(signal), b = log.compute(signal)
        for (x, y) in zip(a, b) where x > -60 {
            #expect(abs(Double(x) / 10 + 20 - Double(y)) < 1e-4)
        }
    }

    @Test(arguments: GoldenData.musicnnCaseNames)
    func musicnnFrontEndMatchesLibrosa(name: String) throws {
        let golden = GoldenData.golden(name)
        let parameters = try #require(GoldenData.index.parameters[golden.parameters]).logMel
        #expect(parameters.compression == .log1p(scale: 10000))
        #expect(parameters.sampleRate == 16000 && parameters.nFFT == 512 && parameters.hopLength == 256)
        let input = try GoldenData.floats(golden.input)
        let reference = try GoldenData.floats(golden.mel)
        var extractor = LogMelSpectrogram(parameters: parameters)
        #expect([parameters.nMels, extractor.frameCount(forSamples: input.count)] == golden.shape, "shape")
        let ours = extractor.compute(input)
        try #require(ours.count == reference.count)
        let worst = zip(ours, reference).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-3, "\(name): max |diff| \(worst)")
        print("golden \(name) \(golden.shape): max |diff| \(worst) (log10(1 + 10000 S), values up to \(reference.max()!))")
    }
}
