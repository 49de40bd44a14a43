import Foundation
public import GenreCore
public import Pipeline
public import Training
public import ConfigurationDecoding

/// K-fold cross-validation of the genre classifier on a corpus: for each fold K, the corpus is preprocessed with
/// `[split] method = "kfold"`, `fold = K` (fold K test, fold K+1 valid, the rest train; the feature cache is shared,
/// so only the first fold computes features), a model is trained on it and its `best.h5` evaluated on the test fold;
/// then the folds are summarised (``CrossValidationSummary``) into `summary.json` and `report.html`. Files are laid
/// out as ``CrossValidationLayout`` says.
///
/// Resumable: a fold whose `fold.json` is present (written last, atomically) is not run again; a fold whose shards
/// are complete (their `report.json` was made from the same corpus and configuration) is not preprocessed again; an
/// interrupted training continues from its `last.h5`; an evaluation is written under a temporary name and renamed.
/// A fold completed with another configuration is an error, not overwritten.
public struct CrossValidation: Sendable {
    /// Corpus root: `<root>/<class>/<clip>.<ext>` (absolute: the folds' records and reports name it so).
    public let corpus: String
    /// The pipeline of every fold, with `split.method = kfold` (`split.fold` is set per fold).
    public let pipeline: PipelineConfiguration
    public let training: TrainingConfiguration
    public let layout: CrossValidationLayout
    /// Preprocessing workers (default: one per core).
    public let jobs: Int?
    public let progress: any ProgressObserver

    /// A cross-validation of `corpus` into `output` (both made absolute). A pipeline whose split method is `random` or `lists` is used with
    /// method `kfold` and its seed (the fractions are ignored; lists only choose the clips); `folds`, when given,
    /// replaces `split.folds`.
    /// - Throws: ``ConfigurationError`` naming `split.folds` when there are fewer than 3 folds.
    public init(
        corpus: String, pipeline: PipelineConfiguration, training: TrainingConfiguration, output: String,
        folds: Int? = nil, jobs: Int? = nil, progress: any ProgressObserver = SilentProgress()
    ) throws(ConfigurationError) {
        var pipeline = pipeline
        if pipeline.split.method != .kfold {
            progress.message("the pipeline's split method is \"\(pipeline.split.method.rawValue)\": cross-validation uses "
                             + "\"kfold\" with its seed \(pipeline.split.seed)"
                             + (pipeline.split.listFiles.isEmpty ? "" : "; its split lists only choose the clips"))
            pipeline.split.method = .kfold
        }
        if let folds { pipeline.split.folds = folds }
        pipeline.split.fold = 0
        try pipeline.validate()
        self.corpus = Self.absolute(corpus)
        self.pipeline = pipeline
        self.training = training
        self.layout = CrossValidationLayout(directory: Self.absolute(output))
        self.jobs = jobs
        self.progress = progress
    }

    /// K.
    public var folds: Int { pipeline.split.folds }

    /// The pipeline of fold `k`: fold `k` is the test split.
    public func pipeline(forFold k: Int) -> PipelineConfiguration {
        var p = pipeline
        p.split.fold = k
        return p
    }

    /// Runs every fold not yet complete, in order, then summarises them all (``summarise(directory:progress:)``).
    public func run() throws -> CrossValidationSummary {
        for k in 0..<folds { _ = try runFold(k) }
        return try Self.summarise(directory: layout.directory, progress: progress)
    }

    /// Runs fold `k` (preprocess, train, evaluate, `fold.json`), or returns its record when it is already complete.
    /// - Throws: ``CrossValidationError`` when `k` is not a fold or the fold was completed with another
    ///   configuration; the pipeline's, trainer's and evaluator's own errors as they are.
    public func runFold(_ k: Int) throws -> FoldRecord {
        guard (0..<folds).contains(k) else {
            throw CrossValidationError(path: nil, reason: "fold \(k) is not one of the \(folds) folds (0 to \(folds - 1))")
        }
        let foldPipeline = pipeline(forFold: k)
        if let record = try Self.completedRecord(layout.record(k)) {
            try check(record, fold: k)
            progress.message("fold \(k) of \(folds): already complete (\(layout.record(k)))")
            return record
        }
        let clock = ContinuousClock()
        var seconds = FoldSeconds()

        // Preprocess, unless this fold's shards are complete for the same corpus and configuration.
        let shards = layout.shards(k)
        var start = clock.now
        if let report = try? JSONDecoder().decode(RunReport.self, from: Data(contentsOf: URL(fileURLWithPath: shards + "/report.json"))),
           report.configuration == foldPipeline, report.corpus == corpus {
            progress.message("fold \(k) of \(folds): shards already made (\(shards))")
        } else {
            progress.message("fold \(k) of \(folds): preprocessing into \(shards)")
            let options = PreprocessOptions(corpus: corpus, output: shards, jobs: jobs, cache: layout.cache)
            _ = try Preprocessor(configuration: foldPipeline, options: options, progress: progress).run()
        }
        seconds.preprocess = (clock.now - start).seconds

        // Train: continue an interrupted run of the same configuration, else start afresh.
        start = clock.now
        let runFolder = layout.run(k)
        let summary: TrainingSummary
        if let resumable = resumableRun(runFolder, shards: shards) {
            progress.message("fold \(k) of \(folds): continuing the training in \(runFolder)")
            summary = try Trainer(run: resumable, progress: progress).train(resume: true)
        } else {
            progress.message("fold \(k) of \(folds): training into \(runFolder)")
            try? FileManager.default.removeItem(atPath: runFolder)
            let run = TrainingRun(shards: shards, directory: runFolder, configuration: training)
            summary = try Trainer(run: run, progress: progress).train()
        }
        seconds.train = (clock.now - start).seconds

        // Evaluate best.h5 on the test fold, into a temporary folder renamed when complete.
        start = clock.now
        let evaluation = layout.evaluation(k)
        let temporary = layout.fold(k) + "/.evaluation.tmp-\(getpid())"
        try? FileManager.default.removeItem(atPath: temporary)
        let outcome = try Evaluator.run(
            checkpointPath: summary.bestCheckpoint, shards: shards, split: DataSplit.test.rawValue, output: temporary)
        try? FileManager.default.removeItem(atPath: evaluation)
        try Self.rename(temporary, to: evaluation)
        seconds.evaluate = (clock.now - start).seconds

        let result = FoldResult(fold: k, evaluation: outcome.result, bestEpoch: summary.bestEpoch, seconds: seconds)
        let record = FoldRecord(
            result: result, corpus: corpus, pipeline: foldPipeline, training: training,
            finished: ISO8601DateFormatter().string(from: Date()))
        try Self.writeJSON(record, to: layout.record(k))
        progress.message("fold \(k) of \(folds): accuracy " + String(format: "%.4f", result.accuracy) + ", macro-F1 "
                         + String(format: "%.4f", result.macroF1) + " on \(result.clips) test clips (\(evaluation))")
        return record
    }

    /// Aggregates the completed folds of the cross-validation in `directory` (whichever configuration this value
    /// has: the folds' records say theirs) and writes `summary.json` and `report.html` there.
    /// - Throws: when no fold is complete, or the completed folds were made with different configurations.
    public static func summarise(
        directory: String, progress: any ProgressObserver = SilentProgress()
    ) throws -> CrossValidationSummary {
        let layout = CrossValidationLayout(directory: directory)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: layout.directory)) ?? []
        let numbers = names.compactMap { name -> Int? in
            guard name.hasPrefix("fold-") else { return nil }
            return Int(name.dropFirst(5))
        }.sorted()
        var records: [FoldRecord] = []
        for k in numbers {
            if let record = try completedRecord(layout.record(k)) { records.append(record) }
        }
        guard let first = records.first else {
            throw CrossValidationError(path: layout.directory, reason: "no completed fold (fold-K/fold.json) to summarise")
        }
        for record in records.dropFirst() {
            var pipeline = record.pipeline
            pipeline.split.fold = first.pipeline.split.fold
            if pipeline != first.pipeline || record.training != first.training {
                let what = pipeline != first.pipeline ? "pipeline" : "training"
                throw CrossValidationError(
                    path: layout.record(record.result.fold),
                    reason: "fold \(record.result.fold) was made with another \(what) configuration than fold "
                        + "\(first.result.fold); run it again (remove \(layout.fold(record.result.fold))) or summarise elsewhere")
            }
        }
        let summary = try CrossValidationSummary.aggregate(
            folds: records.map(\.result), foldCount: first.pipeline.split.folds, corpus: first.corpus,
            pipeline: first.pipeline, training: first.training)
        try writeText(summary.jsonText, to: layout.summary)
        try writeText(CrossValidationReport(summary: summary).html, to: layout.report)
        progress.message("summary of \(summary.completed.count) of \(summary.foldCount) folds: \(layout.summary), \(layout.report)")
        return summary
    }

    // MARK: - Helpers

    /// The record at `path` when the fold is complete (nil when there is none).
    /// - Throws: when a record is there but cannot be read (damaged: remove the fold folder to run it again).
    static func completedRecord(_ path: String) throws(CrossValidationError) -> FoldRecord? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try JSONDecoder().decode(FoldRecord.self, from: data)
        } catch {
            throw CrossValidationError(
                path: path, reason: "not a fold record (\(error)); remove its folder to run the fold again")
        }
    }

    /// A completed fold must have been made with this cross-validation's configurations.
    func check(_ record: FoldRecord, fold k: Int) throws(CrossValidationError) {
        if record.pipeline != pipeline(forFold: k) {
            let mine = pipeline(forFold: k).split, theirs = record.pipeline.split
            let detail = mine.folds != theirs.folds ? " (split.folds \(theirs.folds), not \(mine.folds))" : ""
            throw CrossValidationError(
                path: layout.record(k),
                reason: "fold \(k) was completed with another pipeline configuration\(detail); use another output "
                    + "folder, or remove \(layout.fold(k)) to run it again")
        }
        if record.training != training {
            throw CrossValidationError(
                path: layout.record(k),
                reason: "fold \(k) was completed with another training configuration; use another output folder, or "
                    + "remove \(layout.fold(k)) to run it again")
        }
    }

    /// The interrupted run in `folder` when it can be continued: same shards, same configuration, a `last.h5`.
    func resumableRun(_ folder: String, shards: String) -> TrainingRun? {
        guard FileManager.default.fileExists(atPath: folder + "/last.h5"),
              let run = try? TrainingRun.resuming(directory: folder),
              run.configuration == training, Self.absolute(run.shards) == Self.absolute(shards)
        else { return nil }
        return run
    }

    /// `path` made absolute against the working folder, without `.` and `..` components.
    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }

    static func rename(_ from: String, to: String) throws(CrossValidationError) {
        guard Foundation.rename(from, to) == 0 else {
            throw CrossValidationError(path: to, reason: "cannot rename \(from) into place: \(String(cString: strerror(errno)))")
        }
    }

    /// Writes `text` to `path` under a temporary name, then renames it into place.
    static func writeText(_ text: String, to path: String) throws(CrossValidationError) {
        let temporary = (path as NSString).deletingLastPathComponent + "/." + (path as NSString).lastPathComponent
            + ".tmp-\(getpid())"
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
        } catch {
            throw CrossValidationError(path: path, reason: "cannot write: \(error.localizedDescription)")
        }
        try rename(temporary, to: path)
    }

    static func writeJSON(_ value: some Encodable, to path: String) throws(CrossValidationError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do { data = try encoder.encode(value) } catch {
            throw CrossValidationError(path: path, reason: "cannot encode: \(error)")
        }
        try writeText(String(decoding: data, as: UTF8.self) + "\n", to: path)
    }
}
