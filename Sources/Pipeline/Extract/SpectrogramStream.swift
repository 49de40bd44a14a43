public import AudioIO
public import Spectral

/// The log-mel spectrogram of a whole file of any length, computed in blocks in bounded memory and handed over in
/// blocks of frames: decode (``MonoBlockReader``) → mono → resample (``ResamplingStream``) → STFT → mel →
/// compression, with the configuration's parameters. The blocks' concatenation is
/// ``ClipFeatureExtractor/wholeFileSpectrogram(path:configuration:)`` (frames are transformed in the same pairs; the
/// tests compare the two).
///
/// Memory: one decoded block (about 64 Ki frames), the resampled samples not yet framed, and one block of
/// `blockFrames` mel frames — whatever the file's length. When the compression's clamp needs the whole
/// spectrogram's maximum (`decibels` with `top_db`, librosa's default), the file is read twice: the first pass
/// finds the maximum, the second hands over the blocks.
public struct SpectrogramStream: Sendable {
    /// The pipeline whose front end is computed.
    public let configuration: PipelineConfiguration
    /// Mel frames per block handed over (even, so that blocks keep the whole-file computation's frame pairs).
    public let blockFrames: Int
    /// The configuration's filterbank, built once and shared (read-only) by every file streamed.
    public let filterbank: MelFilterbank

    public init(configuration: PipelineConfiguration, blockFrames: Int = 1024) {
        precondition(blockFrames >= 2, "SpectrogramStream: blockFrames must be at least 2")
        self.configuration = configuration
        self.blockFrames = blockFrames + blockFrames % 2
        filterbank = MelFilterbank(parameters: configuration.logMelParameters)
    }

    /// What a pass learned about the file.
    public struct Summary: Sendable {
        /// Mel frames of the whole file.
        public var frames: Int
        /// Resampled samples (at the configuration's rate).
        public var samples: Int
        /// Set when decoding stopped early at a decoder error; the frames before it were used.
        public var decodeError: AudioError?
    }

    /// Calls `body` with consecutive blocks of the file's spectrogram, `[nMels, frames.count]` row-major
    /// (band-major), and the frames they hold (numbered from the file's start), in order; returns the summary.
    /// - Throws: ``AudioError`` naming the file when it cannot be decoded, has an implausible rate or damaged
    ///   samples (the checks of ``ClipFeatureExtractor``). With a single pass (no top-dB clamp) damaged samples are
    ///   reported after the last block, so callers must discard what they made of the blocks when this throws.
    public func forEachBlock(
        path: String, _ body: (_ block: UnsafeBufferPointer<Float>, _ frames: Range<Int>) -> Void
    ) throws(AudioError) -> Summary {
        let parameters = configuration.logMelParameters
        var spectrogram = LogMelSpectrogram(
            parameters: parameters, plan: ClipFeatureExtractor.plan(for: parameters), filterbank: filterbank)
        var maximum: Float = .infinity
        if parameters.compression.needsWholeSpectrogramMaximum {
            maximum = -.infinity
            _ = try pass(path: path, spectrogram: &spectrogram) { block, _ in
                maximum = max(maximum, parameters.compression.compressUnclamped(block))
            }
        }
        return try pass(path: path, spectrogram: &spectrogram) { block, frames in
            _ = parameters.compression.compressUnclamped(block)
            parameters.compression.clamp(block, maximum: maximum)
            body(UnsafeBufferPointer(block), frames)
        }
    }

    /// One pass over the file: mel powers (uncompressed) block by block.
    private func pass(
        path: String, spectrogram: inout LogMelSpectrogram,
        _ body: (_ block: UnsafeMutableBufferPointer<Float>, _ frames: Range<Int>) -> Void
    ) throws(AudioError) -> Summary {
        let parameters = spectrogram.parameters
        let nMels = parameters.nMels, hop = parameters.hopLength, nFFT = parameters.nFFT
        let padding = parameters.center ? nFFT / 2 : 0
        var reader = try MonoBlockReader(path: path)
        let rate = reader.info.sampleRate
        try ClipFeatureExtractor.checkSampleRate(rate, path: path)
        var resampler: ResamplingStream
        do {
            resampler = try ResamplingStream(kind: configuration.audio.resampler, from: rate, to: parameters.sampleRate)
        } catch {
            throw AudioError(path: path, function: error.function, message: error.message)
        }
        var decoded: [Float] = []
        /// Resampled samples `bufferStart ..< bufferStart + signal.count` not yet behind every frame to come.
        var signal: [Float] = []
        var bufferStart = 0
        var nextFrame = 0
        var nonFinite = 0, huge = 0
        var block = [Float](repeating: 0, count: nMels * blockFrames)

        func emit(_ frames: Range<Int>) {
            block.withUnsafeMutableBufferPointer { storage in
                let out = UnsafeMutableBufferPointer(rebasing: storage[0..<(nMels * frames.count)])
                signal.withUnsafeBufferPointer { spectrogram.melPowers(of: $0, startingAt: bufferStart, frames: frames, into: out) }
                body(out, frames)
            }
            nextFrame = frames.upperBound
            let firstNeeded = max(0, nextFrame * hop - padding)
            if firstNeeded > bufferStart {
                signal.removeFirst(min(signal.count, firstNeeded - bufferStart))
                bufferStart = firstNeeded
            }
        }

        while true {
            try reader.next(into: &decoded)
            if decoded.isEmpty { break }
            let damage = decoded.withUnsafeBufferPointer { ClipFeatureExtractor.countDamaged($0) }
            nonFinite += damage.nonFinite
            huge += damage.huge
            do {
                try decoded.withUnsafeBufferPointer { (input) throws(AudioError) in try resampler.process(input, appendingTo: &signal) }
            } catch {
                throw AudioError(path: path, function: error.function, message: error.message)
            }
            // Frames whose samples have all arrived, in whole even-sized blocks.
            let available = bufferStart + signal.count
            let ready = available + padding >= nFFT ? (available + padding - nFFT) / hop + 1 : 0
            while nextFrame + blockFrames <= ready { emit(nextFrame..<(nextFrame + blockFrames)) }
        }
        do {
            try resampler.finish(appendingTo: &signal)
        } catch {
            throw AudioError(path: path, function: error.function, message: error.message)
        }
        let frames = parameters.frameCount(forSamples: resampler.outputCount)
        while nextFrame < frames { emit(nextFrame..<min(frames, nextFrame + blockFrames)) }
        if let error = ClipFeatureExtractor.damage(path: path, nonFinite: nonFinite, huge: huge,
                                                   decodedFrames: reader.framesRead) {
            throw error
        }
        return Summary(frames: frames, samples: resampler.outputCount, decodeError: reader.decodeError)
    }
}
