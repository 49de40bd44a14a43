import GenreCore
import Foundation

extension Preprocessor {
    /// Runs one part of a partitioned job (``Partition``): the first half of ``run()`` for the part's files only.
    /// Scans the whole corpus, extracts the features of the part's files into the part's own folder
    /// (`<out>/parts/part-K-of-N/`; nothing there is written by another part) and writes its ``PartRecord``.
    /// Interrupted or rerun, it reuses the clips its cache already holds. `genre merge` turns the complete parts
    /// into shards.
    public func runPart(_ part: Partition) throws(PipelineError) -> PartRecord {
        let started = ContinuousClock.now
        let scan: CorpusScan
        do { scan = try self.scan(part: part) } catch { throw PipelineError(error) }
        let output = try OutputFolder.create(options.output)
        let folder = try OutputFolder.create(PartRecord.folder(of: part, in: output), what: "the part's folder")
        let lock = try OutputLock(directory: folder)
        defer { lock.release() }
        // Until this run completes, the part is incomplete (a merge must not use an earlier run's record).
        let recordPath = "\(folder)/\(PartRecord.fileName)"
        try? FileManager.default.removeItem(atPath: recordPath)
        // --no-cache recomputes every clip, but the entries are still stored: the merge reads them.
        let cache = try FeatureCache(directory: "\(folder)/cache", configuration: configuration, reuse: options.useCache)

        let inputs = scan.files.map(\.extractionInput)
        let results = try extractionPool.extract(inputs, root: scan.root, cache: cache)
        var clips: [PartRecord.Clip] = []
        var skipped: [SkippedFile] = []
        var statistics = BandStatistics(bands: configuration.mel.nMels)
        var stages = StageTimings()
        var cached = 0
        for (i, result) in results.enumerated() {
            switch result {
            case .extracted(let outcome, let key, let fromCache):
                clips.append(PartRecord.Clip(path: inputs[i].path, key: key, outcome: outcome))
                statistics.merge(outcome.statistics)
                if fromCache { cached += 1 } else { stages += outcome.timings }
            case .skipped(let skip): skipped.append(skip)
            case .pending: break
            }
        }
        _ = cache.prune(keeping: Set(clips.map(\.key)))
        let record = PartRecord(
            part: part, finished: Date().iso8601, configuration: configuration, featureParameters: cache.parametersKey,
            scan: scan, clips: clips, skipped: skipped, statistics: statistics, cached: cached, stages: stages,
            seconds: (ContinuousClock.now - started).seconds)
        try writeJSON(record, to: recordPath)
        return record
    }

    /// Merges the complete parts of a partitioned run in `output` into shards, `split.tsv` and `report.json`:
    /// exactly what one run over the whole corpus with the same configuration writes (``PartMerger``, then the
    /// runner's second half). Refuses, naming the part, when a part is missing or incomplete, or was made with
    /// another configuration or from another corpus listing. Safe to run again: the parts are only read, and
    /// shards are replaced atomically.
    /// - Parameters:
    ///   - count: the number of parts; nil: the one count found under `<output>/parts`.
    public static func merge(
        output: String, count: Int? = nil, jobs: Int? = nil, progress: any ProgressObserver = SilentProgress(),
        cancellation: CancellationFlag? = nil
    ) throws(PipelineError) -> RunReport {
        let started = ContinuousClock.now
        let output = URL(fileURLWithPath: output).standardizedFileURL.path
        let merged = try PartMerger.merge(in: output, count: count)
        let first = merged.records[0]
        let options = PreprocessOptions(corpus: first.scan.root, output: output, jobs: jobs, cancellation: cancellation)
        let preprocessor = Preprocessor(configuration: first.configuration, options: options, progress: progress)
        let lock = try OutputLock(directory: output)
        defer { lock.release() }

        var report = RunReportWriter.started(configuration: first.configuration, options: options)
        RunReportWriter.record(merged.manifest, skipped: merged.records.flatMap(\.skipped), into: &report,
                               seconds: (ContinuousClock.now - started).seconds)
        report.parts = merged.records.map { RunReport.PartEntry(part: $0.part.description, clips: $0.clips.count, seconds: $0.seconds) }
        for record in merged.records { report.timings.stages += record.stages }
        report.counts.cached = merged.clips.count
        progress.message("merge: \(merged.records.count) parts, \(merged.clips.count) clips")
        return try preprocessor.complete(
            manifest: merged.manifest, clips: merged.clips, report: &report, output: output,
            cacheFolder: PartRecord.partsFolder(in: output), pruning: nil, started: started)
    }
}

/// Writes a value as JSON under a temporary name and renames it when complete.
func writeJSON(_ value: some Encodable, to path: String) throws(PipelineError) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    do {
        try FileSystem.writeAtomically(encoder.encode(value), to: path)
    } catch {
        throw PipelineError(path: path, reason: "cannot write: \(error)")
    }
}
