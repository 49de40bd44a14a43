import Foundation
import Testing
@testable import AudioIO

/// The signal `scripts/check_resampler.py` resamples with python-soxr, regenerated bit for bit:
/// same float64 operations in the same order, rounded to float32.
enum ReferenceSignal {
    static func make(rate: Int, count: Int) -> [Float] {
        let f0 = 100.0, f1 = 0.45 * Double(rate)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        return (0..<count).map { i in
            let t = Double(i) / Double(rate)
            let tone = sin(2.0 * Double.pi * 440.0 * t)
            let chirp = sin(2.0 * Double.pi * (f0 * t + 0.5 * (f1 - f0) * t * t))
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            let noise = Double(state >> 11) * (1.0 / 9_007_199_254_740_992.0) * 2.0 - 1.0
            return Float(0.4 * tone + 0.3 * chirp + 0.1 * noise)
        }
    }
}

/// One case of the committed python-soxr reference (`SoxrReferenceData.swift`).
struct SoxrReferenceCase: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let inputRate: Int
    let outputRate: Int
    let inputCount: Int
    let resType: String
    let inputSum: Double
    let outputCount: Int
    let outputSum: Double
    let outputSumOfSquares: Double
    let indices: [Int]
    let samples: [Float]

    var testDescription: String { name }

    static let all: [SoxrReferenceCase] = {
        struct Document: Decodable { let cases: [SoxrReferenceCase] }
        // A malformed literal is a test failure (the arguments list is then empty and the count test fails).
        return (try? JSONDecoder().decode(Document.self, from: Data(soxrReferenceJSON.utf8)).cases) ?? []
    }()
}

@Suite struct SoxrReferenceTests {
    @Test func referenceParses() {
        #expect(SoxrReferenceCase.all.count == 8)
    }

    /// SoxrResampler reproduces librosa.resample(res_type='soxr_hq'/'soxr_vhq') (python-soxr 1.1.0).
    @Test(arguments: SoxrReferenceCase.all)
    func matchesPythonSoxr(reference: SoxrReferenceCase) throws {
        let input = ReferenceSignal.make(rate: reference.inputRate, count: reference.inputCount)
        // The input must be the script's, or the comparison means nothing.
        let inputSum = input.reduce(0.0) { $0 + Double($1) }
        // Bit for bit in principle; libm's sin may differ in its last Double bit between machines, which can move a
        // sample by one float32 rounding at most (u·|x|). The Double sums themselves are exact to ~1e-12 here.
        let inputMagnitude = input.reduce(0.0) { $0 + abs(Double($1)) }
        #expect(abs(inputSum - reference.inputSum) <= ErrorBound.unitRoundoff * inputMagnitude + 1e-12)

        let quality: SoxrResampler.Quality = reference.resType == "soxr_vhq" ? .vhq : .hq
        let output = try SoxrResampler(quality: quality).resample(input, from: reference.inputRate, to: reference.outputRate)
        #expect(output.count == reference.outputCount)
        try #require(output.count == reference.outputCount)

        // Both sides run libsoxr's float32 filter, whose SIMD kernels (and so summation order) libsoxr picks for
        // the CPU it runs on. Each output sample is Σ h_k·x_(n-k) through at most 3 stages of DFT-based
        // filtering, each of at most 4096 points: R = 3·(5·⌈log2 4096⌉ + 4) = 192 roundings (see SpectralTests'
        // FFT bound), relative to Σ|h_k·x| <= ‖h‖₁·max|x|. The filters are windowed-sinc low-passes, ‖h‖₁ <= 4 for
        // their lengths (1 + (4/π²)·ln(L/2) for L up to a few thousand taps). Both sides: twice that.
        let maxInput = input.reduce(0.0) { max($0, abs(Double($1))) }
        let sampleBound = 2 * ErrorBound.gamma(192) * 4 * maxInput
        var worst: Float = 0
        for (index, expected) in zip(reference.indices, reference.samples) {
            worst = max(worst, abs(output[index] - expected))
        }
        #expect(Double(worst) <= sampleBound, "max |swift - python| over \(reference.indices.count) samples = \(worst), bound \(sampleBound)")

        let sum = output.reduce(0.0) { $0 + Double($1) }
        let sumOfSquares = output.reduce(0.0) { $0 + Double($1) * Double($1) }
        let outputMagnitude = output.reduce(0.0) { $0 + abs(Double($1)) }
        // |Σ(y + δ) - Σ y| <= N·δ; |Σ(y + δ)² - Σ y²| <= 2·δ·Σ|y| + N·δ² (plus the Double sums' ~1e-12).
        let count = Double(output.count)
        #expect(abs(sum - reference.outputSum) <= count * sampleBound + 1e-9)
        #expect(abs(sumOfSquares - reference.outputSumOfSquares) <= 2 * sampleBound * outputMagnitude + count * sampleBound * sampleBound + 1e-9)

        // `AUDIOIO_DUMP_DIR=dir swift test` writes full outputs for `scripts/check_resampler.py compare dir`.
        if let dir = ProcessInfo.processInfo.environment["AUDIOIO_DUMP_DIR"] {
            try input.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: "\(dir)/\(reference.name).input.f32")) }
            try output.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: "\(dir)/\(reference.name).f32")) }
        }
    }
}

@Suite struct ResamplerBehaviourTests {
    static let ratePairs: [(Int, Int)] = [(44100, 22050), (48000, 22050), (8000, 22050), (96000, 22050), (22050, 16000)]

    /// A 1 kHz tone stays a 1 kHz tone of the same amplitude at the new rate.
    @Test(arguments: ResamplerKind.allCases)
    func toneKeepsItsFrequency(kind: ResamplerKind) throws {
        let resampler = kind.makeResampler()
        for (inputRate, outputRate) in Self.ratePairs {
            let input = Signal.tone(frequency: 1000, sampleRate: inputRate, count: inputRate / 2, amplitude: 0.5)
            let output = try resampler.resample(input, from: inputRate, to: outputRate)
            #expect(output.count == outputRate / 2)
            // Skip the filter's edge transients, then measure.
            let interior = Array(output[(outputRate / 20)..<(outputRate * 9 / 20)])
            let seconds = Double(interior.count) / Double(outputRate)
            var crossings = 0
            for i in 1..<interior.count where (interior[i - 1] < 0) != (interior[i] < 0) { crossings += 1 }
            let frequency = Double(crossings) / 2 / seconds
            #expect(abs(frequency - 1000) < 6, "\(kind) \(inputRate)->\(outputRate): \(frequency) Hz")
            // DFT power at 1 kHz against a bin 100 Hz away: the tone is at the right place.
            let atTone = dftMagnitude(interior, frequency: 1000, sampleRate: outputRate)
            let offTone = dftMagnitude(interior, frequency: 1100, sampleRate: outputRate)
            #expect(atTone > 1000 * offTone, "\(kind) \(inputRate)->\(outputRate)")
            let rms = (interior.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(interior.count)).squareRoot()
            #expect(abs(rms - 0.5 / 2.0.squareRoot()) < 0.005, "\(kind) \(inputRate)->\(outputRate): rms \(rms)")
        }
    }

    /// Output length is exactly ceil(n * out / in) for awkward lengths, for every kind.
    @Test(arguments: ResamplerKind.allCases)
    func lengthIsCeilOfScaledCount(kind: ResamplerKind) throws {
        let resampler = kind.makeResampler()
        for (inputRate, outputRate) in Self.ratePairs + [(11025, 22050), (44100, 16000)] {
            for count in [1, 2, 7, 999, 1000, 4097] {
                let input = Signal.noise(count: count, seed: UInt64(count))
                let output = try resampler.resample(input, from: inputRate, to: outputRate)
                let exact = (count * outputRate + inputRate - 1) / inputRate
                #expect(output.count == exact, "\(kind) n=\(count) \(inputRate)->\(outputRate)")
                #expect(ResampledLength.count(inputCount: count, from: inputRate, to: outputRate) == exact)
                #expect(output.allSatisfy { $0.isFinite })
            }
        }
    }

    /// Equal rates return the input unchanged; an empty input gives an empty output.
    @Test(arguments: ResamplerKind.allCases)
    func identityAndEmpty(kind: ResamplerKind) throws {
        let resampler = kind.makeResampler()
        let input = Signal.noise(count: 12345, seed: 7)
        #expect(try resampler.resample(input, from: 22050, to: 22050) == input)
        #expect(try resampler.resample([], from: 44100, to: 22050).isEmpty)
    }

    /// Non-positive rates are a clear error, not a crash.
    @Test(arguments: ResamplerKind.allCases)
    func invalidRatesThrow(kind: ResamplerKind) {
        let resampler = kind.makeResampler()
        #expect(throws: AudioError.self) { try resampler.resample([0, 1, 2], from: 0, to: 22050) }
        #expect(throws: AudioError.self) { try resampler.resample([0, 1, 2], from: 44100, to: -1) }
    }

    @Test func kindsRoundTripTheirConfigurationNames() throws {
        for kind in ResamplerKind.allCases {
            #expect(ResamplerKind(rawValue: kind.rawValue) == kind)
        }
        #expect(ResamplerKind(rawValue: "soxr-hq") == .soxrHQ)
        let json = try JSONEncoder().encode([ResamplerKind.sincBest])
        #expect(String(decoding: json, as: UTF8.self) == #"["sinc-best"]"#)
    }

    /// Many resamplers in parallel give the same result as one (no shared C state).
    @Test func parallelCallsAgree() async throws {
        let input = ReferenceSignal.make(rate: 44100, count: 44100)
        let expected = try SoxrResampler().resample(input, from: 44100, to: 22050)
        try await withThrowingTaskGroup(of: [Float].self) { group in
            for _ in 0..<8 {
                group.addTask { try SoxrResampler().resample(input, from: 44100, to: 22050) }
            }
            for try await output in group { #expect(output == expected) }
        }
    }

    /// Single-bin DFT magnitude of `x` at `frequency` Hz (Goertzel recurrence).
    func dftMagnitude(_ x: [Float], frequency: Double, sampleRate: Int) -> Double {
        let omega = 2 * Double.pi * frequency / Double(sampleRate)
        let coefficient = 2 * cos(omega)
        var s1 = 0.0, s2 = 0.0
        for v in x {
            let s0 = Double(v) + coefficient * s1 - s2
            s2 = s1
            s1 = s0
        }
        return (s1 * s1 + s2 * s2 - coefficient * s1 * s2).squareRoot()
    }
}
