import Foundation
public import Net
import Pipeline

/// Evaluation of a model on a split: every clip's non-overlapping `cropFrames` windows from frame 0, logits
/// averaged per clip (clip-level accuracy), and each window on its own (window-level accuracy).
public enum Evaluator {
    /// Runs the model (evaluation mode) over a split.
    public static func evaluate(
        model: Sequential, dataset: ShardDataset, split: String, cropFrames: Int, info: [String: String] = [:]
    ) throws(TrainingError) -> EvaluationResult {
        var windows = try EvaluationWindows(dataset: dataset, split: split, cropFrames: cropFrames, batchSize: 64)
        var accumulator = EvaluationAccumulator(classes: dataset.classes, clipLabels: windows.labels)
        while let batch = try windows.next() {
            let logits = model.forward(Tensor(shape: batch.shape, scalars: batch.inputs), training: false)
            accumulator.add(logits: logits.scalars, of: batch)
        }
        return accumulator.result(info: info)
    }

    /// What `genre evaluate` writes and prints.
    public struct Outcome: Sendable {
        public var result: EvaluationResult
        public var files: [String]
    }

    /// Evaluates checkpoint `checkpointPath` on split `split` of the shard folder `shards`; writes `metrics.json`,
    /// `confusion.csv`, `per_class.csv` and `report.html` (with the training curves when the checkpoint's folder
    /// holds `log.jsonl`) into `output`. Shards made with other parameters or classes are refused.
    public static func run(
        checkpointPath: String, shards: String, split: String, output: String, examplesPerClass: Int = 2
    ) throws(TrainingError) -> Outcome {
        let checkpoint = try Checkpoint.read(from: checkpointPath)
        let dataset = try ShardDataset(directory: shards, requiredSplits: [split])
        guard dataset.classes == checkpoint.classes else {
            throw .incompatible(path: shards, reason: "the shards' classes \(dataset.classes) differ from the checkpoint's \(checkpoint.classes)")
        }
        guard shardParametersJSON(dataset.parameters) == checkpoint.shardParameters else {
            throw .incompatible(path: shards, reason: "the shards were made with other preprocessing parameters than the model was trained on")
        }
        let model = try checkpoint.makeModel(path: checkpointPath)
        let crop = checkpoint.modelSpec.inputShape[2]
        let info = [
            "checkpoint": checkpointPath, "shards": shards, "split": split, "epoch": String(checkpoint.epoch),
            "best_valid_accuracy": String(format: "%.4f", checkpoint.bestValidAccuracy),
        ]
        let result = try evaluate(model: model, dataset: dataset, split: split, cropFrames: crop, info: info)
        do {
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        } catch {
            throw .io(path: output, reason: "cannot create the output folder: \(error.localizedDescription)")
        }
        try result.write(to: output)
        let logPath = URL(fileURLWithPath: checkpointPath).deletingLastPathComponent().appendingPathComponent("log.jsonl").path
        let history = FileManager.default.fileExists(atPath: logPath) ? ((try? TrainingLog.read(path: logPath)) ?? []) : []
        let examples = (try? dataset.spectrogramExamples(split: split, perClass: examplesPerClass)) ?? []
        let report = HTMLReport(
            title: "GenreKit evaluation: \(split) split",
            result: result,
            runInfo: [
                ReportField("model", "\(checkpoint.modelSpec.layers.count) layers, input \(checkpoint.modelSpec.inputShape), "
                            + "\(checkpoint.classes.count) classes"),
                ReportField("clips / windows", "\(result.clips) / \(result.windows)"),
            ],
            history: history, examples: examples)
        let html = output + "/report.html"
        try report.write(to: html)
        return Outcome(result: result, files: ["metrics.json", "confusion.csv", "per_class.csv", "report.html"].map { output + "/" + $0 })
    }
}

/// `genre predict`: genres of audio files with a checkpoint alone — the pipeline parameters and normalisation it
/// carries make the features exactly as in training.
public struct Predictor {
    public let checkpoint: Checkpoint
    public let model: Sequential
    public let pipeline: PipelineConfiguration

    public init(checkpointPath: String) throws(TrainingError) {
        checkpoint = try Checkpoint.read(from: checkpointPath)
        do {
            pipeline = try PipelineConfiguration.fromJSON(checkpoint.pipelineConfiguration)
        } catch {
            throw .checkpoint(path: checkpointPath, reason: "stored pipeline configuration: \(error.reason)")
        }
        model = try checkpoint.makeModel(path: checkpointPath)
    }

    /// One file's prediction: class probabilities of the whole file and per window.
    public struct Prediction: Sendable, Codable {
        public var path: String
        public var seconds: Double
        /// Softmax of the window logits' mean, per class (class order of the checkpoint).
        public var probabilities: [Double]
        /// Per window: start time (s) and class probabilities.
        public var windows: [Window]
        public struct Window: Sendable, Codable {
            public var start: Double
            public var probabilities: [Double]
        }
        /// The `count` likeliest classes with their probabilities.
        public func top(_ count: Int, classes: [String]) -> [(String, Double)] {
            probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }.prefix(count).map { (classes[$0], probabilities[$0]) }
        }
    }

    /// Decodes the whole file, computes its normalised log-mel spectrogram, and classifies every non-overlapping
    /// window (zero-padded when the file is shorter than one window).
    public func predict(path: String) throws(TrainingError) -> Prediction {
        let (db, frames): ([Float], Int)
        do {
            (db, frames) = try ClipFeatureExtractor.wholeFileSpectrogram(path: path, configuration: pipeline)
        } catch {
            throw .io(path: path, reason: error.message)
        }
        let nMels = pipeline.mel.nMels, crop = checkpoint.modelSpec.inputShape[2]
        let windows = max(1, frames / crop)
        var input = [Float](repeating: 0, count: windows * nMels * crop)
        for w in 0..<windows {
            for b in 0..<nMels {
                let m = checkpoint.normMean[b], s = 1 / checkpoint.normStd[b]
                for t in 0..<crop where w * crop + t < frames {
                    input[(w * nMels + b) * crop + t] = (db[b * frames + w * crop + t] - m) * s
                }
            }
        }
        let logits = model.forward(Tensor(shape: [windows, 1, nMels, crop], scalars: input), training: false)
        let classes = checkpoint.classes.count
        var mean = [Double](repeating: 0, count: classes)
        var perWindow: [Prediction.Window] = []
        let hop = Double(pipeline.stft.hopLength) / Double(pipeline.audio.sampleRate)
        for w in 0..<windows {
            let row = (0..<classes).map { Double(logits.scalars[w * classes + $0]) }
            for c in 0..<classes { mean[c] += row[c] / Double(windows) }
            perWindow.append(.init(start: Double(w * crop) * hop, probabilities: Self.softmax(row)))
        }
        return Prediction(path: path, seconds: Double(frames) * hop, probabilities: Self.softmax(mean), windows: perWindow)
    }

    static func softmax(_ x: [Double]) -> [Double] {
        let m = x.max() ?? 0
        let e = x.map { Foundation.exp($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }
}
