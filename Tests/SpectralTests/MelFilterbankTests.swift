import Foundation
import Testing
@testable import Spectral

@Suite struct MelFilterbankTests {
    @Test(arguments: GoldenData.index.filterbanks.map(\.file))
    func matchesLibrosaFilterbank(file: String) throws {
        let golden = GoldenData.index.filterbanks.first { $0.file == file }!
        let bank = MelFilterbank(parameters: golden.logMel)
        #expect(bank.nMels == golden.shape[0] && bank.nBins == golden.shape[1])
        let triples = try GoldenData.floats(file)
        #expect(triples.count == 3 * golden.nnz)
        let weights = bank.weights
        var worst: Float = 0
        for row in 0..<golden.nnz {
            let band = Int(triples[3 * row]), bin = Int(triples[3 * row + 1]), expected = triples[3 * row + 2]
            let ours = weights[band * bank.nBins + bin]
            worst = max(worst, abs(ours - expected) / expected)
        }
        // Every nonzero of librosa's is nonzero here, and nothing else is.
        #expect(weights.filter { $0 != 0 }.count == golden.nnz)
        // Both sides compute each weight in Double by the same steps (relative differences ~1e-13 at most) and round
        // it to float32 twice (the triangle, then the Slaney-normalised product): γ(2) each side.
        #expect(Double(worst) <= 2 * ErrorBound.gamma(2) + 1e-12, "max relative weight difference \(worst)")
        print("filterbank \(file): \(golden.nnz) nonzeros, max relative difference vs librosa \(worst)")
    }

    @Test(arguments: [
        LogMelParameters(),
        LogMelParameters(sampleRate: 16000, nFFT: 512, nMels: 40, fMin: 20, fMax: 7600, melScale: .htk, melNorm: .none),
        LogMelParameters(sampleRate: 44100, nFFT: 4096, nMels: 256),
    ])
    func everyBinFeedsAtMostTwoFilters(parameters: LogMelParameters) {
        let bank = MelFilterbank(parameters: parameters)
        var uses = [Int](repeating: 0, count: bank.nBins)
        for range in bank.nonzeroBins { for bin in range { uses[bin] += 1 } }
        #expect(uses.max()! <= 2)
        // the sparse ranges hold exactly the dense nonzeros
        let weights = bank.weights
        var mismatches = 0
        for band in 0..<bank.nMels {
            for bin in 0..<bank.nBins where (weights[band * bank.nBins + bin] != 0) != bank.nonzeroBins[band].contains(bin) {
                mismatches += 1
            }
        }
        #expect(mismatches == 0)
    }

    @Test func sparseApplicationEqualsDenseProduct() {
        let p = LogMelParameters()
        let bank = MelFilterbank(parameters: p)
        var noise = TestNoise(seed: 9)
        var power = (0..<bank.paddedBins).map { _ in noise.next() + 0.5 }
        for k in bank.nBins..<bank.paddedBins { power[k] = 0 }
        var mel = [Float](repeating: 0, count: bank.nMels)
        power.withUnsafeBufferPointer { pw in
            mel.withUnsafeMutableBufferPointer { bank.apply(power: pw.baseAddress!, melPowers: $0.baseAddress!) }
        }
        let weights = bank.weights
        for band in 0..<bank.nMels {
            var expected = 0.0
            for k in 0..<bank.nBins { expected += Double(weights[band * bank.nBins + k]) * Double(power[k]) }
            // A float32 sum of the band's nonzero products (weights and powers are non-negative: Σ|terms| = sum).
            let bound = ErrorBound.sum(count: bank.nonzeroBins[band].count + 1, absoluteSum: expected)
            #expect(abs(Double(mel[band]) - expected) <= bound, "band \(band)")
        }
    }

    @Test func slaneyScaleIsLinearBelowOneKilohertz() {
        #expect(abs(MelFilterbank.hzToMel(1000, scale: .slaney) - 15) < 1e-12)
        #expect(abs(MelFilterbank.hzToMel(500, scale: .slaney) - 7.5) < 1e-12)
        #expect(abs(MelFilterbank.melToHz(MelFilterbank.hzToMel(4321, scale: .slaney), scale: .slaney) - 4321) < 1e-9)
        #expect(abs(MelFilterbank.hzToMel(700, scale: .htk) - 2595 * log10(2.0)) < 1e-9)
    }
}
