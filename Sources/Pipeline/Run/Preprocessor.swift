import GenreCore
import Foundation

/// The preprocessing runner: the README's stage table, top to bottom, each stage a type of its own.
///
/// | stage | done by |
/// | --- | --- |
/// | scan | ``CorpusScanner`` → ``Manifest`` |
/// | decode, mono, resample, fixed length, log-mel (cached) | `FeatureExtractionPool` → ``ClipFeatureExtractor``, ``FeatureCache`` |
/// | duplicates | `DuplicateFinder` |
/// | split | `SplitAssignment` (``Splitter``) |
/// | normalise | `TrainNormaliser` (``BandStatistics`` of the train split; `[normalise] kind`) |
/// | shard | `ShardPlan`, `ShardSetWriter`, `StaleShardCleaner` |
/// | report | `SplitListWriter` (`split.tsv`), `RunReportWriter` (`report.json`) |
///
/// Memory is bounded by the workers and one shard, not by the corpus: spectrograms wait in the feature cache
/// between the two halves. The cache is keyed by file content and feature parameters, so a rerun after an
/// interruption (SIGINT, SIGTERM, SIGKILL, a full disk) or after changes to the corpus recomputes only what is
/// missing, and gives the same shards as an uninterrupted run. A partitioned run does the first half per part
/// (``runPart(_:)``) and ``merge(output:count:jobs:progress:cancellation:)`` the second, through the same
/// ``complete(manifest:clips:report:output:cacheFolder:pruning:started:)``.
public struct Preprocessor: Sendable {
    public let configuration: PipelineConfiguration
    public let options: PreprocessOptions
    public let progress: any ProgressObserver

    public init(configuration: PipelineConfiguration, options: PreprocessOptions, progress: any ProgressObserver = SilentProgress()) {
        self.configuration = configuration
        self.options = options
        self.progress = progress
    }

    /// Runs the whole job. Throws only when nothing usable remains or the output cannot be written; bad files are
    /// skipped, reported as one line each and listed in the report.
    public func run() throws(PipelineError) -> RunReport {
        let started = ContinuousClock.now
        var report = RunReportWriter.started(configuration: configuration, options: options)

        // Scan: classes, files and their headers.
        let manifest: Manifest
        do { manifest = try Manifest(assembling: [scan(part: nil)]) } catch { throw PipelineError(error) }
        RunReportWriter.record(manifest, skipped: [], into: &report, seconds: (ContinuousClock.now - started).seconds)
        progress.message("scan: \(manifest.entries.count) audio files in \(manifest.classes.count) classes under \(manifest.root)")

        let output = try OutputFolder.create(options.output)
        let lock = try OutputLock(directory: output)
        defer { lock.release() }
        // --no-cache: a private folder for this run only, removed at the end; the shared cache is not touched.
        let cacheFolder = options.useCache ? (options.cache ?? "\(output)/.cache") : "\(output)/.scratch-\(getpid())"
        let cache = try FeatureCache(directory: cacheFolder, configuration: configuration, reuse: options.useCache)
        defer { if !options.useCache { cache.remove() } }

        // Decode → mono → resample → fixed length → STFT → mel → dB on every core, or found in the cache.
        let extractStarted = ContinuousClock.now
        let results = try extractionPool.extract(manifest.entries.map(\.extractionInput), root: manifest.root, cache: cache)
        report.timings.extract = (ContinuousClock.now - extractStarted).seconds
        var clips: [Int: ExtractedClip] = [:]
        for (i, result) in results.enumerated() {
            switch result {
            case .extracted(let outcome, let key, let cached):
                clips[i] = ExtractedClip(entry: manifest.entries[i], outcome: outcome, key: key, cache: cache)
                if cached { report.counts.cached += 1 } else { report.timings.stages += outcome.timings }
            case .skipped(let skip): report.skipped.append(skip)
            case .pending: break
            }
        }
        // Once the shards are written, cache entries of files no longer in the corpus (or of other parameters) go.
        let pruning = options.useCache && options.cache == nil ? cache : nil
        return try complete(
            manifest: manifest, clips: clips, report: &report, output: output, cacheFolder: cacheFolder,
            pruning: pruning, started: started)
    }

    /// The second half of a run, the same for one machine and for a merge of parts: duplicates → split →
    /// train-only normalisation → shards → `split.tsv` and `report.json`. `clips` are keyed by manifest index.
    func complete(
        manifest: Manifest, clips: [Int: ExtractedClip], report: inout RunReport, output: String,
        cacheFolder: String, pruning: FeatureCache?, started: ContinuousClock.Instant
    ) throws(PipelineError) -> RunReport {
        try RunReportWriter.recordDecoded(clips, into: &report, corpus: options.corpus)

        // Duplicates and split: (the split lists) → one copy of each recording → train / valid / test.
        let splitStarted = ContinuousClock.now
        let usable = clips.keys.sorted()
        let splitter = try SplitAssignment(configuration.split, classCount: manifest.classes.count, progress: progress)
        let listed = splitter.listedSplits(of: usable, manifest: manifest, report: &report)
        let unique = DuplicateFinder(progress: progress)
            .firstCopies(among: splitter.candidates(usable, listed: listed), clips: clips, report: &report)
        let plan = splitter.plan(unique: unique, usable: usable, listed: listed, manifest: manifest, report: &report)
        report.timings.split = (ContinuousClock.now - splitStarted).seconds

        // Normalise: per-band statistics of the train split only, merged clip by clip in manifest order (or none).
        let normaliser = try TrainNormaliser(
            configuration.normalise.kind, fittingOn: plan, clips: clips, bands: configuration.mel.nMels,
            corpus: options.corpus)
        report.normalisation = normaliser.summary

        // Shard: normalised clips into `<split>-NNNNN.h5`, on every core; then what earlier runs left goes.
        let writeStarted = ContinuousClock.now
        let writer = ShardSetWriter(
            configuration: configuration, classes: manifest.classes, output: output, jobs: options.jobs,
            progress: progress, cancellation: options.cancellation, cacheFolder: cacheFolder)
        report.shards = try writer.write(
            ShardPlan(plan, clipsPerShard: configuration.shards.clipsPerShard), clips: clips, normaliser: normaliser,
            timings: &report.timings.shardStages)
        report.timings.normaliseAndWrite = (ContinuousClock.now - writeStarted).seconds
        StaleShardCleaner.removeShards(in: output, except: Set(report.shards.map(\.file)))
        if let pruning { report.counts.cachePruned = pruning.prune(keeping: Set(clips.values.map(\.key))) }

        // Report: `split.tsv` and `report.json`.
        try SplitListWriter.write(plan, manifest: manifest, to: "\(output)/split.tsv")
        try RunReportWriter.finish(&report, plan: plan, clips: clips, started: started, writingTo: "\(output)/report.json")
        return report
    }

    /// The first stage: scans the corpus (the files of `part`, or all), reporting each skipped file.
    func scan(part: Partition?) throws(ScanError) -> CorpusScan {
        let scan = try CorpusScanner(root: options.corpus, extensions: configuration.audio.extensions, jobs: options.jobs)
            .scan(part: part)
        for s in scan.skipped { progress.message("skipped \(s.path): \(s.reason)") }
        if let part { progress.message("scan: part \(part): \(scan.files.count) of \(scan.listedFiles) audio files under \(scan.root)") }
        return scan
    }

    /// The workers of the extraction stage, with this run's settings.
    var extractionPool: FeatureExtractionPool {
        FeatureExtractionPool(
            configuration: configuration, jobs: options.jobs, progress: progress, cancellation: options.cancellation,
            clipFinished: options.clipFinished)
    }
}
