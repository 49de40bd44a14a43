import Foundation
public import Net
import Pipeline

/// Evaluation of a model on a split: every clip's `cropFrames` windows inside its audio (`EvaluationWindows`: from
/// frame 0 every `windowHop` frames, plus one ending at the clip's last audio frame), logits averaged per clip
/// (clip-level accuracy), and each window on its own (window-level accuracy).
public enum Evaluator {
    /// Runs the model (evaluation mode) over a split; `windowHop` nil is `cropFrames` (non-overlapping windows).
    public static func evaluate(
        model: Sequential, dataset: ShardDataset, split: String, cropFrames: Int, windowHop: Int? = nil,
        info: [String: String] = [:]
    ) throws(TrainingError) -> EvaluationResult {
        var windows = try EvaluationWindows(dataset: dataset, split: split, cropFrames: cropFrames, hop: windowHop,
                                            batchSize: 64)
        var accumulator = EvaluationAccumulator(classes: dataset.classes, clipLabels: windows.labels)
        while let batch = try windows.next() {
            let logits = model.forward(Tensor(shape: batch.shape, scalars: batch.inputs), training: false)
            accumulator.add(logits: logits.scalars, of: batch)
        }
        var result = accumulator.result(info: info)
        result.windowFrames = cropFrames
        result.windowHop = windows.hop
        return result
    }

    /// What `genre evaluate` writes and prints.
    public struct Outcome: Sendable {
        public var result: EvaluationResult
        public var files: [String]
    }

    /// Evaluates checkpoint `checkpointPath` on split `split` of the shard folder `shards`; writes `metrics.json`,
    /// `confusion.csv`, `per_class.csv` and `report.html` (with the training curves when the checkpoint's folder
    /// holds `log.jsonl`) into `output`. Shards made with other parameters or classes are refused. `windowHop`
    /// (frames, `1...crop`) replaces the checkpoint's `[evaluate] window_hop` when given.
    public static func run(
        checkpointPath: String, shards: String, split: String, output: String, examplesPerClass: Int = 2,
        windowHop: Int? = nil
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
        let crop = checkpoint.windowFrames
        let hop = windowHop ?? checkpoint.evaluationWindowHop
        let info = [
            "checkpoint": checkpointPath, "shards": shards, "split": split, "epoch": String(checkpoint.epoch),
            "best_valid_accuracy": String(format: "%.4f", checkpoint.bestValidAccuracy),
        ]
        let result = try evaluate(model: model, dataset: dataset, split: split, cropFrames: crop, windowHop: hop,
                                  info: info)
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
                ReportField("windows", "\(crop) frames every \(hop) frames"
                            + (hop < crop ? " (overlapping)" : " (non-overlapping)")
                            + ", inside each clip's audio, plus one ending at its last audio frame"),
                ReportField("class balance (training)", checkpoint.training.train.balance.rawValue),
                ReportField("training mode", trainingModeDescription(checkpoint)),
            ],
            history: history, examples: examples)
        let html = output + "/report.html"
        try report.write(to: html)
        return Outcome(result: result, files: ["metrics.json", "confusion.csv", "per_class.csv", "report.html"].map { output + "/" + $0 })
    }
}

/// How a checkpoint was trained, for reports: from scratch, or a probe / fine-tuning of which pre-trained network.
func trainingModeDescription(_ checkpoint: Checkpoint) -> String {
    let training = checkpoint.training
    switch training.train.mode {
    case .scratch:
        return "from scratch (seed \(training.train.seed))"
    case .probe, .finetune:
        let source = checkpoint.provenance["source"].map { " (\($0))" } ?? ""
        let initial = "initialised from \(checkpoint.provenance["init"] ?? training.model.initCheckpoint ?? "?")\(source)"
        if training.train.mode == .probe {
            return "linear probe on the frozen network, \(initial)" + (checkpoint.provenance["probe_C"].map { ", C \($0)" } ?? "")
        }
        return "fine-tuned, \(initial); head alone for \(training.finetune.headEpochs) epochs, then the body at "
            + String(format: "%g", training.finetune.bodyLearningRateScale) + " x the learning rate"
    }
}
