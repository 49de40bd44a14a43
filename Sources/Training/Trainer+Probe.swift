import Foundation
import Net

/// `probe.json` in a probe's run folder: the grid, the chosen C and the times.
struct ProbeRecord: Codable {
    var mode = "probe"
    var initCheckpoint: String
    var features: Int
    var bodyFeatures: Int
    var tags: Int
    var chosenC: Double
    var grid: [LinearProbe.GridPoint]
    var trainClips: Int
    var validClips: Int
    var embeddedSplits: [String]
    var embeddingSeconds: Double
    var windowsPerSecond: Double?
    var fitSeconds: Double

    enum CodingKeys: String, CodingKey {
        case mode, initCheckpoint = "init", features, bodyFeatures = "body_features", tags, chosenC = "chosen_C", grid
        case trainClips = "train_clips", validClips = "valid_clips", embeddedSplits = "embedded_splits"
        case embeddingSeconds = "embedding_seconds", windowsPerSecond = "windows_per_second", fitSeconds = "fit_seconds"
    }
}

extension Trainer {
    /// `[train] mode = "probe"`: embeddings of the train and valid clips from the frozen network of `[model] init`
    /// (cached in `embeddings.h5`), the ``LinearProbe`` fitted on them, and the probe written as an ordinary
    /// checkpoint (`best.h5` = `last.h5`: the network, its tags, and the folded linear layer), which
    /// `genre evaluate` and `genre predict` use like any other. `probe.json` records the grid and the times.
    func trainProbe(dataset: ShardDataset, start: PretrainedStart) throws(TrainingError) -> TrainingSummary {
        let config = run.configuration
        let clock = ContinuousClock()
        let began = clock.now
        let frames = config.model.cropFrames, hop = config.windowHop
        let cache = EmbeddingCache(directory: run.directory)
        let embedStart = clock.now
        let (embeddings, computed) = try clipEmbeddings(dataset: dataset, start: start, frames: frames, hop: hop)
        let embeddingSeconds = (clock.now - embedStart).seconds
        var windowCount = 0
        for split in computed {
            windowCount += try EvaluationWindows(dataset: dataset, split: split, cropFrames: frames, hop: hop,
                                                 prefetch: false).windowCount
        }
        if computed.isEmpty {
            progress.message("embeddings of the train and valid clips read from \(cache.path)")
        } else {
            progress.message(String(format: "embedded %@ (%d windows) in %.1f s: %.1f windows/s; cached in %@",
                                     computed.joined(separator: " and "), windowCount, embeddingSeconds,
                                     Double(windowCount) / max(embeddingSeconds, 1e-9), cache.path))
        }
        let train = embeddings["train"]!, valid = embeddings["valid"]!
        let fitStart = clock.now
        let fit = LinearProbe.fit(train: train, valid: valid, classes: dataset.classes.count,
                                  cGrid: config.probe.cGrid, maxIterations: config.probe.maxIterations)
        let fitSeconds = (clock.now - fitStart).seconds
        for point in fit.grid {
            progress.message(String(format: "probe C %-7g train acc %.3f  valid acc %.3f  valid log-loss %.4f  (%d iterations%@)%@",
                                    point.c, point.trainAccuracy, point.validAccuracy, point.validLogLoss,
                                    point.iterations, point.converged ? "" : ", not converged",
                                    point.c == fit.c ? "  *" : ""))
        }

        // The probe as a network: body, tags appended, folded linear layer.
        let spec = start.probeSpec(classes: dataset.classes.count)
        var state = start.state(includingTags: true)
        let (weight, bias) = fit.foldedLinear()
        let head = spec.layers.count - 1
        state["\(head).linear.weight"] = weight
        state["\(head).linear.bias"] = bias
        do {
            try Sequential(spec: spec, seed: config.train.seed).load(stateDictionary: state)
        } catch {
            throw .invalidOptions(directory: run.shards, reason: "probe model: \(error)")
        }
        // The network's clip-level valid accuracy is the regression's: a clip's logits are the mean of its windows'
        // logits, and the network after the embedding is affine, so they equal the logits of the mean embedding.
        let chosen = fit.grid.first { $0.c == fit.c }!
        let checkpoint = Checkpoint(
            classes: dataset.classes, modelSpec: spec, training: config, pipelineConfiguration: dataset.configuration,
            shardParameters: shardParametersJSON(dataset.parameters), normMean: dataset.normMean,
            normStd: dataset.normStd, modelState: state, optimizerState: [:], epoch: 1,
            bestValidAccuracy: chosen.validAccuracy, bestEpoch: 1, epochsWithoutImprovement: 0, optimizerSteps: 0,
            provenance: start.provenance(mode: .probe).merging(["probe_C": String(fit.c)]) { $1 })
        try checkpoint.write(to: bestPath)
        try checkpoint.write(to: lastPath)
        let seconds = (clock.now - began).seconds
        let record = EpochRecord(
            epoch: 1, trainLoss: nil, trainAccuracy: chosen.trainAccuracy, validAccuracy: chosen.validAccuracy,
            seconds: seconds, samplesPerSecond: nil)
        try writeLog([record])
        let probeRecord = ProbeRecord(
            initCheckpoint: start.path, features: train.features, bodyFeatures: start.bodyFeatures, tags: start.tags,
            chosenC: fit.c, grid: fit.grid, trainClips: train.clips, validClips: valid.clips, embeddedSplits: computed,
            embeddingSeconds: embeddingSeconds,
            windowsPerSecond: computed.isEmpty ? nil : Double(windowCount) / max(embeddingSeconds, 1e-9),
            fitSeconds: fitSeconds)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            try encoder.encode(probeRecord).write(to: URL(fileURLWithPath: run.directory + "/probe.json"), options: .atomic)
        } catch {
            throw .io(path: run.directory + "/probe.json", reason: "cannot write: \(error)")
        }
        progress.message(String(format: "probe: C %g, valid accuracy %.3f; fitted in %.2f s", fit.c,
                                chosen.validAccuracy, fitSeconds))
        return TrainingSummary(epochs: [record], bestEpoch: 1, bestValidAccuracy: chosen.validAccuracy,
                               stoppedEarly: false, bestCheckpoint: bestPath, lastCheckpoint: lastPath,
                               balance: config.train.balance, windowHop: hop)
    }
}

extension Trainer {
    /// `[finetune] head_init = "probe"`: the linear probe of `[probe]` fitted on the train clips' embeddings (the
    /// network's `pool5` and tags, as `mode = "probe"` computes them; chosen on the valid clips, cached in
    /// `embeddings.h5`), as the new head's weights: fine-tuning starts from the probe.
    func probeHead(dataset: ShardDataset, start: PretrainedStart) throws(TrainingError) -> (weight: Tensor, bias: Tensor) {
        let config = run.configuration
        let frames = config.model.cropFrames, hop = config.windowHop
        let (embeddings, _) = try clipEmbeddings(dataset: dataset, start: start, frames: frames, hop: hop)
        let fit = LinearProbe.fit(train: embeddings["train"]!, valid: embeddings["valid"]!,
                                  classes: dataset.classes.count, cGrid: config.probe.cGrid,
                                  maxIterations: config.probe.maxIterations)
        let chosen = fit.grid.first { $0.c == fit.c }!
        progress.message(String(format: "fine-tuning: the new head starts as the linear probe (C %g: train acc %.3f, "
                                + "valid acc %.3f)", fit.c, chosen.trainAccuracy, chosen.validAccuracy))
        return fit.foldedLinear()
    }

    /// The train and valid clips' embeddings from the frozen network (`embeddings.h5`: read when cached under the
    /// same key, else computed), with the splits computed and their window count.
    func clipEmbeddings(dataset: ShardDataset, start: PretrainedStart, frames: Int, hop: Int)
        throws(TrainingError) -> (embeddings: [String: ClipEmbeddings], computed: [String])
    {
        let embedder = try start.model(spec: start.embeddingSpec(), seed: run.configuration.train.seed,
                                       includingTags: true)
        let cache = EmbeddingCache(directory: run.directory)
        var keys: [String: String] = [:]
        for split in ["train", "valid"] {
            keys[split] = try EmbeddingCache.key(initPath: start.path, dataset: dataset, split: split,
                                                 windowFrames: frames, windowHop: hop)
        }
        let clock = ContinuousClock()
        return try cache.embeddings(splits: ["train", "valid"], keys: keys) {
            (split) throws(TrainingError) -> ClipEmbeddings in
            let t0 = clock.now
            return try ClipEmbedder.embed(model: embedder, dataset: dataset, split: split, windowFrames: frames,
                                          windowHop: hop) { done, total in
                progress.progress(phase: "embedding the \(split) clips, batches", done: done, total: total,
                                  elapsed: (clock.now - t0).seconds)
            }
        }
    }
}
