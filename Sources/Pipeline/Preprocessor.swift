import GenreCore
import AudioIO
import Foundation
import HDF5Store
import Shards
import Spectral

/// How to run a preprocessing job (what the configuration does not say: where, how many workers, how strict).
public struct PreprocessOptions: Sendable {
    /// Corpus root: `<root>/<class>/<clip>.<ext>`.
    public var corpus: String
    /// Output folder for shards, `split.tsv` and `report.json`.
    public var output: String
    /// Worker threads (each with its own FFT buffers); default: one per core.
    public var jobs: Int
    /// Fail (non-zero exit) when any file had to be skipped.
    public var strict: Bool
    /// Feature cache folder; nil: `<output>/.cache`.
    public var cache: String?
    /// Reuse cached features (false: `--no-cache`, everything is recomputed and the cache is left as it was).
    public var useCache: Bool
    /// Set (from a signal handler) to stop at the next clip boundary.
    public var cancellation: CancellationFlag?

    public init(
        corpus: String, output: String, jobs: Int? = nil, strict: Bool = false, cache: String? = nil,
        useCache: Bool = true, cancellation: CancellationFlag? = nil
    ) {
        self.corpus = corpus
        self.output = output
        self.jobs = max(1, jobs ?? ProcessInfo.processInfo.activeProcessorCount)
        self.strict = strict
        self.cache = cache
        self.useCache = useCache
        self.cancellation = cancellation
    }
}

/// The preprocessing runner: composes the stages — scan → (decode → mono → resample → fixed length → STFT → mel →
/// dB, on every core) → duplicates → splits → train-only normalisation statistics → shards — and writes
/// `report.json`. Memory is bounded by the workers and one shard, not by the corpus: spectrograms wait in the feature
/// cache between the two halves. The cache is keyed by file content and feature parameters, so a rerun after an
/// interruption (SIGINT, SIGTERM, SIGKILL, a full disk) or after changes to the corpus recomputes only what is
/// missing, and gives the same shards as an uninterrupted run.
public struct Preprocessor: Sendable {
    public let configuration: PipelineConfiguration
    public let options: PreprocessOptions
    public let progress: any ProgressObserver

    public init(configuration: PipelineConfiguration, options: PreprocessOptions, progress: any ProgressObserver = SilentProgress()) {
        self.configuration = configuration
        self.options = options
        self.progress = progress
    }

    /// A clip that made it through extraction.
    struct Extracted: Sendable {
        var entry: ManifestEntry
        var outcome: ClipOutcome
        /// Its feature cache entry, and the cache that holds it (a part's own, after a merge).
        var key: String
        var cache: FeatureCache
    }

    /// A file to extract: its path relative to the corpus root and its header as the scan read it.
    struct ExtractionInput: Sendable {
        var path: String
        var header: AudioInfo
    }

    /// What extraction made of one file.
    enum ExtractionResult: Sendable {
        case extracted(outcome: ClipOutcome, key: String, cached: Bool)
        case skipped(SkippedFile)
        /// Not reached: the run was cancelled or stopped by an I/O error first.
        case pending

        var isPending: Bool { if case .pending = self { true } else { false } }
    }

    /// Throws the interruption error when the job was asked to stop; the message says how far it got and how to go on.
    func stopIfCancelled(done: Int, of total: Int, cacheFolder: String) throws(PipelineError) {
        guard let why = options.cancellation?.cancelled else { return }
        throw PipelineError(
            path: nil,
            reason: "interrupted by \(why) after \(done) of \(total) clips; their features are kept in \(cacheFolder) and "
                + "no incomplete shard was left; run the same command again to continue",
            interruption: why)
    }

    /// Runs the whole job. Throws only when nothing usable remains or the output cannot be written; bad files are
    /// skipped, reported as one line each and listed in the report.
    public func run() throws(PipelineError) -> RunReport {
        let clock = ContinuousClock()
        let start = clock.now
        var report = startReport()

        // Scan.
        let manifest: Manifest
        do {
            manifest = try Manifest(assembling: [scanCorpus(part: nil)])
        } catch {
            throw PipelineError(path: error.path, reason: error.reason)
        }
        report.classes = manifest.classes
        report.counts.found = manifest.entries.count + manifest.skipped.count
        report.skipped = manifest.skipped
        report.timings.scan = (clock.now - start).seconds
        progress.message("scan: \(manifest.entries.count) audio files in \(manifest.classes.count) classes under \(manifest.root)")

        let output = try createOutputFolder()
        let lock = try OutputLock(directory: output)
        defer { lock.release() }
        // --no-cache: a private folder for this run only, removed at the end; the shared cache is not touched.
        let cacheFolder = options.useCache ? (options.cache ?? "\(output)/.cache") : "\(output)/.scratch-\(getpid())"
        let cache = try FeatureCache(directory: cacheFolder, configuration: configuration, reuse: options.useCache)
        defer { if !options.useCache { cache.remove() } }

        // Extract every clip's dB spectrogram on all cores (or find it in the cache).
        let t1 = clock.now
        let inputs = manifest.entries.map { ExtractionInput(path: $0.path, header: $0.header) }
        let (results, fatal) = extractAll(inputs, root: manifest.root, cache: cache)
        report.timings.extract = (clock.now - t1).seconds
        if let fatal { throw fatal }
        try stopIfCancelled(done: results.count { !$0.isPending }, of: results.count, cacheFolder: cacheFolder)
        var extracted: [Int: Extracted] = [:]
        for (i, result) in results.enumerated() {
            switch result {
            case .extracted(let outcome, let key, let cached):
                extracted[i] = Extracted(entry: manifest.entries[i], outcome: outcome, key: key, cache: cache)
                if cached { report.counts.cached += 1 } else { report.timings.stages += outcome.timings }
            case .skipped(let skip):
                report.skipped.append(skip)
            case .pending:
                break
            }
        }
        // The run is complete once the shards are: entries of files no longer in the corpus (or of other
        // parameters) then go.
        let prune = options.useCache && options.cache == nil ? cache : nil
        return try complete(
            manifest: manifest, extracted: extracted, report: &report, output: output, cacheFolder: cacheFolder,
            pruning: prune, started: start)
    }

    /// A report with the run's settings filled in.
    func startReport() -> RunReport {
        var report = RunReport()
        report.started = Date().iso8601
        report.corpus = options.corpus
        report.output = options.output
        report.jobs = options.jobs
        report.configuration = configuration
        return report
    }

    /// Scans the corpus (the files of `part`, or all), reporting each skipped file.
    func scanCorpus(part: Partition?) throws(ScanError) -> CorpusScan {
        let scan = try CorpusScanner(root: options.corpus, extensions: configuration.audio.extensions, jobs: options.jobs)
            .scan(part: part)
        for s in scan.skipped { progress.message("skipped \(s.path): \(s.reason)") }
        if let part { progress.message("scan: part \(part): \(scan.files.count) of \(scan.listedFiles) audio files under \(scan.root)") }
        return scan
    }

    /// The output folder, created when missing, as an absolute path.
    func createOutputFolder() throws(PipelineError) -> String {
        let output = URL(fileURLWithPath: options.output).standardizedFileURL.path
        do {
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        } catch {
            throw PipelineError(path: output, reason: "cannot create the output folder: \(CorpusScanner.reason(error))")
        }
        return output
    }

    /// The second half of a run, the same for one machine and for a merge of parts: duplicates → splits →
    /// train-only statistics (merged per clip in manifest order, so the result does not depend on workers or
    /// parts) → normalised shards → `split.tsv` and `report.json`.
    func complete(
        manifest: Manifest, extracted: [Int: Extracted], report: inout RunReport, output: String,
        cacheFolder: String, pruning: FeatureCache?, started start: ContinuousClock.Instant
    ) throws(PipelineError) -> RunReport {
        let clock = ContinuousClock()
        for i in extracted.keys.sorted() {
            if let warning = extracted[i]!.outcome.warning {
                report.warnings.append(SkippedFile(path: manifest.entries[i].path, stage: "decode", reason: warning))
            }
        }
        report.counts.decoded = extracted.count
        guard !extracted.isEmpty else {
            throw PipelineError(path: options.corpus, reason: "no clip could be decoded; nothing to write (see the lines above)")
        }

        // Duplicates and splits.
        let t2 = clock.now
        let plan = try assignSplits(manifest: manifest, extracted: extracted, report: &report)
        report.timings.split = (clock.now - t2).seconds

        // Train-only statistics, merged in manifest order (deterministic whatever the number of workers).
        var statistics = BandStatistics(bands: configuration.mel.nMels)
        for i in plan[.train] ?? [] { statistics.merge(extracted[i]!.outcome.statistics) }
        guard statistics.count > 0 else {
            throw PipelineError(path: options.corpus, reason: "the train split is empty: no statistics to normalise with")
        }
        report.normalisation.trainClips = plan[.train]?.count ?? 0
        report.normalisation.trainFrames = statistics.count
        report.normalisation.mean = statistics.mean
        report.normalisation.std = statistics.standardDeviation

        // Normalise and write the shards.
        let t3 = clock.now
        do {
            report.shards = try writeShards(
                plan: plan, manifest: manifest, extracted: extracted, statistics: statistics,
                output: output, timings: &report.timings.shardStages)
        } catch {
            try stopIfCancelled(done: manifest.entries.count, of: manifest.entries.count, cacheFolder: cacheFolder)
            throw error
        }
        report.timings.normaliseAndWrite = (clock.now - t3).seconds
        removeStaleShards(in: output, keeping: Set(report.shards.map(\.file)))
        if let pruning { report.counts.cachePruned = pruning.prune(keeping: Set(extracted.values.map(\.key))) }
        try writeSplitTable(plan: plan, manifest: manifest, to: "\(output)/split.tsv")

        for split in DataSplit.allCases {
            var perClass: [String: Int] = [:]
            for i in plan[split] ?? [] { perClass[manifest.entries[i].className, default: 0] += 1 }
            report.perSplit[split.rawValue] = perClass
        }
        report.counts.written = report.shards.reduce(0) { $0 + $1.clips }
        report.counts.skipped = report.skipped.count
        report.padded = plan.values.flatMap { $0 }.sorted().filter { extracted[$0]!.outcome.padded }.map { manifest.entries[$0].path }
        report.shorterThanFrame = plan.values.flatMap { $0 }.sorted()
            .filter { extracted[$0]!.outcome.shorterThanFrame }.map { manifest.entries[$0].path }
        report.counts.padded = report.padded.count
        report.timings.total = (clock.now - start).seconds
        let audioSeconds = plan.values.flatMap { $0 }.reduce(0.0) { $0 + extracted[$1]!.outcome.sourceSeconds }
        report.throughput.clipsPerSecond = Double(report.counts.written) / report.timings.total
        report.throughput.audioSecondsPerSecond = audioSeconds / report.timings.total
        report.finished = Date().iso8601
        try report.write(to: "\(output)/report.json")
        return report
    }

    // MARK: - Extraction

    /// Extracts (or finds in `cache`) the features of every input on `options.jobs` workers, each with its own
    /// buffers; results in input order. Stops early on cancellation or a run-level error (returned).
    func extractAll(_ inputs: [ExtractionInput], root: String, cache: FeatureCache) -> ([ExtractionResult], PipelineError?) {
        let count = inputs.count
        let parameters = configuration.logMelParameters
        let plan = ClipFeatureExtractor.plan(for: parameters)
        let filterbank = MelFilterbank(parameters: parameters)
        let slots = DisjointSlots<ExtractionResult>(count: count)
        for i in 0..<count { slots.set(i, .pending) }
        let next = AtomicCounter(), done = AtomicCounter()
        let fatal = FirstError()
        let configuration = configuration, progress = progress, cancellation = options.cancellation
        let workers = min(options.jobs, max(1, count))
        let group = DispatchGroup()
        for _ in 0..<workers {
            DispatchQueue.global().async(group: group) {
                var extractor = ClipFeatureExtractor(configuration: configuration, plan: plan, filterbank: filterbank)
                var buffer = [Float](repeating: 0, count: extractor.outputCount)
                while cancellation?.cancelled == nil && fatal.error == nil {
                    let i = next.increment() - 1
                    if i >= count { break }
                    let input = inputs[i]
                    let path = root + "/" + input.path
                    do {
                        let key = cache.key(for: try ContentHash(fileAt: path))
                        if cache.reuse, let outcome = cache.load(key, into: nil) {
                            slots.set(i, .extracted(outcome: outcome, key: key, cached: true))
                        } else {
                            var outcome = try buffer.withUnsafeMutableBufferPointer { out throws(AudioError) in
                                try extractor.extract(path: path, header: input.header, into: out)
                            }
                            let stored = ContinuousClock.now
                            try buffer.withUnsafeBufferPointer { b throws(PipelineError) in
                                try cache.store(key, outcome: outcome, values: b)
                            }
                            outcome.timings.scratch = (ContinuousClock.now - stored).seconds
                            if let warning = outcome.warning { progress.message("warning \(input.path): \(warning)") }
                            slots.set(i, .extracted(outcome: outcome, key: key, cached: false))
                        }
                    } catch let error as AudioError {
                        let skip = SkippedFile(path: input.path, stage: "decode", reason: error.message)
                        progress.message("skipped \(skip.path): \(skip.reason)")
                        slots.set(i, .skipped(skip))
                    } catch let error as PipelineError where error.path == path {
                        // The audio file itself could not be read.
                        let skip = SkippedFile(path: input.path, stage: "read", reason: error.reason)
                        progress.message("skipped \(skip.path): \(skip.reason)")
                        slots.set(i, .skipped(skip))
                    } catch let error as PipelineError {
                        // Writing the cache failed (a full disk): stop the run, keep what is done.
                        fatal.record(error)
                    } catch {
                        fatal.record(PipelineError(path: path, reason: "\(error)"))
                    }
                    _ = done.increment()
                }
            }
        }
        let clock = ContinuousClock()
        let start = clock.now
        var announced = false
        while group.wait(timeout: .now() + 0.25) == .timedOut {
            progress.progress(phase: "clips", done: done.current, total: count, elapsed: (clock.now - start).seconds)
            if !announced, let why = cancellation?.cancelled {
                announced = true
                progress.message("\(why): finishing the clips in progress, then stopping")
            }
        }
        progress.finish(phase: "features", done: done.current, elapsed: (clock.now - start).seconds)
        return (slots.take(), fatal.error)
    }

    // MARK: - Duplicates and splits

    /// Clip indices (into the manifest) per split, in manifest order. Exact duplicates keep their first copy that
    /// has a split; the others are reported and dropped, so a recording never lands in two splits.
    private func assignSplits(
        manifest: Manifest, extracted: [Int: Extracted], report: inout RunReport
    ) throws(PipelineError) -> [DataSplit: [Int]] {
        let usable = extracted.keys.sorted()
        var splitOf: [Int: DataSplit] = [:]
        let split = configuration.split
        switch split.method {
        case .lists:
            var lists: [DataSplit: [String]] = [:]
            for (s, file) in [(DataSplit.train, split.trainList), (.valid, split.validList), (.test, split.testList)] {
                guard let file else { continue }
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                    throw PipelineError(path: file, reason: "cannot read the \(s.rawValue) split list")
                }
                lists[s] = Splitter.parseList(text)
            }
            let matched = Splitter.fromLists(paths: usable.map { manifest.entries[$0].path }, lists: lists)
            for (k, i) in usable.enumerated() { splitOf[i] = matched.splits[k] }
            report.splitListUnmatched = Dictionary(uniqueKeysWithValues: matched.unmatched.map { ($0.key.rawValue, $0.value) })
            report.splitListConflicts = matched.conflicts
        case .random:
            break
        }

        // Duplicates: first copy (with a split, when lists decide) wins.
        var firstOf: [ContentHash: Int] = [:]
        var unique: [Int] = []
        for i in usable {
            if split.method == .lists && splitOf[i] == nil { continue }
            let hash = extracted[i]!.outcome.contentHash
            if let kept = firstOf[hash] {
                let path = manifest.entries[i].path, original = manifest.entries[kept].path
                report.duplicates.append(.init(path: path, duplicateOf: original))
                report.skipped.append(SkippedFile(path: path, stage: "duplicate", reason: "same audio as \(original): dropped"))
                progress.message("duplicate \(path): same audio as \(original), dropped")
                continue
            }
            firstOf[hash] = i
            unique.append(i)
        }
        report.counts.duplicates = report.duplicates.count

        if split.method == .random {
            let labels = unique.map { manifest.entries[$0].label }
            let assigned = Splitter.stratified(
                labels: labels, classCount: manifest.classes.count, train: split.train, valid: split.valid,
                test: split.test, seed: split.seed)
            for (k, i) in unique.enumerated() { splitOf[i] = assigned[k] }
        } else {
            let unassigned = usable.filter { splitOf[$0] == nil }
            report.counts.unassigned = unassigned.count
            if !unassigned.isEmpty {
                progress.message("\(unassigned.count) clips are in no split list: not written (listed in report.json)")
                for i in unassigned {
                    report.skipped.append(SkippedFile(path: manifest.entries[i].path, stage: "split", reason: "in no split list"))
                }
            }
        }
        var plan: [DataSplit: [Int]] = [:]
        for i in unique { if let s = splitOf[i] { plan[s, default: []].append(i) } }
        return plan
    }

    // MARK: - Shards

    private func writeShards(
        plan: [DataSplit: [Int]], manifest: Manifest, extracted: [Int: Extracted], statistics: BandStatistics,
        output: String, timings: inout RunReport.ShardTimings
    ) throws(PipelineError) -> [RunReport.ShardEntry] {
        let perShard = configuration.shards.clipsPerShard
        let jobs: [(split: DataSplit, index: Int, clips: ArraySlice<Int>)] = DataSplit.allCases.flatMap { split in
            let clips = plan[split] ?? []
            return stride(from: 0, to: clips.count, by: perShard).enumerated().map { k, lower in
                (split, k, clips[lower..<min(clips.count, lower + perShard)])
            }
        }
        let mean = statistics.mean.map { Float($0) }, std = statistics.standardDeviation.map { Float($0) }
        let invStd = statistics.standardDeviation.map { Float(1 / $0) }
        let nMels = configuration.mel.nMels, frames = configuration.framesPerClip
        let parameters = shardParameters()
        let configText = configuration.jsonText()
        let classes = manifest.classes
        let fsync = configuration.shards.fsync
        let cancellation = options.cancellation
        let done = AtomicCounter()
        let total = jobs.reduce(0) { $0 + $1.clips.count }
        let progress = progress
        let clock = ContinuousClock()
        let start = clock.now

        let perJob = DisjointSlots<RunReport.ShardTimings>(count: jobs.count)
        let results: [Result<RunReport.ShardEntry, PipelineError>] = parallelMap(count: jobs.count, workers: options.jobs) { j in
            var spent = RunReport.ShardTimings()
            defer { perJob.set(j, spent) }
            let job = jobs[j]
            let name = ShardSchema.fileName(split: job.split.rawValue, index: job.index)
            let metadata = ShardMetadata(
                classes: classes, split: job.split.rawValue, nMels: nMels, frames: frames, normMean: mean,
                normStd: std, parameters: parameters, configuration: configText)
            var buffer = [Float](repeating: 0, count: nMels * frames)
            do throws(PipelineError) {
                var writer: ShardWriter
                do {
                    writer = try ShardWriter(path: "\(output)/\(name)", metadata: metadata, capacity: job.clips.count,
                                             syncToDisk: fsync)
                } catch {
                    throw PipelineError(path: "\(output)/\(name)", reason: "\(error)")
                }
                for i in job.clips {
                    if let why = cancellation?.cancelled {
                        throw PipelineError(path: nil, reason: "interrupted by \(why)", interruption: why)
                    }
                    let t0 = ContinuousClock.now
                    let clip = extracted[i]!
                    try buffer.withUnsafeMutableBufferPointer { b throws(PipelineError) in
                        try clip.cache.loadValues(clip.key, into: b)
                        let t1 = ContinuousClock.now
                        Self.normalise(b, bands: nMels, frames: frames, mean: mean, invStd: invStd)
                        spent.scratchRead += (t1 - t0).seconds
                        spent.normalise += (ContinuousClock.now - t1).seconds
                    }
                    let t2 = ContinuousClock.now
                    defer { spent.append += (ContinuousClock.now - t2).seconds }
                    do {
                        try buffer.withUnsafeBufferPointer { b throws(ShardError) in
                            try writer.append(
                                mel: b, label: Int32(clip.entry.label), path: clip.entry.path,
                                padded: clip.outcome.padded, seconds: Float(clip.outcome.sourceSeconds))
                        }
                    } catch {
                        throw PipelineError(path: "\(output)/\(name)", reason: "\(error)")
                    }
                    let n = done.increment()
                    if n % 64 == 0 { progress.progress(phase: "shards", done: n, total: total, elapsed: (clock.now - start).seconds) }
                }
                let t3 = ContinuousClock.now
                defer { spent.commit += (ContinuousClock.now - t3).seconds }
                do {
                    try writer.commit()
                } catch {
                    throw PipelineError(path: "\(output)/\(name)", reason: "\(error)")
                }
                return .success(RunReport.ShardEntry(file: name, split: job.split.rawValue, clips: job.clips.count))
            } catch {
                return .failure(error)
            }
        }
        progress.finish(phase: "shards", done: total, elapsed: (clock.now - start).seconds)
        for t in perJob.take() { timings += t }
        var entries: [RunReport.ShardEntry] = []
        for r in results {
            switch r {
            case .success(let e): entries.append(e)
            case .failure(let e): throw e
            }
        }
        return entries
    }

    /// (x - mean[b]) / std[b] in place, layout [bands, frames].
    static func normalise(_ x: UnsafeMutableBufferPointer<Float>, bands: Int, frames: Int, mean: [Float], invStd: [Float]) {
        for b in 0..<bands {
            let m = mean[b], s = invStd[b]
            let row = UnsafeMutableBufferPointer(rebasing: x[(b * frames)..<((b + 1) * frames)])
            for t in row.indices { row[t] = (row[t] - m) * s }
        }
    }

    /// Every pipeline parameter, as shard attributes.
    func shardParameters() -> [String: AttributeValue] {
        let c = configuration
        var p: [String: AttributeValue] = [
            "sample_rate": .int(c.audio.sampleRate),
            "resampler": .string(c.audio.resampler.rawValue),
            "downmix": .string("mean"),
            "clip_seconds": .double(c.audio.clipSeconds),
            "clip_samples": .int(c.audio.clipSamples),
            "crop": .string(c.audio.crop.rawValue),
            "n_fft": .int(c.stft.nFFT),
            "hop_length": .int(c.stft.hopLength),
            "win_length": .int(c.stft.nFFT),
            "window": .string("hann (periodic)"),
            "center": .bool(c.stft.center),
            "pad_mode": .string("constant"),
            "power": .double(2),
            "fmin": .double(c.mel.fMin),
            "fmax": .double(c.effectiveFMax),
            "mel_scale": .string(c.mel.scale.rawValue),
            "mel_norm": .string(c.mel.norm.rawValue),
            "db_ref": .double(c.db.ref),
            "db_amin": .double(c.db.amin),
            "split_method": .string(c.split.method.rawValue),
            "split_seed": .int(Int(truncatingIfNeeded: c.split.seed)),
            "clips_per_shard": .int(c.shards.clipsPerShard),
            "normalisation": .string("per-mel-band (x - mean) / std, ddof 0, fitted on the train split (float64)"),
            "layout": .string("mel[clips, n_mels, frames]"),
            "genrekit_version": .string(GenreKitVersion.current),
        ]
        if let top = c.db.topDB { p["db_top_db"] = .double(top) }
        if c.split.method == .random {
            p["split_fractions"] = .doubles([c.split.train, c.split.valid, c.split.test])
        }
        return p
    }

    /// Removes shards of an earlier run in the same folder that this run did not write again.
    private func removeStaleShards(in output: String, keeping: Set<String>) {
        guard let listing = try? ShardDirectory.list(output) else { return }
        for path in listing.values.flatMap({ $0 }) where !keeping.contains((path as NSString).lastPathComponent) {
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    /// `split.tsv`: split, label, class, path: the reference script's format, so another implementation can be run
    /// on exactly the same split.
    private func writeSplitTable(plan: [DataSplit: [Int]], manifest: Manifest, to path: String) throws(PipelineError) {
        var text = "split\tlabel\tgenre\trelpath\n"
        var rows: [(Int, DataSplit)] = []
        for (s, ids) in plan { rows += ids.map { ($0, s) } }
        for (i, s) in rows.sorted(by: { $0.0 < $1.0 }) {
            let e = manifest.entries[i]
            text += "\(s.rawValue)\t\(e.label)\t\(e.className)\t\(e.path)\n"
        }
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw PipelineError(path: path, reason: "cannot write: \(error)")
        }
    }
}
