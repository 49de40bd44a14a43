import Foundation
internal import CFFTW

/// Single-thread timing of ``LogMelSpectrogram/compute(_:into:)`` against FFTW's own cost for the same frames
/// (the yardsticks of `fft_floor.c`), for the lead's benchmark tooling. Figures are milliseconds per clip of
/// noise, the best (minimum) of `repetitions` timed clips unless named "mean"; the measurements are interleaved
/// clip by clip so that load from other processes affects them alike.
public struct SpectralBenchmark: Sendable, CustomStringConvertible {
    /// Parameters used (sample rate, nFFT, hop...).
    public let parameters: LogMelParameters
    /// Clip length in samples and in frames.
    public let samplesPerClip: Int
    public let framesPerClip: Int
    /// fft_floor variant A: one batched `fftwf_plan_many_dft_r2c` per (zero-padded) clip, FFT only, ms/clip.
    public let batchedRealFFTMilliseconds: Double
    /// One `nFFT`-point r2c execute per frame on a cache-resident buffer (FFT only), ms/clip.
    public let perFrameRealFFTMilliseconds: Double
    /// One `nFFT`-point complex execute per pair of frames on a cache-resident buffer (FFT only; what ``FFTPlan``
    /// runs), ms/clip.
    public let perPairComplexFFTMilliseconds: Double
    /// The whole log-mel computation (window, FFT, |X|^2, mel, dB, top-dB), ms/clip.
    public let logMelMilliseconds: Double
    /// The same, mean over the timed clips (fft_floor reports means).
    public let logMelMeanMilliseconds: Double

    /// `logMelMilliseconds / batchedRealFFTMilliseconds` (the target is about 1.3 or below).
    public var ratioToBatchedRealFFT: Double { logMelMilliseconds / batchedRealFFTMilliseconds }

    public var description: String {
        String(format: "Spectral benchmark, %d samples (%d frames) per clip, 1 thread, ms/clip: FFT only: batched r2c (fft_floor A) %.3f, per-frame r2c %.3f, per-pair complex %.3f; log-mel compute %.3f = %.2fx batched r2c (mean %.3f)",
               samplesPerClip, framesPerClip, batchedRealFFTMilliseconds, perFrameRealFFTMilliseconds,
               perPairComplexFFTMilliseconds, logMelMilliseconds, ratioToBatchedRealFFT, logMelMeanMilliseconds)
    }

    /// Runs the benchmark on the calling thread (a few seconds with the defaults).
    /// - Parameters:
    ///   - parameters: extraction parameters (default: librosa's).
    ///   - seconds: clip length, seconds at `parameters.sampleRate` (30 s = 661500 samples = 1292 frames).
    ///   - repetitions: timed clips per measurement (the fastest is kept).
    ///   - effort: FFTW planning effort for all plans.
    public static func run(parameters: LogMelParameters = LogMelParameters(), seconds: Double = 30,
                           repetitions: Int = 40, effort: PlanningEffort = .measure) -> SpectralBenchmark {
        parameters.requireValid()
        precondition(repetitions > 0 && seconds > 0)
        let samples = Int(seconds * Double(parameters.sampleRate))
        let frames = parameters.frameCount(forSamples: samples)
        precondition(frames > 0, "SpectralBenchmark: no frames in \(seconds) s")
        var state: UInt32 = 777
        let signal = (0..<samples).map { _ -> Float in
            state = state &* 1_664_525 &+ 1_013_904_223
            return Float(state >> 8) * (1.0 / 16_777_216.0) - 0.5
        }
        let nFFT = parameters.nFFT, nBins = parameters.nBins, hop = parameters.hopLength
        let n = Int32(nFFT)

        // A: batched r2c plan over the zero-padded clip, idist = hop.
        let padded = FFTBuffer(count: (frames - 1) * hop + nFFT)
        let offset = parameters.center ? nFFT / 2 : 0
        for i in 0..<min(samples, padded.count - offset) { padded.pointer[offset + i] = signal[i] }
        let batchedOutput = FFTBuffer(count: 2 * nBins * frames)
        let batched = orStop { () throws(SpectralError) in
            try makeFFTWPlan("fftwf_plan_many_dft_r2c", "\(frames) batched \(nFFT)-point transforms",
                             inputFloats: padded.count, outputFloats: batchedOutput.count) { input, output in
                var size = n
                return output.withMemoryRebound(to: fftwf_complex.self, capacity: nBins * frames) {
                    fftwf_plan_many_dft_r2c(1, &size, Int32(frames), input, nil, 1, Int32(hop), $0, nil, 1,
                                            Int32(nBins), effort.fftwFlags)
                }
            }
        }.plan
        defer { destroyFFTWPlan(batched) }

        // One r2c per frame.
        let frameIn = FFTBuffer(count: nFFT), frameOut = FFTBuffer(count: 2 * nBins)
        let perFrame = orStop { () throws(SpectralError) in
            try makeFFTWPlan("fftwf_plan_dft_r2c_1d", "a \(nFFT)-point plan", inputFloats: nFFT, outputFloats: 2 * nBins) {
                input, output in
                output.withMemoryRebound(to: fftwf_complex.self, capacity: nBins) {
                    fftwf_plan_dft_r2c_1d(n, input, $0, effort.fftwFlags | CFFTW_flag_destroy_input())
                }
            }
        }.plan
        defer { destroyFFTWPlan(perFrame) }

        // One complex FFT per pair of frames: the plan the extractor uses.
        let plan = FFTPlan(size: nFFT, effort: effort)
        let pairIn = FFTBuffer(count: 2 * nFFT), pairOut = FFTBuffer(count: 2 * nFFT)

        func milliseconds(_ body: () -> Void) -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        }
        var extractor = LogMelSpectrogram(parameters: parameters, plan: plan)
        var output = [Float](repeating: 0, count: parameters.nMels * frames)
        var batchedMs = Double.infinity, perFrameMs = Double.infinity, perPairMs = Double.infinity
        var logMelMs = Double.infinity, logMelTotal = 0.0
        signal.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                for round in 0...repetitions {  // the first round warms up
                    batchedMs = min(batchedMs, milliseconds {
                        batchedOutput.pointer.withMemoryRebound(to: fftwf_complex.self, capacity: nBins * frames) {
                            fftwf_execute_dft_r2c(batched, padded.pointer, $0)
                        }
                    })
                    perFrameMs = min(perFrameMs, milliseconds {
                        frameOut.pointer.withMemoryRebound(to: fftwf_complex.self, capacity: nBins) { spectrum in
                            for _ in 0..<frames { fftwf_execute_dft_r2c(perFrame, frameIn.pointer, spectrum) }
                        }
                    })
                    perPairMs = min(perPairMs, milliseconds {
                        for _ in 0..<((frames + 1) / 2) { plan.execute(input: pairIn.pointer, output: pairOut.pointer) }
                    })
                    let elapsed = milliseconds { extractor.compute(input, into: out) }
                    logMelMs = min(logMelMs, elapsed)
                    if round > 0 { logMelTotal += elapsed }
                }
            }
        }
        return SpectralBenchmark(
            parameters: parameters, samplesPerClip: samples, framesPerClip: frames,
            batchedRealFFTMilliseconds: batchedMs, perFrameRealFFTMilliseconds: perFrameMs,
            perPairComplexFFTMilliseconds: perPairMs, logMelMilliseconds: logMelMs,
            logMelMeanMilliseconds: logMelTotal / Double(repetitions))
    }
}
