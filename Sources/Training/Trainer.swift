public import GenreCore
import Foundation
import Net
import Pipeline

/// Where and how to train (what the training configuration does not say).
public struct TrainingRun: Sendable {
    /// Folder of shards written by `genre preprocess` (train and valid splits are read).
    public var shards: String
    /// Run folder: `best.h5`, `last.h5`, `log.jsonl`, `run.json`.
    public var directory: String
    public var configuration: TrainingConfiguration

    public init(shards: String, directory: String, configuration: TrainingConfiguration) {
        self.shards = shards
        self.directory = directory
        self.configuration = configuration
    }

    /// `run.json` in the run folder: what `--resume` needs to continue (the shard folder and the configuration).
    struct Record: Codable {
        var shards: String
        var configuration: TrainingConfiguration
        var started: String
    }

    /// The run recorded in `directory` (for `genre train --resume RUN`).
    public static func resuming(directory: String) throws(TrainingError) -> TrainingRun {
        let path = directory + "/run.json"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .io(path: path, reason: "no run to resume here (run.json is missing)")
        }
        do {
            let record = try JSONDecoder().decode(Record.self, from: data)
            return TrainingRun(shards: record.shards, directory: directory, configuration: record.configuration)
        } catch {
            throw .io(path: path, reason: "not a valid run record: \(error)")
        }
    }
}

/// What a finished (or early-stopped) run gives.
public struct TrainingSummary: Sendable {
    public var epochs: [EpochRecord]
    public var bestEpoch: Int
    public var bestValidAccuracy: Double
    public var stoppedEarly: Bool
    public var bestCheckpoint: String
    public var lastCheckpoint: String
    /// The run's `[train] balance`.
    public var balance: TrainingConfiguration.ClassBalance = .none
    /// The run's `[evaluate] window_hop` (frames between validation window starts).
    public var windowHop: Int = 0
}

/// The training loop: one random crop of every training clip per epoch (shuffled by the seed; with
/// `[train] balance = "sampler"` the class-balanced positions of `EpochPlan`), forward, softmax cross-entropy
/// (class-weighted with `balance = "loss"`, weights `ClassWeights.balanced`), backward, optimizer step with the
/// learning-rate schedule; clip-level validation every epoch (windows every `[evaluate] window_hop` frames);
/// `last.h5` every epoch, `best.h5` on a better validation accuracy (the first best on ties); early stopping after
/// `patience` epochs without improvement; `log.jsonl` a first line describing the run (`RunLogHeader`), then a line
/// per epoch. `resume` continues from `last.h5`.
public struct Trainer {
    public let run: TrainingRun
    public let progress: any ProgressObserver

    public init(run: TrainingRun, progress: any ProgressObserver = SilentProgress()) {
        self.run = run
        self.progress = progress
    }

    public var bestPath: String { run.directory + "/best.h5" }
    public var lastPath: String { run.directory + "/last.h5" }
    public var logPath: String { run.directory + "/log.jsonl" }

    /// Trains; with `resume`, continues the run in `run.directory` from its `last.h5`. `stopAfterEpoch` ends this
    /// session after that epoch (checkpoints written), as a time-boxed job or an interruption would; `resume`
    /// then continues exactly where it stopped.
    public func train(resume: Bool = false, stopAfterEpoch: Int? = nil) throws(TrainingError) -> TrainingSummary {
        let config = run.configuration
        let dataset = try ShardDataset(directory: run.shards, requiredSplits: ["train", "valid"])
        let pretrained = try config.model.initCheckpoint.map { (path) throws(TrainingError) in try PretrainedStart(path: path) }
        if let pretrained { try pretrained.checkCompatible(dataset: dataset, cropFrames: config.model.cropFrames) }
        guard dataset.frames >= config.model.cropFrames else {
            throw .invalidOptions(directory: run.shards, reason: "clips have \(dataset.frames) frames, fewer than "
                                  + "the \(config.model.cropFrames)-frame crops (model.crop_frames)")
        }
        let parameters = shardParametersJSON(dataset.parameters)
        do {
            try FileManager.default.createDirectory(atPath: run.directory, withIntermediateDirectories: true)
        } catch {
            throw .io(path: run.directory, reason: "cannot create the run folder: \(error.localizedDescription)")
        }
        if config.train.mode == .probe, let pretrained {
            try writeRecord()
            return try trainProbe(dataset: dataset, start: pretrained)
        }

        let spec: ModelSpec
        let model: Sequential
        var provenance: [String: String] = [:]
        if config.train.mode == .finetune, let pretrained {
            spec = pretrained.finetuneSpec(classes: dataset.classes.count, bodyDropout: config.finetune.bodyDropout)
            model = try pretrained.model(spec: spec, seed: config.train.seed, includingTags: true)
            provenance = pretrained.provenance(mode: .finetune)
            if !resume && config.finetune.headInit == .probe {
                let head = spec.layers.count - 1
                var state = model.stateDictionary()
                let (weight, bias) = try probeHead(dataset: dataset, start: pretrained)
                state["\(head).linear.weight"] = weight
                state["\(head).linear.bias"] = bias
                do {
                    try model.load(stateDictionary: state)
                } catch {
                    throw .invalidOptions(directory: run.shards, reason: "fine-tuning head: \(error)")
                }
            }
        } else {
            spec = config.modelSpec(classes: dataset.classes.count, nMels: dataset.nMels)
            do {
                model = try Sequential(spec: spec, seed: config.train.seed)
            } catch {
                throw .invalidOptions(directory: run.shards, reason: "model: \(error)")
            }
        }
        let finetuning = config.train.mode == .finetune ? FinetunePlan(config.finetune, bodyLayers: spec.layers.count - 1) : nil
        let optimizer = Self.makeOptimizer(config.optimizer, parameters: model.parameters)
        var history: [EpochRecord] = []
        var startEpoch = 1, bestAccuracy = -1.0, bestEpoch = 0, sinceBest = 0

        if resume {
            let last = try Checkpoint.read(from: lastPath)
            guard last.modelSpec == spec, last.classes == dataset.classes else {
                throw .incompatible(path: lastPath, reason: "was trained with another model or other classes than these shards give")
            }
            guard last.shardParameters == parameters else {
                throw .incompatible(path: lastPath, reason: "was trained on shards made with other parameters")
            }
            do {
                try model.load(stateDictionary: last.modelState)
                try optimizer.load(stateDictionary: last.optimizerState)
            } catch {
                throw .checkpoint(path: lastPath, reason: "cannot restore the run: \(error)")
            }
            startEpoch = last.epoch + 1
            bestAccuracy = last.bestValidAccuracy
            bestEpoch = last.bestEpoch
            sinceBest = last.epochsWithoutImprovement
            history = ((try? TrainingLog.read(path: logPath)) ?? []).filter { $0.epoch <= last.epoch }
            try writeLog(history)
            progress.message("resuming \(run.directory) after epoch \(last.epoch) (best valid accuracy "
                             + String(format: "%.3f", bestAccuracy) + " at epoch \(bestEpoch))")
            if startEpoch > config.train.epochs || (config.train.patience > 0 && sinceBest >= config.train.patience) {
                progress.message("the run had already finished")
                return TrainingSummary(epochs: history, bestEpoch: bestEpoch, bestValidAccuracy: bestAccuracy,
                                       stoppedEarly: sinceBest >= config.train.patience, bestCheckpoint: bestPath,
                                       lastCheckpoint: lastPath, balance: config.train.balance,
                                       windowHop: config.windowHop)
            }
        } else {
            try writeRecord()
            try writeLog([])
        }

        let options = config.batchOptions
        let batchesPerEpoch = try TrainingBatches(dataset: dataset, epoch: 1, options: options).batchCount
        let schedule = config.learningRateSchedule(batchesPerEpoch: batchesPerEpoch)
        let classes = dataset.classes.count
        let trainLabels = try dataset.split("train").labels
        let classWeights = config.train.balance == .loss
            ? ClassWeights.balanced(labels: trainLabels, classCount: classes) : nil
        progress.message(Self.balanceDescription(config.train.balance, labels: trainLabels, classes: dataset.classes,
                                                 weights: classWeights)
                         + "; validation windows of \(config.model.cropFrames) frames every \(config.windowHop)")
        var stoppedEarly = false
        let clock = ContinuousClock()

        for epoch in startEpoch...config.train.epochs {
            let start = clock.now
            model.reseedStochasticLayers(seed: Self.epochSeed(config.train.seed, epoch))
            if let finetuning {
                let phase = finetuning.apply(to: model, epoch: epoch)
                if epoch == startEpoch || epoch == finetuning.headEpochs + 1 { progress.message(phase) }
            }
            var batches = try TrainingBatches(dataset: dataset, epoch: epoch, options: options)
            var lossSum = 0.0, correct = 0, seen = 0, batchIndex = 0
            var computeSeconds = 0.0
            while let batch = try batches.next() {
                let t0 = clock.now
                let input = Tensor(shape: batch.shape, scalars: batch.inputs)
                let logits = model.forward(input, training: true)
                let (loss, gradient): (Double, Tensor)
                if batch.mixup != nil {
                    let targets = Tensor(shape: [batch.count, classes], scalars: batch.softTargets(classCount: classes))
                    (loss, gradient) = SoftmaxCrossEntropy.lossAndGradient(logits: logits, targets: targets,
                                                                           weights: classWeights)
                } else {
                    (loss, gradient) = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: batch.labels.map(Int.init),
                                                                           weights: classWeights)
                }
                model.zeroGradients()
                model.backward(gradient)
                optimizer.learningRate = schedule.learningRate(base: config.optimizer.learningRate, step: optimizer.stepCount)
                optimizer.step()
                computeSeconds += (clock.now - t0).seconds
                let predicted = logits.argmaxPerRow()
                for (p, y) in zip(predicted, batch.labels) where p == Int(y) { correct += 1 }
                lossSum += loss * Double(batch.count)
                seen += batch.count
                batchIndex += 1
                let elapsed = (clock.now - start).seconds
                progress.progress(
                    phase: String(format: "epoch %d/%d loss %.3f acc %.3f %.0f samples/s, batches", epoch,
                                  config.train.epochs, lossSum / Double(seen), Double(correct) / Double(seen),
                                  Double(seen) / max(elapsed, 1e-9)),
                    done: batchIndex, total: batches.batchCount, elapsed: elapsed)
            }
            let trainSeconds = (clock.now - start).seconds
            let validation = try Evaluator.evaluate(model: model, dataset: dataset, split: "valid",
                                                    cropFrames: config.model.cropFrames, windowHop: config.windowHop)
            let seconds = (clock.now - start).seconds
            let record = EpochRecord(
                epoch: epoch, trainLoss: lossSum / Double(max(seen, 1)), trainAccuracy: Double(correct) / Double(max(seen, 1)),
                validAccuracy: validation.accuracy, seconds: seconds,
                samplesPerSecond: Double(seen) / max(trainSeconds, 1e-9))
            history.append(record)
            let improved = validation.accuracy > bestAccuracy
            if improved {
                bestAccuracy = validation.accuracy
                bestEpoch = epoch
                sinceBest = 0
            } else {
                sinceBest += 1
            }
            let checkpoint = Checkpoint(
                classes: dataset.classes, modelSpec: spec, training: config, pipelineConfiguration: dataset.configuration,
                shardParameters: parameters, normMean: dataset.normMean, normStd: dataset.normStd,
                modelState: model.stateDictionary(), optimizerState: optimizer.stateDictionary(), epoch: epoch,
                bestValidAccuracy: bestAccuracy, bestEpoch: bestEpoch, epochsWithoutImprovement: sinceBest,
                optimizerSteps: optimizer.stepCount, provenance: provenance)
            if improved { try checkpoint.write(to: bestPath) }
            try checkpoint.write(to: lastPath)
            try writeLog(history)
            progress.message(String(
                format: "epoch %3d/%d  loss %.4f  train acc %.3f  valid acc %.3f%@  %.1f s  %.0f samples/s (%.0f in compute)",
                epoch, config.train.epochs, record.trainLoss ?? 0, record.trainAccuracy ?? 0, validation.accuracy,
                improved ? " *" : "  ", seconds, record.samplesPerSecond ?? 0, Double(seen) / max(computeSeconds, 1e-9)))
            if let stop = stopAfterEpoch, epoch >= stop, epoch < config.train.epochs {
                progress.message("stopping after epoch \(epoch) as asked; continue with --resume \(run.directory)")
                break
            }
            if config.train.patience > 0 && sinceBest >= config.train.patience {
                progress.message("early stop: no better validation accuracy for \(sinceBest) epochs (best \(String(format: "%.3f", bestAccuracy)) at epoch \(bestEpoch))")
                stoppedEarly = true
                break
            }
        }
        return TrainingSummary(epochs: history, bestEpoch: bestEpoch, bestValidAccuracy: bestAccuracy,
                               stoppedEarly: stoppedEarly, bestCheckpoint: bestPath, lastCheckpoint: lastPath,
                               balance: config.train.balance, windowHop: config.windowHop)
    }

    /// One line on how the run balances its classes: the mode, the training clips per class and, for `.loss`,
    /// the class weights.
    static func balanceDescription(
        _ balance: TrainingConfiguration.ClassBalance, labels: [Int32], classes: [String], weights: [Double]?
    ) -> String {
        var counts = [Int](repeating: 0, count: classes.count)
        for label in labels where Int(label) < classes.count { counts[Int(label)] += 1 }
        let perClass = classes.indices.map { c in
            "\(classes[c]) \(counts[c])" + (weights.map { " (w " + String(format: "%.3f", $0[c]) + ")" } ?? "")
        }
        let mode: String
        switch balance {
        case .none: mode = "none (every clip once per epoch)"
        case .sampler: mode = "sampler (equal positions per class each epoch)"
        case .loss: mode = "loss (class-weighted cross-entropy)"
        }
        return "class balance: \(mode); training clips: " + perClass.joined(separator: ", ")
    }

    static func makeOptimizer(_ s: TrainingConfiguration.OptimizerSettings, parameters: [Parameter]) -> any Optimizer {
        switch s.kind {
        case .adam:
            return Adam(parameters: parameters, learningRate: s.learningRate,
                        weightDecay: s.weightDecay > 0 ? .l2(s.weightDecay) : .none)
        case .adamw:
            return Adam.adamW(parameters: parameters, learningRate: s.learningRate, weightDecay: s.weightDecay)
        case .sgd:
            return SGD(parameters: parameters, learningRate: s.learningRate, momentum: s.momentum, weightDecay: s.weightDecay)
        }
    }

    /// The seed of epoch `epoch`'s dropout masks: a resumed run draws the same masks as an uninterrupted one.
    static func epochSeed(_ seed: UInt64, _ epoch: Int) -> UInt64 {
        var g = SplitMix64(seed: seed ^ (UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15))
        return g.next()
    }

    func writeRecord() throws(TrainingError) {
        let record = TrainingRun.Record(shards: URL(fileURLWithPath: run.shards).standardizedFileURL.path,
                                        configuration: run.configuration, started: ISO8601DateFormatter().string(from: Date()))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            try encoder.encode(record).write(to: URL(fileURLWithPath: run.directory + "/run.json"), options: .atomic)
        } catch {
            throw .io(path: run.directory + "/run.json", reason: "cannot write: \(error)")
        }
    }

    /// Rewrites `log.jsonl` atomically: a first line describing the run (`{"event": "run", "balance": ...,
    /// "window_hop": ...}`, without `epoch`, so `TrainingLog` skips it), then a line per epoch.
    func writeLog(_ history: [EpochRecord]) throws(TrainingError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var text = String(decoding: try! encoder.encode(RunLogHeader(configuration: run.configuration)), as: UTF8.self) + "\n"
        for r in history { text += String(decoding: try! encoder.encode(r), as: UTF8.self) + "\n" }
        do {
            try text.write(toFile: logPath, atomically: true, encoding: .utf8)
        } catch {
            throw .io(path: logPath, reason: "cannot write: \(error)")
        }
    }
}

/// The first line of `log.jsonl`: what the epochs' lines do not say about the run.
struct RunLogHeader: Codable, Equatable {
    var event = "run"
    var balance: TrainingConfiguration.ClassBalance
    var windowHop: Int
    var seed: UInt64

    init(configuration: TrainingConfiguration) {
        balance = configuration.train.balance
        windowHop = configuration.windowHop
        seed = configuration.train.seed
    }

    enum CodingKeys: String, CodingKey { case event, balance, windowHop = "window_hop", seed }
}

/// The two phases of `[train] mode = "finetune"`: for `headEpochs` epochs only the new head trains (the body
/// frozen: evaluation mode, no gradients, no updates); then everything, the body's parameters at
/// `bodyLearningRateScale` times the optimizer's rate. With `freezeBatchNorm` every batch norm keeps its
/// pre-trained running statistics throughout.
struct FinetunePlan {
    let headEpochs: Int
    let bodyLearningRateScale: Float
    let freezeBatchNorm: Bool
    /// Layers `0..<bodyLayers` are the pre-trained body; the last layer is the new head.
    let bodyLayers: Int

    init(_ settings: TrainingConfiguration.Finetune, bodyLayers: Int) {
        headEpochs = settings.headEpochs
        bodyLearningRateScale = Float(settings.bodyLearningRateScale)
        freezeBatchNorm = settings.freezeBatchNorm
        self.bodyLayers = bodyLayers
    }

    /// Sets up `model` for `epoch` (from 1) and describes the phase.
    func apply(to model: Sequential, epoch: Int) -> String {
        let headOnly = epoch <= headEpochs
        model.frozenLayerCount = headOnly ? bodyLayers : 0
        model.batchNormInEvaluationMode = freezeBatchNorm
        for parameter in model.parameters {
            let layer = PretrainedStart.layerIndex(ofStateName: parameter.name) ?? bodyLayers
            if layer < bodyLayers { parameter.learningRateScale = headOnly ? 0 : bodyLearningRateScale }
        }
        let norm = freezeBatchNorm ? "; batch norm keeps the pre-trained statistics" : ""
        return headOnly
            ? "fine-tuning: epochs 1...\(headEpochs) train the new head only (the pre-trained body frozen)\(norm)"
            : "fine-tuning: from epoch \(headEpochs + 1) the whole network trains, the pre-trained body at "
                + String(format: "%g", bodyLearningRateScale) + " x the learning rate\(norm)"
    }
}
