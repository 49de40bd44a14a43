import GenreCore
import Shards

/// The shard stage: writes every shard of a ``ShardPlan`` (on `jobs` threads, one shard per thread at a time):
/// each clip's spectrogram is read back from the feature cache, normalised (`[normalise] kind`) and appended to its
/// shard, which is committed (renamed to its final name) when complete. Cancelled, it stops at the next clip and
/// leaves no shard under a final name that it had not finished.
struct ShardSetWriter: Sendable {
    let configuration: PipelineConfiguration
    let classes: [String]
    let output: String
    let jobs: Int
    let progress: any ProgressObserver
    let cancellation: CancellationFlag?
    /// Where the features wait (named when the run is interrupted).
    let cacheFolder: String

    /// Writes the shards; returns them in plan order. Adds each shard's stage seconds to `timings`.
    func write(
        _ plan: ShardPlan, clips: [Int: ExtractedClip], normaliser: TrainNormaliser,
        timings: inout RunReport.ShardTimings
    ) throws(PipelineError) -> [RunReport.ShardEntry] {
        let template = ShardMetadata(
            classes: classes, split: "", nMels: configuration.mel.nMels, frames: configuration.framesPerClip,
            normMean: normaliser.mean, normStd: normaliser.std, parameters: configuration.shardParameters,
            configuration: configuration.jsonText())
        let done = LockedValueBox(0)
        let total = plan.clipCount
        let start = ContinuousClock.now
        let perShard = DisjointSlots<RunReport.ShardTimings>(count: plan.shards.count)
        let results: [Result<RunReport.ShardEntry, PipelineError>] = parallelMap(count: plan.shards.count, workers: jobs) { j in
            var spent = RunReport.ShardTimings()
            defer { perShard.set(j, spent) }
            do throws(PipelineError) {
                return .success(try writeShard(plan.shards[j], clips: clips, template: template, normaliser: normaliser,
                                               spent: &spent, done: done, total: total, start: start))
            } catch {
                return .failure(error)
            }
        }
        progress.finish(phase: "shards", done: total, elapsed: (ContinuousClock.now - start).seconds)
        for t in perShard.take() { timings += t }
        var entries: [RunReport.ShardEntry] = []
        for result in results {
            switch result {
            case .success(let entry): entries.append(entry)
            case .failure(let error):
                if let why = cancellation?.cancelled { throw .interrupted(by: why, done: total, of: total, keptIn: cacheFolder) }
                throw error
            }
        }
        return entries
    }

    /// One shard: cache → normalise → append, clip by clip; then commit.
    private func writeShard(
        _ shard: ShardPlan.Shard, clips: [Int: ExtractedClip], template: ShardMetadata, normaliser: TrainNormaliser,
        spent: inout RunReport.ShardTimings, done: LockedValueBox<Int>, total: Int, start: ContinuousClock.Instant
    ) throws(PipelineError) -> RunReport.ShardEntry {
        let path = "\(output)/\(shard.fileName)"
        var metadata = template
        metadata.split = shard.split.rawValue
        func failure(_ error: ShardError) -> PipelineError { PipelineError(error, path: path) }
        var writer: ShardWriter
        do {
            writer = try ShardWriter(path: path, metadata: metadata, capacity: shard.clips.count, syncToDisk: configuration.shards.fsync)
        } catch {
            throw failure(error)
        }
        var buffer = [Float](repeating: 0, count: metadata.clipElements)
        for i in shard.clips {
            if let why = cancellation?.cancelled { throw PipelineError(path: nil, reason: "interrupted by \(why)", interruption: why) }
            let t0 = ContinuousClock.now
            let clip = clips[i]!
            try buffer.withUnsafeMutableBufferPointer { b throws(PipelineError) in
                try clip.cache.loadValues(clip.key, into: b)
                let t1 = ContinuousClock.now
                normaliser.apply(to: b, frames: metadata.frames)
                spent.scratchRead += (t1 - t0).seconds
                spent.normalise += (ContinuousClock.now - t1).seconds
            }
            let t2 = ContinuousClock.now
            defer { spent.append += (ContinuousClock.now - t2).seconds }
            do {
                try buffer.withUnsafeBufferPointer { b throws(ShardError) in
                    try writer.append(
                        mel: b, label: Int32(clip.entry.label), path: clip.entry.path, padded: clip.outcome.padded,
                        seconds: Float(clip.outcome.sourceSeconds))
                }
            } catch {
                throw failure(error)
            }
            let n = done.withLockedValue { $0 += 1; return $0 }
            if n % 64 == 0 { progress.progress(phase: "shards", done: n, total: total, elapsed: (ContinuousClock.now - start).seconds) }
        }
        let t3 = ContinuousClock.now
        defer { spent.commit += (ContinuousClock.now - t3).seconds }
        do {
            try writer.commit()
        } catch {
            throw failure(error)
        }
        return RunReport.ShardEntry(file: shard.fileName, split: shard.split.rawValue, clips: shard.clips.count)
    }
}
