import AudioIO
import Dispatch
import GenreCore
import Spectral

/// The extraction stage: every clip's dB log-mel spectrogram (decode → mono → resample → fixed length → STFT →
/// mel → dB, by ``ClipFeatureExtractor``), on `jobs` worker threads each with its own buffers, stored in the
/// feature cache, or found there when an earlier run already computed it.
struct FeatureExtractionPool: Sendable {
    var configuration: PipelineConfiguration
    var jobs: Int
    var progress: any ProgressObserver
    var cancellation: CancellationFlag?
    /// Called after each clip with the number finished so far (see ``PreprocessOptions/clipFinished``).
    var clipFinished: (@Sendable (Int) -> Void)?

    /// Results in input order. Workers take clips one at a time and stop taking them once the run is cancelled
    /// or a run-level error happened (a cache write failing: a full disk).
    /// - Throws: that error, or the interruption (how far the run got) when it was cancelled.
    func extract(_ inputs: [ExtractionInput], root: String, cache: FeatureCache) throws(PipelineError) -> [ExtractionResult] {
        let count = inputs.count
        let parameters = configuration.logMelParameters
        let plan = ClipFeatureExtractor.plan(for: parameters)
        let filterbank = MelFilterbank(parameters: parameters)
        let slots = DisjointSlots<ExtractionResult>(count: count)
        for i in 0..<count { slots.set(i, .pending) }
        let next = LockedValueBox(0), done = LockedValueBox(0)
        let fatal = LockedValueBox<PipelineError?>(nil)
        let configuration = configuration, progress = progress, cancellation = cancellation, clipFinished = clipFinished
        let group = DispatchGroup()
        for _ in 0..<min(jobs, max(1, count)) {
            DispatchQueue.global().async(group: group) {
                var extractor = ClipFeatureExtractor(configuration: configuration, plan: plan, filterbank: filterbank)
                var buffer = [Float](repeating: 0, count: extractor.outputCount)
                while cancellation?.cancelled == nil && fatal.value == nil {
                    let i = next.withLockedValue { $0 += 1; return $0 - 1 }
                    if i >= count { break }
                    do throws(PipelineError) {
                        let result = try Self.extract(
                            inputs[i], root: root, cache: cache, extractor: &extractor, buffer: &buffer, progress: progress)
                        slots.set(i, result)
                    } catch {
                        fatal.withLockedValue { if $0 == nil { $0 = error } }
                    }
                    let finished = done.withLockedValue { $0 += 1; return $0 }
                    clipFinished?(finished)
                }
            }
        }
        let clock = ContinuousClock()
        let start = clock.now
        var announced = false
        while group.wait(timeout: .now() + 0.25) == .timedOut {
            progress.progress(phase: "clips", done: done.value, total: count, elapsed: (clock.now - start).seconds)
            if !announced, let why = cancellation?.cancelled {
                announced = true
                progress.message("\(why): finishing the clips in progress, then stopping")
            }
        }
        progress.finish(phase: "features", done: done.value, elapsed: (clock.now - start).seconds)
        let results = slots.take()
        if let error = fatal.value { throw error }
        if let why = cancellation?.cancelled {
            throw .interrupted(by: why, done: results.count { !$0.isPending }, of: count, keptIn: cache.directory)
        }
        return results
    }

    /// One clip: its features from the cache, or extracted and stored there. A file that cannot be read or decoded
    /// is skipped (reported, one line); only a run-level failure (writing the cache) throws.
    private static func extract(
        _ input: ExtractionInput, root: String, cache: FeatureCache, extractor: inout ClipFeatureExtractor,
        buffer: inout [Float], progress: any ProgressObserver
    ) throws(PipelineError) -> ExtractionResult {
        let path = root + "/" + input.path
        do {
            let key = cache.key(for: try ContentHash(fileAt: path))
            if cache.reuse, let outcome = cache.load(key, into: nil) {
                return .extracted(outcome: outcome, key: key, cached: true)
            }
            var outcome = try buffer.withUnsafeMutableBufferPointer { out throws(AudioError) in
                try extractor.extract(path: path, header: input.header, into: out)
            }
            let stored = ContinuousClock.now
            try buffer.withUnsafeBufferPointer { b throws(PipelineError) in try cache.store(key, outcome: outcome, values: b) }
            outcome.timings.scratch = (ContinuousClock.now - stored).seconds
            if let warning = outcome.warning { progress.message("warning \(input.path): \(warning)") }
            return .extracted(outcome: outcome, key: key, cached: false)
        } catch let error as AudioError {
            return skip(SkippedFile(path: input.path, stage: "decode", reason: error.message), progress)
        } catch let error as PipelineError where error.path == path {
            // The audio file itself could not be read.
            return skip(SkippedFile(path: input.path, stage: "read", reason: error.reason), progress)
        } catch let error as PipelineError {
            throw error
        } catch {
            throw PipelineError(path: path, reason: "\(error)")
        }
    }

    private static func skip(_ skip: SkippedFile, _ progress: any ProgressObserver) -> ExtractionResult {
        progress.message("skipped \(skip.path): \(skip.reason)")
        return .skipped(skip)
    }
}
