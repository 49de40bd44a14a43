import GenreCore
import AudioIO
import Foundation
import Spectral

/// What one clip gave, besides its spectrogram.
public struct ClipOutcome: Sendable, Codable {
    /// Hash of the decoded mono samples and their rate (finds exact duplicates).
    public var contentHash: ContentHash
    /// Duration of the source (seconds), from the decoded samples (or the header for very long files).
    public var sourceSeconds: Double
    /// The resampled clip was shorter than the fixed length and was zero-padded.
    public var padded: Bool
    /// The resampled clip was shorter than one STFT frame (n_fft samples).
    public var shorterThanFrame: Bool
    /// Time spent per stage (seconds).
    public var timings: StageTimings
    /// Per-band statistics of this clip's spectrogram (in the features' unit: dB or log1p; mergeable).
    public var statistics: BandStatistics
    /// Damage found while decoding that still left usable audio (a truncated file, a stream that lost sync).
    public var warning: String? = nil
}

/// Seconds spent in each per-clip stage; adds up over clips and workers.
public struct StageTimings: Sendable, Codable, Equatable {
    public var decode = 0.0
    public var resample = 0.0
    public var spectral = 0.0
    public var statistics = 0.0
    /// Content hash of the decoded samples (duplicate detection).
    public var hash = 0.0
    /// Writing the spectrogram to the scratch folder.
    public var scratch = 0.0
    public init() {}

    public static func += (a: inout StageTimings, b: StageTimings) {
        a.decode += b.decode
        a.resample += b.resample
        a.spectral += b.spectral
        a.statistics += b.statistics
        a.hash += b.hash
        a.scratch += b.scratch
    }
}

/// The per-clip half of the pipeline for one worker: decode → mono → resample → fixed length → STFT → mel →
/// compression (dB or log1p, `[db] kind`).
/// Owns its FFT buffers (single owner: one per worker thread); shares the read-only plan and filterbank.
/// The same extractor serves `genre predict`, so a model always sees features made exactly as in training.
public struct ClipFeatureExtractor: ~Copyable {
    public let configuration: PipelineConfiguration
    private var spectrogram: LogMelSpectrogram
    private let resampler: any Resampler
    /// Files with more samples than this (all channels) are read only around the part that is kept, with a margin
    /// for the resampler's filter, so that a one-hour file does not fill memory.
    public static let wholeFileSampleLimit = 16 << 20
    /// Input frames read beyond the kept part, at the file's rate, per second of the file's rate.
    static let marginSeconds = 0.25

    /// Spectrogram size of every clip: `nMels * frames` floats, layout [n_mels, frames].
    public var outputCount: Int { configuration.mel.nMels * configuration.framesPerClip }

    public init(configuration: PipelineConfiguration, plan: FFTPlan? = nil, filterbank: MelFilterbank? = nil) {
        self.configuration = configuration
        let parameters = configuration.logMelParameters
        spectrogram = LogMelSpectrogram(
            parameters: parameters, plan: plan ?? Self.plan(for: parameters), filterbank: filterbank)
        resampler = configuration.audio.resampler.makeResampler()
    }

    /// Decodes `path` and writes its log-mel spectrogram ([n_mels, frames] row-major) into `out`
    /// (`out.count == outputCount`). `header`, when known from the scan, saves nothing but lets long files be
    /// read in part.
    /// - Throws: ``AudioError`` naming the file when it cannot be decoded, has an implausible rate or NaN/infinite
    ///   samples (see ``checkUsable(_:path:)``), or its spectrogram is not finite. Damage that still leaves usable
    ///   audio (a truncated file) is not an error: it is described in ``ClipOutcome/warning``.
    public mutating func extract(
        path: String, header: AudioInfo?, into out: UnsafeMutableBufferPointer<Float>
    ) throws(AudioError) -> ClipOutcome {
        let clock = ContinuousClock()
        let t0 = clock.now
        let target = configuration.audio.sampleRate
        let keep = configuration.audio.clipSamples
        var range: Range<Int>? = nil
        var cropOffsetHint: Int? = nil
        if let header, header.frames * header.channels > Self.wholeFileSampleLimit {
            (range, cropOffsetHint) = Self.partialRange(header: header, target: target, keep: keep,
                                                       crop: configuration.audio.crop)
        }
        let audio: MonoAudio
        var shortOfHeader: String? = nil
        if let partial = range, let header {
            switch Result(catching: { () throws(AudioError) in try AudioDecoder.decodeMono(path: path, frames: partial) }) {
            case .success(let excerpt) where excerpt.samples.count == partial.count && excerpt.decodeError == nil:
                audio = excerpt
            default:
                // The audio ends before the header says (a cut-off compressed stream, a lying header): read what is
                // there from the start, still bounded by the limit, and crop it as a whole file.
                let frames = max(1, Self.wholeFileSampleLimit / max(1, header.channels))
                audio = try AudioDecoder.decodeMono(path: path, frames: 0..<frames)
                (range, cropOffsetHint) = (nil, nil)
                shortOfHeader = "truncated: the header says \(header.frames) frames, the audio ends before frame "
                    + "\(partial.upperBound); used the \(audio.samples.count) frames from the start"
            }
        } else {
            audio = try AudioDecoder.decodeMono(path: path)
        }
        try Self.checkUsable(audio, path: path)
        let tDecoded = clock.now
        let hash = audio.samples.withUnsafeBufferPointer { ContentHash(samples: $0, sampleRate: audio.sampleRate) }
        let t1 = clock.now
        let seconds = range == nil ? Double(audio.samples.count) / Double(audio.sampleRate) : header!.seconds
        let signal = try resampler.resample(audio.samples, from: audio.sampleRate, to: target)
        let t2 = clock.now
        var outcome = compute(signal: signal, cropOffset: cropOffsetHint, into: out)
        let nonFinite = Self.countNonFinite(UnsafeBufferPointer(out))
        guard nonFinite == 0 else {
            throw AudioError(path: path, function: "extract", message:
                "the spectrogram has \(nonFinite) non-finite values (samples too large for Float power): not used")
        }
        outcome.contentHash = hash
        outcome.sourceSeconds = seconds
        outcome.timings.decode = (tDecoded - t0).seconds
        outcome.timings.hash = (t1 - tDecoded).seconds
        outcome.timings.resample = (t2 - t1).seconds
        if let damage = audio.decodeError {
            outcome.warning = "damaged, decoded up to the damage (\(audio.samples.count) frames): \(damage.message)"
        } else if let shortOfHeader {
            outcome.warning = shortOfHeader
        } else if range == nil, let header, audio.samples.count < header.frames {
            outcome.warning = "truncated: the header says \(header.frames) frames, \(audio.samples.count) could be decoded"
        } else if let problem = audio.info.headerProblem {
            outcome.warning = "truncated: \(problem); used the \(audio.info.frames) frames present"
        }
        return outcome
    }

    /// Rejects decoded audio that would poison the features or the normalisation statistics, so that such a
    /// file is skipped with a one-line reason instead:
    /// - a sample rate outside ``CorpusScanner/plausibleSampleRates`` (a corrupt header; 1 Hz would also make
    ///   the resampler's output 22050 times longer than the input);
    /// - any NaN or infinite sample (a damaged float file). One such sample spreads through the resampler and
    ///   the STFT to whole frames, and a NaN in one clip's statistics would make the stored mean/std NaN for
    ///   every clip. The file is skipped, not repaired: replacing the values with zeros would hide the damage
    ///   inside the training data;
    /// - any sample beyond ±``maximumSampleMagnitude`` (damaged float data): its power overflows Float to
    ///   infinity, and the dB conversion would silently turn the resulting NaNs into the floor value.
    static func checkUsable(_ audio: MonoAudio, path: String) throws(AudioError) {
        try checkSampleRate(audio.sampleRate, path: path)
        let (nonFinite, huge) = audio.samples.withUnsafeBufferPointer { countDamaged($0) }
        if let error = damage(path: path, nonFinite: nonFinite, huge: huge, decodedFrames: audio.samples.count) { throw error }
    }

    /// Throws unless `rate` is in ``CorpusScanner/plausibleSampleRates``.
    static func checkSampleRate(_ rate: Int, path: String) throws(AudioError) {
        guard CorpusScanner.plausibleSampleRates.contains(rate) else {
            throw AudioError(path: path, function: "decode", message:
                "implausible sample rate \(rate) Hz (expected \(CorpusScanner.plausibleSampleRates))")
        }
    }

    /// The error for a file with `nonFinite` NaN/infinite samples or `huge` samples beyond
    /// ±``maximumSampleMagnitude`` among its `decodedFrames` frames; nil when there are none.
    static func damage(path: String, nonFinite: Int, huge: Int, decodedFrames: Int) -> AudioError? {
        if nonFinite > 0 {
            return AudioError(path: path, function: "decode", message:
                "contains \(nonFinite) NaN/infinite samples (of \(decodedFrames) decoded frames): not used")
        }
        if huge > 0 {
            return AudioError(path: path, function: "decode", message:
                "contains \(huge) samples beyond ±\(Int(maximumSampleMagnitude)) (nominal range ±1; of \(decodedFrames) decoded frames): damaged float data, not used")
        }
        return nil
    }

    /// Largest plausible sample magnitude (nominal full scale is 1; float files written at integer scale reach
    /// 32768). Far below the ~1e16 where a frame's power overflows Float.
    public static let maximumSampleMagnitude: Float = 1e6

    /// Numbers of NaN/infinite samples and of finite samples beyond ±`maximumSampleMagnitude`, in one pass.
    /// Compares the magnitude bits as integers (IEEE 754 orders positive floats like their bit patterns), without
    /// branches, 8 samples at a time: this runs over every decoded sample.
    static func countDamaged(_ values: UnsafeBufferPointer<Float>) -> (nonFinite: Int, huge: Int) {
        let infinity = SIMD8<UInt32>(repeating: Float.infinity.bitPattern)
        let limit = SIMD8<UInt32>(repeating: maximumSampleMagnitude.bitPattern)
        let magnitude = SIMD8<UInt32>(repeating: 0x7FFF_FFFF)
        var nonFinite = SIMD8<UInt32>(), beyond = SIMD8<UInt32>()
        let n = values.count
        var i = 0
        if let base = values.baseAddress {
            let raw = UnsafeRawPointer(base)
            // Per-lane counts stay below 2^32 for any buffer of fewer than 2^35 samples.
            while i + 8 <= n {
                let bits = raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<UInt32>.self) & magnitude
                nonFinite &+= SIMD8<UInt32>().replacing(with: 1, where: bits .>= infinity)
                beyond &+= SIMD8<UInt32>().replacing(with: 1, where: bits .> limit)
                i &+= 8
            }
        }
        var (bad, huge) = (Int(nonFinite.wrappedSum()), Int(beyond.wrappedSum()))
        while i < n {
            let bits = values[i].bitPattern & 0x7FFF_FFFF
            if bits >= Float.infinity.bitPattern { bad += 1 }
            if bits > maximumSampleMagnitude.bitPattern { huge += 1 }
            i += 1
        }
        // `beyond` counted the non-finite samples too.
        return (bad, huge - bad)
    }

    /// Number of NaN or infinite values in `values`.
    static func countNonFinite(_ values: UnsafeBufferPointer<Float>) -> Int {
        var count = 0
        for v in values where !v.isFinite { count += 1 }
        return count
    }

    /// Fixed length, spectrogram and statistics of a mono signal already at the pipeline's rate.
    public mutating func compute(
        signal: [Float], cropOffset: Int? = nil, into out: UnsafeMutableBufferPointer<Float>
    ) -> ClipOutcome {
        precondition(out.count == outputCount, "output buffer holds \(out.count) floats, need \(outputCount)")
        let clock = ContinuousClock()
        let t0 = clock.now
        let keep = configuration.audio.clipSamples
        let offset: Int
        if let cropOffset {
            offset = max(0, min(cropOffset, signal.count - keep))
        } else if signal.count > keep && configuration.audio.crop == .centre {
            offset = (signal.count - keep) / 2
        } else {
            offset = 0
        }
        let available = max(0, min(keep, signal.count - offset))
        let nMels = configuration.mel.nMels, frames = configuration.framesPerClip
        if available == keep {
            signal.withUnsafeBufferPointer { s in
                spectrogram.compute(UnsafeBufferPointer(rebasing: s[offset..<(offset + keep)]), into: out)
            }
        } else {
            var fixed = [Float](repeating: 0, count: keep)
            fixed.withUnsafeMutableBufferPointer { f in
                signal.withUnsafeBufferPointer { s in
                    _ = f.initialize(fromContentsOf: s[offset..<(offset + available)])
                }
            }
            fixed.withUnsafeBufferPointer { spectrogram.compute($0, into: out) }
        }
        let t1 = clock.now
        let stats = BandStatistics(spectrogram: UnsafeBufferPointer(out), bands: nMels, frames: frames)
        let t2 = clock.now
        var timings = StageTimings()
        timings.spectral = (t1 - t0).seconds
        timings.statistics = (t2 - t1).seconds
        return ClipOutcome(
            contentHash: ContentHash(value: 0), sourceSeconds: Double(signal.count) / Double(configuration.audio.sampleRate),
            padded: signal.count < keep, shorterThanFrame: signal.count < configuration.stft.nFFT,
            timings: timings, statistics: stats)
    }

    /// The log-mel spectrogram of a whole file (no fixed length), layout [n_mels, frames]: decode → mono → resample →
    /// STFT → mel → dB or log1p with the configuration's parameters (for prediction on tracks of any length).
    public static func wholeFileSpectrogram(
        path: String, configuration: PipelineConfiguration
    ) throws(AudioError) -> (decibels: [Float], frames: Int) {
        let audio = try AudioDecoder.decodeMono(path: path)
        try checkUsable(audio, path: path)
        let signal = try configuration.audio.resampler.makeResampler()
            .resample(audio.samples, from: audio.sampleRate, to: configuration.audio.sampleRate)
        let parameters = configuration.logMelParameters
        var spectrogram = LogMelSpectrogram(parameters: parameters, plan: plan(for: parameters))
        let frames = spectrogram.frameCount(forSamples: signal.count)
        var out = [Float](repeating: 0, count: parameters.nMels * frames)
        out.withUnsafeMutableBufferPointer { o in signal.withUnsafeBufferPointer { spectrogram.compute($0, into: o) } }
        return (out, frames)
    }

    /// The FFT plan the pipeline uses: FFTW's estimated plan, whose choice does not depend on timing, so the
    /// same input gives bit-identical spectrograms from run to run (measured plans can differ in the last bits).
    public static func plan(for parameters: LogMelParameters) -> FFTPlan {
        FFTPlan.shared(size: parameters.nFFT, effort: .estimate)
    }

    /// For a very long file: the frames to read and where the kept part starts in the resampled excerpt.
    ///
    /// The excerpt starts on an input frame that is also an output sample of the whole file (a multiple of
    /// `rate / gcd(rate, target)` frames), so that its resampled samples are those of the whole file on the same
    /// grid, not shifted by a fraction of a sample; `marginSeconds` (and up to one such step more) of input before
    /// and after the kept part cover the resampler's filter.
    static func partialRange(
        header: AudioInfo, target: Int, keep: Int, crop: PipelineConfiguration.CropPosition
    ) -> (Range<Int>, Int) {
        let rate = header.sampleRate
        let margin = Int(marginSeconds * Double(rate))
        switch crop {
        case .start:
            let keepIn = (keep * rate + target - 1) / target
            return (0..<min(header.frames, keepIn + margin), 0)
        case .centre:
            let common = greatestCommonDivisor(rate, target)
            let inStep = rate / common, outStep = target / common
            let totalOut = (header.frames * target + rate - 1) / rate
            let offsetOut = max(0, (totalOut - keep) / 2)
            let blocks = max(0, offsetOut * rate / target - margin) / inStep
            let startIn = blocks * inStep
            let endIn = min(header.frames, ((offsetOut + keep) * rate + target - 1) / target + margin)
            return (startIn..<max(startIn, endIn), offsetOut - blocks * outStep)
        }
    }

    private static func greatestCommonDivisor(_ a: Int, _ b: Int) -> Int {
        var (a, b) = (a, b)
        while b != 0 { (a, b) = (b, a % b) }
        return max(1, a)
    }
}
